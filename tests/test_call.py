"""The video call (Element Call): membership as Element Call writes it, and the rules on top
(§§ 3–5, 10, 12): attestations checked against the call, a drop registered from the call,
an expiry noticed on time."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest

import commands
from commands.text import Message
from matrix import content as rtc_content
from matrix import rtc
from minutes.layout import clock, label
from rules.citations import Rule
from rules.state import hm
from shell import calls
from testing.driver import CHAIR, KALLA, M3, M4, M5, MEMBERS, ROSTER, SECR, SUB1, SUB2, TJP, VICE, Driver

CALL = dataclasses.replace(ROSTER, call_name="Element Call")
T0 = 1_796_000_000_000  # an origin_server_ts in ms


def _entry(device: str, **more) -> dict:
    return {
        "application": "m.call",
        "call_id": "",
        "scope": "m.room",
        "device_id": device,
        "focus_active": {"type": "livekit", "focus_selection": "oldest_membership"},
        "foci_preferred": [{"type": "livekit", "livekit_service_url": "https://lk.example"}],
        **more,
    }


# --- parsing the three forms ----------------------------------------------------------------------


def test_p3_per_device_membership_with_underscore_state_key_and_relative_expiry():
    found = rtc.devices("_@anna:ex.se_DEV1", _entry("DEV1", expires=14_400_000), "@anna:ex.se", T0)
    assert found == [rtc.Device("DEV1", rtc._at(T0 + 14_400_000))]
    created = rtc.devices("_@anna:ex.se_DEV1", _entry("DEV1", created_ts=T0 - 1000, expires=5000), "@anna:ex.se", T0)
    assert created[0].expires == rtc._at(T0 + 4000)  # counted from created_ts, not the event's time


def test_p3_per_device_membership_with_msc3757_state_key_and_no_expiry():
    assert rtc.devices("@anna:ex.se_DEV2", _entry("DEV2"), "@anna:ex.se", T0) == [rtc.Device("DEV2", None)]


def test_p3_older_per_user_form_with_a_memberships_list_and_absolute_expiry():
    content = {
        "memberships": [
            {**_entry("A"), "membershipID": "x", "expires": 3_600_000},
            {**_entry("B"), "membershipID": "y", "expires_ts": T0 + 60_000},
            {**_entry("C"), "application": "m.other"},  # another application: not the call
        ]
    }
    found = rtc.devices("@anna:ex.se", content, "@anna:ex.se", T0)
    assert found == [rtc.Device("A", rtc._at(T0 + 3_600_000), "x"), rtc.Device("B", rtc._at(T0 + 60_000), "y")]


def test_p3_element_calls_membership_carries_its_membership_id_for_the_media_servers_identity():
    # matrix-js-sdk MembershipManager.makeMyMembership at 8fec0cb, as Element Call sends it
    content = {
        "application": "m.call",
        "call_id": "",
        "scope": "m.room",
        "device_id": "DEV1",
        "membershipID": "@anna:ex.se:DEV1",
        "expires": 14_400_000,
        "m.call.intent": "video",
        "focus_active": {"type": "livekit", "focus_selection": "oldest_membership"},
        "foci_preferred": [{"type": "livekit", "livekit_service_url": "https://lk.example"}],
    }
    found = rtc.devices("_@anna:ex.se_DEV1_m.call", content, "@anna:ex.se", T0)
    assert found == [rtc.Device("DEV1", rtc._at(T0 + 14_400_000), "@anna:ex.se:DEV1")]
    uuid = "0f5bd3a4-6a43-4c4e-9c1d-2b8f3c7e9a10"  # a client that names its membership itself
    assert (
        rtc.devices("_@anna:ex.se_DEV1_m.call", {**content, "membershipID": uuid}, "@anna:ex.se", T0)[0].member_id
        == uuid
    )
    assert rtc.devices("_@anna:ex.se_DEV1_m.call", _entry("DEV1"), "@anna:ex.se", T0)[0].member_id is None


def test_p3_empty_content_is_a_device_that_left_and_another_senders_key_is_ignored():
    assert rtc.devices("_@anna:ex.se_DEV1", {}, "@anna:ex.se", T0) == []
    with pytest.raises(rtc.Unreadable):
        rtc.devices("_@anna:ex.se_DEV1", _entry("DEV1"), "@mallory:ex.se", T0)
    assert rtc.devices("_@anna:ex.se_DEV1", _entry("DEV1", scope="m.user"), "@anna:ex.se", T0) == []


def test_p3_several_devices_of_one_person_and_expired_ones_are_not_in_the_call():
    now = rtc._at(T0)
    slots = {
        "_@anna:ex.se_A": ("@anna:ex.se", [rtc.Device("A", now + timedelta(minutes=5))]),
        "_@anna:ex.se_B": ("@anna:ex.se", [rtc.Device("B", now - timedelta(seconds=1))]),
        "_@anna:ex.se_C": ("@anna:ex.se", [rtc.Device("C", None)]),
        "_@bo:ex.se_D": ("@bo:ex.se", [rtc.Device("D", None)]),
    }
    assert set(calls.current(slots, "@anna:ex.se", now)) == {"A", "C"}


# --- the rules on top -------------------------------------------------------------------------------


def _in_call(d: Driver, *users: str, expires: datetime | None = None) -> None:
    for user in users:
        d.call(user, {f"{user}-dev": expires})


def call_meeting() -> Driver:
    d = Driver(CALL)
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    d.until_called()
    _in_call(d, *MEMBERS, SECR)
    for user in (*MEMBERS, SECR):
        d.ok(user, "!närvarande")
    return d


def test_p3_p4_presence_is_refused_for_one_not_in_the_call_except_in_the_chairs_room():
    d = call_meeting()
    refusal = d.refused(SUB1, "!närvarande")
    assert refusal.rule is Rule.P3 and "videosamtal" in refusal.text
    d.ok(CHAIR, f"!lokal {TJP}")
    d.ok(TJP, "!närvarande")  # in the chair's room: not in the call, and that is lawful
    assert "I videosamtalet:" in d.ok(M3, "!status").replies[0].text


def test_p5_p10_p12_leaving_the_call_after_a_passed_check_is_a_drop_and_the_decision_is_refused():
    d = call_meeting()
    d.checked()
    out = d.call(M4, {})
    assert out is not None and out.replies[0].mentions == (M4,) and out.replies[1].mentions == (CHAIR,)
    assert d.m.drops[M4] == {"ljud", "bild"}
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P5
    # back in the call is not enough: the person confirms with !åter, while in the call
    assert d.refused(M4, "!åter").rule is Rule.P10  # not in the call yet
    d.call(M4, {"new-dev": None})
    assert d.m.drops[M4] == {"ljud", "bild"}
    d.ok(M4, "!åter")
    md = d.protocol("md")
    assert "registrerat från videosamtalet" in md
    json.loads(d.protocol("json"))


def test_p12_one_who_leaves_the_call_during_the_check_cannot_answer_it():
    d = call_meeting()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    d.call(M5, {})
    refusal = d.refused(M5, "!ok")
    assert refusal.rule is Rule.P12 and "videosamtal" in refusal.text
    for user in (CHAIR, VICE, M3, M4):
        d.ok(user, "!ok")
    d.now += timedelta(seconds=61)
    d.tick()
    assert d.m.check.passed is False and d.m.check.missing == [M5]


def test_p12_an_expired_membership_is_noticed_on_time_without_any_further_event():
    d = call_meeting()
    expires = d.now + timedelta(seconds=30)
    d.call(M5, {"short": expires})
    d.ok(CHAIR, "!ärende 1")
    d.now += timedelta(seconds=40)
    d.tick()  # the clock alone: no event from the room
    assert M5 not in d.m.in_call and d.m.drops[M5] == {"ljud", "bild"}
    ended = [e for e in d.log if e.kind == "call" and e.data["user"] == M5][-1]
    assert ended.at == expires and ended.actor == "distansbot"  # stamped when it expired


def test_p3_with_the_call_not_followed_nothing_changes():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    d.until_called()
    assert d.call(M3, {"dev": None}) is None
    d.ok(M3, "!närvarande")  # attested as before, with no call to check it against
    assert VICE not in d.m.in_call


# --- votes as Element polls -----------------------------------------------------------------------


def test_kl_5_54_a_poll_response_counts_as_a_vote_only_on_the_poll_of_the_running_vote():
    d = call_meeting()
    d.checked()
    d.ok(CHAIR, "!votering A / B")
    assert d.m.vote.id == 1
    d.decide(dataclasses.replace(_ballot("nej", M3), answers=(d.m.id, 1)))
    assert d.m.vote.ballots == {M3: "nej"}
    stale = d.decide(dataclasses.replace(_ballot("ja", M4), answers=(d.m.id, 7)))
    assert stale.rule is Rule.KL_5_54 and M4 not in d.m.vote.ballots
    other = d.decide(dataclasses.replace(_ballot("ja", M4), answers=("another-meeting", 1)))
    assert other.rule is Rule.KL_5_54


def _ballot(choice: str, user: str):
    return commands.parse(Message(f"!{choice}"), user)


def test_kl_5_54_poll_content_as_element_sends_it_and_responses_read_back():
    start = rtc_content.poll_start("Votering 1 i ärende 2", "Bifall", "Avslag")
    poll = start[rtc_content.POLL_START]
    assert poll["kind"] == "org.matrix.msc3381.poll.disclosed" and poll["max_selections"] == 1
    texts = [a["org.matrix.msc1767.text"] for a in poll["answers"]]
    assert texts == ["Ja – Bifall", "Nej – Avslag", "Avstår"]
    assert "1. Ja – Bifall" in start["org.matrix.msc1767.text"]
    for kind in ("org.matrix.msc3381.poll.response", "m.poll.response"):
        content = {"m.relates_to": {"rel_type": "m.reference", "event_id": "$p"}, kind: {"answers": ["avstar"]}}
        assert rtc_content.poll_answer(kind, content) == ("$p", "avstår")
    assert rtc_content.poll_answer("m.room.message", {"body": "x"}) is None
    assert rtc_content.poll_answer("m.poll.response", {"m.relates_to": {"rel_type": "m.reference"}}) is None


# --- a shared transmission and a change of place with the call followed (§§ 2, 5, 10) -------------


def test_p2_p3_delad_in_a_call_body_the_partner_without_a_membership_is_covered_by_the_others():
    d = Driver(CALL)
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    _in_call(d, CHAIR, VICE, M3, M4, SECR)
    for user in (CHAIR, VICE, M3, M4, SECR):
        d.ok(user, "!närvarande")
    assert d.refused(M5, "!närvarande").rule is Rule.P3  # Eva has no membership of her own
    assert d.refused(CHAIR, f"!delad {M5} {SUB2}").rule is Rule.P2  # neither is here in the call
    d.ok(CHAIR, f"!delad {M4} {M5}")  # Eva sits at David's camera
    d.ok(M5, "!närvarande")  # covered by David's membership
    d.until_called()
    d.checked()  # and she answers the check
    out = d.call(M4, {})  # David's device leaves: the shared transmission is gone for both
    assert out is not None and d.m.drops[M4] == d.m.drops[M5] == {"ljud", "bild"}
    to_eva = [x for x in out.replies if x.mentions == (M5,)]  # each is told, and what the chair must do apart
    assert len(to_eva) == 1 and "du delar överföring med David Dahl (C), som har lämnat" in to_eva[0].text
    assert d.refused(M5, "!åter").rule is Rule.P10  # not back until David's device is
    d.call(M4, {"again": None})
    d.ok(M5, "!åter")
    d.ok(M4, "!åter")
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    assert "delad överföring med David Dahl" in d.protocol("md")


def test_p2_p5_p10_lokal_after_a_call_drop_is_a_change_of_place_and_never_clears_the_drop():
    d = call_meeting()
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")  # David takes part from a distance
    d.ok(CHAIR, "!tillåt 2")
    d.checked(2)
    d.call(M4, {})  # David leaves the call: a drop registered from the call
    moved = d.ok(CHAIR, f"!lokal {M4}")  # and is said to be in the chair's room
    at = hm(d.now, CALL.tz)
    assert f"deltar från kl. {at} i ordförandens lokal" in moved.replies[0].text
    assert "Avbrottet i ljud och bild står kvar" in moved.replies[0].text
    assert d.m.drops[M4] == {"ljud", "bild"}  # the change of place does not clear the drop
    assert d.refused(CHAIR, "!beslut Avslag").rule is Rule.P5
    d.ok(M4, "!åter")  # answered from the chair's room, without the call
    d.checked(2)
    d.ok(CHAIR, "!beslut Avslag")
    doc = json.loads(d.protocol("json"))
    david = next(x for x in doc["beslutande"] if label(x) == "David Dahl (C)")
    assert david["deltagande"] == "på distans"  # where he sat first; then the move, with its time
    (moved_at,) = (c["till_ordförandens_lokal"] for c in david["kom_och_gick"] if "till_ordförandens_lokal" in c)
    assert clock(moved_at) == at
    first, second = (item["beslut"][0] for item in doc["ärenden"][:2])
    assert [(label(x), x["plats"]) for x in first["plats"]] == [("David Dahl (C)", "på distans")]
    assert [(label(x), x["plats"]) for x in second["plats"]] == [("David Dahl (C)", "i ordförandens lokal")]
    md = d.protocol("md")
    assert f"på distans; i ordförandens lokal från kl. {at}" in md
    assert "registrerat från videosamtalet" in md  # the drop stays in the protocol
    assert "flyttade till ordförandens lokal och deltar därifrån; dessförinnan på distans" in md
    assert "Plats vid beslutet (2 § arbetsordningen): David Dahl (C) i ordförandens lokal." in md
