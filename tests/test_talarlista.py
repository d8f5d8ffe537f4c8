"""The speakers' list (talarlista) of issue 25: one list per item, in the order asked; the chair's
!nästa gives the floor to the first, a reply (!replik) before the list, one at a time and never
to a reply; !streck closes the list; who may speak (§§ 9, 11, KL 6 kap. 27, 28 §§, and the
body's choice for attendees); a raised hand in the call asks as !ordet does.

Test names carry the citation: test_p9_… is § 9, test_kl_6_28_… is KL 6 kap. 28 §.
"""

from __future__ import annotations

import dataclasses
import json

from rules.actions import Accepted
from rules.citations import Rule
from testing.driver import CHAIR, M3, M4, M5, MEMBERS, ROSTER, SECR, SSC, SUB1, SUB2, TJP, VICE, Driver


def _debate() -> Driver:
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    return d


def _list(d: Driver) -> list[str]:
    return list(d.m.item.speakers)


def test_p9_the_list_keeps_the_order_asked_and_nasta_gives_the_floor_to_the_first():
    d = _debate()
    for who in (M4, VICE, M3):
        out = d.ok(who, "!ordet")
        assert out.replies == [] and out.events  # confirmed with ✅, as the contract has it
    assert _list(d) == [M4, VICE, M3]
    out = d.ok(CHAIR, "!nästa")
    assert out.replies[0].mentions == (M4,) and "David Dahl (C) har ordet" in out.replies[0].text
    assert "Bo Berg (M)" in out.replies[0].text  # who is next
    assert d.m.item.speaking == M4 and _list(d) == [VICE, M3]
    assert "Har ordet: David Dahl (C)" in d.ok(M5, "!status").replies[0].text
    assert "Talarlista: Bo Berg (M), Cecilia Carlsson (S)" in d.ok(M5, "!status").replies[0].text
    d.ok(CHAIR, "!nästa")
    assert d.m.item.speaking == VICE and _list(d) == [M3]


def test_p9_ordet_twice_keeps_one_place():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(VICE, "!ordet")
    out = d.ok(M4, "!ordet")
    assert out.events == [] and "redan" in out.replies[0].text and "nummer 1" in out.replies[0].text
    assert _list(d) == [M4, VICE]


def test_p9_only_the_chair_gives_the_floor():
    d = _debate()
    d.ok(M4, "!ordet")
    for who in (VICE, SECR, M4):
        assert d.refused(who, "!nästa").rule is Rule.P9
    assert d.m.item.speaking is None


def test_p9_nasta_on_an_empty_list_ends_the_floor_or_is_refused():
    d = _debate()
    refusal = d.refused(CHAIR, "!nästa")
    assert refusal.rule is Rule.P9 and "tom" in refusal.text
    d.ok(M4, "!ordet")
    d.ok(CHAIR, "!nästa")
    out = d.ok(CHAIR, "!nästa")
    assert "ingen har ordet" in out.replies[0].text and d.m.item.speaking is None
    assert d.refused(CHAIR, "!nästa").rule is Rule.P9


def test_p9_a_reply_comes_before_the_list_one_at_a_time_and_never_to_a_reply():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(VICE, "!ordet")
    d.ok(CHAIR, "!nästa")  # David speaks
    out = d.ok(M3, "!replik")
    assert "replik" in out.replies[0].text and CHAIR in out.replies[0].mentions
    refusal = d.refused(M5, "!replik")  # one at a time
    assert refusal.rule is Rule.P9 and "Cecilia Carlsson (S)" in refusal.text
    out = d.ok(CHAIR, "!nästa")  # the reply before Bo, who is first on the list
    assert d.m.item.speaking == M3 and d.m.item.replying and out.replies[0].mentions == (M3,)
    assert "replik på David Dahl (C)" in out.replies[0].text
    assert "Har ordet: Cecilia Carlsson (S) (replik på David Dahl (C))" in d.ok(M5, "!status").replies[0].text
    refusal = d.refused(M4, "!replik")  # no reply to a reply
    assert refusal.rule is Rule.P9 and "replik på en replik" in refusal.text
    d.ok(CHAIR, "!nästa")
    assert d.m.item.speaking == VICE and not d.m.item.replying and _list(d) == []
    d.ok(M5, "!replik")  # Bo speaks from the list: a reply to him may be asked
    assert d.m.item.reply == M5


def test_p9_replik_needs_someone_speaking_and_not_oneself():
    d = _debate()
    assert d.refused(M3, "!replik").rule is Rule.P9  # nobody has the floor
    d.ok(M4, "!ordet")
    d.ok(CHAIR, "!nästa")
    assert d.refused(M4, "!replik").rule is Rule.P9  # the speaker does not reply to herself


def test_p9_streck_closes_the_list_until_streck_aterta():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(VICE, "!ordet")
    assert d.refused(M3, "!streck").rule is Rule.P9  # the chair's
    out = d.ok(CHAIR, "!streck")
    assert "streck" in out.replies[0].text.lower() and "David Dahl (C), Bo Berg (M)" in out.replies[0].text
    refusal = d.refused(M3, "!ordet")
    assert refusal.rule is Rule.P9 and "!streck återta" in refusal.text
    assert d.refused(CHAIR, f"!ordet {M3}").rule is Rule.P9  # nobody new, whoever adds them
    assert d.refused(CHAIR, "!streck").rule is Rule.P9  # already drawn
    assert _list(d) == [M4, VICE]  # those on it keep their place
    assert "streck i debatten" in d.ok(M5, "!status").replies[0].text
    d.ok(CHAIR, "!nästa")
    d.ok(M3, "!replik")  # a reply is no new place on the list
    d.ok(CHAIR, "!streck återta")
    d.ok(M5, "!ordet")
    assert _list(d) == [VICE, M5]
    assert d.refused(CHAIR, "!streck återta").rule is Rule.P9  # no streck to take back


def test_p9_ordet_aterta_leaves_the_list():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(VICE, "!ordet")
    out = d.ok(M4, "!ordet återta")
    assert out.replies == [] and _list(d) == [VICE]
    assert d.refused(M4, "!ordet återta").rule is Rule.P9  # not on it
    d.ok(CHAIR, "!nästa")
    d.ok(M3, "!replik")
    d.ok(M3, "!ordet återta")  # a reply asked is withdrawn the same way
    assert d.m.item.reply is None


def test_p9_the_list_is_per_item():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(CHAIR, "!nästa")
    d.ok(VICE, "!ordet")
    d.ok(CHAIR, "!streck")
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    assert _list(d) == [] and d.m.item.speaking is None and not d.m.item.closed_list
    d.ok(M3, "!ordet")
    d.ok(CHAIR, "!ärende 1")  # back to item 1: its list stands, nobody has the floor
    assert _list(d) == [VICE] and d.m.item.speaking is None and d.m.item.closed_list


def test_p9_no_list_without_an_item():
    d = Driver().opened()
    refusal = d.refused(M4, "!ordet")
    assert refusal.rule is Rule.P9 and "ärende" in refusal.text


def test_p9_floor_taken_takes_the_person_off_the_list_and_from_the_floor():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(VICE, "!ordet")
    d.ok(CHAIR, "!nästa")  # David speaks
    d.ok(VICE, "!replik")
    d.ok(CHAIR, f"!fråntaordet {M4}")
    assert d.m.item.speaking is None
    d.ok(CHAIR, f"!fråntaordet {VICE}")
    assert _list(d) == [] and d.m.item.reply is None
    for text in ("!ordet", "!replik"):
        refusal = d.refused(VICE, text)
        assert refusal.rule is Rule.P9 and "fråntagit" in refusal.text
    assert d.refused(CHAIR, f"!ordet {VICE}").rule is Rule.P9


def test_kl_6_28_a_javig_member_is_refused_and_taken_off_the_list():
    d = _debate()
    d.ok(M3, "!ordet")
    d.ok(M4, "!ordet")
    d.ok(CHAIR, "!nästa")  # Cecilia speaks
    d.ok(M4, "!replik")
    d.ok(M3, "!jäv")
    assert d.m.item.speaking is None
    d.ok(CHAIR, f"!jäv {M4}")
    assert _list(d) == [] and d.m.item.reply is None
    for text in ("!ordet", "!replik"):
        assert d.refused(M4, text).rule is Rule.KL_6_28
    assert d.refused(CHAIR, f"!ordet {M4}").rule is Rule.KL_6_28


def test_kl_6_27_one_who_leaves_is_taken_off_the_list():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(M4, "!lämnar")
    assert _list(d) == []
    assert d.refused(M4, "!ordet").rule is Rule.KL_6_27


def test_p11_a_teknikfelsledamot_keeps_yttranderatt():
    d = _debate()
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.ok(CHAIR, "!återuppta")
    d.ok(M3, "!åter")
    assert M3 in d.m.teknikfel
    d.ok(M3, "!ordet")
    d.ok(SUB2, "!ordet")  # a substitute who does not serve speaks too
    d.ok(CHAIR, "!nästa")
    assert d.m.item.speaking == M3
    d.ok(CHAIR, "!nästa")
    d.ok(M3, "!replik")


def test_p9_attendees_speak_when_the_chair_puts_them_on_the_list():
    d = Driver().opened(present=(*MEMBERS, SECR, TJP, SSC))
    d.ok(CHAIR, "!ärende 1")
    for who in (TJP, SSC):
        refusal = d.refused(who, "!ordet")
        assert refusal.rule is Rule.P9 and "ordföranden" in refusal.text and "!ordet @" in refusal.text
    d.ok(SECR, "!ordet")  # the secretary is no attendee here
    assert d.refused(M4, f"!ordet {TJP}").rule is Rule.P9  # only the chair puts another on the list
    d.ok(CHAIR, f"!ordet {TJP}")
    assert _list(d) == [SECR, TJP]
    d.ok(CHAIR, "!nästa")
    d.ok(CHAIR, "!nästa")
    assert d.m.item.speaking == TJP
    assert d.refused(SSC, "!replik").rule is Rule.P9


def test_p9_attendees_ask_themselves_when_the_body_says_ja():
    d = Driver(dataclasses.replace(ROSTER, attendees_speak="ja")).opened(present=(*MEMBERS, TJP))
    d.ok(CHAIR, "!ärende 1")
    d.ok(TJP, "!ordet")
    d.ok(CHAIR, "!nästa")
    d.ok(M4, "!replik")
    assert d.m.item.speaking == TJP and d.m.item.reply == M4


def test_p9_the_chair_puts_one_in_the_chairs_room_on_the_list():
    d = _debate()
    d.ok(CHAIR, f"!ordet {M5}")
    assert d.ok(CHAIR, f"!ordet {M5}").events == []  # never twice
    assert _list(d) == [M5]
    assert d.refused(CHAIR, "!ordet @nobody:ex.se").rule is Rule.P2  # off the roster


def test_p9_a_raised_hand_asks_for_the_floor_and_lowering_it_leaves_the_list():
    d = _debate()
    out = d.hand(M4, "$hand-david")
    assert out.events and "talarlistan" in out.replies[0].text  # answered: a reaction gets no ✅
    d.ok(VICE, "!ordet")
    assert _list(d) == [M4, VICE]
    assert d.hand(M4, "$hand-david-2").events == []  # already on it
    out = d.hand(M4, "$hand-david", raised=False)
    assert out.replies == [] and _list(d) == [VICE]
    d.hand(M4, "$hand-david-3")
    d.ok(CHAIR, "!nästa")
    d.ok(CHAIR, "!nästa")  # David speaks: the hand he raised no longer holds a place
    assert d.m.item.speaking == M4
    assert d.hand(M4, "$hand-david-3", raised=False).events == []


def test_p9_a_lowered_hand_is_only_the_raisers():
    d = _debate()
    d.hand(M4, "$hand-david")
    d.ok(VICE, "!ordet")
    assert d.hand(VICE, "$hand-david", raised=False).events == []  # Bo's is a place of his own
    assert d.hand(M3, "$hand-david", raised=False).events == []
    assert _list(d) == [M4, VICE]


def test_p9_a_hand_after_the_streck_is_refused_as_ordet_is():
    d = _debate()
    d.ok(CHAIR, "!streck")
    assert d.hand(M4, "$hand").rule is Rule.P9
    d.ok(CHAIR, f"!fråntaordet {M3}")
    d.ok(CHAIR, "!streck återta")
    assert d.hand(M3, "$hand-c").rule is Rule.P9
    assert d.hand(TJP, "$hand-t").rule is Rule.P9  # an attendee, by the body's default


def test_p9_the_protocol_names_who_was_given_the_floor_in_order_once_each():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(VICE, "!ordet")
    d.ok(SUB2, "!ordet")  # asks, and never gets the floor
    d.ok(CHAIR, "!nästa")  # David
    d.ok(M3, "!replik")
    d.ok(CHAIR, "!nästa")  # Cecilia, a reply
    d.ok(M4, "!ordet")
    d.ok(CHAIR, "!nästa")  # Bo
    d.ok(SUB2, "!ordet återta")
    d.ok(CHAIR, "!nästa")  # David again
    doc = json.loads(d.protocol("json"))
    debate = [p["namn"] for p in doc["ärenden"][0]["i_överläggningen"]]
    assert debate == ["David Dahl", "Cecilia Carlsson", "Bo Berg"]
    md = d.protocol("md")
    assert "I överläggningen deltar David Dahl (C), Cecilia Carlsson (S) och Bo Berg (M)." in md
    assert "Cecilia Carlsson (S) fick ordet för replik på David Dahl (C)." in md  # the bilaga


def test_p9_one_who_asked_and_never_got_the_floor_took_no_part_in_the_debate():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(VICE, "!ordet")
    d.ok(CHAIR, "!nästa")
    d.ok(VICE, "!ordet återta")
    doc = json.loads(d.protocol("json"))
    assert [p["namn"] for p in doc["ärenden"][0]["i_överläggningen"]] == ["David Dahl"]


def test_kl_5_69_no_floor_given_in_an_omedelbart_justerad_paragraph():
    d = _debate()
    d.ok(CHAIR, f"!justerare {VICE}")
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!justera omedelbart")
    d.ok(VICE, "!justera omedelbart")
    d.ok(M4, "!ordet")
    assert d.refused(CHAIR, "!nästa").rule is Rule.KL_5_69


def test_p10_while_adjourned_the_floor_is_not_given():
    d = _debate()
    d.ok(M4, "!ordet")
    d.ok(CHAIR, "!ajournera")
    for text in ("!nästa", "!streck"):
        assert d.refused(CHAIR, text).rule is Rule.P10
    assert d.refused(M3, "!replik").rule is Rule.P10
    assert isinstance(d.say(M4, "!ordet återta"), Accepted)  # leaving the list is no handling of the matter
