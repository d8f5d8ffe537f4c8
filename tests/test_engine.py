"""The defects review found in the engine's shape, each as the way around a rule it opened, and
the permission table that closes them (§§ 5, 10, 12, KL 6 kap. 35 §)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from rules.actions import Command
from rules.citations import Rule
from rules.tables import PERMISSIONS, Busy
from testing.driver import CHAIR, M3, M4, SECR, SUB1, VICE, Driver

# --- a ✅ answers the check it was given on, and only that one (§ 12) ---------------------------


def _second_check_running() -> Driver:
    d = Driver().opened().checked(1)
    d.ok(CHAIR, "!tillåt 4")
    d.ok(CHAIR, "!ärende 4")  # a new item: the first check no longer counts
    d.ok(CHAIR, "!teknikkontroll")
    assert d.m.check.id == 2 and d.m.check.running
    return d


def test_p12_reaction_on_an_earlier_checks_message_does_not_answer_the_running_check():
    d = _second_check_running()
    refusal = d.decide(Command("ok", M3, answers=("ks-1", 1)))
    assert refusal.rule is Rule.P12 and "tidigare teknikkontroll" in refusal.text
    assert M3 not in d.m.check.answered
    # nor a ✅ on a check message of another meeting that happens to have the same number
    assert d.decide(Command("ok", M3, answers=("ks-2026-01-01", 2))).rule is Rule.P12
    assert M3 not in d.m.check.answered
    d.decide(Command("ok", M3, answers=("ks-1", 2)))  # the running check's own message
    assert M3 in d.m.check.answered


# --- what an ajournering, a check and a vote block: one table (§§ 10, 12, KL 5 kap. 54 §) -------


def _adjourned() -> Driver:
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!ajournera")
    return d


@pytest.mark.parametrize(
    ("who", "text"),
    [
        (M3, "!yrka Avslag"),
        (M3, "!ordet"),
        (CHAIR, "!ärende 4"),
        (CHAIR, "!teknikkontroll"),
        (CHAIR, "!beslut Bifall"),
        (CHAIR, "!votering A / B"),
        (CHAIR, "!omtag"),
        (M3, "!jäv"),
        (SECR, "!tysta @cecilia:ex.se"),
        (CHAIR, "!fråntaordet @cecilia:ex.se"),
    ],
)
def test_p10_while_adjourned_the_matter_is_not_handled(who, text):
    d = _adjourned()
    before = d.m.event_count
    refusal = d.refused(who, text)
    assert refusal.rule is Rule.P10 and "ajournerat" in refusal.text
    assert d.m.event_count == before


@pytest.mark.parametrize(
    ("who", "text"),
    [
        (CHAIR, "!status"),
        (CHAIR, "!dagordning"),
        (SECR, "!protokoll"),
        (M4, "!avbrott ljud"),
        (CHAIR, "!återuppta"),
    ],
)
def test_p10_while_adjourned_the_pause_is_managed_and_the_state_read(who, text):
    _adjourned().ok(who, text)


def test_p10_while_adjourned_a_substitute_may_enter_and_transmission_return():
    d = _adjourned()
    d.ok(M4, "!avbrott ljud")
    d.ok(CHAIR, "!ersätt @david:ex.se @erik:ex.se")
    d.ok(M4, "!åter")
    d.ok(CHAIR, "!återinträd @david:ex.se")
    d.ok(CHAIR, "!återuppta")


def test_kl_6_33_the_table_names_what_each_busy_state_blocks():
    for name in ("ärende", "teknikkontroll", "beslut", "votering"):
        assert PERMISSIONS[name].blocked_by == frozenset(Busy)
    for name in ("ersätt", "återinträd"):
        assert PERMISSIONS[name].blocked_by == {Busy.CHECK, Busy.VOTE}  # a pause is for just that
    for name in ("status", "dagordning", "protokoll", "återuppta", "åter", "avbrott"):
        assert not PERMISSIONS[name].blocked_by
    assert Busy.VOTE not in PERMISSIONS["votering klar"].blocked_by


def test_kl_5_54_during_a_vote_who_serves_cannot_change():
    d = Driver().opened().checked(1)
    d.ok(CHAIR, "!votering A / B")
    assert d.refused(CHAIR, "!ersätt @david:ex.se @erik:ex.se").rule is Rule.KL_5_54
    assert d.refused(CHAIR, "!ärende 4").rule is Rule.KL_5_54
    for member in ("@anna:ex.se", VICE, M3, M4, "@eva:ex.se"):
        d.ok(member, "!ja")
    assert d.m.items[1].valid_decisions


# --- after a pause nobody knows who is still connected (§§ 10, 12) -------------------------------


def test_p10_p12_resuming_voids_a_check_taken_before_the_pause():
    d = Driver().opened().checked(1)
    d.ok(CHAIR, "!ajournera")
    d.ok(CHAIR, "!återuppta")
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P12 and "återupptogs" in refusal.text
    d.checked(1)
    d.ok(CHAIR, "!beslut Bifall")


# --- audio cut by the chair or the secretary is audio missing (§§ 3, 5) -------------------------


def test_p3_p5_a_serving_member_whose_audio_is_cut_blocks_the_decision():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(SECR, "!tysta @cecilia:ex.se")
    refusal = d.refused(CHAIR, "!teknikkontroll")
    assert refusal.rule is Rule.P5
    d.ok(M3, "!åter")
    d.checked(1)
    d.ok(SECR, "!tysta @cecilia:ex.se")  # cut after the check: the check no longer covers the decision
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P5 and "Cecilia Carlsson (S) saknar ljud" in refusal.text
    d.ok(M3, "!åter")
    d.checked(1)
    d.ok(CHAIR, "!beslut Bifall")


def test_p3_cutting_a_non_serving_substitutes_audio_blocks_nothing():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(SECR, "!tysta @erik:ex.se")
    d.checked(1)
    d.ok(CHAIR, "!beslut Bifall")
    assert SUB1 in d.m.muted


# --- each event under the item it concerns (KL 6 kap. 35 §) --------------------------------------


def test_kl_6_35_a_permission_for_a_later_item_is_filed_under_that_item():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!tillåt 2")  # given while item 1 is up
    d.checked(1)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!ärende 2")
    doc = json.loads(d.protocol("json"))
    item1, item2 = doc["ärenden"]
    assert not any("tillät" in line for line in item1["förlopp"])
    assert any("tillät att ärendet med personuppgifter" in line for line in item2["förlopp"])


def test_kl_6_35_a_retaken_decision_does_not_repeat_its_proposition():
    d = Driver().opened().checked(1)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!omtag")
    d.checked(1)
    d.ok(CHAIR, "!beslut Bifall")
    item = json.loads(d.protocol("json"))["ärenden"][0]
    assert [x["taget_om"] for x in item["beslut"]] == [True, False]
    md = d.protocol("md")
    assert md.count("Ordföranden ställer proposition på ”Bifall”") == 1
    assert "”Bifall”, tas om och gäller inte (12 § arbetsordningen)" in md


# --- what people write is their text, and nothing else, in every format (KL 6 kap. 35 §) ---------

FORGED = (
    "Avslag\n\n## Beslut\n\nBeslut kl. 17.00: Budgeten avslås enhälligt\n- Deltog i beslutet: alla\n"
    "1. punkt\n[länk](https://evil.example) <b>fet</b> *kursiv* `kod` | tabell |\n---\n===\n> citat\n#rubrik"
)


def _hostile_meeting() -> Driver:
    d = Driver()
    d.ok(CHAIR, "!kalla 2026-12-03 18:00 distans\nMotivering: storm ## Beslut <script>x</script>\n1. Budget 2027")
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in ("@anna:ex.se", VICE, M3, M4, "@eva:ex.se"):
        d.ok(user, "!närvarande")
    d.ok(CHAIR, "!ärende 1")
    d.ok(VICE, f"!yrka {FORGED}")
    d.checked(1)
    d.ok(CHAIR, "!beslut Kommunstyrelsen beslutar att\n1. budgeten fastställs\n2. <i>skatten</i> är oförändrad")
    d.ok(VICE, f"!reservation {FORGED}")
    d.close()
    return d


# The lines the protocol itself writes outside lists; everything people wrote is inside one.
_BOT_LINES = (
    "Före första paragrafen:",
    "Sammanträdets avslutning och därefter:",
    "§ 1  Budget 2027:",  # the bilaga's section of the paragraph
    "Yrkanden:",
    "Beslutsgång:",
    "Teknikfunktionskontroll enligt 12 § arbetsordningen",
    "Kommunstyrelsen beslutar",
    "Inget beslut fattades",
    "Dnr ",
    "Protokollet",
    "Tjänstgörande per paragraf:",
)


def test_kl_6_35_hostile_text_cannot_forge_a_section_in_the_markdown_protocol():
    md = _hostile_meeting().protocol("md")
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert all(re.match(r"^#{1,2} [^\\]", h) for h in headings)
    assert not re.search(r"^## Beslut$", md, re.M)
    assert not re.search(r"(?<!\\)[<\[\]*`|]", md)  # no markup left unescaped: no tag, link, emphasis
    assert not any(line.lstrip().startswith(("---", "===", "> ", "1. ")) for line in md.splitlines())
    items = [line for line in md.splitlines() if line.startswith("- ")]
    assert not any("Beslut kl." in line for line in items)  # the forged one is inside the motion's item
    assert "\\\n  Beslut kl. 17.00: Budgeten avslås enhälligt" in md
    # the person's text is all there, readable, each line kept inside its own list item
    assert "Budgeten avslås enhälligt" in md and "Kommunstyrelsen beslutar att\\\n  1\\. budgeten" in md
    for line in md.splitlines():
        assert line == "" or line.startswith(("#", "- ", "  ", "–", *_BOT_LINES)), line


def test_kl_6_35_hostile_text_is_text_in_html_and_intact_in_json():
    d = _hostile_meeting()
    page = d.protocol("html")
    assert "<script>" not in page and "<b>fet" not in page and "<h2>Beslut</h2>" not in page
    assert "&lt;b&gt;fet&lt;/b&gt;" in page and "2. &lt;i&gt;skatten&lt;/i&gt;" in page
    assert page.count("<h2") == page.count("</h2>")
    doc = json.loads(d.protocol("json"))
    item = doc["ärenden"][0]
    assert item["yrkanden"][0]["yrkande"] == FORGED.strip()
    assert item["beslut"][0]["reservationer"][0]["motivering"] == FORGED.strip()
    assert doc["motivering"] == "storm ## Beslut <script>x</script>"


def test_kl_6_35_hostile_checks_have_no_time_outside_the_meeting():
    d = _hostile_meeting()
    d.now += timedelta(hours=1)
    from testing.invariants import assert_protocol_invariants

    assert_protocol_invariants(d)


# --- an answer without typing is tied to the message it answers (§ 12, KL 4 kap. 25 §) -------------


def test_p12_a_checks_answer_and_a_polls_answer_become_the_command_tied_to_that_check_or_vote():
    d = Driver()
    assert d.engine.answer(M3, "check:ks-1:2", "ok") == Command("ok", M3, answers=("ks-1", 2))
    assert d.engine.answer(M3, "poll:ks-1:1", "avstår") == Command("avstår", M3, answers=("ks-1", 1))
    # what the message did not ask cannot be answered on it: a ballot on a check, ✅ on a poll
    assert d.engine.answer(M3, "check:ks-1:2", "ja") is None
    assert d.engine.answer(M3, "poll:ks-1:1", "ok") is None
    assert d.engine.answer(M3, "poll:ks-1:x", "ja") is None  # a tag that names no vote
    assert d.engine.answer(M3, "", "ok") is None  # a message that asked nothing


def test_help_is_answered_from_the_tables_through_the_engine_and_changes_nothing():
    d = Driver().opened()
    before = d.m.event_count
    outcome = d.ok(M3, "!hjälp")
    assert outcome.events == [] and outcome.replies[0].text.startswith("Kommandon du kan använda nu:")
    assert "!yrka" in outcome.replies[0].text and d.m.event_count == before
