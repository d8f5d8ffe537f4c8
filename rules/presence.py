"""Presence and transmission (§§ 2–5, 9, 10): the roll call, the chair's room and a shared
transmission, lost and restored audio and video, the floor, and the ajournering.
"""

from __future__ import annotations

from datetime import datetime

from rules import transmission
from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.call import lose_transmission, not_in_call
from rules.citations import Rule
from rules.decisions import abort_running
from rules.model import Item, Meeting
from rules.register import handles
from rules.roster import Role, Roster
from rules.seats import confirmed_serves, takes_seat
from rules.who import acts_as_chair, chair_now, target
from rules.words import say


@handles("närvarande")
def _närvarande(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    person = r.person(cmd.actor)
    assert person is not None
    refusal = not_in_call(m, r, cmd.actor, cmd.actor, Rule.P3, "!närvarande") or transmission.refusal(
        m, r, cmd.actor, cmd.actor, "!närvarande"
    )
    if refusal:
        return refusal
    if cmd.actor in m.present and cmd.actor not in m.left:
        return Accepted(replies=[Reply(say("presence.present_already", r, since=m.present[cmd.actor]))])
    present = {"user": cmd.actor, "attests": _attests(person.role)} | transmission.roll_call(m, r, cmd.actor)
    if cmd.actor in m.left:
        present["returned"] = True
    events: list = [("present", present)]
    texts = [say("presence.back", r, user=cmd.actor, at=now)] if cmd.actor in m.left else []
    if cmd.actor in m.forhinder:
        # One who comes despite a förhinder has withdrawn it in effect; a substitute already
        # serving for her goes on until the next item, as for a late member (KL 6 kap. 17 §).
        events.append(("forhinder_withdrawn", {"user": cmd.actor, "present": True}))
        texts.append(say("presence.came_despite_forhinder", r, user=cmd.actor))
        if cmd.actor in m.substituted:
            texts.append(say("presence.substitute_until_next", r, sub=m.substituted[cmd.actor]))
    member = m.confirmed.get(cmd.actor)
    if member is not None and takes_seat(m, r, cmd.actor, member, arriving=True):
        more, text = confirmed_serves(m, r, cmd.actor, member)
        events += more
        texts.append(text)
    return Accepted(events, [Reply(" ".join(texts))] if texts else [])


def _attests(role: Role) -> str:
    # Stored in the event as it reads (logs keep it so): data, not a reply's words.
    video = role in (Role.MEMBER, Role.SUBSTITUTE)
    return "enrum, ljud och bild; §§ 2–3" if video else "enrum och ljud; §§ 2, 4"


def _placed(m: Meeting, r: Roster, user: str, before_roll_call: bool = False) -> Refused | None:
    """Whether `user` can be placed in the chair's room or a shared transmission (§ 2): one who
    is here and not placed already (a share is between two, never a chain). The chair may seat
    someone in the chair's room before they answer the roll call."""
    if user in m.left or not (m.here(user) or before_roll_call):
        return Refused(Rule.P2, say("presence.not_present", r, user=user))
    where = m.location.get(user)
    if where == "lokal":
        return Refused(Rule.P2, say("presence.in_chairs_room_already", r, user=user))
    if where:
        return Refused(Rule.P2, say("presence.shares_already", r, user=user, other=where))
    return None


@handles("lokal")
def _lokal(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P2, say("presence.name_one_for_lokal", r))
    user = cmd.people[0]
    refusal = _placed(m, r, user, before_roll_call=True)
    if refusal:
        return refusal
    if not (r.follows_call and m.here(user)):
        return Accepted(
            [("located", {"users": [user]})],
            [Reply(say("presence.in_chairs_room", r, user=user))],
        )
    # The call has shown the person attending from elsewhere: a change of place, from now, which
    # leaves a drop standing until the person answers !åter (there, from the chair's room).
    kinds = [k for k in ("ljud", "bild") if k in m.drops.get(user, set())]
    text = say("presence.moved_to_chairs_room", r, user=user, at=now, drops=kinds)
    return Accepted([("located", {"users": [user], "moved": True})], [Reply(text)])


@handles("delad")
def _delad(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 2 or cmd.people[0] == cmd.people[1]:
        return Refused(Rule.P2, say("presence.name_two_for_delad", r))
    a, b = cmd.people
    # With the call followed, one without a call membership of their own cannot attest before
    # sharing: sharing with one here and in the call comes first, and covers them (§§ 2-3).
    covers = r.follows_call and (m.here(a) and bool(m.in_call.get(a)) or m.here(b) and bool(m.in_call.get(b)))
    refusal = _placed(m, r, a, before_roll_call=covers) or _placed(m, r, b, before_roll_call=covers)
    if refusal:
        return refusal
    return Accepted(
        [("located", {"users": [a, b]})],
        [Reply(say("presence.shared", r, a=a, b=b))],
    )


@handles("avbrott")
def _avbrott(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = target(m, r, cmd, Rule.P10)
    if isinstance(user, Refused):
        return user
    kind = cmd.word
    if kind in m.drops.get(user, set()):
        return Refused(Rule.P10, say("presence.drop_already", r, kind=kind, user=user))
    events, text = lose_transmission(m, r, user, [kind])
    text = text or say("presence.drop_recorded", r, kind=kind, user=user)
    # One recorded by someone else hears of it at once, and can answer with !åter.
    mentions = (chair_now(m, r),) if user == cmd.actor else tuple(dict.fromkeys((chair_now(m, r), user)))
    return Accepted(events, [Reply(text, mentions=mentions)])


@handles("åter")
def _åter(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = target(m, r, cmd, Rule.P10)
    if isinstance(user, Refused):
        return user
    if not m.drops.get(user) and user not in m.muted:
        return Refused(Rule.P10, say("presence.no_drop", r, user=user))
    refusal = not_in_call(m, r, user, cmd.actor, Rule.P10, "!åter") or transmission.refusal(
        m, r, user, cmd.actor, "!åter"
    )
    if refusal:
        return refusal
    return Accepted([("restored", {"user": user})])


@handles("tysta")
def _tysta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P3, say("presence.name_one_for_tysta", r))
    user = cmd.people[0]
    return Accepted(
        [("muted", {"user": user, "by": cmd.actor})],
        [Reply(say("presence.muted", r, user=user))],
    )


def _may_speak(m: Meeting, r: Roster, user: str, actor: str, item: Item) -> Refused | None:
    """Whether `user` has yttranderätt in the item now: here, the floor not taken (§ 9), not
    jävig (KL 6 kap. 28 §). A teknikfelsledamot keeps it (§ 11), and so does a substitute who
    does not serve."""
    you = user == actor
    if user not in m.present:
        return Refused(Rule.P9, say("floor.roll_call_first", r, user=user, you=you))
    if user in m.left:
        return Refused(Rule.KL_6_27, say("floor.left", r, user=user, you=you))
    if user in item.silenced:
        return Refused(Rule.P9, say("floor.silenced", r, user=user, you=you, n=item.n))
    if user in item.jav:
        return Refused(Rule.KL_6_28, say("floor.jav", r, user=user, you=you, n=item.n))
    return None


def _asks_by_leave(r: Roster, user: str) -> Refused | None:
    """One with närvarorätt speaks when the chair allows, in a body that so chooses (§ 4)."""
    return Refused(Rule.P9, say("floor.by_leave", r, user=user)) if r.speaks_by_leave(user) else None


def _floor_item(m: Meeting, r: Roster) -> Item | Refused:
    """The item whose speakers' list a command concerns: the current one, or none (§ 9)."""
    return m.item if m.item is not None else Refused(Rule.P9, say("floor.no_item", r))


@handles("ordet")
def _ordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """Ask for the floor: last on the item's speakers' list (§ 9); the chair may put another there."""
    item = _floor_item(m, r)
    if isinstance(item, Refused):
        return item
    if cmd.word == "återta":
        return _leave_list(r, cmd, item)
    user = cmd.people[0] if cmd.people else cmd.actor
    if user != cmd.actor and not acts_as_chair(m, r, cmd.actor):
        return Refused(Rule.P9, say("floor.only_chair_names", r))
    refusal = _may_speak(m, r, user, cmd.actor, item) or (_asks_by_leave(r, user) if user == cmd.actor else None)
    if refusal:
        return refusal
    if user in item.speakers:
        place = item.speakers.index(user) + 1
        return Accepted(replies=[Reply(say("floor.on_it_already", r, user=user, you=user == cmd.actor, place=place))])
    if item.closed_list:
        return Refused(Rule.P9, say("floor.list_closed", r, n=item.n))
    data: dict = {"user": user, "n": item.n}
    placed = say("floor.placed", r, user=user, place=len(item.speakers) + 1)
    if cmd.hand:  # a reaction gets no ✅: the answer says where the hand put the person
        return Accepted([("floor", data | {"hand": cmd.hand})], [Reply(placed)])
    if user != cmd.actor:
        return Accepted([("floor", data | {"by": cmd.actor})], [Reply(placed, mentions=(user,))])
    return Accepted([("floor", data)])


def _leave_list(r: Roster, cmd: Command, item: Item) -> Outcome:
    """!ordet återta, or a hand lowered: off the list (and a reply asked withdrawn). A lowered hand
    that holds no place on the list changes nothing, and is not answered."""
    if cmd.hand:
        if item.hands.get(cmd.actor) != cmd.hand:
            return Accepted()
        return Accepted([("floor_withdrawn", {"user": cmd.actor, "n": item.n, "via": "call"})])
    if cmd.actor not in item.speakers and item.reply != cmd.actor:
        return Refused(Rule.P9, say("floor.not_on_it", r, n=item.n))
    return Accepted([("floor_withdrawn", {"user": cmd.actor, "n": item.n})])


@handles("nästa")
def _nästa(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """The chair gives the floor to the first: a reply asked, else the first on the list (§ 9)."""
    item = _floor_item(m, r)
    if isinstance(item, Refused):
        return item
    if item.reply is not None:
        user, waiting = item.reply, item.speakers
        data = {"user": user, "n": item.n, "reply": True, "reply_to": item.reply_to}
    elif item.speakers:
        user, waiting = item.speakers[0], item.speakers[1:]
        data = {"user": user, "n": item.n}
    elif item.speaking is not None:
        return Accepted([("floor_given", {"user": None, "n": item.n})], [Reply(say("floor.ended", r, n=item.n))])
    else:
        return Refused(Rule.P9, say("floor.empty", r, n=item.n))
    text = say("floor.given", r, user=user, reply=data.get("reply", False), to=data.get("reply_to"), waiting=waiting)
    return Accepted([("floor_given", data)], [Reply(text, mentions=(user,))])


@handles("replik")
def _replik(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """A short reply to the one speaking now: before the list, one at a time, never to a reply (§ 9)."""
    item = _floor_item(m, r)
    if isinstance(item, Refused):
        return item
    refusal = _may_speak(m, r, cmd.actor, cmd.actor, item) or _asks_by_leave(r, cmd.actor)
    if refusal:
        return refusal
    speaker = item.speaking
    if speaker is None:
        return Refused(Rule.P9, say("floor.reply_nobody_speaks", r))
    if speaker == cmd.actor:
        return Refused(Rule.P9, say("floor.reply_to_oneself", r))
    if item.replying:
        return Refused(Rule.P9, say("floor.reply_to_a_reply", r, speaker=speaker))
    if item.reply is not None:
        return Refused(Rule.P9, say("floor.reply_asked_already", r, user=item.reply, speaker=speaker))
    chair = chair_now(m, r)
    return Accepted(
        [("reply_asked", {"user": cmd.actor, "n": item.n, "to": speaker})],
        [Reply(say("floor.reply_asked", r, user=cmd.actor, speaker=speaker), mentions=(chair,))],
    )


@handles("streck")
def _streck(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """Streck i debatten: those on the list keep their place, no one new is added (§ 9)."""
    item = _floor_item(m, r)
    if isinstance(item, Refused):
        return item
    if cmd.word == "återta":
        if not item.closed_list:
            return Refused(Rule.P9, say("floor.list_open", r, n=item.n))
        return Accepted([("streck_withdrawn", {"n": item.n})], [Reply(say("floor.list_reopened", r, n=item.n))])
    if item.closed_list:
        return Refused(Rule.P9, say("floor.streck_already", r, n=item.n))
    return Accepted([("streck", {"n": item.n})], [Reply(say("floor.streck", r, n=item.n, users=item.speakers))])


@handles("fråntaordet")
def _fråntaordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.P9, say("presence.silence_no_item", r))
    if len(cmd.people) != 1:
        return Refused(Rule.P9, say("presence.name_one_to_silence", r))
    user = cmd.people[0]
    if user in item.silenced:
        return Refused(Rule.P9, say("presence.silenced_already", r, user=user, n=item.n))
    return Accepted(
        [("floor_taken", {"user": user, "n": item.n})],
        [Reply(say("presence.silenced", r, user=user, n=item.n), mentions=(user,))],
    )


@handles("ajournera")
def _ajournera(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.adjourned:
        return Refused(Rule.P10, say("presence.adjourned_already", r))
    events = abort_running(m, "adjourned")
    events.append(("adjourned", {}))
    return Accepted(events, [Reply(say("presence.adjourned", r, at=now))])


@handles("återuppta")
def _återuppta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if not m.adjourned:
        return Refused(Rule.P10, say("presence.not_adjourned", r))
    lacking = m.lacking(r)
    if lacking:
        return Refused(Rule.P10, say("presence.cannot_resume", r, users=list(lacking)))
    return Accepted([("resumed", {})], [Reply(say("presence.resumed", r, at=now))])
