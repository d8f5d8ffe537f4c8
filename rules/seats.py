"""Who serves (§ 11, KL 6 kap. 17 §, 33 §): substitutes in their turn, the teknikfelsledamot and
her return, one who leaves, and the member chosen to preside.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.model import Meeting
from rules.register import handles
from rules.roster import Roster
from rules.who import target
from rules.words import say


def next_in_turn(m: Meeting, r: Roster, member: str, skip: Collection[str] = ()) -> str | None:
    """The substitute whose turn it is to serve for `member` (KL 6 kap. 17 §): first the
    member's own party in list order, then the others in list order, among those here, with
    working transmission, not serving, not replaced for teknikfel and without jäv on the
    current item (nor in `skip`: already proposed for another seat)."""
    serving = {*m.serving(r), *skip}
    item = m.item
    free = [
        s
        for s in r.substitutes
        if m.here(s.user)
        and not m.drops.get(s.user)
        and s.user not in serving
        and s.user not in m.teknikfel
        and not (item and s.user in item.jav)
    ]
    return first_in_turn(r, member, free)


def first_in_turn(r: Roster, member: str, free: list) -> str | None:
    """Of the substitutes free to serve, the first of the member's own party in list order,
    else the first on the list (KL 6 kap. 17 §): one order for !ersätt and for förhinder."""
    person = r.person(member)
    own = [s for s in free if person and person.party and s.party == person.party]
    return (own or free)[0].user if free else None


def between_items(m: Meeting) -> bool:
    """Who serves changes between items or during an ajournering, not in the middle of an item."""
    item = m.item
    return item is None or m.adjourned or bool(item.valid_decisions)


def takes_seat(m: Meeting, r: Roster, sub: str, member: str, arriving: bool = False) -> bool:
    """Whether a substitute confirmed (!tjänstgör) for a member with förhinder takes the member's
    seat (KL 6 kap. 17 §): she is here (or `arriving`) with working transmission and does not
    serve already, and the seat is empty: the member is not here and nobody else fills it."""
    if member in m.substituted or m.here(member) or m.seat(member) is not None:
        return False
    return (arriving or m.here(sub)) and not m.drops.get(sub) and sub not in m.teknikfel and sub not in m.serving(r)


def confirmed_serves(m: Meeting, r: Roster, sub: str, member: str) -> tuple[list, str]:
    """A confirmed substitute here takes the empty seat: at once between items, else from the next."""
    if not between_items(m):
        return [], say("seats.confirmed_serves_from_next", r, sub=sub, member=member)
    text = say("seats.confirmed_serves", r, sub=sub, member=member)
    return [("replaced", {"member": member, "substitute": sub, "teknikfel": False})], text


@handles("ersätt")
def _ersätt(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 2:
        return Refused(Rule.P11, say("seats.name_member_and_substitute", r))
    first, sub = cmd.people
    # The seat is a member's; the one replaced is whoever fills it: the member or a substitute.
    member = first if r.is_member(first) else m.serving_for(first, r)
    if member is None:
        return Refused(Rule.P11, say("seats.no_seat", r, user=first))
    holder = m.seat(member)
    if not r.is_substitute(sub):
        return Refused(Rule.P11, say("seats.not_a_substitute", r, sub=sub))
    if sub in m.serving(r):
        return Refused(Rule.P11, say("seats.serves_already", r, sub=sub))
    if not m.here(sub):
        return Refused(Rule.P11, say("seats.substitute_not_present", r, sub=sub))
    item = m.item
    regular = m.substituted.get(member) or (member if m.here(member) else None)
    for_jav = item is not None and holder is None and regular is not None and regular in item.jav
    if holder is not None and not m.drops.get(holder):
        return Refused(Rule.P11, say("seats.transmission_works", r, holder=holder, member=member))
    if not for_jav and not between_items(m):
        return Refused(Rule.KL_6_17, say("seats.mid_item", r))
    turn = next_in_turn(m, r, member)
    if turn != sub:
        return Refused(Rule.KL_6_17, say("seats.not_in_turn", r, turn=turn, member=member))
    if for_jav:
        assert item is not None and regular is not None
        text = say("seats.serves_for_jav", r, sub=sub, n=item.n, regular=regular)
        return Accepted(
            [("replaced", {"member": member, "substitute": sub, "teknikfel": False, "for_item": item.n})],
            [Reply(text, mentions=(sub,))],
        )
    data = {"member": member, "substitute": sub, "teknikfel": holder is not None}
    if holder is not None and holder != member:
        data["replaces"] = holder
    text = say("seats.replaced", r, sub=sub, at=now, member=member, holder=holder, left=member in m.left)
    return Accepted([("replaced", data)], [Reply(text, mentions=tuple(u for u in (holder, sub) if u))])


@handles("återinträd")
def _återinträd(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P11, say("seats.name_member_to_reinstate", r))
    member = cmd.people[0]
    if member not in m.substituted:
        return Refused(Rule.P11, say("seats.not_replaced", r, member=member))
    if not m.here(member):
        return Refused(Rule.P11, say("seats.member_not_present", r, member=member))
    if m.drops.get(member):
        return Refused(Rule.P11, say("seats.still_lacking", r, member=member))
    if not between_items(m):
        return Refused(Rule.KL_6_17, say("seats.mid_item", r))
    sub = m.substituted[member]
    return Accepted(
        [("reinstated", {"member": member})],
        [Reply(say("seats.reinstated", r, member=member, at=now, sub=sub), mentions=(member, sub))],
    )


@handles("lämnar")
def _lämnar(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = target(m, r, cmd, Rule.KL_6_27)
    if isinstance(user, Refused):
        return user
    member = next((p.user for p in r.members if m.seat(p.user) == user), None)
    text = say(
        "seats.leaves",
        r,
        user=user,
        at=now,
        n=m.current,
        member=member,  # whose seat she filled, if any
        counted=len(m.counted(r, excluding=user)),
        turn=next_in_turn(m, r, member) if member is not None else None,
    )
    chair = m.presiding(r, excluding=user) or r.chair
    mentions = tuple(dict.fromkeys((chair, user) if user != cmd.actor else (chair,)))
    return Accepted([("left", {"user": user, "n": m.current})], [Reply(text, mentions=mentions)])


@handles("ordförande")
def _ordförande(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.KL_6_33, say("seats.name_member_to_preside", r))
    user = cmd.people[0]
    item = m.item
    if item is not None and cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, say("seats.jav_in_choice", r, n=item.n))
    if not m.here(cmd.actor) and not r.is_secretary(cmd.actor):
        return Refused(Rule.KL_6_33, say("seats.not_at_meeting", r))
    serving = m.serving(r)
    by_office = next((u for u in (r.chair, *r.vice_chairs) if u in serving), None)
    if by_office is not None:
        return Refused(Rule.KL_6_33, say("seats.presides_by_office", r, user=by_office))
    if user not in serving:
        return Refused(Rule.KL_6_33, say("seats.cannot_preside", r, user=user))
    text = say("seats.presiding_named", r, user=user)
    named = {"user": user, "n": m.current, "by": cmd.actor}
    return Accepted([("presiding_named", named)], [Reply(text, mentions=(user,))])
