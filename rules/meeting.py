"""The dispatcher: everything that decides whether a command is allowed and what it changes.

Theory of operation: `decide(meeting, roster, command, now)` is a pure function. It first
looks up who may use the command, in which phase, and what blocks it while the meeting is
adjourned or a check or vote runs (`rules.tables`, one table for the whole body of rules), then
runs the command's own checks in its handler (`rules.register.HANDLERS`, filled by the section
modules below). It answers either `Refused(rule, text)`, naming the paragraph of the
arbetsordning or kommunallagen that forbids the command and what would make it acceptable, or
`Accepted(events, replies)`. It never changes the meeting: the shell appends the events to the
log and folds them in with `rules.state.apply`.

`tick(meeting, roster, now)` is the same for the passing of time: what `rules.clock.due` names
once it has passed (a technical check's deadline, § 12; a call membership's expiry).
"""

from __future__ import annotations

from datetime import datetime

from rules import convening, decisions, forhinder, items, jav, justering, presence, seats, transmission, views, votes
from rules.actions import Accepted, Command, Outcome, Refused
from rules.call import call
from rules.citations import Rule
from rules.clock import ENDS, call_key, due
from rules.convening import starts_meeting
from rules.decisions import check_ended
from rules.model import Meeting
from rules.register import HANDLERS
from rules.roster import Roster
from rules.tables import CHANGES_PARAGRAPH, PERMISSIONS, permission
from rules.who import acts_as_chair, table_refusal
from rules.words import say

__all__ = ["call", "decide", "may_use", "starts_meeting", "tick"]

# The sections of the rules; importing each registers its handlers.
SECTIONS = (convening, presence, seats, forhinder, jav, items, decisions, votes, justering, views)


def may_use(m: Meeting | None, roster: Roster, actor: str, name: str) -> bool:
    """Whether `actor` may use command `name` now (for !hjälp)."""
    if name not in HANDLERS:
        return True
    return roster.person(actor) is not None and table_refusal(m, roster, Command(name, actor)) is None


def decide(m: Meeting | None, roster: Roster, cmd: Command, now: datetime) -> Outcome:
    perm = permission(cmd)
    if roster.person(cmd.actor) is None and not acts_as_chair(m, roster, cmd.actor):
        return Refused(Rule.P2, say("meeting.not_on_roster", roster))
    refusal = table_refusal(m, roster, cmd)
    if refusal:
        return refusal
    if cmd.error:
        return Refused(perm.rule, cmd.error)
    for user in cmd.people:
        if roster.person(user) is None:
            return Refused(Rule.P2, say("meeting.named_not_on_roster", roster, user=user))
    return _final_paragraph(m, cmd) or HANDLERS[cmd.name](m, roster, cmd, now)


def _final_paragraph(m: Meeting | None, cmd: Command) -> Refused | None:
    """An omedelbart justerad paragraph never changes afterwards (KL 5 kap. 69 §): nothing that
    would change it is accepted, so the signed extract stays the paragraph."""
    if m is None or cmd.name not in CHANGES_PARAGRAPH:
        return None
    n = cmd.number if cmd.number is not None else m.current
    item = m.items.get(n) if n is not None else None
    if item is None or item.justerad is None:
        return None
    return Refused(
        Rule.KL_5_69, say("meeting.final_paragraph", None, paragraph=item.paragraph, n=item.n, name=cmd.name)
    )


def tick(m: Meeting | None, r: Roster, now: datetime) -> tuple[datetime, str, Accepted] | None:
    """Time has passed: the earliest thing that fell due, with when it did and a key naming it:
    a running check's deadline (§ 12), a call membership that expired without a leave, or a
    camera off longer than the grace (§ 5)."""
    found = due(m, r, ENDS)
    if m is None or found is None or found[0] > now:
        return None
    at, key = found
    if key.startswith("check:") and m.check:
        result = check_ended(m, r, m.check)
    elif key.startswith("grace:"):
        result = transmission.grace_passed(m, r, key, at)
    else:
        result = _call_expired(m, r, key, at)
    assert result is not None  # a membership in the meeting's state always changes when it expires
    return at, key, result


def _call_expired(m: Meeting, r: Roster, key: str, at: datetime) -> Accepted | None:
    """The call membership `key` names has expired: the person is on the other devices only."""
    for user, devices in m.in_call.items():
        for device, expires in devices.items():
            if expires is not None and call_key(user, device, expires) == key:
                return call(m, r, user, {d: e for d, e in devices.items() if d != device}, at)
    return None


if HANDLERS.keys() != {p.split()[0] for p in PERMISSIONS}:
    raise RuntimeError(
        f"handlers and rules.tables disagree: {sorted(HANDLERS.keys() ^ {p.split()[0] for p in PERMISSIONS})}"
    )
