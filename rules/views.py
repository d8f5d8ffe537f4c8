"""What the meeting shows and how it ends: the agenda, the status, the protocol so far, and the
close (KL 6 kap. 35 §: the protocol accounts for every item).
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.anslag import last_day_to_justera
from rules.citations import Rule
from rules.decisions import abort_running
from rules.items import before_called_time
from rules.jav import retake_first
from rules.justering import posted
from rules.model import Meeting, Phase
from rules.register import handles
from rules.roster import Roster
from rules.signers import day_of_meeting, justering_plan
from rules.words import say


@handles("dagordning")
def _dagordning(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    # A question: answered, not refused, before any kallelse too.
    return Accepted(replies=[Reply(say("views.agenda", r, m=m))])


@handles("status")
def _status(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    return Accepted(replies=[Reply(say("views.status", r, m=m))])


@handles("protokoll")
def _protokoll(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    closed = m.phase is Phase.CLOSED
    if not closed or m.justerad_at or not cmd.fingerprint:
        return Accepted(replies=[Reply(say("views.protocol", r, closed=closed, fp=""), attach="protocol")])
    text = say("views.protocol", r, closed=closed, fp=cmd.fingerprint)  # to be signed: its fingerprint
    return Accepted(posted(cmd), [Reply(text, attach="protocol")])


@handles("avsluta")
def _avsluta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    refusal = retake_first(m, r)
    if refusal:
        return refusal
    early = before_called_time(m, r, now, say("views.what_close", r))
    if early:
        return early
    untouched = [n for n, item in m.items.items() if not item.handled]
    if untouched:
        return Refused(Rule.KL_6_35, say("views.untouched", r, numbers=untouched))
    events = abort_running(m, "closed")
    presiding = m.presiding(r)
    events += [("closed", {"presiding": presiding}), *posted(cmd)]
    deadline = last_day_to_justera(day_of_meeting(m, r, now))
    plan = justering_plan(m, r, closed_presiding=presiding) if m.justerare else None
    text = say("views.closed", r, at=now, fp=cmd.fingerprint, deadline=deadline, m=m, plan=plan)
    mentions = tuple(dict.fromkeys((*r.secretaries, *m.justerare)))
    return Accepted(events, [Reply(text, attach="protocol", mentions=mentions)])
