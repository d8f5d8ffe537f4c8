"""Motions, checks and decisions (§§ 5, 12, KL 4 kap. 22 §, 6 kap. 27 §): a motion, the quorum,
the technical check before a decision, what blocks a decision now, the decision and its retaking.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rules import transmission
from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.call import not_in_call
from rules.citations import Rule
from rules.model import Meeting
from rules.register import handles
from rules.roster import Roster
from rules.words import say


@handles("yrka")
def _yrka(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_33, say("decisions.motion_no_item", r))
    if cmd.word == "återta":
        mine = [x for x in item.motions if x.user == cmd.actor and not x.withdrawn]
        if not mine:
            return Refused(Rule.KL_6_33, say("decisions.no_motion_to_withdraw", r, n=item.n))
        return Accepted(
            [("motion_withdrawn", {"n": item.n, "id": mine[-1].id})],
            [Reply(say("decisions.motion_withdrawn", r, text=mine[-1].text))],
        )
    if cmd.actor in item.silenced:
        return Refused(Rule.P9, say("floor.silenced", r, user=cmd.actor, you=True, n=item.n))
    refusal = no_quorum(m, r, say("decisions.what_motions", r))
    if refusal:
        return refusal
    return Accepted(
        [("motion", {"n": item.n, "user": cmd.actor, "text": cmd.text})],
        [Reply(say("decisions.motion", r, k=len(item.motions) + 1, n=item.n, user=cmd.actor, text=cmd.text))],
    )


def quorum_text(m: Meeting, r: Roster) -> str | None:
    """What is missing for quorum (KL 6 kap. 27 §), or None when the body has it."""
    if m.has_quorum(r):
        return None
    return say("decisions.quorum_missing", r, serving=len(m.serving(r)), needed=len(r.members) // 2 + 1)


def no_quorum(m: Meeting, r: Roster, what: str) -> Refused | None:
    """A body handles matters only with quorum (KL 6 kap. 27 §): taking up and moving included."""
    missing = quorum_text(m, r)
    if missing is None:
        return None
    return Refused(Rule.KL_6_27, say("decisions.no_quorum", r, what=what, missing=missing))


@handles("teknikkontroll")
def _teknikkontroll(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.P12, say("decisions.check_no_item", r))
    lacking = m.lacking(r)
    if lacking:
        return Refused(
            Rule.P5, say("decisions.check_lacking", r, users=list(lacking), shown=transmission.lacking(m, r, lacking))
        )
    serving = m.serving(r)
    if not serving:
        return Refused(Rule.KL_6_27, say("decisions.nobody_serves", r))
    deadline = now + timedelta(seconds=r.check_timeout_seconds)
    check_id = len(m.checks) + 1
    text = say("decisions.check_started", r, n=item.n, deadline=deadline)
    return Accepted(
        [
            (
                "check_started",
                {"n": item.n, "deadline": deadline.isoformat(), "expected": serving, "presiding": m.presiding(r)},
            )
        ],
        [Reply(text, mentions=tuple(serving), tag=f"check:{m.id}:{check_id}")],
    )


@handles("ok")
def _ok(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    check = m.check
    if check is None or not check.running:
        return Refused(Rule.P12, say("decisions.no_check", r))
    if cmd.answers is not None and cmd.answers != (m.id, check.id):
        # A ✅ on an earlier check's message answers that check, which is over, not this one.
        return Refused(Rule.P12, say("decisions.earlier_check", r, id=check.id))
    if cmd.actor not in check.expected:
        return Refused(Rule.P12, say("decisions.not_expected", r))
    if cmd.actor in check.answered:
        return Refused(Rule.P12, say("decisions.answered_already", r))
    refusal = not_in_call(m, r, cmd.actor, cmd.actor, Rule.P12, "!ok")
    if refusal:
        return refusal
    if m.drops.get(cmd.actor):
        return Refused(Rule.P5, say("decisions.your_drop", r))
    events: list = [("check_answered", {"id": check.id, "user": cmd.actor})]
    if len(check.answered) + 1 == len(check.expected):
        events.append(("check_ended", {"id": check.id, "passed": True} | transmission.evidence(m, r)))
        return Accepted(events, [_check_result(r, check.id, [], len(check.expected))])
    return Accepted(events)


def _check_result(r: Roster, check_id: int, missing: list[str], expected: int) -> Reply:
    if not missing:
        return Reply(say("decisions.check_passed", r, id=check_id, expected=expected), reply=False)
    return Reply(
        say("decisions.check_failed", r, id=check_id, missing=missing), mentions=tuple([r.chair, *missing]), reply=False
    )


def check_ended(m: Meeting, r: Roster, check) -> Accepted:
    missing = check.missing
    return Accepted(
        [
            (
                "check_ended",
                {"id": check.id, "passed": not missing} | (transmission.evidence(m, r) if not missing else {}),
            )
        ],
        [_check_result(r, check.id, missing, len(check.expected))],
    )


def blockers(m: Meeting, r: Roster) -> list[tuple[Rule, str]]:
    """Everything that stops a decision on the current item now, each with its rule."""
    out: list[tuple[Rule, str]] = []
    item = m.item
    if item is None:
        return [(Rule.KL_6_33, say("decisions.blocked_no_item", r))]
    if m.adjourned:
        out.append((Rule.P10, say("decisions.blocked_adjourned", r)))
    if not item.permitted:
        out.append((item.permission_rule, say("decisions.blocked_not_permitted", r, n=item.n)))
    if item.justerad:
        out.append((Rule.KL_5_69, say("decisions.blocked_justerad", r, paragraph=item.paragraph)))
    missing = quorum_text(m, r)
    if missing:
        out.append((Rule.KL_6_27, missing))
    if m.presiding(r) is None:
        out.append((Rule.KL_6_33, say("decisions.blocked_nobody_presides", r)))
    for user, kinds in m.lacking(r).items():
        shown = transmission.lacking(m, r, [user])
        out.append((Rule.P5, say("decisions.blocked_lacking", r, user=user, kinds=sorted(kinds), shown=shown)))
    if m.vote:
        out.append((Rule.KL_5_54, say("decisions.blocked_vote", r, id=m.vote.id)))
    check = m.check
    if check is None or check.item != item.n:
        out.append((Rule.P12, say("decisions.blocked_no_check", r)))
    elif check.running:
        out.append((Rule.P12, say("decisions.blocked_check_running", r, id=check.id)))
    elif not check.passed:
        out.append((Rule.P12, say("decisions.blocked_check_failed", r, id=check.id)))
    elif check.spent_by:
        out.append((Rule.P12, say("decisions.blocked_check_spent", r, id=check.id, spent=check.spent_by)))
    elif sorted(check.expected) != sorted(m.serving(r)):
        out.append((Rule.P12, say("decisions.blocked_serving_changed", r)))
    return out


def reasons_text(found: list[tuple[Rule, str]]) -> str:
    return "; ".join(f"{text} ({rule})" for rule, text in found)


def _vote_to_word(m: Meeting) -> int | None:
    """The index of the current item's decision that a vote has just settled, which the chair
    may still word (KL 6 kap. 33 §: the chair states what was decided): it stands, and no new
    check has begun a new decision round since."""
    item, check = m.item, m.check
    index = item.last_standing if item is not None else None
    if index is None or check is None or m.vote is not None:
        return None
    decision = item.decisions[index]
    return index if decision.vote_id is not None and decision.check_id == check.id else None


@handles("beslut")
def _beslut(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    index = _vote_to_word(m)
    if index is not None:
        item = m.items[m.current]
        decision = item.decisions[index]
        if item.justerad:
            return Refused(Rule.KL_5_69, say("decisions.justerad_cannot_word", r, paragraph=item.paragraph))
        return Accepted(
            [("worded", {"n": item.n, "index": index, "text": cmd.text})],
            [
                Reply(
                    say(
                        "decisions.worded",
                        r,
                        n=item.n,
                        vote=decision.vote_id,
                        proposal=decision.proposal,
                        text=cmd.text,
                    )
                )
            ],
        )
    found = blockers(m, r)
    if found:
        rule = found[0][0]
        return Refused(rule, say("decisions.blocked", r, found=found))
    item, check = m.item, m.check
    assert item is not None and check is not None
    serving = m.serving(r)
    # One who declared she abstains takes no part in the decision (KL 4 kap. 25 §).
    participants = [u for u in serving if u not in item.abstaining]
    abstained = [u for u in serving if u in item.abstaining]
    if not participants:
        return Refused(Rule.KL_4_25, say("decisions.all_abstain", r))
    data = {
        "n": item.n,
        "text": cmd.text,
        "participants": participants,
        "serving": serving,
        "check_id": check.id,
        "presiding": m.presiding(r),
        "abstained": abstained,
    } | transmission.evidence(m, r)
    text = say("decisions.decided", r, n=item.n, text=cmd.text, participants=participants, abstained=abstained)
    return Accepted([("decided", data)], [Reply(text)])


@handles("omtag")
def _omtag(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    index = item.last_standing if item else None
    if item is None or index is None:
        return Refused(Rule.P12, say("decisions.nothing_to_retake", r))
    decision = item.decisions[index]
    # KL 4 kap. 27 §: a reservation is against the decision; the void one takes its reservations with it.
    reserved = tuple(dict.fromkeys(user for user, _ in decision.reservations))
    text = say("decisions.retaken", r, n=item.n, text=decision.text, reserved=reserved)
    return Accepted([("retaken", {"n": item.n, "index": index})], [Reply(text, mentions=reserved)])


def abort_running(m: Meeting, code: str) -> list:
    """End a running check or vote that the meeting cannot finish (`code` in `minutes.words.ABORTED`)."""
    events: list = []
    if m.check and m.check.running:
        events.append(("check_ended", {"id": m.check.id, "passed": False, "reason": code}))
    if m.vote:
        events.append(("vote_ended", {"id": m.vote.id, "how": "void", "cause": {"code": code}}))
    return events
