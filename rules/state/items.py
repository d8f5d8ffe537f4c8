"""The fold of the items' business (`rules.events.items`): taking up and striking items, jäv and
motions, checks and decisions, votes and reservations, justering and anslag. Each kind's fold is
the function named after it."""

from __future__ import annotations

from datetime import datetime

from rules.citations import Rule
from rules.events import ABSENT, EVENTS
from rules.events import items as ev
from rules.model import Amendment, Check, Correction, Decision, Meeting, Motion, Posting, Signature, Spent, Vote
from rules.roster import Roster
from rules.state.course import off_the_floor, spend_check


def _item_taken(m: Meeting, r: Roster, d: ev.ItemTaken, at: datetime) -> None:
    # A check is valid for the item it was taken in while that item stays up (§ 12).
    spend_check(m, Spent("item_taken", at, n=d.n))
    if m.item is not None:  # the item left keeps its list; nobody has its floor, nor a reply to it
        m.item.speaking, m.item.replying, m.item.replying_to = None, False, None
        m.item.reply = m.item.reply_to = None
    m.current = d.n
    item = m.items[d.n]
    item.taken_up = True
    if item.paragraph is None:
        item.paragraph = d.paragraph
    if m.named_chair is not None and m.presiding(r) != m.named_chair:
        m.named_chair = None


def _struck(m: Meeting, r: Roster, d: ev.Struck, at: datetime) -> None:
    m.items[d.n].struck = d.reason


def _allowed(m: Meeting, r: Roster, d: ev.Allowed, at: datetime) -> None:
    item = m.items[d.n]
    if d.rule == Rule.P8.name:
        item.approved_by = d.by
    else:
        item.allowed_by = d.by


def _motion(m: Meeting, r: Roster, d: ev.Motion, at: datetime) -> None:
    item = m.items[d.n]
    item.motions.append(Motion(len(item.motions) + 1, d.user, d.text))


def _motion_withdrawn(m: Meeting, r: Roster, d: ev.MotionWithdrawn, at: datetime) -> None:
    m.items[d.n].motions[d.id - 1].withdrawn = True


def _jav(m: Meeting, r: Roster, d: ev.Jav, at: datetime) -> None:
    item = m.items[d.n]
    item.jav[d.user] = d.by
    off_the_floor(item, d.user)
    for motion in item.motions:  # a jävig person's motions fall with their part in the item
        if motion.user == d.user and not motion.withdrawn:
            motion.fallen = True


def _jav_withdrawn(m: Meeting, r: Roster, d: ev.JavWithdrawn, at: datetime) -> None:
    del m.items[d.n].jav[d.user]


def _vote_started(m: Meeting, r: Roster, d: ev.VoteStarted, at: datetime) -> None:
    m.votes.append(
        Vote(
            len(m.votes) + 1,
            d.n,
            d.a,
            d.b,
            list(d.voters),
            closed=d.closed,
            presiding=d.presiding,
            started=at,
            # One who declared before the vote that she takes no part has answered avstår.
            ballots=dict.fromkeys(d.abstaining, "avstår"),
        )
    )


def _ballot(m: Meeting, r: Roster, d: ev.Ballot, at: datetime) -> None:
    m.votes[d.id - 1].ballots[d.user] = d.choice


def _vote_ended(m: Meeting, r: Roster, d: ev.VoteEnded, at: datetime) -> None:
    vote = m.votes[d.id - 1]
    vote.ended = True
    vote.winner = d.winner
    vote.how = d.how
    vote.counts = dict(d.counts)
    vote.cause = dict(d.cause)
    vote.lot = d.lot
    if d.presiding is not ABSENT:
        vote.presiding = d.presiding


def _abstained(m: Meeting, r: Roster, d: ev.Abstained, at: datetime) -> None:
    m.items[d.n].abstaining.append(d.user)


def _abstention_withdrawn(m: Meeting, r: Roster, d: ev.AbstentionWithdrawn, at: datetime) -> None:
    m.items[d.n].abstaining.remove(d.user)
    vote = m.vote
    if vote is not None and vote.item == d.n and vote.ballots.get(d.user) == "avstår":
        del vote.ballots[d.user]  # the declaration was her answer; now she votes


def _reservation(m: Meeting, r: Roster, d: ev.Reservation, at: datetime) -> None:
    m.items[d.n].decisions[d.index].reservations.append((d.user, d.text))


def _check_started(m: Meeting, r: Roster, d: ev.CheckStarted, at: datetime) -> None:
    m.checks.append(
        Check(
            id=len(m.checks) + 1,
            item=d.n,
            started=at,
            deadline=datetime.fromisoformat(d.deadline),
            expected=list(d.expected),
            presiding=d.presiding,
        )
    )


def _check_answered(m: Meeting, r: Roster, d: ev.CheckAnswered, at: datetime) -> None:
    m.checks[d.id - 1].answered.append(d.user)


def _check_ended(m: Meeting, r: Roster, d: ev.CheckEnded, at: datetime) -> None:
    m.checks[d.id - 1].passed = d.passed
    m.checks[d.id - 1].media = d.media


def _decided(m: Meeting, r: Roster, d: ev.Decided, at: datetime) -> None:
    item = m.items[d.n]
    participants = list(d.participants)
    item.decisions.append(
        Decision(
            d.text,
            at,
            participants,
            d.check_id,
            d.vote,
            serving=list(participants if d.serving is None else d.serving),
            presiding=d.presiding,
            abstained=list(d.abstained),
            proposal=d.text if d.vote is not None else None,
            media=d.media,
        )
    )
    spend_check(m, Spent("decided", at))


def _worded(m: Meeting, r: Roster, d: ev.Worded, at: datetime) -> None:
    m.items[d.n].decisions[d.index].text = d.text


def _retaken(m: Meeting, r: Roster, d: ev.Retaken, at: datetime) -> None:
    m.items[d.n].decisions[d.index].retaken = True


def _amended(m: Meeting, kind: str, by: str, data: dict, at: datetime) -> None:
    if m.closed_at is not None:
        m.amendments.append(Amendment(m.event_count, at, kind, by, data))


def _justerare(m: Meeting, r: Roster, d: ev.Justerare, at: datetime) -> None:
    _amended(m, "justerare", d.by, {"before": list(m.justerare), "users": list(d.users)}, at)
    m.justerare = list(d.users)


def _signed(m: Meeting, r: Roster, d: ev.Signed, at: datetime) -> None:
    signature = Signature(d.user, at, d.event_id, d.fingerprint)
    (m.items[d.n].signatures if d.n else m.signatures).append(signature)


def _paragraph_justerad(m: Meeting, r: Roster, d: ev.ParagraphJusterad, at: datetime) -> None:
    m.items[d.n].justerad = at


def _corrected(m: Meeting, r: Roster, d: ev.Corrected, at: datetime) -> None:
    decision = m.items[d.n].decisions[d.index]
    _amended(m, "corrected", d.by, {"n": d.n, "old": decision.text, "new": d.text}, at)
    decision.corrections.append(Correction(decision.text, d.text, d.by, at))
    decision.text = d.text


def _justerad(m: Meeting, r: Roster, d: ev.Justerad, at: datetime) -> None:
    m.justerad_at = at
    m.fingerprint = d.fingerprint
    if d.anslag is not None:  # a log from before !anslag took the anslag as put up the day of justering
        m.anslag = d.anslag["anslaget"]


def _posted(m: Meeting, r: Roster, d: ev.Posted, at: datetime) -> None:
    m.postings.append(Posting(d.fingerprint, at, m.event_count))


def _anslag(m: Meeting, r: Roster, d: ev.Anslag, at: datetime) -> None:
    if d.n is not None:
        m.items[d.n].anslag = d.date
    else:
        m.anslag = d.date


# Each kind's fold is the function named after it (`_{kind}`).
FOLD = {kind: globals()[f"_{kind}"] for kind in EVENTS if f"_{kind}" in globals()}
