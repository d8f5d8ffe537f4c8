"""Jäv (KL 6 kap. 28–30 §§): declared or recorded for the item that is up, withdrawn, and a
decision taken with one who had jäv, which must be taken again first (KL 13 kap. 8 §).
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.model import Meeting
from rules.register import handles
from rules.roster import Roster
from rules.seats import next_in_turn
from rules.who import acts_as_chair
from rules.words import say


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
    return Refused(Rule.KL_6_28, say("jav.retake_first", r, n=n, users=users))


@handles("jäv")
def _jäv(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_28, say("jav.no_item", r))
    if cmd.word == "återta":
        return _jäv_återta(m, r, cmd, item)
    if len(cmd.people) > 1:
        return Refused(Rule.KL_6_28, say("jav.one_person", r))
    user = cmd.people[0] if cmd.people else cmd.actor
    if user != cmd.actor and not acts_as_chair(m, r, cmd.actor):
        return Refused(Rule.KL_6_28, say("jav.only_chair_for_others", r))
    if user in item.jav:
        return Refused(Rule.KL_6_28, say("jav.already", r, user=user, n=item.n))
    presiding = m.presiding(r)
    seat = next((p.user for p in r.members if m.seat(p.user) == user), None)
    text = say(
        "jav.declared",
        r,
        user=user,
        n=item.n,
        motions_fall=any(x.user == user and not x.withdrawn for x in item.motions),
        took_part=any(user in d.involved for d in item.valid_decisions),
        presided=user == presiding,
        after=m.presiding(r, excluding=user) if user == presiding else None,  # who presides instead
        turn=next_in_turn(m, r, seat) if seat is not None else None,  # whose turn it is to serve
    )
    mentions = tuple(dict.fromkeys((user, presiding or r.chair)))
    return Accepted([("jav", {"n": item.n, "user": user, "by": cmd.actor})], [Reply(text, mentions=mentions)])


def _jäv_återta(m: Meeting, r: Roster, cmd: Command, item) -> Outcome:
    by = item.jav.get(cmd.actor)
    if by is None:
        return Refused(Rule.KL_6_28, say("jav.none_to_withdraw", r, n=item.n))
    if by != cmd.actor:
        return Refused(Rule.KL_6_28, say("jav.recorded_by_another", r, by=by))
    if item.valid_decisions:
        return Refused(Rule.KL_6_28, say("jav.decided_already", r, n=item.n))
    return Accepted(
        [("jav_withdrawn", {"n": item.n, "user": cmd.actor})],
        [Reply(say("jav.withdrawn", r, user=cmd.actor, n=item.n))],
    )
