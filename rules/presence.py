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
from rules.register import handles
from rules.roster import Role, Roster
from rules.seats import confirmed_serves, takes_seat
from rules.state import Meeting, hm
from rules.who import chair_now, target
from rules.words import names


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
        return Accepted(
            replies=[Reply(f"Du är redan antecknad som närvarande sedan kl. {hm(m.present[cmd.actor], r.tz)}.")]
        )
    present = {"user": cmd.actor, "attests": _attests(person.role)} | transmission.roll_call(m, r, cmd.actor)
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
    refusal = not_in_call(m, r, user, cmd.actor, Rule.P10, "!åter") or transmission.refusal(
        m, r, user, cmd.actor, "!åter"
    )
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


@handles("ordet")
def _ordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.actor not in m.present:
        return Refused(Rule.P9, "Anmäl närvaro med !närvarande först.")
    if cmd.actor in m.left:
        return Refused(Rule.KL_6_27, "Du har lämnat sammanträdet. Anmäl närvaro med !närvarande om du är tillbaka.")
    item = m.item
    if item and cmd.actor in item.silenced:
        return Refused(Rule.P9, f"Ordföranden har fråntagit dig ordet under resten av ärende {item.n}.")
    if item and cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, f"Du har jäv i ärende {item.n} och får inte delta i det, inte heller yttra dig.")
    return Accepted([("floor", {"user": cmd.actor, "n": m.current})])


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
