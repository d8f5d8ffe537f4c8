"""Presence and transmission (§§ 2–5, 9, 10): the roll call, the chair's room and a shared
transmission, lost and restored audio and video, the floor, and the ajournering.
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.call import lose_transmission, not_in_call
from rules.citations import Rule
from rules.decisions import abort_running
from rules.register import handles
from rules.roster import Role, Roster
from rules.seats import confirmed_serves, takes_seat
from rules.state import Item, Meeting, hm
from rules.who import acts_as_chair, chair_now, target
from rules.words import names


@handles("närvarande")
def _närvarande(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    person = r.person(cmd.actor)
    assert person is not None
    refusal = not_in_call(m, r, cmd.actor, cmd.actor, Rule.P3, "!närvarande")
    if refusal:
        return refusal
    if cmd.actor in m.present and cmd.actor not in m.left:
        return Accepted(
            replies=[Reply(f"Du är redan antecknad som närvarande sedan kl. {hm(m.present[cmd.actor], r.tz)}.")]
        )
    present = {"user": cmd.actor, "attests": _attests(person.role)}
    if cmd.actor in m.left:
        present["returned"] = True
    events: list = [("present", present)]
    texts = [f"{r.label(cmd.actor)} är tillbaka kl. {hm(now, r.tz)}."] if cmd.actor in m.left else []
    if cmd.actor in m.forhinder:
        # One who comes despite a förhinder has withdrawn it in effect; a substitute already
        # serving for her goes on until the next item, as for a late member (KL 6 kap. 17 §).
        events.append(("forhinder_withdrawn", {"user": cmd.actor, "present": True}))
        texts.append(f"{r.label(cmd.actor)} har kommit trots anmält förhinder, som därmed inte gäller längre.")
        if cmd.actor in m.substituted:
            texts.append(
                f"{r.label(m.substituted[cmd.actor])} tjänstgör för hen till nästa ärende, då hen tar över "
                "(KL 6 kap. 17 §)."
            )
    member = m.confirmed.get(cmd.actor)
    if member is not None and takes_seat(m, r, cmd.actor, member, arriving=True):
        more, text = confirmed_serves(m, r, cmd.actor, member)
        events += more
        texts.append(text)
    return Accepted(events, [Reply(" ".join(texts))] if texts else [])


def _attests(role: Role) -> str:
    video = role in (Role.MEMBER, Role.SUBSTITUTE)
    return "enrum, ljud och bild; §§ 2–3" if video else "enrum och ljud; §§ 2, 4"


def _placed(m: Meeting, r: Roster, user: str, before_roll_call: bool = False) -> Refused | None:
    """Whether `user` can be placed in the chair's room or a shared transmission (§ 2): one who
    is here and not placed already (a share is between two, never a chain). The chair may seat
    someone in the chair's room before they answer the roll call."""
    if user in m.left or not (m.here(user) or before_roll_call):
        return Refused(Rule.P2, f"{r.label(user)} är inte närvarande (!närvarande).")
    where = m.location.get(user)
    if where == "lokal":
        return Refused(Rule.P2, f"{r.label(user)} deltar redan i ordförandens lokal.")
    if where:
        return Refused(Rule.P2, f"{r.label(user)} delar redan överföring med {r.label(where)}.")
    return None


@handles("lokal")
def _lokal(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P2, "Nämn en person: !lokal @person.")
    user = cmd.people[0]
    refusal = _placed(m, r, user, before_roll_call=True)
    if refusal:
        return refusal
    if not (r.follows_call and m.here(user)):
        return Accepted(
            [("located", {"users": [user]})],
            [Reply(f"{r.label(user)} deltar i ordförandens lokal (§ 2).")],
        )
    # The call has shown the person attending from elsewhere: a change of place, from now, which
    # leaves a drop standing until the person answers !åter (there, from the chair's room).
    text = f"{r.label(user)} deltar från kl. {hm(now, r.tz)} i ordförandens lokal, och dessförinnan på distans (§ 2)."
    if m.drops.get(user):
        kinds = " och ".join(k for k in ("ljud", "bild") if k in m.drops[user])
        text += f" Avbrottet i {kinds} står kvar tills hen bekräftar med !åter (§ 10)."
    return Accepted([("located", {"users": [user], "moved": True})], [Reply(text)])


@handles("delad")
def _delad(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 2 or cmd.people[0] == cmd.people[1]:
        return Refused(Rule.P2, "Nämn två olika personer: !delad @person @person.")
    a, b = cmd.people
    # With the call followed, one without a call membership of their own cannot attest before
    # sharing: sharing with one here and in the call comes first, and covers them (§§ 2-3).
    covers = r.follows_call and (m.here(a) and bool(m.in_call.get(a)) or m.here(b) and bool(m.in_call.get(b)))
    refusal = _placed(m, r, a, before_roll_call=covers) or _placed(m, r, b, before_roll_call=covers)
    if refusal:
        return refusal
    return Accepted(
        [("located", {"users": [a, b]})],
        [
            Reply(
                f"{r.label(a)} och {r.label(b)} delar ljud- och bildöverföring (§ 2). "
                "Ordföranden ansvarar för att likvärdigheten mellan ledamöterna bibehålls."
            )
        ],
    )


@handles("avbrott")
def _avbrott(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = target(m, r, cmd, Rule.P10)
    if isinstance(user, Refused):
        return user
    kind = cmd.word
    if kind in m.drops.get(user, set()):
        return Refused(
            Rule.P10,
            f"Avbrottet i {kind} för {r.label(user)} är redan antecknat. Skriv !åter när det fungerar.",
        )
    events, text = lose_transmission(m, r, user, [kind])
    text = text or f"Avbrott i {kind} för {r.label(user)} antecknat."
    # One recorded by someone else hears of it at once, and can answer with !åter.
    mentions = (chair_now(m, r),) if user == cmd.actor else tuple(dict.fromkeys((chair_now(m, r), user)))
    return Accepted(events, [Reply(text, mentions=mentions)])


@handles("åter")
def _åter(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = target(m, r, cmd, Rule.P10)
    if isinstance(user, Refused):
        return user
    if not m.drops.get(user) and user not in m.muted:
        return Refused(Rule.P10, f"Inget avbrott är antecknat för {r.label(user)}.")
    refusal = not_in_call(m, r, user, cmd.actor, Rule.P10, "!åter")
    if refusal:
        return refusal
    return Accepted([("restored", {"user": user})])


@handles("tysta")
def _tysta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P3, "Nämn en person: !tysta @person.")
    user = cmd.people[0]
    return Accepted(
        [("muted", {"user": user, "by": cmd.actor})],
        [Reply(f"Ljudet för {r.label(user)} är avstängt (§ 3). Skriv !åter när det slås på igen.")],
    )


def _may_speak(m: Meeting, r: Roster, user: str, actor: str, item: Item) -> Refused | None:
    """Whether `user` has yttranderätt in the item now: here, the floor not taken (§ 9), not
    jävig (KL 6 kap. 28 §). A teknikfelsledamot keeps it (§ 11), and so does a substitute who
    does not serve."""
    you = user == actor
    if user not in m.present:
        return Refused(
            Rule.P9, "Anmäl närvaro med !närvarande först." if you else f"{r.label(user)} är inte närvarande."
        )
    if user in m.left:
        return Refused(
            Rule.KL_6_27,
            "Du har lämnat sammanträdet. Anmäl närvaro med !närvarande om du är tillbaka."
            if you
            else f"{r.label(user)} har lämnat sammanträdet.",
        )
    if user in item.silenced:
        who = "dig" if you else r.label(user)
        return Refused(Rule.P9, f"Ordföranden har fråntagit {who} ordet under resten av ärende {item.n}.")
    if user in item.jav:
        who = "Du har" if you else f"{r.label(user)} har"
        return Refused(Rule.KL_6_28, f"{who} jäv i ärende {item.n} och får inte delta i det, inte heller yttra sig.")
    return None


def _asks_by_leave(r: Roster, user: str) -> Refused | None:
    """One with närvarorätt speaks when the chair allows, in a body that so chooses (§ 4)."""
    if not r.speaks_by_leave(user):
        return None
    return Refused(
        Rule.P9,
        "Övriga med närvarorätt yttrar sig med ordförandens medgivande: be ordföranden sätta dig "
        f"på talarlistan (!ordet @{r.name_of(user)}).",
    )


def _no_item(m: Meeting) -> Refused | None:
    if m.item is None:
        return Refused(Rule.P9, "Inget ärende är uppe. Talarlistan hör till ärendet som är uppe.")
    return None


@handles("ordet")
def _ordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """Ask for the floor: last on the item's speakers' list (§ 9); the chair may put another there."""
    refusal = _no_item(m)
    if refusal:
        return refusal
    item = m.item
    assert item is not None
    if cmd.word == "återta":
        return _leave_list(r, cmd, item)
    user = cmd.people[0] if cmd.people else cmd.actor
    if user != cmd.actor and not acts_as_chair(m, r, cmd.actor):
        return Refused(Rule.P9, "Bara ordföranden sätter någon annan på talarlistan. Begär ordet själv med !ordet.")
    refusal = _may_speak(m, r, user, cmd.actor, item) or (_asks_by_leave(r, user) if user == cmd.actor else None)
    if refusal:
        return refusal
    if user in item.speakers:
        who = "Du står" if user == cmd.actor else f"{r.label(user)} står"
        return Accepted(replies=[Reply(f"{who} redan på talarlistan, som nummer {item.speakers.index(user) + 1}.")])
    if item.closed_list:
        return Refused(
            Rule.P9,
            f"Talarlistan för ärende {item.n} är stängd (streck i debatten): ingen ny läggs till. "
            "Ordföranden kan öppna den igen med !streck återta.",
        )
    data: dict = {"user": user, "n": item.n}
    place = f"som nummer {len(item.speakers) + 1}"
    if cmd.hand:  # a reaction gets no ✅: the answer says where the hand put the person
        data["hand"] = cmd.hand
        return Accepted([("floor", data)], [Reply(f"{r.label(user)} står på talarlistan {place}.")])
    if user != cmd.actor:
        data["by"] = cmd.actor
        return Accepted([("floor", data)], [Reply(f"{r.label(user)} står på talarlistan {place}.", mentions=(user,))])
    return Accepted([("floor", data)])


def _leave_list(r: Roster, cmd: Command, item: Item) -> Outcome:
    """!ordet återta, or a hand lowered: off the list (and a reply asked withdrawn). A lowered hand
    that holds no place on the list changes nothing, and is not answered."""
    if cmd.hand:
        if item.hands.get(cmd.actor) != cmd.hand:
            return Accepted()
        return Accepted([("floor_withdrawn", {"user": cmd.actor, "n": item.n, "via": "call"})])
    if cmd.actor not in item.speakers and item.reply != cmd.actor:
        return Refused(Rule.P9, f"Du står inte på talarlistan för ärende {item.n}.")
    return Accepted([("floor_withdrawn", {"user": cmd.actor, "n": item.n})])


@handles("nästa")
def _nästa(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """The chair gives the floor to the first: a reply asked, else the first on the list (§ 9)."""
    refusal = _no_item(m)
    if refusal:
        return refusal
    item = m.item
    assert item is not None
    if item.reply is not None:
        user, waiting = item.reply, item.speakers
        to = f" för en replik på {r.label(item.reply_to)}" if item.reply_to else " för en replik"
        data = {"user": user, "n": item.n, "reply": True, "reply_to": item.reply_to}
    elif item.speakers:
        user, waiting, to = item.speakers[0], item.speakers[1:], ""
        data = {"user": user, "n": item.n}
    elif item.speaking is not None:
        return Accepted(
            [("floor_given", {"user": None, "n": item.n})],
            [Reply(f"Talarlistan för ärende {item.n} är tom: ingen har ordet nu.")],
        )
    else:
        return Refused(Rule.P9, f"Talarlistan för ärende {item.n} är tom: ingen har begärt ordet (!ordet).")
    text = f"{r.label(user)} har ordet{to} (§ 9)."
    if waiting:
        text += f" Näst på tur: {r.label(waiting[0])}."
    return Accepted([("floor_given", data)], [Reply(text, mentions=(user,))])


@handles("replik")
def _replik(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """A short reply to the one speaking now: before the list, one at a time, never to a reply (§ 9)."""
    refusal = _no_item(m)
    if refusal:
        return refusal
    item = m.item
    assert item is not None
    refusal = _may_speak(m, r, cmd.actor, cmd.actor, item) or _asks_by_leave(r, cmd.actor)
    if refusal:
        return refusal
    speaker = item.speaking
    if speaker is None:
        return Refused(Rule.P9, "Ingen har ordet nu: replik begärs på den som talar. Begär ordet med !ordet.")
    if speaker == cmd.actor:
        return Refused(Rule.P9, "Du har själv ordet.")
    if item.replying:
        return Refused(
            Rule.P9,
            f"{r.label(speaker)} har ordet för en replik, och en replik på en replik ges inte. Begär ordet med !ordet.",
        )
    if item.reply is not None:
        return Refused(
            Rule.P9,
            f"{r.label(item.reply)} har redan begärt replik på {r.label(speaker)}, och replikerna ges en i taget. "
            "Begär ordet med !ordet.",
        )
    chair = chair_now(m, r)
    return Accepted(
        [("reply_asked", {"user": cmd.actor, "n": item.n, "to": speaker})],
        [
            Reply(
                f"{r.label(cmd.actor)} begär replik på {r.label(speaker)}; ordföranden ger ordet med !nästa.",
                mentions=(chair,),
            )
        ],
    )


@handles("streck")
def _streck(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """Streck i debatten: those on the list keep their place, no one new is added (§ 9)."""
    refusal = _no_item(m)
    if refusal:
        return refusal
    item = m.item
    assert item is not None
    if cmd.word == "återta":
        if not item.closed_list:
            return Refused(Rule.P9, f"Talarlistan för ärende {item.n} är inte stängd.")
        return Accepted(
            [("streck_withdrawn", {"n": item.n})],
            [Reply(f"Strecket i debatten är borttaget: talarlistan för ärende {item.n} är öppen igen (§ 9).")],
        )
    if item.closed_list:
        return Refused(Rule.P9, f"Streck i debatten är redan satt i ärende {item.n}. Öppna listan med !streck återta.")
    on_it = f"På listan står {names(r, item.speakers)}." if item.speakers else "Ingen står på listan."
    return Accepted(
        [("streck", {"n": item.n})],
        [Reply(f"Streck i debatten: talarlistan för ärende {item.n} är stängd (§ 9). {on_it}")],
    )


@handles("fråntaordet")
def _fråntaordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.P9, "Inget ärende är uppe. Ordet kan fråntas under ett ärende.")
    if len(cmd.people) != 1:
        return Refused(Rule.P9, "Nämn en person: !fråntaordet @person.")
    user = cmd.people[0]
    if user in item.silenced:
        return Refused(Rule.P9, f"{r.label(user)} har redan fråntagits ordet under ärende {item.n}.")
    return Accepted(
        [("floor_taken", {"user": user, "n": item.n})],
        [Reply(f"{r.label(user)} fråntas ordet under resten av ärende {item.n} (§ 9).", mentions=(user,))],
    )


@handles("ajournera")
def _ajournera(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.adjourned:
        return Refused(Rule.P10, "Sammanträdet är redan ajournerat. Återuppta med !återuppta.")
    events = abort_running(m, "adjourned")
    events.append(("adjourned", {}))
    return Accepted(events, [Reply(f"Sammanträdet är ajournerat kl. {hm(now, r.tz)} (§ 10).")])


@handles("återuppta")
def _återuppta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if not m.adjourned:
        return Refused(Rule.P10, "Sammanträdet är inte ajournerat.")
    lacking = m.lacking(r)
    if lacking:
        return Refused(
            Rule.P10,
            f"{names(r, lacking)} saknar godtagbar överföring. Sammanträdet återupptas först "
            "när kontakten är återupprättad (!åter) eller en ersättare har trätt in (!ersätt).",
        )
    return Accepted([("resumed", {})], [Reply(f"Sammanträdet återupptas kl. {hm(now, r.tz)} (§ 10).")])
