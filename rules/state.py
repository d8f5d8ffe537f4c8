"""A meeting's state: a fold over its event log.

Theory of operation: `rules.meeting.decide` turns a command into events (or a refusal) without
touching the state; `apply` folds one event into the state. Replaying a meeting's log through
`apply` rebuilds it exactly, which is how the bot restarts. The fold keeps state and no words:
events carry data (the item they concern, rule ids, codes), and `minutes/` renders the journal
and the protocol from the events themselves, so every event is filed under the item it concerns.
Each event's data is read into its declared type (`rules.events`) before it is folded, and the
fold covers every declared kind, checked when this module is imported. The state's types are
`rules.model`'s, importable from here as before.
"""

from __future__ import annotations

from datetime import datetime

from rules import events as ev
from rules.citations import Rule
from rules.events import ABSENT, covers, of
from rules.model import (
    Amendment,
    Check,
    Correction,
    Decision,
    Event,
    Item,
    Meeting,
    Motion,
    Phase,
    Posting,
    Signature,
    Spent,
    Vote,
    date_time,
    hm,
)
from rules.roster import Roster
from rules.shown import Shown
from rules.tables import PHASE_AFTER, PRESIDING_KINDS

# Re-exported for the importers of the state's types from here.
__all__ = ["Event", "Meeting", "Phase", "Vote", "apply", "date_time", "hm"]


def apply(m: Meeting, roster: Roster, e: Event) -> None:
    """Fold one event into the meeting."""
    _APPLY[e.kind](m, roster, of(e.kind, e.data), e.at)
    m.phase = PHASE_AFTER.get(e.kind, m.phase)
    if e.kind in PRESIDING_KINDS and m.phase is Phase.OPEN and m.item is not None:
        # Who justerar a paragraph without a decision as its ordförande (KL 5 kap. 69 §).
        m.item.led_by = m.presiding(roster) or m.item.led_by
    m.event_count += 1


def _convened(m: Meeting, r: Roster, d: ev.Convened, at: datetime) -> None:
    m.start = datetime.fromisoformat(d.start)
    m.form = d.form
    m.motivation = d.motivation
    m.items = {i["n"]: Item(i["n"], i["title"], i.get("klass", ""), i.get("dnr", "")) for i in d.agenda}
    m.kallelser += 1
    m.convened_at = at
    m.first_paragraph = d.first_paragraph
    m.numbered = dict(d.numbered) if d.numbered is not None else None


def _cancelled(m: Meeting, r: Roster, d: ev.Cancelled, at: datetime) -> None:
    m.cancel_reason = d.reason


def _opened(m: Meeting, r: Roster, d: ev.Opened, at: datetime) -> None:
    m.opened_at = at
    if d.first_paragraph is not None:  # logs from before: as convened
        m.first_paragraph = d.first_paragraph


def _present(m: Meeting, r: Roster, d: ev.Present, at: datetime) -> None:
    user = d.user
    m.present.setdefault(user, at)
    m.left.pop(user, None)  # one who left and comes back
    if r.is_member(user) and user not in m.substituted:
        m.ever_served.setdefault(user, [])


def _left(m: Meeting, r: Roster, d: ev.Left, at: datetime) -> None:
    user = d.user
    if user in m.serving(r):
        _spend_check(m, Spent("left", at, user=user))
    m.left[user] = at
    if m.item is not None:
        _off_the_floor(m.item, user)


def _presiding_named(m: Meeting, r: Roster, d: ev.PresidingNamed, at: datetime) -> None:
    m.named_chair = d.user


def _located(m: Meeting, r: Roster, d: ev.Located, at: datetime) -> None:
    users = d.users
    if len(users) == 1:
        m.location[users[0]] = "lokal"
    else:
        a, b = users
        m.location[a], m.location[b] = b, a


def _item_taken(m: Meeting, r: Roster, d: ev.ItemTaken, at: datetime) -> None:
    # A check is valid for the item it was taken in while that item stays up (§ 12).
    _spend_check(m, Spent("item_taken", at, n=d.n))
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


def _floor(m: Meeting, r: Roster, d: ev.Floor, at: datetime) -> None:
    if d.n is None:  # a log from before the list was per item
        return
    item = m.items[d.n]
    item.speakers.append(d.user)
    if d.hand:
        item.hands[d.user] = d.hand


def _off_the_list(item: Item, user: str) -> None:
    """The person's place on the speakers' list, and a reply the person asked, are gone."""
    item.speakers = [u for u in item.speakers if u != user]
    item.hands.pop(user, None)
    if item.reply == user:
        item.reply = item.reply_to = None


def _off_the_floor(item: Item, user: str) -> None:
    """The person may not speak in the item (the floor taken, jäv, left): off the list, and
    no longer speaking."""
    _off_the_list(item, user)
    if item.speaking == user:
        item.speaking, item.replying, item.replying_to = None, False, None


def _floor_withdrawn(m: Meeting, r: Roster, d: ev.FloorWithdrawn, at: datetime) -> None:
    _off_the_list(m.items[d.n], d.user)


def _reply_asked(m: Meeting, r: Roster, d: ev.ReplyAsked, at: datetime) -> None:
    item = m.items[d.n]
    item.reply, item.reply_to = d.user, d.to


def _floor_given(m: Meeting, r: Roster, d: ev.FloorGiven, at: datetime) -> None:
    item = m.items[d.n]
    item.replying, item.replying_to = d.reply, d.reply_to
    if d.reply:
        item.reply = item.reply_to = None
    elif d.user is not None:
        item.speakers.remove(d.user)
        item.hands.pop(d.user, None)
    item.speaking = d.user


def _streck(m: Meeting, r: Roster, d: ev.Streck, at: datetime) -> None:
    m.items[d.n].closed_list = True


def _streck_withdrawn(m: Meeting, r: Roster, d: ev.StreckWithdrawn, at: datetime) -> None:
    m.items[d.n].closed_list = False


def _muted(m: Meeting, r: Roster, d: ev.Muted, at: datetime) -> None:
    m.muted.add(d.user)
    if d.user in m.serving(r):
        _spend_check(m, Spent("muted", at, user=d.user))


def _floor_taken(m: Meeting, r: Roster, d: ev.FloorTaken, at: datetime) -> None:
    item = m.items[d.n]
    item.silenced.add(d.user)
    _off_the_floor(item, d.user)


def _spend_check(m: Meeting, reason: Spent) -> None:
    check = m.check
    if check and check.passed and check.spent_by is None:
        check.spent_by = reason


def _dropped(m: Meeting, r: Roster, d: ev.Dropped, at: datetime) -> None:
    user, kind = d.user, d.kind
    m.drops.setdefault(user, set()).add(kind)
    if d.via == "media":
        m.media_drops.setdefault(user, {})[kind] = at
    if user in m.serving(r):
        _spend_check(m, Spent("dropped", at, user=user, kind=kind))


def _restored(m: Meeting, r: Roster, d: ev.Restored, at: datetime) -> None:
    m.drops.pop(d.user, None)
    m.muted.discard(d.user)
    m.media_drops.pop(d.user, None)
    m.grace_told.pop(d.user, None)


def _adjourned(m: Meeting, r: Roster, d: ev.Adjourned, at: datetime) -> None:
    m.adjourned = True


def _resumed(m: Meeting, r: Roster, d: ev.Resumed, at: datetime) -> None:
    m.adjourned = False
    # Nobody knows who is still connected after a pause (§§ 10, 12).
    _spend_check(m, Spent("resumed", at))


def _replaced(m: Meeting, r: Roster, d: ev.Replaced, at: datetime) -> None:
    member, sub = d.member, d.substitute
    served = m.ever_served.setdefault(sub, [])
    if member not in served:
        served.append(member)
    if d.for_item:
        m.items[d.for_item].jav_subs[member] = sub
        return
    m.substituted[member] = sub
    if d.teknikfel:
        out = d.replaces or member  # a serving substitute may be the one replaced
        m.teknikfel[out] = at
        m.replaced_by[out] = sub


def _reinstated(m: Meeting, r: Roster, d: ev.Reinstated, at: datetime) -> None:
    member = d.member
    del m.substituted[member]
    m.teknikfel.pop(member, None)
    m.replaced_by.pop(member, None)
    m.ever_served.setdefault(member, [])


def _jav(m: Meeting, r: Roster, d: ev.Jav, at: datetime) -> None:
    item = m.items[d.n]
    item.jav[d.user] = d.by
    _off_the_floor(item, d.user)
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
    _spend_check(m, Spent("decided", at))


def _worded(m: Meeting, r: Roster, d: ev.Worded, at: datetime) -> None:
    m.items[d.n].decisions[d.index].text = d.text


def _retaken(m: Meeting, r: Roster, d: ev.Retaken, at: datetime) -> None:
    m.items[d.n].decisions[d.index].retaken = True


def _closed(m: Meeting, r: Roster, d: ev.Closed, at: datetime) -> None:
    m.closed_at = at
    m.closed_presiding = d.presiding
    m.current = None


def _call(m: Meeting, r: Roster, d: ev.Call, at: datetime) -> None:
    if d.devices:
        m.in_call[d.user] = dict(d.devices)
    else:
        m.in_call.pop(d.user, None)


def _shown(m: Meeting, r: Roster, d: ev.Shown, at: datetime) -> None:
    m.shown[d.user] = Shown(d.camera, d.microphone, d.connected, at)


def _regained(m: Meeting, r: Roster, d: ev.Regained, at: datetime) -> None:
    """A loss the media server registered ends as it shows the camera on again (picture only:
    sound lost is confirmed back with !åter, § 10)."""
    user, kind = d.user, d.kind
    m.drops.get(user, set()).discard(kind)
    if not m.drops.get(user):
        m.drops.pop(user, None)
    m.media_drops.get(user, {}).pop(kind, None)
    if not m.media_drops.get(user):
        m.media_drops.pop(user, None)
    m.grace_told.pop(user, None)


def _grace_passed(m: Meeting, r: Roster, d: ev.GracePassed, at: datetime) -> None:
    m.grace_told[d.user] = at


def _media_unavailable(m: Meeting, r: Roster, d: ev.MediaUnavailable, at: datetime) -> None:
    m.media_down = at
    m.media_spans.append((at, None))


def _media_available(m: Meeting, r: Roster, d: ev.MediaAvailable, at: datetime) -> None:
    m.media_down = None
    if m.media_spans and m.media_spans[-1][1] is None:
        m.media_spans[-1] = (m.media_spans[-1][0], at)


def _forhinder(m: Meeting, r: Roster, d: ev.Forhinder, at: datetime) -> None:
    user = d.user
    m.forhinder[user] = d.by
    m.called.pop(user, None)  # a called or confirmed substitute who cannot passes the call on
    m.confirmed.pop(user, None)


def _forhinder_withdrawn(m: Meeting, r: Roster, d: ev.ForhinderWithdrawn, at: datetime) -> None:
    user = d.user
    del m.forhinder[user]
    for sub in [s for s, member in m.called.items() if member == user]:  # not needed any more
        del m.called[sub]


def _called_in(m: Meeting, r: Roster, d: ev.CalledIn, at: datetime) -> None:
    m.called[d.substitute] = d.member


def _confirmed(m: Meeting, r: Roster, d: ev.Confirmed, at: datetime) -> None:
    m.confirmed[d.substitute] = m.called.pop(d.substitute)


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


# Each kind's fold is the function named after it (`_convened` for "convened"): the fold covers
# every kind `rules.events` declares, or this module does not import.
covers("the fold (rules.state)", [kind for kind in ev.EVENTS if f"_{kind}" in globals()])
_APPLY = {kind: globals()[f"_{kind}"] for kind in ev.EVENTS}
