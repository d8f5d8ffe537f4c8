"""The lawyer's review (issue 10): fourteen ways a decision or the protocol could go wrong, each
tried the way a lawyer attacking the decision or a member gaming the bot would, through the
same rules the bot runs. Each test is named by the rule it protects."""

from __future__ import annotations

import json
from datetime import timedelta

import commands
from commands.text import MAX_BODY, Message
from minutes.layout import label
from rules.citations import Rule
from testing.driver import CHAIR, KALLA, M3, M4, M5, SECR, SUB1, SUB2, TJP, VICE, Driver
from testing.invariants import assert_protocol_invariants


def _decision(d: Driver, n: int) -> dict:
    doc = json.loads(d.protocol("json"))
    return next(item for item in doc["ärenden"] if item["nummer"] == n)


def _serving(d: Driver) -> list[str]:
    return d.m.serving(d.roster)


# --- 1. a jävig substitute ------------------------------------------------------------------------


def test_kl_6_28_a_javig_substitute_does_not_serve_in_the_item_and_the_next_in_turn_does():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!jäv")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    assert SUB1 in _serving(d)
    d.ok(SUB1, "!jäv")  # Erik is jävig too: he takes no part, whoever he replaces
    assert SUB1 not in _serving(d) and M3 not in _serving(d)
    assert d.refused(SUB1, "!yrka Bifall").rule is Rule.KL_6_28
    assert d.refused(SUB1, "!ordet").rule is Rule.KL_6_28
    refusal = d.refused(CHAIR, f"!ersätt {M3} {SUB1}")  # Erik cannot be put back: Frida's turn
    assert refusal.rule is Rule.KL_6_17 and "Frida Fors (M) som står på tur" in refusal.text
    d.ok(CHAIR, f"!ersätt {M3} {SUB2}")
    d.checked()
    out = d.ok(CHAIR, "!beslut Bifall")
    participants = out.events[0][1]["participants"]
    assert SUB2 in participants and SUB1 not in participants and M3 not in participants
    item = _decision(d, 1)
    assert "Erik Ek (S)" in names(item["jäv"]) and "Erik Ek (S)" not in names(item["beslut"][0]["deltog"])
    assert_protocol_invariants(d)


def test_kl_6_28_a_javig_persons_motion_falls():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!yrka Bifall")
    out = d.ok(M3, "!jäv")
    assert "yrkanden i ärendet faller" in out.replies[0].text
    assert d.m.item.motions[0].fallen
    assert "Cecilia Carlsson (S): Bifall (förfallet på grund av jäv)" in d.protocol("md")


# --- 2. the chair removing a healthy member ---------------------------------------------------------


def test_p11_a_loss_or_a_departure_recorded_by_the_chair_is_told_to_the_member_at_once():
    d = Driver().opened()
    out = d.ok(CHAIR, f"!avbrott ljud {M5}")
    assert M5 in out.replies[0].mentions  # she can answer !åter before anyone replaces her
    d.ok(M5, "!åter")
    assert d.refused(CHAIR, f"!ersätt {M5} {SUB1}").rule is Rule.P11
    out = d.ok(CHAIR, f"!lämnar {M4}")
    assert M4 in out.replies[0].mentions


def test_p11_a_member_with_working_transmission_cannot_be_replaced():
    d = Driver().opened()
    refusal = d.refused(CHAIR, f"!ersätt {M5} {SUB1}")
    assert refusal.rule is Rule.P11 and "fungerande överföring" in refusal.text
    assert M5 not in d.m.teknikfel and M5 in _serving(d)


def test_p11_an_absent_or_departed_member_is_replaced_as_absent_not_as_teknikfelsledamot():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, SUB1, SUB2))
    out = d.ok(CHAIR, f"!ersätt {M5} {SUB1}")
    assert "inte är närvarande" in out.replies[0].text and M5 not in d.m.teknikfel
    d.ok(M4, "!lämnar")
    out = d.ok(CHAIR, f"!ersätt {M4} {SUB2}")
    assert "har lämnat sammanträdet" in out.replies[0].text
    assert M4 not in d.m.teknikfel and SUB2 in _serving(d)
    doc = json.loads(d.protocol("json"))
    assert doc["teknikfelsledamöter"] == []
    david = next(x for x in doc["beslutande"] if x["namn"].startswith("David"))
    assert [x["lämnade"][11:16] for x in david["kom_och_gick"]] == ["18:00"]
    assert "David Dahl (C), ledamot, på distans; lämnade sammanträdet kl. 18.00" in d.protocol("md")


# --- 3. the item's class and the kallelse read whole --------------------------------------------------


def test_p8_an_agenda_line_with_class_and_dnr_keeps_its_class():
    d = Driver()
    d.ok(CHAIR, "!kalla 2026-12-03 18:00 distans\nMotivering: storm\n1. Skyddsobjekt [säkerhetsskydd] (Dnr KS 2026/1)")
    assert d.m.items[1].klass == "säkerhetsskydd" and d.m.items[1].dnr == "Dnr KS 2026/1"
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in (CHAIR, VICE, M3):
        d.ok(user, "!närvarande")
    assert d.refused(CHAIR, "!ärende 1").rule is Rule.P8
    assert "(Dnr KS 2026/1) [säkerhetsskydd – kräver" in d.ok(M3, "!dagordning").replies[0].text


def test_p6_an_agenda_line_not_read_whole_is_refused_and_nothing_is_convened():
    d = Driver()
    for line in (
        "1. Skyddsobjekt [säkerhetsskydd] vid vattenverket",
        "1. Skyddsobjekt [säkerhetsskydd",
        "1. Skyddsobjekt (Dnr KS 2026/1) [säkerhetsskydd]",
    ):
        refusal = d.refused(CHAIR, f"!kalla 2026-12-03 18:00 distans\nMotivering: storm\n{line}")
        assert refusal.rule is Rule.P1 and "kunde inte läsas helt" in refusal.text
    assert d.m is None


def test_p1_a_kallelse_over_the_length_limit_is_refused_never_cut():
    agenda = "\n".join(f"{n}. Ärende nummer {n} med en lång rubrik [sekretess]" for n in range(1, 400))
    body = f"!kalla 2026-12-03 18:00 distans\nMotivering: storm\n{agenda}"
    assert len(body) > MAX_BODY
    d = Driver()
    refusal = d.refused(CHAIR, body)
    assert refusal.rule is Rule.P1 and "för långt" in refusal.text
    assert d.m is None


# --- 5. who presides ----------------------------------------------------------------------------------


def test_kl_6_33_a_javig_chair_does_not_preside_the_first_vice_chair_does():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    out = d.ok(CHAIR, "!jäv")
    assert "Bo Berg (M) är ordförande i ärendet" in out.replies[0].text
    assert d.refused(CHAIR, "!teknikkontroll").rule is Rule.KL_6_28
    assert d.refused(CHAIR, f"!ersätt {CHAIR} {SUB1}").rule is Rule.KL_6_28
    d.ok(VICE, f"!ersätt {CHAIR} {SUB1}")
    d.ok(VICE, "!teknikkontroll")
    for user in _serving(d):
        d.ok(user, "!ok")
    out = d.ok(VICE, "!beslut Bifall")
    assert out.events[0][1]["presiding"] == VICE and CHAIR not in out.events[0][1]["participants"]
    assert names(_decision(d, 1)["ordförande"]) == ["Bo Berg (M)"]
    assert "Ordförande i ärendet (6 kap. 33 § kommunallagen): Bo Berg (M)" in d.protocol("md")


def test_p11_a_chair_who_is_teknikfelsledamot_does_not_preside():
    d = Driver().opened()
    d.ok(CHAIR, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    d.ok(CHAIR, f"!ersätt {CHAIR} {SUB1}")
    assert d.m.presiding(d.roster) == VICE
    assert d.refused(CHAIR, "!återuppta").rule is Rule.P11
    d.ok(VICE, "!återuppta")


def test_kl_5_56_a_tie_is_settled_by_the_member_named_to_preside_when_neither_chair_can():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!jäv")
    out = d.ok(VICE, "!jäv")
    assert "!ordförande" in out.replies[0].text
    assert d.m.presiding(d.roster) is None
    assert "Ingen leder sammanträdet" in d.ok(M3, "!status").replies[0].text
    assert d.refused(VICE, "!teknikkontroll").rule is Rule.KL_6_28
    assert d.refused(M3, f"!ordförande {M4}").rule is Rule.KL_6_33  # not the ordförande nor a secretary
    assert d.refused(SECR, f"!ordförande {SUB1}").rule is Rule.KL_6_33  # not serving
    d.ok(SECR, f"!ordförande {M4}")
    assert "Ordförande (KL 6 kap. 33 §): David Dahl (C)" in d.ok(M3, "!status").replies[0].text
    d.ok(M4, f"!ersätt {CHAIR} {SUB1}")
    d.ok(M4, f"!ersätt {VICE} {SUB2}")
    d.ok(M4, "!teknikkontroll")
    for user in _serving(d):
        d.ok(user, "!ok")
    d.ok(M4, "!votering A / B")
    for user, choice in ((M4, "!ja"), (M3, "!nej"), (M5, "!ja"), (SUB1, "!nej"), (SUB2, "!avstår")):
        d.ok(user, choice)
    vote = d.m.votes[0]
    assert vote.winner == "a" and vote.how == "casting" and vote.presiding == M4
    text = d.protocol("md")
    assert "utslagsröst av David Dahl som ordförande i ärendet" in text
    assert "ordförandens utslagsröst" not in text
    assert_protocol_invariants(d)


def test_kl_6_33_a_naming_lapses_when_the_chair_can_lead_the_next_item():
    d = Driver().opened()
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!jäv")
    d.ok(VICE, "!jäv")
    d.ok(SECR, f"!ordförande {M4}")  # the secretary records it: the jävig ordförande may not (KL 6 kap. 28 §)
    d.ok(M4, "!ärende 2")
    assert d.m.presiding(d.roster) == CHAIR and d.m.named_chair is None


# --- 6. jäv after the decision -------------------------------------------------------------------------


def test_kl_6_28_jav_declared_after_the_decision_requires_it_to_be_retaken():
    d = Driver().opened()
    d.ok(CHAIR, "!tillåt 2")
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    out = d.ok(M3, "!jäv")
    assert "ska tas om" in out.replies[0].text and "!omtag" in out.replies[0].text
    assert "Jäv anmäldes efter beslutet för Cecilia Carlsson (S)" in d.protocol("md")
    assert d.refused(M3, "!reservation").rule is Rule.KL_6_28
    assert d.refused(CHAIR, "!ärende 2").rule is Rule.KL_6_28
    assert d.refused(CHAIR, "!avsluta").rule is Rule.KL_6_28
    assert d.refused(M3, "!jäv återta").rule is Rule.KL_6_28  # the decision is taken
    d.ok(CHAIR, "!omtag")
    d.close()
    assert_protocol_invariants(d)


def test_kl_6_28_own_jav_can_be_withdrawn_before_the_decision_but_not_one_the_chair_recorded():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(M3, "!jäv återta").rule is Rule.KL_6_28 and M3 not in d.m.item.jav
    d.ok(M3, "!jäv")
    d.ok(M3, "!jäv återta")
    assert M3 not in d.m.item.jav and M3 in _serving(d)
    d.ok(CHAIR, f"!jäv {M4}")
    refusal = d.refused(M4, "!jäv återta")
    assert refusal.rule is Rule.KL_6_28 and M4 in d.m.item.jav


# --- 7. a check from another item ------------------------------------------------------------------------


def test_p12_a_check_from_before_switching_items_does_not_carry_a_later_decision():
    d = Driver().opened()
    d.ok(CHAIR, "!tillåt 2")
    d.checked(item=1)
    d.ok(CHAIR, "!ärende 2")
    d.now += timedelta(hours=1)
    d.ok(CHAIR, "!ärende 1")  # the check was taken in item 1, but item 2 was up since
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P12 and "ärende 2 togs upp" in refusal.text


# --- 8. quorum to handle an item ----------------------------------------------------------------------------


def test_kl_6_27_an_item_is_not_taken_up_without_quorum():
    d = Driver().opened(present=(CHAIR, VICE, SECR))
    refusal = d.refused(CHAIR, "!ärende 1")
    assert refusal.rule is Rule.KL_6_27 and "2 av 5" in refusal.text
    assert d.m.current is None


def test_kl_6_27_no_motion_once_quorum_is_lost():
    d = Driver().opened(present=(CHAIR, VICE, M3))
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!lämnar")
    assert d.refused(VICE, "!yrka Avslag").rule is Rule.KL_6_27


# --- 9. a serving substitute who loses transmission -----------------------------------------------------------


def test_p10_p11_a_serving_substitute_who_loses_transmission_is_replaced_by_the_next_in_turn():
    d = Driver().opened()
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.ok(CHAIR, "!ärende 1")
    d.ok(SUB1, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    assert d.refused(CHAIR, "!återuppta").rule is Rule.P10
    d.ok(CHAIR, f"!ersätt {SUB1} {SUB2}")
    assert d.m.seat(M3) == SUB2 and SUB1 in d.m.teknikfel
    d.ok(CHAIR, "!återuppta")
    doc = json.loads(d.protocol("json"))
    out = {label(x): label(x["ersatt_av"]) for x in doc["teknikfelsledamöter"]}
    assert out["Erik Ek (S)"] == "Frida Fors (M)"
    assert out["Cecilia Carlsson (S)"] == "Erik Ek (S)"
    frida = next(x for x in doc["beslutande"] if label(x) == "Frida Fors (M)")
    assert frida["roll"] == "ersättare" and names(frida["ersättare_för"]) == ["Cecilia Carlsson (S)"]


# --- 10. silence is not abstention ------------------------------------------------------------------------


def test_kl_4_27_who_gave_no_vote_took_no_part_and_cannot_reserve():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!votering A / B")
    d.ok(CHAIR, "!ja")
    d.ok(VICE, "!nej")
    d.ok(M3, "!ja")
    d.ok(M4, "!avstår")
    d.now += timedelta(seconds=60)
    d.ok(CHAIR, "!votering klar")  # Eva gave no vote in the minute all had
    decided = d.m.items[1].decisions[0]
    assert M5 not in decided.participants and M5 in decided.serving
    assert M4 not in decided.participants and decided.abstained == [M4]  # avstår is no part either (KL 4 kap. 25 §)
    assert d.refused(M5, "!reservation").rule is Rule.KL_4_27
    assert d.refused(M4, "!reservation").rule is Rule.KL_4_27
    d.ok(VICE, "!reservation")
    vote = _decision(d, 1)["voteringar"][0]
    ballots = {label(x): x["röst"] for x in vote["röster"]}
    assert ballots["David Dahl (C)"] == "avstår" and ballots["Eva Ek (V)"] is None  # gave no vote
    assert "Eva Ek (V)" not in names(_decision(d, 1)["beslut"][0]["deltog"])
    md = d.protocol("md")
    assert "| Ledamot | Ja | Nej | Avstår | Röstade inte |" in md and "| Eva Ek (V) |  |  |  | X |" in md


def test_kl_5_54_the_chair_cannot_close_a_vote_on_the_first_ja():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!votering A / B")
    d.ok(CHAIR, "!ja")
    refusal = d.refused(CHAIR, "!votering klar")
    assert refusal.rule is Rule.KL_5_54 and "18.01" in refusal.text and d.m.vote is not None
    started = d.m.vote.started
    d.now = started + timedelta(seconds=58)  # each command comes a second after the last
    assert d.refused(CHAIR, "!votering klar").rule is Rule.KL_5_54
    d.ok(CHAIR, "!votering klar")  # a minute after the vote began
    assert d.log[-1].at == started + timedelta(seconds=60)


def test_kl_4_27_one_who_left_cannot_reserve():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(M5, "!lämnar")
    assert d.refused(M5, "!reservation").rule is Rule.KL_4_27


# --- 11. reservation against any decision until the meeting ends ------------------------------------------


def test_kl_4_27_reservation_against_an_earlier_items_decision():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    refusal = d.refused(VICE, "!reservation")
    assert refusal.rule is Rule.KL_4_27 and "!reservation ärende N" in refusal.text
    d.ok(VICE, "!reservation ärende 1 Budgeten är för snål.")
    assert d.m.items[1].decisions[0].reservations == [(VICE, "Budgeten är för snål.")]
    assert d.refused(VICE, "!reservation ärende 9").rule is Rule.KL_4_27
    line = "Bo Berg (M) reserverar sig mot beslutet (4 kap. 27 § kommunallagen): Budgeten är för snål."
    md = d.protocol("md")
    assert line in md and md.index(line) < md.index("## § 2  Anställning")


# --- 12. read whole or refused --------------------------------------------------------------------------------


def test_kl_6_28_a_typed_name_without_mention_records_no_jav():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    refusal = d.refused(CHAIR, "!jäv David Dahl")
    assert "David Dahl" in refusal.text and "@" in refusal.text
    lookalike = "!jäv @d\u0430vid:ex.se"  # a Cyrillic а
    d.refused(CHAIR, lookalike)
    link = '!jäv <a href="https://matrix.to/#/@d\u0430vid:ex.se">David Dahl</a>'
    d.refused(CHAIR, "!jäv David Dahl", link)
    assert d.m.item.jav == {}


def test_kl_5_54_words_a_command_does_not_take_are_refused_and_change_nothing():
    d = Driver().opened()
    assert d.refused(CHAIR, "!ärende 1 och 2").rule is Rule.KL_6_33 and d.m.current is None
    d.checked()
    d.ok(CHAIR, "!votering A / B")
    assert d.refused(M3, "!nej tack, jag avstår").rule is Rule.KL_5_54
    assert d.refused(CHAIR, "!avsluta inte än").rule is Rule.KL_6_33
    assert d.m.vote is not None and d.m.vote.ballots == {} and d.m.phase.value == "pågår"


def test_p2_parsing_keeps_what_follows_a_mention_apart():
    formatted = '!lokal <a href="https://matrix.to/#/@tina:ex.se">Tina</a> tack'
    cmd = commands.parse(Message("!lokal Tina tack", formatted), CHAIR)
    assert cmd.error and "tack" in cmd.error
    cmd = commands.parse(Message("!lokal Tina", '!lokal <a href="https://matrix.to/#/@tina:ex.se">Tina</a>'), CHAIR)
    assert not cmd.error and cmd.people == (TJP,)


# --- 13. leaving -----------------------------------------------------------------------------------------------


def test_kl_6_27_a_member_who_leaves_is_not_teknikfel_and_lawful_decisions_go_on():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, M5, SECR))
    d.ok(CHAIR, "!ärende 1")
    out = d.ok(CHAIR, f"!lämnar {M5}")
    assert "räknas inte i beslutförheten" in out.replies[0].text
    assert M5 not in d.m.teknikfel and M5 not in _serving(d) and d.m.has_quorum(d.roster)
    assert "Har lämnat sammanträdet: Eva Ek (V)" in d.ok(M3, "!status").replies[0].text
    assert d.refused(M5, "!ok").rule is Rule.KL_6_27
    d.checked(item=1)
    d.ok(CHAIR, "!beslut Bifall")  # four of five serve: a lawful decision
    d.ok(M5, "!närvarande")  # back again
    assert M5 in _serving(d)
    doc = json.loads(d.protocol("json"))
    eva = next(x for x in doc["beslutande"] if label(x) == "Eva Ek (V)")
    assert [next(iter(x)) for x in eva["kom_och_gick"]] == ["lämnade", "återkom"]
    assert_protocol_invariants(d)


# --- 14. attendance -------------------------------------------------------------------------------------------


def test_kl_5_65_a_late_member_while_the_substitute_serves_is_listed_as_present():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, SUB1))
    d.ok(CHAIR, f"!ersätt {M5} {SUB1}")
    d.ok(M5, "!närvarande")
    d.close()
    doc = json.loads(d.protocol("json"))
    assert "Eva Ek (V)" not in names(doc["frånvarande"])
    eva = next(x for x in doc["övriga_närvarande"] if label(x) == "Eva Ek (V)")
    assert (eva["roll"], eva["deltagande"], eva["kom_och_gick"]) == ("ledamot, tjänstgjorde inte", "på distans", [])


def test_kl_5_65_a_substitute_who_served_for_two_members_is_listed_for_both():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!jäv")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.checked(item=1)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")  # Erik served for Cecilia in item 1 only
    d.ok(M5, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    d.ok(CHAIR, f"!ersätt {M5} {SUB1}")
    doc = json.loads(d.protocol("json"))
    erik = next(x for x in doc["beslutande"] if label(x) == "Erik Ek (S)")
    assert erik["roll"] == "ersättare" and names(erik["ersättare_för"]) == ["Cecilia Carlsson (S)", "Eva Ek (V)"]


def test_kl_5_65_the_protocol_dates_the_kallelse():
    d = Driver().opened()
    assert json.loads(d.protocol("json"))["kallelse"] == "2026-12-03T17:50:01+01:00"
    assert "Kallelse utfärdad: 2026-12-03 kl. 17.50" in d.protocol("md")


def test_p2_sharing_is_for_people_here_and_never_a_chain():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4))
    assert d.refused(CHAIR, f"!delad {M4} {M5}").rule is Rule.P2  # Eva is not here
    d.ok(CHAIR, f"!lokal {M5}")  # seated in the chair's room before the roll call
    d.ok(CHAIR, f"!delad {M3} {M4}")
    assert d.refused(CHAIR, f"!delad {M4} {VICE}").rule is Rule.P2
    assert d.refused(CHAIR, f"!lokal {M4}").rule is Rule.P2
    assert d.m.location == {M3: M4, M4: M3, M5: "lokal"}


def test_p1_the_test_kallelse_reads_whole():
    assert not commands.parse(Message(KALLA), CHAIR).error


def names(people: list) -> list[str]:
    return [label(p) for p in people]
