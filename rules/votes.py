"""Votes and reservations (KL 4 kap. 25–27 §§, 5 kap. 53–56 §§, § 13): an open vote by ja, nej
and avstår, a closed one on paper in the chair's room, abstaining, and reserving oneself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rules import transmission
from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.decisions import blockers, reasons_text
from rules.items import find_item
from rules.model import Meeting, Vote, hms
from rules.register import handles
from rules.roster import Roster
from rules.who import chair_now, not_serving
from rules.words import names, vote_how


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
            who = r.label(presiding) if presiding else "ordföranden"
            return Refused(
                Rule.KL_4_25,
                f"Lika röstetal ({len(ja)}–{len(nej)}). Ordföranden ({who}) har utslagsröst och får inte "
                "avstå när rösten behövs för att avgöra: ordföranden röstar med !ja eller !nej "
                "(efter !avstår återta, om hen har anmält att hen avstår).",
            )
        winner, how = ("a" if choice == "ja" else "b"), "casting"
    won = vote.a if winner == "a" else vote.b
    counts = {"ja": len(ja), "nej": len(nej), "avstår": len(avstod)}
    text = (
        f"RESULTAT av votering {vote.id} i ärende {vote.item}: {len(ja)} ja, {len(nej)} nej, "
        f"{len(avstod)} avstod. Beslut enligt: {won} ({vote_how(how, {}, None, r, presiding)}).\n"
        f"Ja ({vote.a}): {names(r, ja) or '–'}\nNej ({vote.b}): {names(r, nej) or '–'}\n"
        f"Avstod: {names(r, avstod) or '–'}"
    )
    if silent:
        text += f"\nRöstade inte och deltog inte i beslutet: {names(r, silent)}"
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
            return Refused(Rule.KL_5_54, "Ingen öppen votering pågår.")
        # Every serving member gets the same time to vote as to answer a check; until then only
        # a vote all have given ends it, so the chair cannot close it on the first ja.
        open_until = (vote.started or now) + timedelta(seconds=r.check_timeout_seconds)
        if now < open_until and len(vote.ballots) < len(vote.voters):
            return Refused(
                Rule.KL_5_54,
                f"Alla tjänstgörande ska hinna rösta: {len(vote.ballots)} av {len(vote.voters)} har röstat. "
                f"Voteringen kan avslutas med !votering klar från kl. {hms(open_until, r.tz)}, "
                "eller när alla har röstat.",
            )
        return _conclude(m, r, vote, vote.ballots)
    if cmd.word == "resultat":
        return _closed_result(m, r, cmd)
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_33, "Inget ärende är uppe. Ta upp ärendet med !ärende N först.")
    a, b = cmd.options
    closed = cmd.word == "sluten"
    if closed:
        remote = [u for u in m.serving(r) if u != cmd.actor and m.location.get(u) != "lokal"]
        if remote:
            return Refused(
                Rule.P13,
                "Sluten omröstning får inte genomföras på distans när valhemligheten inte kan "
                f"upprätthållas. {names(r, remote)} deltar inte i ordförandens lokal. Omröstningen kan "
                "hållas med valsedlar när alla tjänstgörande sitter i ordförandens lokal (!lokal).",
            )
    found = blockers(m, r)
    if found:
        return Refused(found[0][0], f"Voteringen kan inte börja nu: {reasons_text(found)}.")
    voters = m.serving(r)
    data = {"n": item.n, "a": a, "b": b, "voters": voters, "closed": closed, "presiding": m.presiding(r)}
    if not closed and item.abstaining:  # their declaration is their answer (KL 4 kap. 25 §)
        data["abstaining"] = [u for u in voters if u in item.abstaining]
    vote_id = len(m.votes) + 1
    if closed:
        text = (
            f"SLUTEN OMRÖSTNING {vote_id} i ärende {item.n} (§ 13, KL 5 kap. 54 §): alla tjänstgörande "
            f"sitter i ordförandens lokal, så omröstningen hålls med valsedlar på papper. A = {a}, B = {b}. "
            "Räkna valsedlarna och skriv !votering sluten resultat A=n B=m blanka=k."
        )
    else:
        text = (
            f"VOTERING {vote_id} i ärende {item.n} (KL 5 kap. 54 §): Ja = {a}, Nej = {b}. "
            "Tjänstgörande ledamöter: svara !ja, !nej eller !avstår. Rösten kan ändras tills resultatet "
            "är klart; en förlorad överföring under voteringen gör den ogiltig (§§ 5, 12)."
        )
    return Accepted([("vote_started", data)], [Reply(text, mentions=tuple(voters))])


def _closed_result(m: Meeting, r: Roster, cmd: Command) -> Outcome:
    vote = m.vote
    if vote is None or not vote.closed:
        return Refused(Rule.P13, "Ingen sluten omröstning pågår. Den börjar med !votering sluten A / B.")
    counts = dict(cmd.counts)
    cast = sum(counts.values())
    if cast != len(vote.voters):
        return Refused(
            Rule.KL_5_54,
            f"Antalet valsedlar ({cast}) ska vara lika med antalet som röstade ({len(vote.voters)}). Räkna om.",
        )
    if counts["a"] != counts["b"]:
        winner, how = ("a" if counts["a"] > counts["b"] else "b"), "most"
    else:
        # An election tied: lots are drawn (KL 5 kap. 56 §); the shell draws with the OS's CSPRNG.
        winner = "a" if cmd.lot % 2 == 0 else "b"
        how = "lot"
    won = vote.a if winner == "a" else vote.b
    text = (
        f"RESULTAT av sluten omröstning {vote.id} i ärende {vote.item}: {vote.a} {counts['a']}, "
        f"{vote.b} {counts['b']}, blanka {counts['blanka']}. Vald/beslut: {won} "
        f"({vote_how(how, {}, cmd.lot, r)})."
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
        return Refused(Rule.KL_5_54, "Ingen öppen votering pågår.")
    if cmd.answers is not None and cmd.answers != (m.id, vote.id):
        # A response to an earlier vote's poll answers that vote, which is over, not this one.
        return Refused(
            Rule.KL_5_54,
            f"Ditt svar gäller en tidigare votering, inte den som pågår (nr {vote.id}). Svara i den "
            "pågående voteringens omröstning, eller med !ja, !nej eller !avstår.",
        )
    if cmd.actor not in vote.voters:
        return not_serving(m, r, cmd.actor, Rule.KL_5_54) or Refused(
            Rule.KL_5_54, "Du tjänstgjorde inte när voteringen började."
        )
    if cmd.name != "avstår" and cmd.actor in m.items[vote.item].abstaining:
        return Refused(
            Rule.KL_4_25,
            f"Du har anmält att du avstår från att delta i beslutet i ärende {vote.item}. Vill du rösta: "
            "återta anmälan med !avstår återta först.",
        )
    if vote.ballots.get(cmd.actor) == cmd.name:
        return Refused(Rule.KL_5_54, f"Din röst ({cmd.name}) är redan antecknad.")
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
        return Refused(Rule.KL_5_54, "En sluten omröstning pågår: den som avstår lämnar en blank valsedel.")
    if cmd.word != "återta" and (vote is not None or cmd.answers is not None):  # a poll answers a vote
        return _ballot(m, r, cmd, now)
    item = m.item
    if item is None:
        return Refused(Rule.KL_4_25, "Inget ärende är uppe. Att avstå gäller beslutet i ärendet som är uppe.")
    if item.valid_decisions:
        return Refused(
            Rule.KL_4_25,
            f"Ärende {item.n} är redan beslutat. Att avstå anmäls, och återtas, före beslutet.",
        )
    if cmd.word == "återta":
        if cmd.actor not in item.abstaining:
            return Refused(Rule.KL_4_25, f"Du har inte anmält att du avstår i ärende {item.n}.")
        text = f"{r.label(cmd.actor)} deltar i beslutet i ärende {item.n}."
        if vote is not None and cmd.actor in vote.voters:
            text += " Rösta med !ja, !nej eller !avstår."
        return Accepted([("abstention_withdrawn", {"n": item.n, "user": cmd.actor})], [Reply(text)])
    refusal = not_serving(m, r, cmd.actor, Rule.KL_4_25)
    if refusal:
        return refusal
    if cmd.actor in item.abstaining:
        return Refused(
            Rule.KL_4_25,
            f"Att du avstår i ärende {item.n} är redan antecknat. Vill du delta: !avstår återta.",
        )
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
        return Refused(Rule.KL_4_27, "Inget ärende är uppe. Ange ärendet: !reservation ärende N [motivering].")
    else:
        n = m.current
    item = m.items[n]
    index = item.last_standing
    if index is None:
        return Refused(
            Rule.KL_4_27,
            f"Det finns inget beslut i ärende {n} att reservera sig mot. Gäller det ett annat ärende: "
            "!reservation ärende N [motivering].",
        )
    decision = item.decisions[index]
    if cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, f"Du har jäv i ärende {n} och deltar inte i det, inte heller med reservation.")
    if cmd.actor in m.left:
        return Refused(Rule.KL_4_27, "Du har lämnat sammanträdet; en reservation anmäls på sammanträdet.")
    if cmd.actor in decision.abstained:
        return Refused(
            Rule.KL_4_27,
            "Du avstod från att delta i beslutet och kan därför inte reservera dig mot det (KL 4 kap. 25 §).",
        )
    if cmd.actor not in decision.participants:
        return Refused(
            Rule.KL_4_27,
            "Endast den som deltog i beslutet får reservera sig mot det; den som inte röstade deltog inte.",
        )
    if any(user == cmd.actor for user, _ in decision.reservations):
        return Refused(Rule.KL_4_27, "Din reservation mot beslutet är redan antecknad.")
    return Accepted(
        [("reservation", {"n": n, "index": index, "user": cmd.actor, "text": cmd.text})],
        [Reply(f"{r.label(cmd.actor)} reserverar sig mot beslutet i ärende {n} (KL 4 kap. 27 §).")],
    )
