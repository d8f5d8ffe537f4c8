"""Förhinder before the meeting: the substitute whose turn it is is called in, confirms with
!tjänstgör, and serves from the upprop without !ersätt (KL 6 kap. 17 §)."""

from __future__ import annotations

import json

from minutes.layout import label
from rules.citations import Rule
from testing.driver import CHAIR, KALLA, M3, M4, M5, SECR, SUB1, SUB2, VICE, Driver


def convened() -> Driver:
    d = Driver()
    d.ok(CHAIR, KALLA)
    return d


def test_kl_6_17_the_substitute_of_the_members_own_party_is_called_first():
    d = convened()
    out = d.ok(M3, "!förhinder")  # Cecilia (S): Erik (S) before Frida (M)
    assert d.m.called == {SUB1: M3} and SUB1 in out.replies[0].mentions and "!tjänstgör" in out.replies[0].text


def test_kl_6_17_without_one_of_the_party_the_list_order_and_those_called_are_skipped():
    d = convened()
    d.ok(M4, "!förhinder")  # David (C): no C substitute, the first on the list: Erik
    assert d.m.called == {SUB1: M4}
    d.ok(M5, "!förhinder")  # Eva (V): Erik is called already, Frida next
    assert d.m.called == {SUB1: M4, SUB2: M5}


def test_kl_6_17_a_called_substitutes_forhinder_passes_the_call_on_and_nobody_left_is_said():
    d = convened()
    d.ok(M3, "!förhinder")
    d.ok(SUB1, "!förhinder")  # Erik cannot: Frida is called for Cecilia
    assert d.m.called == {SUB2: M3}
    out = d.ok(SUB2, "!förhinder")
    assert d.m.called == {} and "Ingen ersättare finns kvar" in out.replies[0].text
    assert CHAIR in out.replies[0].mentions and SECR in out.replies[0].mentions


def test_kl_6_17_a_secretary_reports_for_one_who_phoned_and_a_member_may_not_for_another():
    d = convened()
    assert d.refused(M4, f"!förhinder {M5}").rule is Rule.KL_6_17
    d.ok(SECR, f"!förhinder {M5}")
    assert d.m.forhinder == {M5: SECR}
    assert d.refused(SUB2, "!tjänstgör").rule is Rule.KL_6_17  # not called: Erik is
    d.ok(SUB1, "!tjänstgör")
    assert d.m.confirmed == {SUB1: M5}


def test_kl_6_17_the_confirmed_substitute_serves_from_the_upprop_and_the_protocol_says_why():
    d = convened()
    d.ok(M5, "!förhinder")
    d.ok(SUB1, "!tjänstgör")
    assert "Eva Ek (V)" in d.ok(M4, "!status").replies[0].text  # before the meeting too
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in (CHAIR, VICE, M3, M4):
        d.ok(user, "!närvarande")
    out = d.ok(SUB1, "!närvarande")
    assert "tjänstgör för Eva Ek (V)" in out.replies[0].text and d.m.seat(M5) == SUB1
    d.checked()
    assert SUB1 in d.ok(CHAIR, "!beslut Bifall").events[0][1]["participants"]
    doc = json.loads(d.protocol("json"))
    assert {label(x): x["förhinder"] for x in doc["frånvarande"]}["Eva Ek (V)"]  # anmält förhinder
    erik = next(x for x in doc["beslutande"] if label(x) == "Erik Ek (S)")
    assert erik["roll"] == "ersättare" and [label(x) for x in erik["ersättare_för"]] == ["Eva Ek (V)"]


def test_kl_6_17_a_member_who_withdraws_takes_over_at_the_next_item():
    d = convened()
    d.ok(M5, "!förhinder")
    d.ok(SUB1, "!tjänstgör")
    out = d.ok(M5, "!förhinder återta")
    assert "från nästa ärende" in out.replies[0].text
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in (CHAIR, VICE, M3, M4, SUB1, M5):
        d.ok(user, "!närvarande")
    assert d.m.seat(M5) == SUB1  # the confirmed substitute serves from the start
    d.ok(CHAIR, "!ärende 1")
    assert d.m.seat(M5) == M5  # Eva takes over at the next item, as a late member does


def test_kl_6_17_a_withdrawal_before_confirmation_cancels_the_call():
    d = convened()
    d.ok(M5, "!förhinder")
    d.ok(M5, "!förhinder återta")
    assert d.m.called == {} and d.m.forhinder == {}
    assert d.refused(SUB1, "!tjänstgör").rule is Rule.KL_6_17
