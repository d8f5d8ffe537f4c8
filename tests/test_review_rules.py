"""The lawyer's second review (issue 19), the cases in the rules of the meeting: who chooses who
presides (4), abstaining (13), reservations that fall or come while adjourned (15), paragraph
numbers across the year end (16), the presiding member while a vote runs (17), § numbers in
the protocol (18), and förhinder at the meeting (20). Each test is named by the rule it protects."""

from __future__ import annotations

import json

from rules.citations import Rule
from tests.driver import CHAIR, M3, M4, M5, SECR, SUB1, SUB2, VICE, Driver
from tests.invariants import assert_protocol_invariants


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
