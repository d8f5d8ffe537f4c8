"""Votes and reservations (KL 4 kap. 25–27 §§, 5 kap. 53–56 §§, § 13): an open vote by ja, nej
and avstår, a closed one on paper in the chair's room, abstaining, and reserving oneself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rules import transmission
from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.decisions import blockers
from rules.items import find_item
from rules.model import Meeting, Vote
from rules.register import handles
from rules.roster import Roster
from rules.who import chair_now, not_serving
from rules.words import say


def _conclude(m: Meeting, r: Roster, vote: Vote, ballots: dict[str, str]) -> Accepted | Refused:
    """The result of an open vote: simple majority; on a tie, the presiding member's vote
    decides (KL 5 kap. 56 §). One who gave no vote took no part (KL 4 kap. 27 §)."""
    ja = [u for u in vote.voters if ballots.get(u) == "ja"]
    nej = [u for u in vote.voters if ballots.get(u) == "nej"]
    avstod = [u for u in vote.voters if ballots.get(u) == "avstår"]
    silent = [u for u in vote.voters if u not in ballots]
    presiding = m.presiding(r)
    if len(ja) != len(nej):
        winner, how = ("a" if len(ja) > len(nej) else "b"), "majority"
    else:
        choice = ballots.get(presiding) if presiding in vote.voters else None
        if choice not in ("ja", "nej"):
            return Refused(
                Rule.KL_4_25, say("votes.tie_needs_casting_vote", r, ja=len(ja), nej=len(nej), presiding=presiding)
            )
        winner, how = ("a" if choice == "ja" else "b"), "casting"
    won = vote.a if winner == "a" else vote.b
    counts = {"ja": len(ja), "nej": len(nej), "avstår": len(avstod)}
    text = say(
        "votes.result",
        r,
        vote=vote.id,
        n=vote.item,
        a=vote.a,
        b=vote.b,
        won=won,
        how=how,
        presiding=presiding,
        ja=ja,
        nej=nej,
        avstod=avstod,
        silent=silent,
    )
    # One who answered avstår takes no part in the decision (KL 4 kap. 25 §), nor one who gave no vote.
    voted = [u for u in vote.voters if ballots.get(u) in ("ja", "nej")]
    return Accepted(_vote_decided(m, r, vote, winner, how, counts, voted, avstod), [Reply(text, reply=False)])


def _vote_decided(
    m: Meeting,
    r: Roster,
    vote: Vote,
    winner: str,
    how: str,
    counts: dict[str, int],
    participants: list[str],
    abstained: list[str],
    lot: int | None = None,
) -> list:
    """A vote's end and the decision it makes: the winning proposal, taken by those who voted."""
    assert m.check is not None
    won = vote.a if winner == "a" else vote.b
    presiding = m.presiding(r)
    ended = {"id": vote.id, "winner": winner, "how": how, "counts": counts, "presiding": presiding}
    if lot is not None:
        ended["lot"] = lot
    decided = {
        "n": vote.item,
        "text": won,
        "participants": participants,
        "serving": vote.voters,
        "check_id": m.check.id,
        "vote": vote.id,
        "presiding": presiding,
        "abstained": abstained,
    } | transmission.evidence(m, r)
    return [("vote_ended", ended), ("decided", decided)]


@handles("votering")
def _votering(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    vote = m.vote
    if cmd.word == "klar":
        if vote is None or vote.closed:
            return Refused(Rule.KL_5_54, say("votes.no_open_vote", r))
        # Every serving member gets the same time to vote as to answer a check; until then only
        # a vote all have given ends it, so the chair cannot close it on the first ja.
        open_until = (vote.started or now) + timedelta(seconds=r.check_timeout_seconds)
        if now < open_until and len(vote.ballots) < len(vote.voters):
            return Refused(
                Rule.KL_5_54,
                say("votes.not_all_voted", r, voted=len(vote.ballots), voters=len(vote.voters), until=open_until),
            )
        return _conclude(m, r, vote, vote.ballots)
    if cmd.word == "resultat":
        return _closed_result(m, r, cmd)
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_33, say("votes.no_item", r))
    a, b = cmd.options
    closed = cmd.word == "sluten"
    if closed:
        remote = [u for u in m.serving(r) if u != cmd.actor and m.location.get(u) != "lokal"]
        if remote:
            return Refused(Rule.P13, say("votes.closed_needs_chairs_room", r, remote=remote))
    found = blockers(m, r)
    if found:
        return Refused(found[0][0], say("votes.blocked", r, found=found))
    voters = m.serving(r)
    data = {"n": item.n, "a": a, "b": b, "voters": voters, "closed": closed, "presiding": m.presiding(r)}
    if not closed and item.abstaining:  # their declaration is their answer (KL 4 kap. 25 §)
        data["abstaining"] = [u for u in voters if u in item.abstaining]
    vote_id = len(m.votes) + 1
    facts = {"vote": vote_id, "n": item.n, "a": a, "b": b}
    text = say("votes.closed_started", r, **facts) if closed else say("votes.started", r, **facts)
    return Accepted([("vote_started", data)], [Reply(text, mentions=tuple(voters))])


def _closed_result(m: Meeting, r: Roster, cmd: Command) -> Outcome:
    vote = m.vote
    if vote is None or not vote.closed:
        return Refused(Rule.P13, say("votes.no_closed_vote", r))
    counts = dict(cmd.counts)
    cast = sum(counts.values())
    if cast != len(vote.voters):
        return Refused(Rule.KL_5_54, say("votes.ballots_miscounted", r, cast=cast, voters=len(vote.voters)))
    if counts["a"] != counts["b"]:
        winner, how = ("a" if counts["a"] > counts["b"] else "b"), "most"
    else:
        # An election tied: lots are drawn (KL 5 kap. 56 §); the shell draws with the OS's CSPRNG.
        winner = "a" if cmd.lot % 2 == 0 else "b"
        how = "lot"
    won = vote.a if winner == "a" else vote.b
    text = say(
        "votes.closed_result",
        r,
        vote=vote.id,
        n=vote.item,
        a=vote.a,
        b=vote.b,
        counts=counts,
        won=won,
        how=how,
        lot=cmd.lot,
    )
    lot = cmd.lot if how == "lot" else None
    # Ballots on paper are secret; only a declaration made before the vote says who took no part.
    abstained = [u for u in vote.voters if u in m.items[vote.item].abstaining]
    voted = [u for u in vote.voters if u not in abstained]
    return Accepted(_vote_decided(m, r, vote, winner, how, counts, voted, abstained, lot), [Reply(text)])


@handles("ja", "nej")
def _ballot(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    vote = m.vote
    if vote is None or vote.closed:
        return Refused(Rule.KL_5_54, say("votes.no_open_vote", r))
    if cmd.answers is not None and cmd.answers != (m.id, vote.id):
        # A response to an earlier vote's poll answers that vote, which is over, not this one.
        return Refused(Rule.KL_5_54, say("votes.earlier_vote", r, vote=vote.id))
    if cmd.actor not in vote.voters:
        return not_serving(m, r, cmd.actor, Rule.KL_5_54) or Refused(Rule.KL_5_54, say("votes.not_a_voter", r))
    if cmd.name != "avstår" and cmd.actor in m.items[vote.item].abstaining:
        return Refused(Rule.KL_4_25, say("votes.you_abstain", r, n=vote.item))
    if vote.ballots.get(cmd.actor) == cmd.name:
        return Refused(Rule.KL_5_54, say("votes.voted_already", r, choice=cmd.name))
    events: list = [("ballot", {"id": vote.id, "user": cmd.actor, "choice": cmd.name})]
    ballots = {**vote.ballots, cmd.actor: cmd.name}
    if len(ballots) < len(vote.voters):
        return Accepted(events)
    result = _conclude(m, r, vote, ballots)
    if isinstance(result, Refused):  # a tie the chair must settle: tell the chair, keep the vote open
        return Accepted(events, [Reply(result.body, mentions=(chair_now(m, r),), reply=False)])
    return Accepted(events + result.events, result.replies)


@handles("avstår")
def _avstår(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """In a running open vote, the answer avstår; otherwise a serving member's declaration,
    before the current item's decision, that she takes no part in it (KL 4 kap. 25 §), or its
    withdrawal (`återta`). Either way she takes no part and cannot reserve (KL 4 kap. 27 §)."""
    vote = m.vote
    if vote is not None and vote.closed and cmd.word != "återta":
        return Refused(Rule.KL_5_54, say("votes.abstain_in_closed_vote", r))
    if cmd.word != "återta" and (vote is not None or cmd.answers is not None):  # a poll answers a vote
        return _ballot(m, r, cmd, now)
    item = m.item
    if item is None:
        return Refused(Rule.KL_4_25, say("votes.abstain_no_item", r))
    if item.valid_decisions:
        return Refused(Rule.KL_4_25, say("votes.abstain_after_decision", r, n=item.n))
    if cmd.word == "återta":
        if cmd.actor not in item.abstaining:
            return Refused(Rule.KL_4_25, say("votes.no_abstention", r, n=item.n))
        votes = vote is not None and cmd.actor in vote.voters
        text = say("votes.abstention_withdrawn", r, user=cmd.actor, n=item.n, votes=votes)
        return Accepted([("abstention_withdrawn", {"n": item.n, "user": cmd.actor})], [Reply(text)])
    refusal = not_serving(m, r, cmd.actor, Rule.KL_4_25)
    if refusal:
        return refusal
    if cmd.actor in item.abstaining:
        return Refused(Rule.KL_4_25, say("votes.abstains_already", r, n=item.n))
    return Accepted([("abstained", {"n": item.n, "user": cmd.actor})])


@handles("reservation")
def _reservation(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """Against the latest standing decision in the current item, or in item N, until the
    meeting ends (KL 4 kap. 27 §)."""
    if cmd.number is not None:
        n = find_item(m, cmd, Rule.KL_4_27)
        if isinstance(n, Refused):
            return n
    elif m.current is None:
        return Refused(Rule.KL_4_27, say("votes.reservation_no_item", r))
    else:
        n = m.current
    item = m.items[n]
    index = item.last_standing
    if index is None:
        return Refused(Rule.KL_4_27, say("votes.nothing_to_reserve_against", r, n=n))
    decision = item.decisions[index]
    if cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, say("votes.jav_no_reservation", r, n=n))
    if cmd.actor in m.left:
        return Refused(Rule.KL_4_27, say("votes.reservation_after_leaving", r))
    if cmd.actor in decision.abstained:
        return Refused(Rule.KL_4_27, say("votes.abstained_no_reservation", r))
    if cmd.actor not in decision.participants:
        return Refused(Rule.KL_4_27, say("votes.took_no_part", r))
    if any(user == cmd.actor for user, _ in decision.reservations):
        return Refused(Rule.KL_4_27, say("votes.reserved_already", r))
    return Accepted(
        [("reservation", {"n": n, "index": index, "user": cmd.actor, "text": cmd.text})],
        [Reply(say("votes.reserved", r, user=cmd.actor, n=n))],
    )
