"""Whole meetings through a real Synapse and real Matrix clients, with the bot as a process."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import pytest_asyncio

from minutes.layout import label
from testing.actors import react, text_of
from testing.meeting import MEMBERS, check_passes, kalla, open_meeting, protocol_offline


async def test_p1_to_p12_whole_meeting_with_protocol(room):
    stage = room
    await open_meeting(stage)
    assert "i ordförandens lokal" in await stage.ask("anna", "!lokal {}", "tina")
    assert "Ärende 1" in await stage.ask("anna", "!ärende 1")
    assert "Yrkande 1" in await stage.ask("cecilia", "!yrka Bifall till förslaget")
    await check_passes(stage)
    decision = await stage.ask("anna", "!beslut Budgeten för 2027 fastställs.")
    assert decision.startswith("BESLUT i ärende 1") and "Eva Ek (V)" in decision

    # § 11: David keeps losing his link; Erik serves instead; David is teknikfelsledamot
    assert "förlorat ljudet" in await stage.ask("david", "!avbrott ljud")
    assert "teknikfelsledamot" in await stage.ask("anna", "!ersätt {} {}", "david", "erik")
    assert (await stage.ask("david", "!yrka Avslag")).startswith("⛔ § 11")
    allowed = await stage.ask("anna", "!tillåt 2")  # the room is not end-to-end encrypted: § 2
    assert allowed.startswith("⚠ § 2: Rummet är inte end-to-end-krypterat.") and "Ordföranden tillåter" in allowed
    await stage.ask("anna", "!ärende 2")
    await check_passes(stage, serving=("anna", "bo", "cecilia", "erik", "eva"))
    await stage.ask("anna", "!beslut Sara Svensson anställs.")

    assert "utgår" in await stage.ask("anna", "!utgår 3 Ärendet är inte berett")
    closing_id = await stage.say("anna", "!avsluta")
    assert stage.observer
    file_event = await stage.wait_for(
        lambda ev: (
            ev.get("content", {}).get("msgtype") == "m.file"
            and (ev["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == closing_id
        )
    )
    assert re.fullmatch(r"protokoll-ks-\d{4}-\d{2}-\d{2}\.md", file_event["content"]["filename"])
    notice = stage.observer.answers_to(closing_id)[0]
    assert "Sammanträdet är avslutat" in notice["content"]["body"]
    assert '<td class="head_label"><b>Beslutande</b></td>' in notice["content"]["formatted_body"]

    doc = json.loads(protocol_offline(stage))
    assert doc["status"] == "avslutat" and doc["motivering"] == "smittspridning i kommunen"
    assert [label(t) for t in doc["teknikfelsledamöter"]] == ["David Dahl (C)"]
    assert [i["nummer"] for i in doc["ärenden"]] == [1, 2]
    assert doc["utgångna_ärenden"] == [
        {"nummer": 3, "rubrik": "Skyddsobjekt", "dnr": None, "skäl": "Ärendet är inte berett"}
    ]
    assert doc["ärenden"][0]["beslut"][0]["beslut"] == "Budgeten för 2027 fastställs."
    took_part = [label(p) for p in doc["ärenden"][1]["beslut"][0]["deltog"]]
    assert "Erik Eriksson (S)" in took_part and "David Dahl (C)" not in took_part
    lokal = next(p for p in doc["övriga_närvarande"] if p["namn"].startswith("Tina"))
    assert lokal["deltagande"] == "i ordförandens lokal"


async def test_p1_items_wait_for_the_time_in_the_kallelse(room):
    stage = room
    assert (await stage.ask("anna", kalla(stage))).startswith("KALLELSE")
    assert "UPPROP" in await stage.ask("anna", "!öppna")  # ten minutes early: the roll call
    for who in MEMBERS:
        assert await stage.ask(who, "!närvarande") == "✅"
    early = await stage.ask("anna", "!ärende 1")
    assert early.startswith("⛔ § 1") and f"kl. {stage.called_for:%H.%M}" in early
    await stage.until_called()
    assert "Ärende 1" in await stage.ask("anna", "!ärende 1")


async def test_p12_check_times_out_and_names_who_did_not_answer(room):
    stage = room
    await open_meeting(stage)
    await stage.ask("anna", "!ärende 1")
    await stage.say("anna", "!teknikkontroll")
    for who in ("anna", "bo", "cecilia"):
        assert await stage.ask(who, "!ok") == "✅"
    assert stage.observer
    result = await stage.wait_for(lambda ev: "är inte godkänd" in text_of(ev), timeout=40)
    assert "David Dahl (C), Eva Ek (V)" in text_of(result)
    assert {stage["david"].user_id, stage["eva"].user_id} <= set(result["content"]["m.mentions"]["user_ids"])
    assert (await stage.ask("anna", "!beslut Bifall")).startswith("⛔ § 12")
    # A check that ends by its deadline is answered in the room, and nothing goes wrong doing so.
    await asyncio.sleep(1)
    assert " ERROR " not in stage.bot.log.read_text()


async def test_p12_a_reaction_on_an_earlier_checks_message_answers_nothing(room):
    stage = room
    assert stage.observer
    await open_meeting(stage)
    await stage.ask("anna", "!ärende 1")
    first_id = await stage.say("anna", "!teknikkontroll")
    first = await stage.observer.answer(first_id)
    for who in MEMBERS:
        assert await stage.ask(who, "!ok") == "✅"
    await stage.wait_for(lambda ev: "är godkänd" in text_of(ev) and ev.get("room_id") == stage.room_id)
    assert (await stage.ask("anna", "!beslut Budgeten fastställs.")).startswith("BESLUT")
    await stage.ask("anna", "!tillåt 2")
    await stage.ask("anna", "!ärende 2")
    second_id = await stage.say("anna", "!teknikkontroll")
    second = await stage.observer.answer(second_id)
    # Bo reacts ✅ on the first check's message, an hour-old question: it answers nothing now.
    reaction_id = await react(stage["bo"], stage.room_id, first["event_id"])
    refusal = await stage.observer.answer(reaction_id)
    assert text_of(refusal).startswith("⛔ § 12") and "tidigare teknikkontroll" in text_of(refusal)
    status = await stage.ask("anna", "!status")
    assert "Teknikkontroll 2: pågår" in status
    # on the running check's own message it does
    await react(stage["bo"], stage.room_id, second["event_id"])
    for who in ("anna", "cecilia", "david", "eva"):
        assert await stage.ask(who, "!ok") == "✅"
    await stage.wait_for(lambda ev: "Teknikkontroll 2 är godkänd" in text_of(ev))


# --- a refusal for each rule, in one meeting (a refusal changes nothing) -------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def refusing(stage):
    await stage.new_meeting_room(check_timeout=600)
    await open_meeting(stage, present=("anna", "bo", "cecilia", "erik", "sara"))
    await stage.ask("cecilia", "!avbrott ljud")  # § 11: a member is replaced after a recorded loss
    await stage.ask("anna", "!ersätt {} {}", "cecilia", "erik")
    await stage.ask("anna", "!ärende 1")
    yield stage
    stage.bot.stop()


REFUSALS = [
    ("p1_only_chair_convenes", "bo", "!kalla 2027-01-10 18:00 distans\nMotivering: x\n1. A", (), "§ 1"),
    ("p2_outsider", "mallory", "!närvarande", (), "§ 2"),
    ("p3_member_cannot_cut_audio", "bo", "!tysta {}", ("anna",), "§ 3"),
    ("p5_member_without_audio_blocks_check", None, None, (), "§ 5"),
    ("p6_item_with_personal_data", "anna", "!ärende 2", (), "§ 6"),
    ("p7_only_chair_allows_personal_data", "bo", "!tillåt 2", (), "§ 7"),
    ("p8_chair_cannot_allow_security", "anna", "!tillåt 3", (), "§ 8"),
    ("p9_only_chair_takes_the_floor", "sara", "!fråntaordet {}", ("bo",), "§ 9"),
    ("p10_not_adjourned", "anna", "!återuppta", (), "§ 10"),
    ("p11_substitute_not_present", "anna", "!ersätt {} {}", ("bo", "frida"), "§ 11"),
    ("p12_decision_without_check", "anna", "!beslut Bifall", (), "§ 12"),
    ("p13_closed_vote", "anna", "!votering sluten Kalle / Lisa", (), "§ 13"),
    ("p11_teknikfelsledamot_moves", "cecilia", "!yrka Avslag", (), "§ 11"),
    ("kl_4_22_substitute_not_serving_moves", "frida", "!yrka Avslag", (), "KL 4 kap. 22 §"),
    ("kl_6_27_no_quorum", None, None, (), "KL 6 kap. 27 §"),
]


@pytest.mark.parametrize(("name", "who", "command", "mentioned", "rule"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_refusal_cites_its_rule_and_replies_to_the_command(refusing, name, who, command, mentioned, rule):
    stage = refusing
    if name.startswith("p5"):
        # bo loses audio: the check cannot start (§ 5); then audio comes back
        await stage.ask("bo", "!avbrott ljud")
        answer = await stage.ask("anna", "!teknikkontroll")
        assert await stage.ask("bo", "!åter") == "✅"
    elif name.startswith("kl_6_27"):
        # three of five serve (anna, bo, erik for cecilia): a quorum; bo loses audio: none, and
        # the decision the chair then tries to record is refused in reply to the command
        await stage.ask("bo", "!avbrott ljud")
        event_id = await stage.say("anna", "!beslut Bifall")
        answer_ev = await stage.observer.answer(event_id)
        assert answer_ev["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id
        answer = text_of(answer_ev)
        assert "beslutförhet saknas" in answer
        assert await stage.ask("bo", "!åter") == "✅"
    else:
        event_id = await stage.say(who, command, *mentioned)
        answer_ev = await stage.observer.answer(event_id)
        assert answer_ev["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id
        assert answer_ev["content"]["msgtype"] == "m.notice" and answer_ev["content"]["formatted_body"]
        answer = text_of(answer_ev)
    assert answer.startswith(f"⛔ {rule}"), answer


# --- restart: the bot is killed mid-meeting, people keep talking, the bot comes back ---------------


async def test_restart_answers_each_command_once_and_keeps_state(room):
    stage = room
    assert stage.bot and stage.observer
    await stage.ask("anna", kalla(stage))
    await stage.ask("anna", "!öppna")
    await stage.ask("anna", "!närvarande")
    stage.bot.kill()
    sent = [await stage.say(who, "!närvarande") for who in ("bo", "cecilia", "david")]
    await stage.until_called()
    sent.append(await stage.say("anna", "!ärende 1"))
    sent.append(await stage.say("mallory", "!ärende 1"))
    await asyncio.sleep(1)
    await stage.start_bot()
    for event_id in sent:
        await stage.observer.answer(event_id, timeout=60)
    # a second restart must not answer anything again
    stage.bot.stop()
    await stage.start_bot()
    status = await stage.ask("anna", "!status")
    assert "Tjänstgör (4 av 5)" in status and "Uppe: ärende 1" in status
    for event_id in sent:
        assert len(stage.observer.answers_to(event_id)) == 1, event_id
    assert text_of(stage.observer.answers_to(sent[-1])[0]).startswith("⛔ § 2")


# --- decisions as kommunallagen wants them (votes, jäv, reservation, closed vote) -------------------


async def test_kl_4_25_open_vote_tie_settled_by_chair_and_reservation(room):
    stage = room
    await open_meeting(stage)
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    started = await stage.ask("anna", "!votering Bifall / Avslag")
    assert started.startswith("VOTERING 1") and "Ja = Bifall" in started
    for who, choice in (("bo", "!ja"), ("cecilia", "!nej"), ("david", "!ja"), ("eva", "!nej")):
        assert await stage.ask(who, choice) == "✅"
    assert await stage.ask("anna", "!avstår") == "✅"
    assert stage.observer
    demand = await stage.wait_for(lambda ev: text_of(ev).startswith("⛔ KL 4 kap. 25 §"))
    assert stage["anna"].user_id in demand["content"]["m.mentions"]["user_ids"]
    # the chair's own vote breaks the 2–2 tie of the others
    assert await stage.ask("anna", "!nej") == "✅"
    result = await stage.wait_for(lambda ev: text_of(ev).startswith("RESULTAT av votering 1"))
    assert "2 ja, 3 nej, 0 avstod. Beslut enligt: Avslag (enkel majoritet)" in text_of(result)
    reserved = await stage.ask("bo", "!reservation Förslaget borde bifallas.")
    assert reserved == "Bo Berg (M) reserverar sig mot beslutet i ärende 1 (KL 4 kap. 27 §)."
    doc = json.loads(protocol_offline(stage))
    item = doc["ärenden"][0]
    assert [label(x) for x in item["voteringar"][0]["röster"] if x["röst"] == "ja"] == ["Bo Berg (M)", "David Dahl (C)"]
    assert [(label(x["av"]), x["motivering"]) for x in item["beslut"][0]["reservationer"]] == [
        ("Bo Berg (M)", "Förslaget borde bifallas.")
    ]


async def test_kl_6_28_jav_with_a_substitute_serving_for_the_item(room):
    stage = room
    await open_meeting(stage)
    await stage.ask("anna", "!ärende 1")
    jav = await stage.ask("cecilia", "!jäv")
    assert "KL 6 kap. 28 §" in jav and "Erik Eriksson (S) står på tur" in jav
    assert (await stage.ask("cecilia", "!yrka Bifall")).startswith("⛔ KL 6 kap. 28 §")
    assert (await stage.ask("anna", "!ersätt {} {}", "cecilia", "frida")).startswith("⛔ KL 6 kap. 17 §")
    assert "(jäv, KL 6 kap. 28 §)" in await stage.ask("anna", "!ersätt {} {}", "cecilia", "erik")
    await check_passes(stage, serving=("anna", "bo", "erik", "david", "eva"))
    decision = await stage.ask("anna", "!beslut Bifall")
    assert "Erik Eriksson (S)" in decision and "Cecilia" not in decision
    await stage.ask("anna", "!tillåt 2")
    await stage.ask("anna", "!ärende 2")
    status = await stage.ask("anna", "!status")
    assert "Cecilia Carlsson (S)" in status.split("\n")[1] and "Erik" not in status.split("\n")[1]


async def test_p8_kl_6_28_agenda_lines_and_mentions_are_read_whole_or_refused(room):
    """The kallelse line keeps its class with a Dnr after it, a line with words after the class is
    refused whole, and a name typed without a mention records nobody's jäv."""
    stage = room
    head = kalla(stage).split("\n")[0] + "\nMotivering: stormen\n"
    refused = await stage.ask("anna", head + "1. Skyddsobjekt [säkerhetsskydd] vid vattenverket\n2. Budget 2027")
    assert refused.startswith("⛔ § 1") and "kunde inte läsas helt" in refused
    kallelse = await stage.ask("anna", head + "1. Skyddsobjekt [säkerhetsskydd] (Dnr KS 2026/1)\n2. Budget 2027")
    assert kallelse.startswith("KALLELSE")
    assert "1. Skyddsobjekt (Dnr KS 2026/1) [säkerhetsskydd – kräver säkerhetsskyddschefens !godkänn (§ 8)]" in kallelse
    assert "UPPROP" in await stage.ask("anna", "!öppna")
    for who in ("anna", "bo", "cecilia", "david"):
        assert await stage.ask(who, "!närvarande") == "✅"
    await stage.until_called()
    assert (await stage.ask("anna", "!ärende 1")).startswith("⛔ § 8")
    assert "Ärende 2" in await stage.ask("anna", "!ärende 2")
    typed = await stage.ask("anna", "!jäv David Dahl")
    assert typed.startswith("⛔ KL 6 kap. 28 §") and "«David Dahl»" in typed
    assert "David Dahl (C) har jäv i ärende 2" in await stage.ask("anna", "!jäv {}", "david")
    status = await stage.ask("bo", "!status")
    assert "Jäv (KL 6 kap. 28 §): David Dahl (C)" in status and "Anna" not in status.split("Jäv")[1]


async def test_p13_closed_vote_refused_at_a_distance_accepted_in_the_chairs_room(room):
    stage = room
    await open_meeting(stage)
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    refused = await stage.ask("anna", "!votering sluten Cecilia / Bo")
    assert refused.startswith("⛔ § 13") and "valhemligheten" in refused
    for who in ("bo", "cecilia", "david", "eva"):
        assert "i ordförandens lokal" in await stage.ask("anna", "!lokal {}", who)
    await check_passes(stage)
    started = await stage.ask("anna", "!votering sluten Cecilia Carlsson / Bo Berg")
    assert started.startswith("SLUTEN OMRÖSTNING 1") and "valsedlar på papper" in started
    result = await stage.ask("anna", "!votering sluten resultat A=2 B=2 blanka=1")
    assert "lottning" in result and "kryptografiskt säker" in result
    doc = json.loads(protocol_offline(stage))
    vote = doc["ärenden"][0]["voteringar"][0]
    assert vote["sluten"] and vote["antal"] == {"a": 2, "b": 2, "blanka": 1}
    assert doc["ärenden"][0]["beslut"][0]["beslut"] in ("Cecilia Carlsson", "Bo Berg")
