"""Jäv (KL 6 kap. 28–30 §§): declared or recorded for the item that is up, withdrawn, and a
decision taken with one who had jäv, which must be taken again first (KL 13 kap. 8 §).
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.register import handles
from rules.roster import Roster
from rules.seats import next_in_turn
from rules.state import Meeting
from rules.who import acts_as_chair
from rules.words import names


def _tainted(m: Meeting) -> list[tuple[int, list[str]]]:
    """Decisions that stand though someone who took part or presided has jäv in the item: (item, who)."""
    return [
        (n, [u for u in d.involved if u in item.jav])
        for n, item in m.items.items()
        for d in item.valid_decisions
        if any(u in item.jav for u in d.involved) and not item.justerad
    ]


def retake_first(m: Meeting, r: Roster) -> Refused | None:
    found = _tainted(m)
    if not found:
        return None
    n, users = found[0]
    return Refused(
        Rule.KL_6_28,
        f"Beslutet i ärende {n} fattades med {names(r, users)}, som har jäv i ärendet. Det ska tas om "
        "först: !omtag, ny !teknikkontroll och nytt beslut (KL 13 kap. 8 §).",
    )


@handles("jäv")
def _jäv(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_28, "Inget ärende är uppe. Jäv anmäls för det ärende som behandlas.")
    if cmd.word == "återta":
        return _jäv_återta(m, r, cmd, item)
    if len(cmd.people) > 1:
        return Refused(Rule.KL_6_28, "Nämn högst en person: !jäv @person.")
    user = cmd.people[0] if cmd.people else cmd.actor
    if user != cmd.actor and not acts_as_chair(m, r, cmd.actor):
        return Refused(Rule.KL_6_28, "Bara ordföranden kan anteckna jäv för någon annan; anmäl ditt eget med !jäv.")
    if user in item.jav:
        return Refused(Rule.KL_6_28, f"Jäv för {r.label(user)} i ärende {item.n} är redan antecknat.")
    text = (
        f"{r.label(user)} har jäv i ärende {item.n} och får varken delta i eller närvara vid "
        "behandlingen (KL 6 kap. 28 §)."
    )
    if any(x.user == user and not x.withdrawn for x in item.motions):
        text += " Hens yrkanden i ärendet faller."
    decided = [d for d in item.valid_decisions if user in d.involved]
    if decided:
        text += (
            f" {r.label(user)} deltog i beslutet i ärendet, som därför ska tas om: !omtag, ny "
            "!teknikkontroll och nytt beslut. Jäv som upptäcks efter beslutet gör det angripbart "
            "(KL 13 kap. 8 §)."
        )
    presiding = m.presiding(r)
    if user == presiding:
        after = m.presiding(r, excluding=user)
        text += (
            f" {r.label(after)} är ordförande i ärendet."
            if after
            else " Ingen vice ordförande kan leda ärendet: ordföranden eller sekreteraren utser en "
            "tjänstgörande ledamot med !ordförande @ledamot (KL 6 kap. 33 §)."
        )
    seat = next((p.user for p in r.members if m.seat(p.user) == user), None)
    if seat is not None:
        turn = next_in_turn(m, r, seat)
        if turn:
            text += f" {r.label(turn)} står på tur att tjänstgöra under ärendet (!ersätt)."
    mentions = tuple(dict.fromkeys((user, presiding or r.chair)))
    return Accepted([("jav", {"n": item.n, "user": user, "by": cmd.actor})], [Reply(text, mentions=mentions)])


def _jäv_återta(m: Meeting, r: Roster, cmd: Command, item) -> Outcome:
    by = item.jav.get(cmd.actor)
    if by is None:
        return Refused(Rule.KL_6_28, f"Du har inget jäv antecknat i ärende {item.n}.")
    if by != cmd.actor:
        return Refused(
            Rule.KL_6_28,
            f"Jävet antecknades av {r.label(by)}, inte av dig; bara den egna anmälan kan återtas.",
        )
    if item.valid_decisions:
        return Refused(Rule.KL_6_28, f"Ärende {item.n} är redan beslutat; jävet kan inte återtas efter beslutet.")
    return Accepted(
        [("jav_withdrawn", {"n": item.n, "user": cmd.actor})],
        [Reply(f"{r.label(cmd.actor)} har återtagit sin jävsanmälan i ärende {item.n} och deltar i ärendet.")],
    )
