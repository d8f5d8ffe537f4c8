"""Motions, checks and decisions (§§ 5, 12, KL 4 kap. 22 §, 6 kap. 27 §): a motion, the quorum,
the technical check before a decision, what blocks a decision now, the decision and its retaking.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rules import transmission
from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.call import not_in_call
from rules.citations import Rule
from rules.model import Meeting, hms
from rules.register import handles
from rules.roster import Roster
from rules.words import names, spent_text


@handles("yrka")
def _yrka(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_33, "Inget ärende är uppe. Yrkanden görs under ett ärende.")
    if cmd.word == "återta":
        mine = [x for x in item.motions if x.user == cmd.actor and not x.withdrawn]
        if not mine:
            return Refused(Rule.KL_6_33, f"Du har inget yrkande att återta i ärende {item.n}.")
        return Accepted(
            [("motion_withdrawn", {"n": item.n, "id": mine[-1].id})],
            [Reply(f"Yrkandet är återtaget: {mine[-1].text}")],
        )
    if cmd.actor in item.silenced:
        return Refused(Rule.P9, f"Ordföranden har fråntagit dig ordet under resten av ärende {item.n}.")
    refusal = no_quorum(m, r, "Yrkanden kan inte göras")
    if refusal:
        return refusal
    return Accepted(
        [("motion", {"n": item.n, "user": cmd.actor, "text": cmd.text})],
        [Reply(f"Yrkande {len(item.motions) + 1} i ärende {item.n} av {r.label(cmd.actor)}: {cmd.text}")],
    )


def quorum_text(m: Meeting, r: Roster) -> str | None:
    """What is missing for quorum (KL 6 kap. 27 §), or None when the body has it."""
    if m.has_quorum(r):
        return None
    n = len(r.members) // 2 + 1
    return f"beslutförhet saknas: {len(m.serving(r))} av {len(r.members)} ledamöter tjänstgör, minst {n} krävs"


def no_quorum(m: Meeting, r: Roster, what: str) -> Refused | None:
    """A body handles matters only with quorum (KL 6 kap. 27 §): taking up and moving included."""
    missing = quorum_text(m, r)
    if missing is None:
        return None
    return Refused(
        Rule.KL_6_27,
        f"{what}: {missing} (ledamöter med förlorat ljud räknas inte). Ersättare kan träda in med !ersätt.",
    )


@handles("teknikkontroll")
def _teknikkontroll(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.P12, "Ta upp ett ärende med !ärende N först; kontrollen föregår ett beslut.")
    lacking = m.lacking(r)
    if lacking:
        return Refused(
            Rule.P5,
            f"{transmission.names_since(m, r, lacking)} saknar ljud eller bild. Ingen kontroll kan godkännas förrän "
            "överföringen fungerar (!åter) eller en ersättare har trätt in (!ersätt, § 11).",
        )
    serving = m.serving(r)
    if not serving:
        return Refused(Rule.KL_6_27, "Ingen ledamot tjänstgör. Ledamöterna anmäler närvaro med !närvarande.")
    deadline = now + timedelta(seconds=r.check_timeout_seconds)
    check_id = len(m.checks) + 1
    text = (
        f"TEKNIKKONTROLL (§ 12) inför beslut i ärende {item.n}. Tjänstgörande ledamöter: svara "
        f"!ok (eller reagera ✅ på detta meddelande) senast kl. {hms(deadline, r.tz)} "
        "om ni ser och hör sammanträdet och själva syns och hörs."
    )
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
        return Refused(Rule.P12, "Ingen teknikkontroll pågår. Ordföranden startar en med !teknikkontroll.")
    if cmd.answers is not None and cmd.answers != (m.id, check.id):
        # A ✅ on an earlier check's message answers that check, which is over, not this one.
        return Refused(
            Rule.P12,
            f"Din reaktion gäller en tidigare teknikkontroll, inte den som pågår (nr {check.id}). "
            "Svara !ok, eller reagera ✅ på den pågående kontrollens meddelande.",
        )
    if cmd.actor not in check.expected:
        return Refused(Rule.P12, "Du tjänstgjorde inte när kontrollen startade; ordföranden gör en ny kontroll.")
    if cmd.actor in check.answered:
        return Refused(Rule.P12, "Ditt svar är redan antecknat.")
    refusal = not_in_call(m, r, cmd.actor, cmd.actor, Rule.P12, "!ok")
    if refusal:
        return refusal
    if m.drops.get(cmd.actor):
        return Refused(
            Rule.P5, "Ditt avbrott är antecknat. Skriv !åter när ljud och bild fungerar, och svara sedan !ok."
        )
    events: list = [("check_answered", {"id": check.id, "user": cmd.actor})]
    if len(check.answered) + 1 == len(check.expected):
        events.append(("check_ended", {"id": check.id, "passed": True} | transmission.evidence(m, r)))
        return Accepted(events, [_check_result(r, check.id, [], len(check.expected))])
    return Accepted(events)


def _check_result(r: Roster, check_id: int, missing: list[str], expected: int) -> Reply:
    if not missing:
        return Reply(
            f"Teknikkontroll {check_id} är godkänd: alla {expected} tjänstgörande ledamöter "
            "deltar med godtagbar överföring (§ 12). Beslut kan fattas.",
            reply=False,
        )
    return Reply(
        f"⛔ § 12: Teknikkontroll {check_id} är inte godkänd. Svarade inte: {names(r, missing)}. "
        "Ordföranden kan göra en ny !teknikkontroll, ajournera (§ 10) eller ersätta ledamoten (§ 11).",
        mentions=tuple([r.chair, *missing]),
        reply=False,
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
        return [(Rule.KL_6_33, "inget ärende är uppe (!ärende N)")]
    if m.adjourned:
        out.append((Rule.P10, "sammanträdet är ajournerat (!återuppta)"))
    if not item.permitted:
        out.append((item.permission_rule, f"ärende {item.n} är inte tillåtet på distans"))
    if item.justerad:
        out.append((Rule.KL_5_69, f"§ {item.paragraph} är omedelbart justerad"))
    missing = quorum_text(m, r)
    if missing:
        out.append((Rule.KL_6_27, missing))
    if m.presiding(r) is None:
        out.append((Rule.KL_6_33, "ingen leder ärendet (!ordförande @ledamot)"))
    for user, kinds in m.lacking(r).items():
        out.append((Rule.P5, f"{transmission.names_since(m, r, [user])} saknar {' och '.join(sorted(kinds))}"))
    if m.vote:
        out.append((Rule.KL_5_54, f"votering {m.vote.id} pågår"))
    check = m.check
    if check is None or check.item != item.n:
        out.append((Rule.P12, "ingen teknikkontroll har gjorts i ärendet (!teknikkontroll)"))
    elif check.running:
        out.append((Rule.P12, f"teknikkontroll {check.id} pågår"))
    elif not check.passed:
        out.append((Rule.P12, f"teknikkontroll {check.id} blev inte godkänd; gör en ny"))
    elif check.spent_by:
        out.append(
            (Rule.P12, f"teknikkontroll {check.id} gäller inte längre ({spent_text(check.spent_by, r)}); gör en ny")
        )
    elif sorted(check.expected) != sorted(m.serving(r)):
        out.append((Rule.P12, "tjänstgöringen har ändrats sedan teknikkontrollen; gör en ny"))
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
            return Refused(Rule.KL_5_69, f"§ {item.paragraph} är omedelbart justerad och kan inte ändras.")
        return Accepted(
            [("worded", {"n": item.n, "index": index, "text": cmd.text})],
            [
                Reply(
                    f"BESLUT i ärende {item.n}, efter votering {decision.vote_id} enligt förslaget "
                    f"”{decision.proposal}”: {cmd.text}"
                )
            ],
        )
    found = blockers(m, r)
    if found:
        rule = found[0][0]
        return Refused(rule, f"Beslut kan inte fattas nu: {reasons_text(found)}.")
    item, check = m.item, m.check
    assert item is not None and check is not None
    serving = m.serving(r)
    # One who declared she abstains takes no part in the decision (KL 4 kap. 25 §).
    participants = [u for u in serving if u not in item.abstaining]
    abstained = [u for u in serving if u in item.abstaining]
    if not participants:
        return Refused(Rule.KL_4_25, "Alla tjänstgörande har anmält att de avstår; ingen deltar i ett beslut.")
    data = {
        "n": item.n,
        "text": cmd.text,
        "participants": participants,
        "serving": serving,
        "check_id": check.id,
        "presiding": m.presiding(r),
        "abstained": abstained,
    } | transmission.evidence(m, r)
    text = f"BESLUT i ärende {item.n}: {cmd.text}\nDeltog i beslutet: {names(r, participants)}."
    if abstained:
        text += f"\nAvstod från att delta i beslutet (KL 4 kap. 25 §): {names(r, abstained)}."
    return Accepted([("decided", data)], [Reply(text)])


@handles("omtag")
def _omtag(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    index = item.last_standing if item else None
    if item is None or index is None:
        return Refused(Rule.P12, "Det finns inget beslut i det aktuella ärendet att ta om.")
    decision = item.decisions[index]
    text = f"Beslutet i ärende {item.n} tas om (§ 12) och gäller inte: {decision.text}\n"
    reserved = tuple(dict.fromkeys(user for user, _ in decision.reservations))
    if reserved:
        # KL 4 kap. 27 §: a reservation is against the decision; the void one takes its reservations with it.
        text += (
            f"Reservationerna mot det beslutet faller: {names(r, reserved)}. Den som vill reservera sig "
            "mot det nya beslutet anmäler det på nytt med !reservation (KL 4 kap. 27 §).\n"
        )
    text += "Gör en ny !teknikkontroll och fatta beslutet igen."
    return Accepted([("retaken", {"n": item.n, "index": index})], [Reply(text, mentions=reserved)])


def abort_running(m: Meeting, code: str) -> list:
    """End a running check or vote that the meeting cannot finish (`code` in `words.ABORTED`)."""
    events: list = []
    if m.check and m.check.running:
        events.append(("check_ended", {"id": m.check.id, "passed": False, "reason": code}))
    if m.vote:
        events.append(("vote_ended", {"id": m.vote.id, "how": "void", "cause": {"code": code}}))
    return events
