"""Every rule of the arbetsordning and KL, accepted and refused, named by its source.

Test names carry the citation: test_p12_… is § 12, test_kl_6_27_… is KL 6 kap. 27 §.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from rules.actions import Accepted
from rules.citations import Rule
from rules.state import Phase
from testing.driver import (
    CHAIR,
    KALLA,
    M3,
    M4,
    M5,
    MEMBERS,
    OUTSIDER,
    SECR,
    SSC,
    SUB1,
    SUB2,
    TJP,
    VICE,
    Driver,
)


def pill(user: str, name: str = "X") -> str:
    return f'<a href="https://matrix.to/#/{user}">{name}</a>'


# --- § 1 ----------------------------------------------------------------------------------------


def test_p1_chair_convenes_with_motivation():
    d = Driver()
    out = d.ok(CHAIR, KALLA)
    assert out.new_meeting
    assert d.m.phase is Phase.CONVENED and d.m.motivation == "smittspridning i kommunen"
    assert "KALLELSE" in out.replies[0].text
    # members, substitutes and attendees are mentioned
    assert set(MEMBERS) | {SUB1, SUB2, TJP} <= set(out.replies[0].mentions)


def test_p1_member_may_not_convene():
    refusal = Driver().refused(M3, KALLA)
    assert refusal.rule is Rule.P1 and refusal.body.startswith("⛔ § 1:")


def test_p1_motivation_is_required():
    refusal = Driver().refused(CHAIR, "!kalla 2026-12-03 18:00 distans\n1. Budget")
    assert refusal.rule is Rule.P1 and "Motivering" in refusal.text


def test_p1_only_the_ordforande_convenes_cancels_or_rewrites_the_kallelse():
    d = Driver()
    assert d.refused(VICE, KALLA).rule is Rule.P1
    d.ok(CHAIR, KALLA)
    assert d.refused(VICE, KALLA.replace("18:00", "19:00")).rule is Rule.P1
    assert d.refused(VICE, "!inställ").rule is Rule.P1
    assert d.refused(VICE, "!tillåt 2").rule is Rule.P7
    assert d.m.start.hour == 18 and d.m.phase.value == "kallat"  # as the ordförande convened it


def test_p1_vice_chair_opens_only_from_the_time_called_to_then_the_chair_presides_when_here():
    d = Driver()
    d.ok(CHAIR, KALLA)
    refusal = d.refused(VICE, "!öppna")  # 17.50: the ordförande may still come and open
    assert refusal.rule is Rule.P1 and "18.00" in refusal.text
    d.now = d.m.start
    d.ok(VICE, "!öppna")
    d.ok(VICE, "!närvarande")
    d.ok(VICE, "!lokal @bo:ex.se")  # the vice chair presides while the chair is not here
    d.ok(CHAIR, "!närvarande")
    # the chair is here and serving now: the vice chair no longer acts as chair
    assert d.refused(VICE, "!ärende 1").rule is Rule.KL_6_33


def test_p1_new_kalla_replaces_before_open_and_is_refused_after():
    d = Driver()
    d.ok(CHAIR, KALLA)
    out = d.ok(CHAIR, KALLA.replace("18:00", "19:00"))
    assert not out.new_meeting and "NY KALLELSE" in out.replies[0].text
    assert d.m.start.hour == 19
    d.now = d.m.start - timedelta(minutes=15)
    d.ok(CHAIR, "!öppna")
    assert d.refused(CHAIR, KALLA).rule is Rule.P1


def test_p1_meeting_cannot_be_opened_before_the_time_members_were_called_to():
    d = Driver()
    d.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a week before the meeting KALLA convenes
    d.ok(CHAIR, KALLA)
    refusal = d.refused(CHAIR, "!öppna")
    assert refusal.rule is Rule.P1 and "tidigast kl. 17.45" in refusal.text
    assert d.m.phase is Phase.CONVENED and d.m.opened_at is None
    d.now = datetime(2026, 12, 3, 16, 44, 58, tzinfo=UTC)  # 17.44.59 in Stockholm: a second too early
    assert d.refused(CHAIR, "!öppna").rule is Rule.P1
    d.ok(CHAIR, "!öppna")  # 17.45.00: fifteen minutes before the time in the kallelse
    assert d.m.phase is Phase.OPEN


def test_p1_no_item_is_taken_up_before_the_time_members_were_called_to():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.now = datetime(2026, 12, 3, 16, 46, tzinfo=UTC)  # 17.46: opened early for the roll call
    d.ok(CHAIR, "!öppna")
    for user in MEMBERS:
        d.ok(user, "!närvarande")
    refusal = d.refused(CHAIR, "!ärende 1")
    assert refusal.rule is Rule.P1 and "kl. 18.00" in refusal.text and d.m.current is None
    d.ok(CHAIR, "!utgår 2")  # striking an item is not handling it
    for n in (1, 3, 4):
        d.ok(CHAIR, f"!utgår {n}")
    assert d.refused(CHAIR, "!avsluta").rule is Rule.P1  # nor may those who come on time find it over
    d.now = datetime(2026, 12, 3, 17, 0, tzinfo=UTC) - timedelta(seconds=1)
    d.ok(CHAIR, "!avsluta")  # 18.00.00, a second after the last step


def test_p1_inställ_cancels_convened_meeting():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!inställ sjukdom")
    assert d.m.phase is Phase.CANCELLED
    assert d.refused(CHAIR, "!öppna").rule is Rule.P1


def test_p1_bad_date_is_refused_with_example():
    refusal = Driver().refused(CHAIR, "!kalla 3/12 18:00 distans\nMotivering: x\n1. a")
    assert refusal.rule is Rule.P1 and "ÅÅÅÅ-MM-DD" in refusal.text


# --- §§ 2–4 -------------------------------------------------------------------------------------


def test_p2_outsider_is_refused():
    d = Driver().opened()
    refusal = d.refused(OUTSIDER, "!närvarande")
    assert refusal.rule is Rule.P2 and OUTSIDER not in d.m.present


def test_p2_p3_p4_presence_attests_audio_and_video_for_members_audio_for_others():
    d = Driver().opened()
    opening = json.loads(d.protocol("json"))["inledning"]
    # the chair, first; citing the arbetsordning as the protocol does (not as one of its own §§)
    assert "Anna Andersson (S) anmälde närvaro (enrum, ljud och bild; 2 och 3 §§ arbetsordningen)" in opening[2]
    secretary_line = next(line for line in opening if "sekr" in line)
    assert "enrum och ljud" in secretary_line and "bild" not in secretary_line  # § 4


def test_p2_lokal_and_delad():
    d = Driver().opened()
    d.ok(CHAIR, f"!lokal {M3}")
    assert d.m.location[M3] == "lokal"
    d.ok(CHAIR, "!delad X Y", f"!delad {pill(M4)} {pill(M5)}")
    assert d.m.location[M4] == M5 and d.m.location[M5] == M4


def test_p2_delad_needs_two_different_people():
    d = Driver().opened()
    assert d.refused(CHAIR, f"!delad {M4} {M4}").rule is Rule.P2
    assert d.refused(M3, f"!lokal {M4}").rule is Rule.P2


def test_p2_mentioning_someone_off_the_roster_is_refused():
    d = Driver().opened()
    assert d.refused(CHAIR, f"!lokal {OUTSIDER}").rule is Rule.P2


def test_p3_chair_and_secretary_cut_audio_member_may_not():
    d = Driver().opened()
    d.ok(SECR, f"!tysta {M3}")
    assert M3 in d.m.muted
    assert d.refused(M4, f"!tysta {M3}").rule is Rule.P3


# --- § 5, § 10 -----------------------------------------------------------------------------------


def test_p5_video_drop_during_discussion_lets_meeting_go_on():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    out = d.ok(M3, "!avbrott bild")
    assert "Kortvariga bilduppehåll godtas under diskussionen" in out.replies[0].text
    d.ok(M4, "!ordet")  # the meeting goes on
    d.ok(M3, "!åter")
    d.checked()
    assert isinstance(d.say(CHAIR, "!beslut Bifall"), Accepted)


def test_p5_drop_after_check_blocks_decision():
    d = Driver().opened().checked()
    d.ok(M3, "!avbrott bild")
    d.ok(M3, "!åter")
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P12 and "gäller inte längre" in refusal.text


def test_p5_lost_audio_blocks_decision():
    d = Driver().opened().checked()
    d.ok(CHAIR, f"!avbrott ljud {M3}")
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P5 and "Cecilia" in refusal.text


def test_p5_check_refused_while_serving_member_lacks_transmission():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!avbrott ljud")
    assert d.refused(CHAIR, "!teknikkontroll").rule is Rule.P5


def test_p10_resume_refused_until_back_or_substitute():
    d = Driver().opened()
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    refusal = d.refused(CHAIR, "!återuppta")
    assert refusal.rule is Rule.P10 and "Cecilia" in refusal.text
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.ok(CHAIR, "!återuppta")
    assert not d.m.adjourned


def test_p10_resume_after_member_is_back():
    d = Driver().opened()
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    d.ok(SECR, f"!åter {M3}")
    d.ok(CHAIR, "!återuppta")


def test_p10_member_may_not_report_drop_for_someone_else():
    d = Driver().opened()
    assert d.refused(M4, f"!avbrott ljud {M3}").rule is Rule.P10


def test_p10_no_decision_while_adjourned():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!ajournera")
    assert d.refused(CHAIR, "!beslut x").rule is Rule.P10


# --- §§ 6–8 --------------------------------------------------------------------------------------


def test_p6_classified_item_refused_without_permission():
    d = Driver().opened()
    refusal = d.refused(CHAIR, "!ärende 2")
    assert refusal.rule is Rule.P6 and "!tillåt 2" in refusal.text


def test_p7_chair_allows_personal_data_and_secrecy():
    d = Driver().opened()
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    d.ok(CHAIR, "!tillåt 4")
    d.ok(CHAIR, "!ärende 4")
    assert d.m.current == 4


def test_p7_allowing_before_opening():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!tillåt 2")
    assert d.m.items[2].allowed_by == CHAIR


def test_p8_chair_cannot_allow_security_protected_item():
    d = Driver().opened()
    assert d.refused(CHAIR, "!tillåt 3").rule is Rule.P8
    assert d.refused(CHAIR, "!ärende 3").rule is Rule.P8


def test_p8_only_security_chief_approves():
    d = Driver().opened()
    assert d.refused(CHAIR, "!godkänn 3").rule is Rule.P8
    d.ok(SSC, "!godkänn 3")
    d.ok(CHAIR, "!ärende 3")


def test_p8_security_chief_approves_only_security_items():
    d = Driver().opened()
    assert d.refused(SSC, "!godkänn 2").rule is Rule.P8


# --- § 9 -----------------------------------------------------------------------------------------


def test_p9_floor_taken_for_rest_of_item():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!ordet")
    d.ok(CHAIR, f"!fråntaordet {M3}")
    assert d.refused(M3, "!ordet").rule is Rule.P9
    assert d.refused(M3, "!yrka Avslag").rule is Rule.P9
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    d.ok(M3, "!ordet")  # a new item: the floor is open again


def test_p9_only_chair_takes_the_floor():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(SECR, f"!fråntaordet {M3}").rule is Rule.P9


# --- § 11 ----------------------------------------------------------------------------------------


def test_p11_replaced_member_is_teknikfelsledamot_who_speaks_but_does_not_move_or_decide():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.ok(CHAIR, "!återuppta")
    assert M3 in d.m.teknikfel and SUB1 in d.m.serving(d.roster) and M3 not in d.m.serving(d.roster)
    d.ok(M3, "!ordet")
    refusal = d.refused(M3, "!yrka Avslag")
    assert refusal.rule is Rule.P11 and "teknikfelsledamot" in refusal.text
    d.ok(SUB1, "!yrka Bifall")
    d.checked()
    out = d.ok(CHAIR, "!beslut Bifall")
    assert M3 not in out.events[0][1]["participants"] and SUB1 in out.events[0][1]["participants"]


def test_p11_substitute_must_be_present_and_on_list():
    d = Driver().opened(present=MEMBERS)
    assert d.refused(CHAIR, f"!ersätt {M3} {SUB1}").rule is Rule.P11
    assert d.refused(CHAIR, f"!ersätt {M3} {TJP}").rule is Rule.P11
    assert d.refused(CHAIR, f"!ersätt {SUB1} {M3}").rule is Rule.P11


def test_p11_order_of_people_is_the_order_in_the_message():
    d = Driver().opened()
    d.ok(M3, "!avbrott bild")
    # Element: display names in the body, links in formatted_body, in the order written
    d.ok(CHAIR, "!ersätt Cecilia Erik", f"!ersätt {pill(M3, 'Cecilia')} {pill(SUB1, 'Erik')}")
    assert d.m.substituted == {M3: SUB1}


def test_p11_reinstated_member_serves_again():
    d = Driver().opened()
    d.ok(M3, "!avbrott bild")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.ok(M3, "!åter")
    d.ok(CHAIR, f"!återinträd {M3}")
    assert M3 in d.m.serving(d.roster) and SUB1 not in d.m.serving(d.roster) and M3 not in d.m.teknikfel


def test_p11_reinstatement_needs_working_transmission():
    d = Driver().opened()
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    assert d.refused(CHAIR, f"!återinträd {M3}").rule is Rule.P11


def test_p11_absent_member_replaced_is_not_teknikfelsledamot():
    d = Driver().opened(present=(CHAIR, VICE, M4, M5, SUB1))
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    assert M3 not in d.m.teknikfel and SUB1 in d.m.serving(d.roster)


# --- § 12 ----------------------------------------------------------------------------------------


def test_p12_decision_needs_a_check():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P12 and "!teknikkontroll" in refusal.text


def test_p12_check_passes_when_all_answer_and_decision_is_recorded():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    start = d.ok(CHAIR, "!teknikkontroll")
    assert start.replies[0].tag == "check:ks-1:1" and set(start.replies[0].mentions) == set(MEMBERS)
    for user in MEMBERS[:-1]:
        assert d.ok(user, "!ok").replies == []  # a ✅ reaction
    last = d.ok(MEMBERS[-1], "!ok")
    assert "godkänd" in last.replies[0].text and not last.replies[0].reply
    out = d.ok(CHAIR, "!beslut Budgeten fastställs")
    assert out.events[0][0] == "decided"


def test_p12_check_times_out_naming_who_did_not_answer():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    for user in (CHAIR, VICE, M3):
        d.ok(user, "!ok")
    d.now += timedelta(seconds=61)
    d.tick()
    check = d.m.check
    assert check.passed is False and check.missing == [M4, M5]
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P12 and "inte godkänd" in refusal.text


def test_p12_answer_after_deadline_does_not_count():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    d.now += timedelta(seconds=120)
    assert d.refused(M3, "!ok").rule is Rule.P12  # the check has ended by then


def test_p12_one_check_one_decision():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Första")
    assert d.refused(CHAIR, "!beslut Andra").rule is Rule.P12


def test_p12_change_of_who_serves_voids_check():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!ajournera")
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.ok(CHAIR, "!återuppta")
    refusal = d.refused(CHAIR, "!beslut x")
    assert refusal.rule is Rule.P12


def test_p12_omtag_voids_last_decision():
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!omtag")
    assert d.m.items[1].decisions[0].retaken
    assert d.refused(CHAIR, "!omtag").rule is Rule.P12  # nothing left to retake
    d.checked()
    d.ok(CHAIR, "!beslut Bifall igen")


def test_p12_substitute_not_serving_may_not_answer_check():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    assert d.refused(SUB1, "!ok").rule is Rule.P12


def test_p12_member_with_drop_may_not_answer_ok():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    d.ok(M3, "!avbrott bild")
    assert d.refused(M3, "!ok").rule is Rule.P5


# --- § 13 ----------------------------------------------------------------------------------------


def test_p13_closed_vote_refused_at_a_distance():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    refusal = d.refused(CHAIR, "!votering sluten A / B")
    assert refusal.rule is Rule.P13 and "valhemligheten" in refusal.text


# --- KL 6 kap. 27 § ------------------------------------------------------------------------------


def test_kl_6_27_no_decision_without_quorum():
    d = Driver().opened(present=(CHAIR, VICE, M3))
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!lämnar")
    d.ok(CHAIR, "!teknikkontroll")
    d.ok(CHAIR, "!ok")
    d.ok(VICE, "!ok")
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.KL_6_27 and "2 av 5" in refusal.text


def test_kl_6_27_three_of_five_is_a_quorum():
    d = Driver().opened(present=(CHAIR, VICE, M3)).checked()
    d.ok(CHAIR, "!beslut Bifall")


def test_kl_6_27_substitute_counts_member_without_audio_does_not():
    d = Driver().opened(present=(CHAIR, VICE, M3, SUB1))
    d.ok(CHAIR, f"!ersätt {M4} {SUB1}")
    assert d.m.has_quorum(d.roster)
    d.ok(M3, "!avbrott ljud")
    d.ok(VICE, "!avbrott ljud")
    assert not d.m.has_quorum(d.roster)


# --- phases, views, the end -----------------------------------------------------------------------


def test_kl_6_33_commands_need_an_open_meeting():
    d = Driver()
    d.ok(CHAIR, KALLA)
    refusal = d.refused(M3, "!närvarande")
    assert refusal.rule is Rule.P2 and "inte öppnat" in refusal.text


def test_kl_6_33_motion_needs_an_item():
    d = Driver().opened()
    assert d.refused(M3, "!yrka Bifall").rule is Rule.KL_6_33


def test_kl_6_33_motions_recorded_and_withdrawn():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!yrka Bifall till förslaget")
    d.ok(M4, "!yrka Avslag")
    d.ok(M4, "!yrka återta")
    assert [(x.user, x.withdrawn) for x in d.m.items[1].motions] == [(M3, False), (M4, True)]


def test_kl_4_22_substitute_not_serving_may_not_move():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(SUB1, "!yrka Bifall").rule is Rule.KL_4_22
    assert d.refused(TJP, "!yrka Bifall").rule is Rule.KL_4_22


def test_kl_6_35_protocol_for_secretary_not_member():
    d = Driver().opened()
    assert d.ok(SECR, "!protokoll").replies[0].attach == "protocol"
    assert d.refused(M3, "!protokoll").rule is Rule.KL_6_35


def test_kl_6_33_avsluta_closes_and_attaches_protocol():
    d = Driver().opened()
    out = d.close()
    assert d.m.phase is Phase.CLOSED and out.replies[0].attach == "protocol"
    assert d.refused(CHAIR, "!ärende 1").rule is Rule.KL_6_33


def test_kl_6_35_avsluta_refused_while_an_item_is_neither_taken_up_nor_struck():
    d = Driver().opened()
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    refusal = d.refused(CHAIR, "!avsluta")
    assert refusal.rule is Rule.KL_6_35 and "Ärende 2, 3, 4" in refusal.text and "!utgår" in refusal.text
    assert d.m.phase is Phase.OPEN  # nothing changed
    d.ok(CHAIR, "!utgår 2 Ärendet är inte berett")
    d.ok(CHAIR, "!utgår 3")
    assert "Ärende 4" in d.refused(CHAIR, "!avsluta").text
    d.ok(CHAIR, "!tillåt 4")
    d.ok(CHAIR, "!ärende 4")
    d.ok(CHAIR, "!avsluta")
    assert d.m.phase is Phase.CLOSED


def test_kl_6_35_struck_items_are_listed_with_reason_and_without_paragraph_number():
    d = Driver().opened()
    out = d.ok(CHAIR, "!utgår 2 Ärendet är inte berett")
    assert "Ärende 2" in out.replies[0].text and "utgår" in out.replies[0].text
    assert d.refused(CHAIR, "!ärende 2").rule is Rule.KL_6_33  # struck: not taken up after all
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.close()
    doc = json.loads(d.protocol("json"))
    struck = {x["nummer"]: x for x in doc["utgångna_ärenden"]}
    assert struck[2] == {
        "nummer": 2,
        "rubrik": "Anställning av förvaltningschef",
        "dnr": None,
        "skäl": "Ärendet är inte berett",
    }
    assert struck[3]["skäl"] is None  # struck by close() without a reason
    assert [i["nummer"] for i in doc["ärenden"]] == [1] and doc["paragrafer"] == [1]
    md = d.protocol("md")
    assert "Utgångna ärenden:" in md and "Ärende 2 Anställning av förvaltningschef: Ärendet är inte berett" in md
    assert "§ 2" not in md.split("Utgångna ärenden:")[1].split("Underskrifter")[0]


def test_kl_6_33_an_item_taken_up_or_struck_cannot_be_struck():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(CHAIR, "!utgår 1").rule is Rule.KL_6_33
    d.ok(CHAIR, "!utgår 2")
    assert "redan utgått" in d.refused(CHAIR, "!utgår 2").text
    assert d.refused(CHAIR, "!utgår 9").rule is Rule.KL_6_33
    assert d.refused(M3, "!utgår 3").rule is Rule.KL_6_33  # the chair's, not a member's
    assert "utgår" in d.ok(M3, "!dagordning").replies[0].text.split("2. ")[1].split("\n")[0]


def test_kl_6_33_status_names_what_blocks_a_decision():
    d = Driver().opened(present=(CHAIR, VICE, M3))
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!lämnar")
    text = d.ok(M3, "!status").replies[0].text
    assert "Hindrar beslut" in text and "KL 6 kap. 27 §" in text and "§ 12" in text


def test_p6_dagordning_shows_classes_and_permissions():
    d = Driver().opened()
    d.ok(CHAIR, "!tillåt 2")
    text = d.ok(M3, "!dagordning").replies[0].text
    assert "personuppgifter – tillåtet av ordföranden (§ 7)" in text
    assert "säkerhetsskydd – kräver säkerhetsskyddschefens !godkänn (§ 8)" in text


@pytest.mark.parametrize("body", ["!närvarande", "!NÄRVARANDE", "!narvarande"])
def test_p2_command_words_fold_case_and_diacritics(body):
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    d.ok(M3, body)
    assert M3 in d.m.present
