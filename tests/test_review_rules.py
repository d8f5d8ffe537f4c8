"""The lawyer's second review (issue 19), the cases in the rules of the meeting: who chooses who
presides (4), abstaining (13), reservations that fall or come while adjourned (15), paragraph
numbers across the year end (16), the presiding member while a vote runs (17), § numbers in
the protocol (18), and förhinder at the meeting (20). Each test is named by the rule it protects."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import commands
from commands.text import Message
from minutes.layout import label
from rules.citations import Rule
from rules.state import Event, Meeting, apply
from testing.driver import CHAIR, KALLA, M3, M4, M5, MEMBERS, SECR, SUB1, SUB2, VICE, Driver
from testing.invariants import assert_protocol_invariants


def _doc(d: Driver) -> dict:
    return json.loads(d.protocol("json"))


def _item(d: Driver, n: int) -> dict:
    return next(item for item in _doc(d)["ärenden"] if item["nummer"] == n)


def _serving(d: Driver) -> list[str]:
    return d.m.serving(d.roster)


def _all_ok(d: Driver) -> None:
    for user in _serving(d):
        d.ok(user, "!ok")


# --- 4. a jävig ordförande chooses who presides ---------------------------------------------------------


def _neither_chair_can(d: Driver) -> None:
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!jäv")
    d.ok(VICE, "!jäv")


def test_kl_6_28_a_javig_ordforande_cannot_choose_who_presides_over_her_item():
    d = Driver().opened()
    _neither_chair_can(d)
    refusal = d.refused(CHAIR, f"!ordförande {M4}")
    assert refusal.rule is Rule.KL_6_28 and "jäv" in refusal.text and "Sekreteraren" in refusal.text
    assert d.m.named_chair is None and d.m.presiding(d.roster) is None
    assert d.refused(VICE, f"!ordförande {M4}").rule in (Rule.KL_6_28, Rule.KL_6_33)  # jävig, and not presiding
    out = d.ok(SECR, f"!ordförande {M4}")
    assert out.events == [("presiding_named", {"user": M4, "n": 1, "by": SECR})]
    assert d.m.presiding(d.roster) == M4
    # The protocol says who recorded the body's choice.
    line = next(x for x in _item(d, 1)["förlopp"] if "David Dahl (C)" in x and "ordförande" in x)
    assert "antecknade" in line and d.roster.label(SECR) in line
    assert_protocol_invariants(d)


def test_kl_6_28_a_javig_secretary_cannot_record_the_choice_either():
    d = Driver().opened()
    _neither_chair_can(d)
    d.ok(SECR, "!jäv")  # the secretary is jävig in the item too (anyone on the roster may be)
    assert d.refused(SECR, f"!ordförande {M4}").rule is Rule.KL_6_28
    assert d.m.named_chair is None


def test_kl_6_33_an_ordforande_not_at_the_meeting_cannot_record_the_choice():
    d = Driver().opened(present=(VICE, M3, M4, M5, SUB1, SUB2, SECR))  # the ordförande never came
    d.ok(VICE, "!ärende 1")
    d.ok(VICE, "!jäv")
    assert d.refused(CHAIR, f"!ordförande {M4}").rule is Rule.KL_6_33
    d.ok(SECR, f"!ordförande {M4}")


# --- 13. one who abstained took part -------------------------------------------------------------------


def test_kl_4_25_one_who_abstains_in_a_vote_takes_no_part_and_cannot_reserve():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!votering A / B")
    for user, choice in ((CHAIR, "!ja"), (VICE, "!nej"), (M3, "!ja"), (M4, "!avstår"), (M5, "!nej")):
        d.ok(user, choice)
    decision = d.m.items[1].decisions[0]
    assert decision.text == "A" and M4 not in decision.participants and M4 in decision.serving
    refusal = d.refused(M4, "!reservation")
    assert refusal.rule is Rule.KL_4_27 and "avstod" in refusal.text
    row = _item(d, 1)["beslut"][0]
    assert "David Dahl (C)" not in names(row["deltog"]) and names(row["avstod"]) == ["David Dahl (C)"]
    assert "David Dahl (C) avstår från att delta i beslutet (4 kap. 25 § kommunallagen)." in d.protocol("md")
    assert_protocol_invariants(d)


def test_kl_4_25_abstaining_without_a_vote_takes_no_part_and_cannot_reserve():
    d = Driver().opened()
    assert d.refused(M4, "!avstår").rule is Rule.KL_4_25  # no item up
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(SUB1, "!avstår").rule is Rule.KL_4_25  # not serving: no part to abstain from
    out = d.ok(M4, "!avstår")
    assert out.events == [("abstained", {"n": 1, "user": M4})]
    assert d.refused(M4, "!avstår").rule is Rule.KL_4_25  # already recorded
    d.checked()
    out = d.ok(CHAIR, "!beslut Bifall")
    assert M4 not in out.events[0][1]["participants"] and out.events[0][1]["abstained"] == [M4]
    assert "Avstod" in out.replies[0].text
    assert d.refused(M4, "!reservation").rule is Rule.KL_4_27
    assert d.refused(M4, "!avstår återta").rule is Rule.KL_4_25  # after the decision: too late
    assert d.refused(M5, "!avstår").rule is Rule.KL_4_25  # after the decision: too late
    row = _item(d, 1)["beslut"][0]
    assert "David Dahl (C)" not in names(row["deltog"]) and names(row["avstod"]) == ["David Dahl (C)"]
    md = d.protocol("md")
    assert "David Dahl (C) avstår från att delta i beslutet (4 kap. 25 § kommunallagen)." in md
    assert "David Dahl (C) anmälde att hen avstår från att delta i beslutet (4 kap. 25 § kommunallagen)." in md
    assert_protocol_invariants(d)


def test_kl_4_25_an_abstention_is_withdrawn_before_the_decision_and_then_she_takes_part():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(M4, "!avstår återta").rule is Rule.KL_4_25  # nothing to withdraw
    d.ok(M4, "!avstår")
    d.ok(M4, "!avstår återta")
    assert d.m.items[1].abstaining == []
    d.checked()
    out = d.ok(CHAIR, "!beslut Bifall")
    assert M4 in out.events[0][1]["participants"] and out.events[0][1]["abstained"] == []
    assert "återtog" in d.protocol("md")


def test_kl_4_25_an_abstention_declared_before_a_vote_is_her_vote_until_withdrawn():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M4, "!avstår")
    d.checked()
    d.ok(CHAIR, "!votering A / B")
    assert d.m.vote.ballots == {M4: "avstår"}
    refusal = d.refused(M4, "!ja")  # she declared she takes no part: she withdraws first
    assert refusal.rule is Rule.KL_4_25 and "!avstår återta" in refusal.text
    d.ok(M4, "!avstår återta")
    assert M4 not in d.m.vote.ballots
    for user, choice in ((CHAIR, "!ja"), (VICE, "!nej"), (M3, "!ja"), (M4, "!nej"), (M5, "!nej")):
        d.ok(user, choice)
    decision = d.m.items[1].decisions[0]
    assert decision.text == "B" and M4 in decision.participants
    assert_protocol_invariants(d)


def test_kl_4_25_a_declared_abstention_counts_as_her_answer_so_the_vote_ends_when_the_rest_have_voted():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M5, "!avstår")
    d.checked()
    d.ok(CHAIR, "!votering A / B")
    for user, choice in ((CHAIR, "!ja"), (VICE, "!nej"), (M3, "!ja"), (M4, "!nej")):
        d.ok(user, choice)
    # A tie among those who take part: the ordförande's vote decides; Eva took no part.
    decision = d.m.items[1].decisions[0]
    assert decision.text == "A" and M5 not in decision.participants
    assert [label(x) for x in _item(d, 1)["voteringar"][0]["röster"] if x["röst"] == "avstår"] == ["Eva Ek (V)"]


def test_kl_4_25_avstar_takes_only_the_word_återta():
    cmd = commands.parse(Message("!avstår återta"), M4)
    assert cmd.word == "återta" and not cmd.error
    assert commands.parse(Message("!avstar aterta"), M4).word == "återta"
    assert commands.parse(Message("!avstår nej"), M4).error


# --- 15. reservations that fall, and reservations while adjourned -----------------------------------------


def test_kl_4_27_reservations_against_a_retaken_decision_fall_and_the_bot_says_so():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(VICE, "!reservation Fel beslut.")
    d.ok(M3, "!reservation")
    out = d.ok(CHAIR, "!omtag")
    reply = out.replies[0]
    assert {VICE, M3} <= set(reply.mentions)
    assert "Reservationerna" in reply.text and "Bo Berg (M)" in reply.text and "Cecilia Carlsson (S)" in reply.text
    row = _item(d, 1)["beslut"][0]
    assert row["taget_om"] and len(row["reservationer"]) == 2
    md = d.protocol("md")
    assert "Reservationerna mot det faller: Bo Berg (M) och Cecilia Carlsson (S)." in md
    d.checked()
    d.ok(CHAIR, "!beslut Bifall med ändring")
    assert d.m.items[1].decisions[1].reservations == []
    d.ok(VICE, "!reservation")  # against the decision that stands, announced again
    assert d.m.items[1].decisions[1].reservations == [(VICE, "")]
    assert_protocol_invariants(d)


def test_kl_4_27_a_retaken_decision_without_reservations_says_nothing_of_them():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    out = d.ok(CHAIR, "!omtag")
    assert "Reservation" not in out.replies[0].text and out.replies[0].mentions == ()


def test_kl_4_27_a_reservation_while_adjourned_is_accepted_and_kept_when_the_chair_closes_from_there():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!ajournera")
    out = d.ok(VICE, "!reservation Budgeten är för snål.")
    assert out.events == [("reservation", {"n": 1, "index": 0, "user": VICE, "text": "Budgeten är för snål."})]
    d.close()  # closed from the adjournment
    assert d.refused(M3, "!reservation ärende 1").rule is Rule.KL_4_27  # the meeting has ended
    assert "Bo Berg (M) reserverar sig mot beslutet (4 kap. 27 § kommunallagen): Budgeten är för snål." in d.protocol(
        "md"
    )


# --- 16. paragraph numbers across the year end ---------------------------------------------------------


def _held(d: Driver, day: str, items: tuple[int, ...] = (1,), convened: str = "") -> None:
    """A meeting held on `day` (convened on `convened`, default the day before), items taken up and closed."""
    if convened:
        d.now = datetime.fromisoformat(f"{convened}T10:00:00+00:00")
    d.ok(CHAIR, KALLA.replace("2026-12-03", day))
    _open_and_close(d, day, items)


def _open_and_close(d: Driver, day: str, items: tuple[int, ...]) -> None:
    d.now = datetime.fromisoformat(f"{day}T16:50:00+00:00")
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in MEMBERS:
        d.ok(user, "!närvarande")
    for n in items:
        if d.m.items[n].klass:
            d.ok(CHAIR, f"!tillåt {n}")
        d.ok(CHAIR, f"!ärende {n}")
    d.close()


def _paragraphs(d: Driver) -> list[int]:
    return sorted(i.paragraph for i in d.m.items.values() if i.paragraph is not None)


def test_kl_5_65_a_meeting_moved_back_into_the_year_numbers_on_from_that_years_last_paragraph():
    d = Driver()
    _held(d, "2026-12-03", items=(1, 2))  # §§ 1–2
    d.now = datetime.fromisoformat("2026-12-05T10:00:00+00:00")
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2027-01-14"))  # convened into the new year
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2026-12-17"))  # and moved back before it is held
    _open_and_close(d, "2026-12-17", (1,))
    assert _paragraphs(d) == [3]
    _held(d, "2027-01-14", convened="2026-12-20")
    assert _paragraphs(d) == [1]  # a new year starts again at 1


def test_kl_5_65_a_meeting_moved_into_the_new_year_starts_at_1():
    d = Driver()
    _held(d, "2026-12-03", items=(1, 2))  # §§ 1–2
    d.now = datetime.fromisoformat("2026-12-05T10:00:00+00:00")
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2026-12-17"))
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2027-01-14"))  # moved into the new year
    _open_and_close(d, "2027-01-14", (1,))
    assert _paragraphs(d) == [1]


def test_kl_5_65_a_cancelled_meeting_of_the_other_year_does_not_restart_the_numbering():
    d = Driver()
    _held(d, "2026-12-03", items=(1, 2))  # §§ 1–2
    d.now = datetime.fromisoformat("2026-12-05T10:00:00+00:00")
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2027-01-14"))
    d.ok(CHAIR, "!inställ")
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2026-12-17"))
    _open_and_close(d, "2026-12-17", (1,))
    assert _paragraphs(d) == [3]
    _held(d, "2027-01-14", convened="2026-12-20")
    assert _paragraphs(d) == [1]


def test_kl_5_65_the_number_is_fixed_when_the_meeting_is_opened_and_is_in_the_log():
    d = Driver()
    _held(d, "2026-12-03", items=(1,))
    d.now = datetime.fromisoformat("2026-12-05T10:00:00+00:00")
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2027-01-14"))
    d.ok(CHAIR, KALLA.replace("2026-12-03", "2026-12-17"))
    d.now = datetime.fromisoformat("2026-12-17T16:50:00+00:00")
    out = d.ok(CHAIR, "!öppna")
    d.until_called()
    assert out.events == [("opened", {"first_paragraph": 2})]


def test_kl_5_65_a_log_from_before_the_numbering_was_kept_numbers_on_from_its_kallelse():
    d = Driver()
    old = Meeting("ks-old", "ks")
    convened = {"start": "2026-11-26T18:00:00+01:00", "form": "distans", "motivation": "storm", "agenda": []}
    at = datetime.fromisoformat("2026-11-20T10:00:00+00:00")
    apply(old, d.roster, Event("convened", at, CHAIR, convened | {"first_paragraph": 7}))  # no "numbered"
    apply(old, d.roster, Event("cancelled", at, CHAIR, {"reason": ""}))
    d.engine.meeting = old
    d.ok(CHAIR, KALLA)
    assert d.m.numbered == {"2026": 6}
    d.ok(CHAIR, "!öppna")
    d.until_called()
    assert d.m.first_paragraph == 7


# --- 17. the presiding member while a vote runs -----------------------------------------------------------


def _vice_presiding_a_vote() -> Driver:
    d = Driver().opened(present=(VICE, M3, M4, M5, SUB1, SUB2, SECR))  # the ordförande is late
    d.ok(VICE, "!ärende 1")
    d.ok(VICE, "!teknikkontroll")
    _all_ok(d)
    d.ok(VICE, "!votering A / B")
    return d


def test_kl_6_33_an_ordforande_arriving_during_a_vote_takes_over_after_it_and_a_tie_is_the_vices():
    d = _vice_presiding_a_vote()
    d.ok(VICE, "!ja")
    d.ok(M3, "!nej")
    d.ok(M4, "!ja")
    d.ok(CHAIR, "!närvarande")  # arrives while the vote runs
    assert d.m.presiding(d.roster) == VICE
    out = d.ok(M5, "!nej")  # 2–2: the vice chair who presides over the vote has the casting vote
    ended = next(data for kind, data in out.events if kind == "vote_ended")
    decided = next(data for kind, data in out.events if kind == "decided")
    assert ended["winner"] == "a" and ended["how"] == "casting" and ended["presiding"] == VICE
    assert decided["presiding"] == VICE and CHAIR not in decided["participants"]
    assert d.m.presiding(d.roster) == CHAIR  # after the vote the ordförande presides
    assert "utslagsröst av Bo Berg som ordförande i ärendet" in d.protocol("md")
    assert_protocol_invariants(d)


def test_kl_6_33_the_vice_chair_who_presides_over_the_vote_may_close_it_after_the_ordforande_arrives():
    d = _vice_presiding_a_vote()
    d.ok(VICE, "!ja")
    d.ok(M3, "!ja")
    d.ok(M4, "!nej")
    d.ok(CHAIR, "!närvarande")
    assert d.refused(CHAIR, "!votering klar").rule is Rule.KL_5_54
    d.now += timedelta(seconds=60)
    out = d.ok(VICE, "!votering klar")
    decided = next(data for kind, data in out.events if kind == "decided")
    assert decided["presiding"] == VICE  # not recorded as the ordförande's
    assert names(_item(d, 1)["ordförande"]) == ["Bo Berg (M)"]


def test_kl_6_33_p12_the_presiding_member_does_not_change_while_a_check_runs():
    d = Driver().opened()
    d.ok(CHAIR, "!lämnar")
    d.ok(VICE, "!ärende 1")
    d.ok(VICE, "!teknikkontroll")
    d.ok(CHAIR, "!närvarande")  # returns while the check runs
    assert d.m.presiding(d.roster) == VICE
    assert d.refused(CHAIR, "!teknikkontroll").rule is Rule.P12
    for user in d.m.check.expected:  # those serving when it started
        d.ok(user, "!ok")
    assert d.m.presiding(d.roster) == CHAIR  # the check is over: she takes over
    assert d.refused(CHAIR, "!beslut Bifall").rule is Rule.P12  # who serves changed since the check


# --- 18. § numbers in the protocol, paragraphs in § order -----------------------------------------------------


def test_kl_5_65_the_protocol_refers_to_items_by_paragraph_and_stands_in_paragraph_order():
    d = Driver().opened()
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")  # § 1
    d.checked(2)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!ärende 1")  # § 2
    d.checked(1)
    d.ok(CHAIR, "!beslut Avslag")
    d.ok(M5, "!lämnar")  # during agenda item 1, which is § 2
    d.ok(VICE, "!reservation ärende 2")  # the agenda number is how the chat names it
    d.close()
    doc = _doc(d)
    assert [(i["paragraf"], i["nummer"]) for i in doc["ärenden"]] == [(1, 2), (2, 1)]
    eva = next(x for x in doc["beslutande"] if label(x) == "Eva Ek (V)")
    assert [x.get("under_paragraf") for x in eva["kom_och_gick"]] == [2]
    assert any("reserverade sig mot beslutet i § 1" in x for x in _item(d, 2)["förlopp"])
    md = d.protocol("md")
    assert md.index("## § 1  Anställning") < md.index("## § 2  Budget")
    # Items struck from the agenda (!utgår) have no § and are named by their agenda numbers: only there.
    before, struck = md.split("Utgångna ärenden:")
    assert "Ärende 3 Skyddsobjekt" in struck.split("## ")[0]
    lines = [x for x in (before + "## " + struck.split("## ", 1)[1]).splitlines() if not x.startswith("## ")]
    numbered = [x for x in lines if re.search(r"ärende \d", x, re.IGNORECASE) and "utgick" not in x]
    assert not numbered, "an agenda number in the protocol"
    assert_protocol_invariants(d)


# --- 20. förhinder at the meeting ------------------------------------------------------------------------------


def test_kl_6_17_a_confirmed_substitute_already_present_serves_from_then():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, SUB1, SUB2, SECR))  # Eva has not come
    d.ok(SECR, f"!förhinder {M5}")  # she phones: Erik, here already, is called
    assert d.m.called == {SUB1: M5}
    out = d.ok(SUB1, "!tjänstgör")
    assert d.m.seat(M5) == SUB1 and SUB1 in _serving(d)
    assert "tjänstgör för Eva Ek (V)" in out.replies[0].text and "vid uppropet" not in out.replies[0].text
    d.checked()
    assert SUB1 in d.ok(CHAIR, "!beslut Bifall").events[0][1]["participants"]


def test_kl_6_17_a_substitute_confirmed_in_the_middle_of_an_item_serves_from_the_next():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, SUB1, SUB2, SECR))
    d.ok(CHAIR, "!ärende 1")
    d.ok(SECR, f"!förhinder {M5}")
    out = d.ok(SUB1, "!tjänstgör")
    assert "nästa ärende" in out.replies[0].text and d.m.seat(M5) is None
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    out = d.ok(CHAIR, "!tillåt 2")
    out = d.ok(CHAIR, "!ärende 2")
    assert d.m.seat(M5) == SUB1 and "Erik Ek (S) tjänstgör" in out.replies[0].text


def test_kl_6_17_a_member_who_comes_despite_her_forhinder_no_longer_has_it():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(M5, "!förhinder")
    d.ok(SUB1, "!tjänstgör")
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in (CHAIR, VICE, M3, M4, SUB1, SUB2, SECR):
        d.ok(user, "!närvarande")
    assert d.m.seat(M5) == SUB1
    out = d.ok(M5, "!närvarande")  # she comes after all
    assert M5 not in d.m.forhinder
    assert "Förhinder" not in d.ok(M3, "!status").replies[0].text
    assert "Förhinder" not in d.ok(M3, "!dagordning").replies[0].text
    assert any(kind == "forhinder_withdrawn" for kind, _ in out.events)
    assert d.m.seat(M5) == SUB1  # the substitute keeps serving until the next item
    d.ok(CHAIR, "!ärende 1")
    assert d.m.seat(M5) == M5 and "bekräftat" not in d.ok(M3, "!status").replies[0].text
    doc = _doc(d)
    assert not any(x["förhinder"] for x in doc["frånvarande"])
    assert_protocol_invariants(d)


def test_kl_6_17_a_called_substitute_who_is_no_longer_needed_is_released_when_the_member_comes():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(M5, "!förhinder")
    assert d.m.called == {SUB1: M5}
    d.ok(CHAIR, "!öppna")
    d.until_called()
    d.ok(M5, "!närvarande")
    assert d.m.called == {} and M5 not in d.m.forhinder
    assert d.refused(SUB1, "!tjänstgör").rule is Rule.KL_6_17
    assert SUB2 not in d.m.called


def names(people: list) -> list[str]:
    return [label(p) for p in people]
