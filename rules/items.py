"""Items and their classes (§§ 6–8, KL 6 kap. 33 §): taking an item up, and the permission an item
with personuppgifter or sekretess (§ 7) or säkerhetsskydd (§ 8) needs to be handled at a distance.
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.decisions import no_quorum
from rules.jav import retake_first
from rules.model import Meeting
from rules.register import handles
from rules.roster import Roster
from rules.seats import takes_seat
from rules.words import say


def find_item(m: Meeting, cmd: Command, rule: Rule) -> int | Refused:
    if cmd.number is None or cmd.number not in m.items:
        numbers = ", ".join(str(n) for n in m.items)
        return Refused(rule, say("items.which_item", None, numbers=numbers))
    return cmd.number


def before_called_time(m: Meeting, r: Roster, now: datetime, what: str) -> Refused | None:
    """Members were called to the time in the kallelse (§ 1): one who comes then must not find
    matters handled. Opening up to 15 minutes before it is for the roll call only."""
    if m.start is None or now >= m.start:
        return None
    return Refused(
        Rule.P1,
        say("items.before_called_time", r, what=what, start=m.start),
    )


@handles("ärende")
def _ärende(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = find_item(m, cmd, Rule.KL_6_33)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    early = before_called_time(m, r, now, say("items.what_take_up", r, n=n))
    if early:
        return early
    if item.struck is not None:
        return Refused(Rule.KL_6_33, say("items.struck", r, n=n))
    if not item.permitted:
        if item.klass == "säkerhetsskydd":
            return Refused(
                Rule.P8,
                say("items.needs_security_chief", r, n=n),
            )
        return Refused(
            Rule.P6,
            say("items.needs_permission", r, n=n, klass=item.klass),
        )
    if m.current == n:
        return Refused(Rule.KL_6_33, say("items.up_already", r, n=n))
    refusal = retake_first(m, r) or no_quorum(m, r, say("items.what_cannot_take_up", r, n=n))
    if refusal:
        return refusal
    # A member who arrived late takes over from the substitute at the next item.
    late = [
        member for member in m.substituted if m.here(member) and member not in m.teknikfel and not m.drops.get(member)
    ]
    # A substitute confirmed for a member with förhinder, here while an item was up, takes the seat.
    confirmed = [(sub, member) for sub, member in m.confirmed.items() if takes_seat(m, r, sub, member)]
    paragraph = item.paragraph or m.next_paragraph
    lines = [say("items.taken_up", r, n=n, paragraph=paragraph, title=item.title)]
    lines += [say("items.late_member_serves", r, member=u, sub=m.substituted[u]) for u in late]
    lines += [say("items.confirmed_serves", r, sub=sub, member=member) for sub, member in confirmed]
    taken = ("item_taken", {"n": n, "paragraph": paragraph})
    events = [("reinstated", {"member": u, "late": True}) for u in late]
    events += [("replaced", {"member": member, "substitute": sub, "teknikfel": False}) for sub, member in confirmed]
    events.append(taken)
    return Accepted(events, [Reply("\n".join(lines), mentions=(*late, *(sub for sub, _ in confirmed)))])


@handles("tillåt")
def _tillåt(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = find_item(m, cmd, Rule.P7)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    if item.klass == "säkerhetsskydd":
        return Refused(
            Rule.P8,
            say("items.only_security_chief", r, n=n),
        )
    if not item.klass:
        return Refused(Rule.P6, say("items.no_permission_needed", r, n=n))
    if item.allowed_by:
        return Refused(Rule.P7, say("items.allowed_already", r, n=n))
    return _permission(cmd, n, Rule.P7, say("items.allowed", r, n=n, klass=item.klass))


@handles("godkänn")
def _godkänn(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = find_item(m, cmd, Rule.P8)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    if item.klass != "säkerhetsskydd":
        return Refused(Rule.P8, say("items.not_security", r, n=n))
    if item.approved_by:
        return Refused(Rule.P8, say("items.approved_already", r, n=n))
    return _permission(cmd, n, Rule.P8, say("items.approved", r, n=n))


def _permission(cmd: Command, n: int, rule: Rule, text: str) -> Accepted:
    """The chair's (§ 7) or the security chief's (§ 8) permission, which is theirs to give also in
    a room that is not end-to-end encrypted; there it is given with a warning, and recorded so."""
    data: dict = {"n": n, "by": cmd.actor, "rule": rule.name}
    if not cmd.room_encrypted:
        data["unencrypted"] = True
        text = say("items.unencrypted_room", None, n=n, text=text)
    return Accepted([("allowed", data)], [Reply(text)])
