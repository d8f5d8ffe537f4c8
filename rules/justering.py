"""Justering and anslag (KL 5 kap. 69 §, 6 kap. 35 §, 8 kap. 12 §): who justerar each paragraph,
the justerare, signatures on a fingerprinted wording, omedelbar justering, rättelse before the
justering, and the day the anslag was put up.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.anslag import last_day_to_justera, last_day_to_post
from rules.citations import Rule
from rules.items import find_item
from rules.model import Item, Meeting, Phase
from rules.register import handles
from rules.roster import Roster
from rules.signers import (
    Paragraph,
    day_of_meeting,
    justering_plan,
    paragraph_signers,
    required_signers,
)
from rules.who import meeting_chairs
from rules.words import say


@handles("justerare")
def _justerare(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.justerad_at:
        return Refused(Rule.KL_5_69, say("justering.justerat_already", r))
    # Serving members and substitutes; after the close, those who served in the meeting.
    eligible = m.serving(r) if m.phase is Phase.OPEN else list(m.ever_served)
    presiding = m.presiding(r) if m.phase is Phase.OPEN else None
    for user in cmd.people:
        if user not in eligible:
            return Refused(Rule.KL_5_69, say("justering.not_serving", r, user=user))
    if presiding is not None and list(cmd.people) == [presiding]:
        return Refused(Rule.KL_5_69, say("justering.presiding_alone", r, user=presiding))
    chosen = dataclasses.replace(m, justerare=list(cmd.people))  # the plan as it would be
    if m.phase is Phase.CLOSED:
        for user in cmd.people:
            if not any(user in p.justerare for p in justering_plan(chosen, r)):
                return Refused(Rule.KL_5_69, say("justering.cannot_justera_any", r, user=user))
    events = [("justerare", {"users": list(cmd.people), "by": cmd.actor})]
    closed = m.phase is Phase.CLOSED
    plan = justering_plan(chosen, r) if closed else None
    text = say("justering.chosen", r, users=cmd.people, m=chosen, plan=plan, resign=closed and bool(m.signatures))
    return Accepted(events, [Reply(text, mentions=cmd.people)])


def _stale(m: Meeting, r: Roster, cmd: Command) -> Refused | None:
    """A signature with a fingerprint is on that version only: refused unless it is the one to be
    signed now, telling what changed since the version the signer typed was shown."""
    typed, fp = cmd.typed_fingerprint, cmd.fingerprint
    if not typed or fp.startswith(typed):
        return None
    seen = next((p for p in reversed(m.postings) if p.fingerprint.startswith(typed)), None)
    at_once = cmd.word == "omedelbart"
    return Refused(Rule.KL_5_69, say("justering.stale", r, typed=typed, fp=fp, at_once=at_once, m=m, seen=seen))


@handles("justera")
def _justera(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.word == "omedelbart":
        return _justera_omedelbart(m, r, cmd, now)
    if m.justerad_at:
        return Refused(Rule.KL_5_69, say("justering.justerat_on", r, at=m.justerad_at))
    if not m.justerare:
        return Refused(Rule.KL_5_69, say("justering.no_justerare", r))
    plan = justering_plan(m, r)
    required = required_signers(plan)
    secretary = r.is_secretary(cmd.actor) and cmd.actor in m.present
    if cmd.actor not in required and cmd.actor not in meeting_chairs(m, r) and not secretary:
        return Refused(Rule.KL_5_69, say("justering.signers_only", r, plan=plan))
    return _stale(m, r, cmd) or _sign(m, r, cmd, now, plan, m.signatures, None)


def _must_retake(m: Meeting, item: Item) -> list[tuple[Rule, Any]]:
    """Why the item's standing decision must be taken again before it may be justerat at once:
    one who took part has jäv in the item (KL 6 kap. 28 §), or a technical check in the item after
    it did not pass, so the chair cannot see that all take part with acceptable transmission (§ 12)."""
    out = []
    for d in item.valid_decisions:
        jav = [u for u in d.participants if u in item.jav]
        if jav:
            out.append((Rule.KL_6_28, jav))
        failed = [c for c in m.checks_of(item.n) if c.started >= d.at and c.passed is False]
        if failed:
            out.append((Rule.P12, failed[-1].id))
    return out


def _justera_omedelbart(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None or not item.valid_decisions:
        return Refused(Rule.KL_5_69, say("justering.at_once_needs_decision", r))
    if item.justerad:
        return Refused(Rule.KL_5_69, say("justering.justerad_already", r, paragraph=item.paragraph))
    retake = _must_retake(m, item)
    if retake:
        rule, what = retake[0]
        jav, check = (what, None) if rule is Rule.KL_6_28 else (None, what)
        return Refused(rule, say("justering.must_retake", r, paragraph=item.paragraph, jav=jav, check=check))
    if not m.justerare:
        return Refused(Rule.KL_5_69, say("justering.no_justerare", r))
    p = paragraph_signers(m, r, item)
    if not p.justerare:
        return Refused(Rule.KL_5_69, say("justering.nobody_may_justera", r, m=m, p=p))
    plan = [p]
    if cmd.actor not in required_signers(plan):
        return Refused(Rule.KL_5_69, say("justering.at_once_signers", r, plan=plan))
    refusal = _stale(m, r, cmd)
    if refusal:
        return refusal
    chair_signed = any(s.user in p.chairs and s.fingerprint == cmd.fingerprint for s in item.signatures)
    if cmd.actor not in p.chairs and not chair_signed:
        return Refused(Rule.KL_5_69, say("justering.chair_first", r, chairs=p.chairs, changed=bool(item.signatures)))
    return _sign(m, r, cmd, now, plan, item.signatures, item.n)


def _sign(m: Meeting, r: Roster, cmd: Command, now: datetime, plan: list[Paragraph], signatures, n) -> Outcome:
    """A signature on what the fingerprint names; justerat when every required signer has signed
    that same fingerprint and every paragraph has its justerare. A signature on an earlier wording
    (before a rättelse) does not count."""
    fp = cmd.fingerprint
    if not fp:
        return Refused(Rule.KL_5_69, say("justering.no_fingerprint", r))
    if any(s.user == cmd.actor and s.fingerprint == fp for s in signatures):
        return Refused(Rule.KL_5_69, say("justering.signed_already", r, fp=fp))
    signed = {s.user for s in signatures if s.fingerprint == fp} | {cmd.actor}
    missing = [u for u in required_signers(plan) if u not in signed]
    data = {"user": cmd.actor, "event_id": cmd.event_id, "fingerprint": fp}
    meeting_day = day_of_meeting(m, r, now)
    today = now.astimezone(r.tz).date()
    deadline = last_day_to_justera(meeting_day)
    if n is not None:
        data["n"] = n
    events: list = [("signed", data)]
    done = not missing and all(p.justerare for p in plan)
    text = say(
        "justering.signed",
        r,
        m=m,
        n=n,
        actor=cmd.actor,
        at=now,
        fp=fp,
        late=deadline if n is None and today > deadline else None,  # KL 6 kap. 35 §
        missing=missing,
        plan=plan,
        due=last_day_to_post(today) if done else None,  # KL 8 kap. 12 §
    )
    if not done:
        return Accepted(events, [Reply(text, mentions=tuple(missing))])
    if n is not None:
        events.append(("paragraph_justerad", {"n": n, "fingerprint": fp}))
        numbers = [m.items[n].paragraph]
    else:
        events.append(("justerad", {"fingerprint": fp}))
        numbers = [p.number for p in plan if p.number is not None]
    notice = say(
        "justering.anslag_notice",
        r,
        meeting_day=meeting_day,
        justerad_day=today,
        numbers=numbers,
        at_once=n is not None,
    )
    attach = "pdf" if n is None else f"extract:{n}"
    return Accepted(events, [Reply(text, attach=attach, mentions=(*r.secretaries,)), Reply(notice, reply=False)])


@handles("anslag")
def _anslag(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """The day the anslag of a justering was put up on the kommun's anslagstavla (KL 8 kap. 12 §):
    of the protocol, or with § N of an omedelbart justerad paragraph. The time to appeal runs
    from it (KL 13 kap. 5 §)."""
    item = None
    if cmd.number is not None:
        item = next((i for i in m.items.values() if i.paragraph == cmd.number and i.taken_up), None)
        if item is None or item.justerad is None:
            return Refused(Rule.KL_8_12, say("justering.anslag_not_at_once", r, paragraph=cmd.number))
        justerad = item.justerad
    elif m.justerad_at is None:
        return Refused(Rule.KL_8_12, say("justering.anslag_not_justerad", r))
    else:
        justerad = m.justerad_at
    today = now.astimezone(r.tz).date()
    day = date.fromisoformat(cmd.text) if cmd.text else today
    justerad_day = justerad.astimezone(r.tz).date()
    if day < justerad_day:
        return Refused(Rule.KL_8_12, say("justering.anslag_before_justering", r, day=justerad_day))
    if day > today:
        return Refused(Rule.KL_8_12, say("justering.anslag_in_future", r, today=today))
    numbers = [item.paragraph] if item else [p.number for p in justering_plan(m, r) if p.number is not None]
    due = last_day_to_post(justerad_day)
    text = say(
        "justering.anslag",
        r,
        day=day,
        before=item.anslag if item else m.anslag,
        late=due if day > due else None,
        meeting_day=day_of_meeting(m, r, now),
        justerad_day=justerad_day,
        numbers=numbers,
        at_once=item is not None,
    )
    data = {"date": day.isoformat()} | ({"n": item.n} if item else {})
    return Accepted([("anslag", data)], [Reply(text)])


@handles("rättelse")
def _rättelse(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.justerad_at:
        return Refused(Rule.KL_5_69, say("justering.justerat_no_correction", r))
    n = find_item(m, cmd, Rule.KL_5_69)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    index = item.last_standing
    if index is None:
        return Refused(Rule.KL_5_69, say("justering.nothing_to_correct", r, n=n))
    decision = item.decisions[index]
    if decision.vote_id is not None:
        return Refused(
            Rule.KL_5_69, say("justering.voted_no_correction", r, paragraph=item.paragraph, text=decision.text)
        )
    signed = list(dict.fromkeys(s.user for s in m.signatures))
    text = say(
        "justering.corrected",
        r,
        paragraph=item.paragraph,
        n=n,
        actor=cmd.actor,
        new=cmd.text,
        old=decision.text,
        fp=cmd.fingerprint,
        signed=signed,
    )
    signers = required_signers(justering_plan(m, r))
    return Accepted(
        [("corrected", {"n": n, "index": index, "text": cmd.text, "by": cmd.actor}), *posted(cmd)],
        [Reply(text, attach="protocol", mentions=tuple(dict.fromkeys((*signed, *signers))))],
    )


def posted(cmd: Command) -> list:
    """The protocol shown in the room, by its fingerprint: what a signer may have read (the
    shell gives it as the protocol reads after the command)."""
    return [("posted", {"fingerprint": cmd.fingerprint})] if cmd.fingerprint else []
