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
from rules.model import Meeting
from rules.register import handles
from rules.roster import Role, Roster
from rules.seats import confirmed_serves, takes_seat
from rules.who import chair_now, target
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


@handles("ordet")
def _ordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.actor not in m.present:
        return Refused(Rule.P9, say("presence.roll_call_first", r))
    if cmd.actor in m.left:
        return Refused(Rule.KL_6_27, say("presence.you_left", r))
    item = m.item
    if item and cmd.actor in item.silenced:
        return Refused(Rule.P9, say("presence.you_are_silenced", r, n=item.n))
    if item and cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, say("presence.jav_no_floor", r, n=item.n))
    return Accepted([("floor", {"user": cmd.actor, "n": m.current})])


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
