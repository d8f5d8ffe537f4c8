"""Decisions as kommunallagen wants them: votes, reservations, jäv, the substitutes' order.

Test names carry the citation: test_kl_5_54_… is KL 5 kap. 54 §, test_p13_… is § 13.
"""

from __future__ import annotations

from datetime import timedelta

from rules.actions import Accepted, Command
from rules.citations import Rule
from rules.seats import next_in_turn
from testing.driver import CHAIR, M3, M4, M5, MEMBERS, SECR, SUB1, SUB2, TJP, VICE, Driver

VOTE = "!votering Bifall / Avslag"


def voting(present=MEMBERS + (SUB1, SUB2, SECR)) -> Driver:
    d = Driver().opened(present=present).checked()
    d.ok(CHAIR, VOTE)
    return d


# --- open vote (KL 5 kap. 54 §) -------------------------------------------------------------------


def test_kl_5_54_vote_needs_a_passed_check():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(CHAIR, VOTE).rule is Rule.P12


def test_kl_5_54_majority_decides_and_becomes_the_decision():
    d = voting()
    for user, choice in zip(MEMBERS, ["ja", "ja", "ja", "nej", "nej"], strict=True):
        out = d.ok(user, f"!{choice}")
    assert "RESULTAT" in out.replies[0].text and "3 ja, 2 nej" in out.replies[0].text
    vote = d.m.votes[0]
    assert vote.winner == "a" and vote.how == "majority"
    decision = d.m.items[1].decisions[0]
    assert decision.text == "Bifall" and decision.vote_id == 1 and set(decision.participants) == set(MEMBERS)


def test_kl_6_33_chair_words_the_decision_a_vote_settled():
    d = voting()
    for user, choice in zip(MEMBERS, ["ja", "ja", "ja", "nej", "nej"], strict=True):
        d.ok(user, f"!{choice}")
    out = d.ok(CHAIR, "!beslut Budgeten för 2027 fastställs")
    assert "efter votering 1" in out.replies[0].text and "”Bifall”" in out.replies[0].text
    (decision,) = d.m.items[1].decisions  # a wording, not a second decision
    assert decision.text == "Budgeten för 2027 fastställs" and decision.proposal == "Bifall"
    assert set(decision.participants) == set(MEMBERS)
    md = d.protocol("md")
    assert "Budgeten för 2027 fastställs (efter votering, i enlighet med förslaget ”Bifall”)" in md
    # A new decision round needs a new check (§ 12): the wording is not a way around it.
    d.ok(CHAIR, "!teknikkontroll")
    for user in MEMBERS:
        d.ok(user, "!ok")
    d.ok(CHAIR, "!beslut Förvaltningen får i uppdrag att redovisa budgeten")
    assert len(d.m.items[1].decisions) == 2 and d.m.items[1].decisions[1].vote_id is None


def test_kl_6_33_unworded_vote_decision_reads_as_the_proposal_won_not_as_a_yrkande():
    d = voting()
    for user, choice in zip(MEMBERS, ["ja", "nej", "nej", "nej", "ja"], strict=True):
        d.ok(user, f"!{choice}")
    md = d.protocol("md")
    assert "i enlighet med förslaget ”Avslag” (efter votering)" in md


def test_kl_5_54_a_vote_may_be_changed_until_the_result():
    d = voting()
    d.ok(M3, "!ja")
    d.ok(M3, "!nej")
    assert d.m.votes[0].ballots[M3] == "nej"
    assert d.refused(M3, "!nej").rule is Rule.KL_5_54


def test_kl_5_54_votering_klar_counts_those_who_voted():
    d = voting()
    d.ok(M3, "!nej")
    d.ok(M4, "!nej")
    d.ok(CHAIR, "!ja")
    refusal = d.refused(CHAIR, "!votering klar")  # the others have not had their time to vote
    assert refusal.rule is Rule.KL_5_54 and "3 av 5 har röstat" in refusal.text and d.m.vote is not None
    d.now += timedelta(seconds=60)
    out = d.ok(CHAIR, "!votering klar")
    assert d.m.votes[0].winner == "b" and "0 avstod" in out.replies[0].text
    assert "Röstade inte och deltog inte i beslutet: Bo Berg (M), Eva Ek (V)" in out.replies[0].text


def test_kl_5_54_only_serving_members_vote():
    d = voting()
    for outsider in (SUB1, SECR, TJP):
        assert d.refused(outsider, "!ja").rule is Rule.KL_5_54
    assert SUB1 not in d.m.votes[0].ballots


def test_kl_4_25_tie_is_settled_by_the_chairs_vote():
    d = voting()
    for user, choice in zip(MEMBERS, ["ja", "ja", "nej", "nej", "avstår"], strict=True):
        d.ok(user, f"!{choice}")
    assert d.m.votes[0].winner == "a" and d.m.votes[0].how == "casting"


def test_kl_4_25_chair_may_not_abstain_when_needed_to_decide():
    d = voting()
    last = None
    for user, choice in zip(MEMBERS, ["avstår", "ja", "nej", "ja", "nej"], strict=True):
        last = d.ok(user, f"!{choice}")
    assert d.m.vote is not None  # still open
    assert last.replies[0].text.startswith("⛔ KL 4 kap. 25 §")
    assert d.refused(CHAIR, "!votering klar").rule is Rule.KL_4_25
    out = d.ok(CHAIR, "!nej")
    assert d.m.votes[0].winner == "b" and "RESULTAT" in out.replies[0].text


def test_p5_p12_a_drop_while_voting_voids_the_vote():
    d = voting()
    d.ok(M3, "!ja")
    out = d.ok(M4, "!avbrott bild")
    assert "ogiltig" in out.replies[0].text
    assert d.m.votes[0].winner is None and d.m.vote is None and not d.m.items[1].decisions
    d.ok(M4, "!åter")
    refusal = d.refused(CHAIR, VOTE)
    assert refusal.rule is Rule.P12  # a new check first


def test_kl_5_54_nothing_changes_who_serves_while_voting():
    d = voting()
    assert d.refused(M3, "!jäv").rule is Rule.KL_5_54
    assert d.refused(CHAIR, "!teknikkontroll").rule is Rule.KL_5_54
    assert d.refused(CHAIR, "!beslut Bifall").rule is Rule.KL_5_54


def test_p10_adjourning_ends_a_running_vote_without_result():
    d = voting()
    d.ok(M3, "!ja")
    d.ok(CHAIR, "!ajournera")
    assert d.m.vote is None and d.m.votes[0].winner is None and not d.m.items[1].decisions


# --- closed vote (§ 13) ----------------------------------------------------------------------------


def test_p13_closed_vote_refused_unless_everyone_in_the_chairs_room():
    d = Driver().opened().checked()
    refusal = d.refused(CHAIR, "!votering sluten Cecilia / Bo")
    assert refusal.rule is Rule.P13 and "Bo Berg" in refusal.text


def _all_local() -> Driver:
    d = Driver().opened()
    for user in MEMBERS[1:]:
        d.ok(CHAIR, f"!lokal {user}")
    return d.checked()


def test_p13_closed_vote_on_paper_when_all_are_in_the_chairs_room():
    d = _all_local()
    out = d.ok(CHAIR, "!votering sluten Cecilia Carlsson / Bo Berg")
    assert "valsedlar på papper" in out.replies[0].text
    assert d.refused(M3, "!ja").rule is Rule.KL_5_54  # no open ballots in a closed vote
    d.ok(CHAIR, "!votering sluten resultat A=3 B=1 blanka=1")
    assert d.m.items[1].decisions[0].text == "Cecilia Carlsson"


def test_p13_counted_ballots_must_match_the_voters():
    d = _all_local()
    d.ok(CHAIR, "!votering sluten A / B")
    assert d.refused(CHAIR, "!votering sluten resultat A=3 B=3 blanka=1").rule is Rule.KL_5_54


def test_p13_tied_election_is_settled_by_lot():
    for lot, winner in ((4, "A"), (7, "B")):
        d = _all_local()
        d.ok(CHAIR, "!votering sluten A / B")
        d.lot = lot  # drawn through the engine's port, as the shell draws it (KL 5 kap. 56 §)
        cmd = Command("votering", CHAIR, word="resultat", counts=(("a", 2), ("b", 2), ("blanka", 1)))
        out = d.decide(cmd)
        assert isinstance(out, Accepted) and "lottning" in out.replies[0].text
        assert d.m.items[1].decisions[0].text == winner


# --- reservation (KL 4 kap. 27 §) --------------------------------------------------------------------


def test_kl_4_27_reservation_by_one_who_took_part():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(M4, "!reservation Kostnaderna är underskattade.")
    assert d.m.items[1].decisions[0].reservations == [(M4, "Kostnaderna är underskattade.")]
    assert d.refused(M4, "!reservation").rule is Rule.KL_4_27  # only once
    assert d.refused(SUB1, "!reservation").rule is Rule.KL_4_27  # did not take part


def test_kl_4_27_no_reservation_without_a_decision_or_after_the_meeting():
    d = Driver().opened()
    assert d.refused(M3, "!reservation").rule is Rule.KL_4_27
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.close()
    assert d.refused(M3, "!reservation").rule is Rule.KL_4_27


def test_kl_4_27_retaken_decision_cannot_be_reserved_against():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!omtag")
    assert d.refused(M3, "!reservation").rule is Rule.KL_4_27


# --- jäv (KL 6 kap. 28 §) -----------------------------------------------------------------------------


def test_kl_6_28_jav_member_may_not_move_vote_or_count():
    d = Driver().opened(present=(CHAIR, VICE, M3, SUB1))
    d.ok(CHAIR, "!ärende 1")
    out = d.ok(M3, "!jäv")
    assert "Erik Ek" in out.replies[0].text  # whose turn it is to serve
    assert M3 not in d.m.serving(d.roster) and not d.m.has_quorum(d.roster)
    assert d.refused(M3, "!yrka Avslag").rule is Rule.KL_6_28


def test_kl_6_28_substitute_serves_for_the_item_and_the_member_returns_after():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, SUB1, SUB2))
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, f"!jäv {M3}")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")  # allowed mid-item, for jäv
    assert SUB1 in d.m.serving(d.roster) and M3 not in d.m.serving(d.roster)
    d.checked(item=1)
    out = d.ok(CHAIR, "!beslut Bifall")
    assert SUB1 in out.events[0][1]["participants"] and M3 not in out.events[0][1]["participants"]
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    assert M3 in d.m.serving(d.roster) and SUB1 not in d.m.serving(d.roster)


def test_kl_6_28_only_the_chair_reports_jav_for_someone_else():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(M4, f"!jäv {M3}").rule is Rule.KL_6_28
    d.ok(M3, "!jäv")
    assert d.refused(CHAIR, f"!jäv {M3}").rule is Rule.KL_6_28  # noted once


def test_kl_6_28_jav_needs_an_item():
    assert Driver().opened().refused(M3, "!jäv").rule is Rule.KL_6_28


# --- substitutes' order (KL 6 kap. 17 §) ---------------------------------------------------------------


def test_kl_6_17_own_party_first_then_list_order():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, SUB1, SUB2))
    # Bo (M) is absent: Frida (M) is first; Eva (V): no V substitute, so Erik (first in list)
    assert next_in_turn(d.m, d.roster, VICE) == SUB2
    assert next_in_turn(d.m, d.roster, M5) == SUB1
    refusal = d.refused(CHAIR, f"!ersätt {M5} {SUB2}")
    assert refusal.rule is Rule.KL_6_17 and "Erik Ek (S)" in refusal.text
    d.ok(CHAIR, f"!ersätt {M5} {SUB1}")


def test_kl_6_17_change_of_who_serves_between_items_or_when_adjourned():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!avbrott ljud")
    assert d.refused(CHAIR, f"!ersätt {M3} {SUB1}").rule is Rule.KL_6_17
    d.ok(CHAIR, "!ajournera")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")


def test_kl_6_17_late_member_takes_over_at_the_next_item():
    d = Driver().opened(present=(CHAIR, VICE, M3, M4, SUB1))
    d.ok(CHAIR, f"!ersätt {M5} {SUB1}")
    d.ok(CHAIR, "!ärende 1")
    d.ok(M5, "!närvarande")
    assert SUB1 in d.m.serving(d.roster)  # not in the middle of the item
    d.checked(item=1)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!tillåt 2")
    out = d.ok(CHAIR, "!ärende 2")
    assert "Eva Ek (V) tjänstgör från detta ärende" in out.replies[0].text
    assert M5 in d.m.serving(d.roster) and SUB1 not in d.m.serving(d.roster)


# --- status and protocol --------------------------------------------------------------------------------


def test_kl_6_33_status_shows_vote_and_what_blocks():
    d = voting()
    d.ok(M3, "!ja")
    text = d.ok(M4, "!status").replies[0].text
    assert "Votering 1: 1 av 5 har röstat" in text and "votering 1 pågår (KL 5 kap. 54 §)" in text
