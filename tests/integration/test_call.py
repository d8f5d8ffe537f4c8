"""The bot follows the room's Element Call through Synapse: test clients write call memberships
exactly as Element Call does (per device, `_@user_DEVICE`, with `expires`), and the bot records
a member who leaves, whose membership expires, or whose leave the server sends as a delayed
event, and still knows who is in the call after a restart (§§ 3–5, 10, 12)."""

from __future__ import annotations

import json

import pytest_asyncio

from minutes.layout import label
from testing.actors import call_membership, respond, send_sticky, set_call, sticky_membership, text_of
from testing.meeting import check_passes, open_meeting, protocol_offline

PRESENT = ("anna", "bo", "cecilia", "david", "eva", "sara")


@pytest_asyncio.fixture(loop_scope="session")
async def call_room(stage):
    await stage.new_meeting_room(video="element-call", check_timeout=30)
    yield stage
    if stage.bot:
        stage.bot.stop()


async def _join(stage, who: str, expires_ms: int | None = 14_400_000) -> None:
    await set_call(
        stage[who], stage.room_id, f"{who.upper()}DEV", call_membership(stage[who], f"{who.upper()}DEV", expires_ms)
    )


async def _left_notice(stage, who: str, timeout: float = 30) -> dict:
    name = stage[who].name
    return await stage.wait_for(
        lambda ev: text_of(ev).startswith(f"{name}") and "du har lämnat videosamtalet" in text_of(ev), timeout
    )


async def test_p5_p12_call_drops_from_leaving_expiry_and_a_delayed_leave_block_the_decision(call_room):
    stage = call_room
    for who in PRESENT:
        await _join(stage, who)
    await _join(stage, "eva", expires_ms=None)
    await open_meeting(stage, present=PRESENT)
    refused = await stage.ask("frida", "!närvarande")
    assert refused.startswith("⛔ § 3") and "videosamtal" in refused  # frida is not in the call
    assert "I videosamtalet: Anna Andersson (S)" in await stage.ask("anna", "!status")
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)

    # David leaves the call after the passed check: a drop, and the decision is refused
    await set_call(stage["david"], stage.room_id, "DAVIDDEV", {})
    notice = await _left_notice(stage, "david")
    assert notice["content"]["m.mentions"]["user_ids"] == [stage["david"].user_id]
    chair = await stage.wait_for(
        lambda ev: text_of(ev).startswith(f"{stage['anna'].name} (S): {stage['david'].name} (C) har förlorat ljud")
    )
    assert chair["content"]["m.mentions"]["user_ids"] == [stage["anna"].user_id] and "!ajournera" in text_of(chair)
    assert (await stage.ask("anna", "!beslut Bifall")).startswith("⛔ § 5")
    assert (await stage.ask("david", "!åter")).startswith("⛔ § 10")  # not back in the call
    await _join(stage, "david")
    assert await stage.ask("david", "!åter") == "✅"

    # Bo's client stops renewing: his membership expires, and the bot notices with no event
    await set_call(stage["bo"], stage.room_id, "BODEV", call_membership(stage["bo"], "BODEV", expires_ms=3000))
    await _left_notice(stage, "bo", timeout=20)
    await _join(stage, "bo")
    assert await stage.ask("bo", "!åter") == "✅"

    # Cecilia's client vanishes: the leave it scheduled is sent by the server (MSC4140)
    await set_call(stage["cecilia"], stage.room_id, "CECILIADEV", {}, delay_ms=2000)
    await _left_notice(stage, "cecilia", timeout=20)


async def test_p3_after_a_restart_the_bot_still_knows_who_is_in_the_call_and_who_left_meanwhile(call_room):
    stage = call_room
    for who in PRESENT:
        await _join(stage, who)
    await open_meeting(stage, present=PRESENT)
    stage.bot.stop()
    await set_call(stage["eva"], stage.room_id, "EVADEV", {})  # while the bot is down
    await stage.start_bot()
    await _left_notice(stage, "eva")
    status = await stage.ask("sara", "!status")
    in_call = next(line for line in status.splitlines() if line.startswith("I videosamtalet:"))
    assert "David Dahl (C)" in in_call and "Eva Ek (V)" not in in_call
    # the others are still known to be in the call: their answers to a check are taken
    await _join(stage, "eva")
    assert await stage.ask("eva", "!åter") == "✅"
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)


async def test_par_3_par_5_matrix_2_0_sticky_memberships_count_in_the_call_also_after_a_restart(call_room):
    """Element Call's Matrix 2.0 mode writes the membership as a sticky timeline event (MSC4354),
    not as state: the bot counts it for `!närvarande` (§ 3), lets a forged one count for nobody,
    and takes a leave as a drop (§ 5). It is in no room state: a start reads it back, so one of
    two devices hanging up after a restart does not take its owner out of the call."""
    stage = call_room
    for who in PRESENT:
        await send_sticky(stage[who], stage.room_id, sticky_membership(stage[who], f"{who.upper()}DEV", f"id-{who}"))
    await send_sticky(stage["anna"], stage.room_id, sticky_membership(stage["anna"], "ANNAPHONE", "id-anna-phone"))
    await open_meeting(stage, present=PRESENT)
    # Mallory claims David's membership: her own key, and it counts for nobody
    await send_sticky(stage["mallory"], stage.room_id, sticky_membership(stage["david"], "DAVIDDEV", "id-david"))
    stage.bot.stop()
    await stage.start_bot()
    await send_sticky(stage["anna"], stage.room_id, {"msc4354_sticky_key": "id-anna-phone"})  # her phone hangs up
    await send_sticky(stage["david"], stage.room_id, {"msc4354_sticky_key": "id-david"})  # David hangs up
    await _left_notice(stage, "david")
    status = await stage.ask("sara", "!status")
    in_call = next(line for line in status.splitlines() if line.startswith("I videosamtalet:"))
    assert stage["anna"].name in in_call and stage["david"].name not in in_call
    assert (await stage.ask("david", "!åter")).startswith("⛔ § 10")  # not in the call
    assert "räknas inte" in stage.bot.log.read_text()  # Mallory's, logged


async def test_par_3_par_5_matrix_2_0_memberships_encrypted_in_an_encrypted_room_count_as_in_the_clear(stage):
    """In an end-to-end encrypted room Element Call's sticky memberships are encrypted, and their
    stickiness stays outside the ciphertext: the bot reads it there, so they count (§ 3) and a
    leave is a drop (§ 5), as in an unencrypted room."""
    await stage.new_meeting_room(video="element-call", check_timeout=30, encrypted=True)
    try:
        for who in PRESENT:
            membership = sticky_membership(stage[who], f"{who.upper()}DEV", f"id-{who}")
            await send_sticky(stage[who], stage.room_id, membership)
        await open_meeting(stage, present=PRESENT)
        await send_sticky(stage["david"], stage.room_id, {"msc4354_sticky_key": "id-david"})
        await _left_notice(stage, "david")
        assert (await stage.ask("david", "!åter")).startswith("⛔ § 10")  # not in the call
    finally:
        if stage.bot:
            stage.bot.stop()


async def test_kl_5_54_a_vote_through_element_poll_responses_with_a_changed_and_a_refused_answer(room):
    stage = room
    await open_meeting(stage, present=PRESENT + ("erik",))
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    started = await stage.say("anna", "!votering Bifall / Avslag")
    poll = await stage.wait_for(lambda ev: ev.get("type") == "org.matrix.msc3381.poll.start")
    answers = poll["content"]["org.matrix.msc3381.poll.start"]["answers"]
    assert [a["org.matrix.msc1767.text"] for a in answers] == ["Ja – Bifall", "Nej – Avslag", "Avstår"]
    assert text_of(await stage.observer.answer(started)).startswith("VOTERING 1")

    # a substitute who does not serve answers the poll: refused, in reply to the response
    refused_id = await respond(stage["erik"], stage.room_id, poll["event_id"], "ja")
    assert text_of(await stage.observer.answer(refused_id)).startswith("⛔ KL 5 kap. 54 §")
    await respond(stage["bo"], stage.room_id, poll["event_id"], "ja")
    await respond(stage["bo"], stage.room_id, poll["event_id"], "nej")  # the last one counts
    for who, choice in (("anna", "ja"), ("cecilia", "ja"), ("david", "nej")):
        await respond(stage[who], stage.room_id, poll["event_id"], choice)
    assert await stage.ask("eva", "!avstår") == "✅"  # typed and polled votes mix
    result = await stage.wait_for(lambda ev: text_of(ev).startswith("RESULTAT av votering 1"))
    assert "2 ja, 2 nej, 1 avstod" in text_of(result) and "utslagsröst" in text_of(result)
    end = await stage.wait_for(lambda ev: ev.get("type") == "org.matrix.msc3381.poll.end")
    assert end["content"]["m.relates_to"] == {"rel_type": "m.reference", "event_id": poll["event_id"]}
    doc = json.loads(protocol_offline(stage))
    ballots = doc["ärenden"][0]["voteringar"][0]["röster"]
    assert [label(x) for x in ballots if x["röst"] == "nej"] == ["Bo Berg (M)", "David Dahl (C)"]


async def test_p3_a_hostile_call_membership_stops_nothing_before_or_after_a_restart(call_room):
    """Any member of an Element Call room may write call membership state, also one on no
    roster: an expiry of 10**15 ms and a negative created_ts (which once raised in the parser,
    failed every sync batch and then every start) are ignored and logged."""
    stage = call_room
    for who in PRESENT:
        await _join(stage, who)
    await open_meeting(stage, present=PRESENT)
    hostile = {**call_membership(stage["david"], "DAVIDDEV"), "expires": 10**15}
    await set_call(stage["david"], stage.room_id, "DAVIDDEV", hostile)
    negative = {**call_membership(stage["mallory"], "M"), "created_ts": -(10**15), "expires": 1000}
    await set_call(stage["mallory"], stage.room_id, "M", negative)
    status = await stage.ask("sara", "!status")
    in_call = next(line for line in status.splitlines() if line.startswith("I videosamtalet:"))
    assert "David Dahl (C)" in in_call  # the membership he had before stands
    stage.bot.stop()
    await stage.start_bot()  # reads the same room state: starts all the same
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    log = stage.bot.log.read_text()
    assert log.count("ignoreras") >= 4  # each event, in the timeline and in the state at the start


async def test_p2_p5_p10_lokal_after_leaving_the_call_is_a_change_of_place_that_keeps_the_drop(call_room):
    stage = call_room
    for who in PRESENT:
        await _join(stage, who)
    await open_meeting(stage, present=PRESENT)
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    await set_call(stage["david"], stage.room_id, "DAVIDDEV", {})  # David leaves the call
    await _left_notice(stage, "david")
    moved = await stage.ask("anna", "!lokal {}", "david")  # and is said to sit in the chair's room
    assert "i ordförandens lokal, och dessförinnan på distans" in moved and "står kvar" in moved
    assert (await stage.ask("anna", "!beslut Bifall")).startswith("⛔ § 5")  # the drop stands
    assert await stage.ask("david", "!åter") == "✅"  # from the chair's room, without the call
    await check_passes(stage)
    assert not (await stage.ask("anna", "!beslut Bifall")).startswith("⛔")
    doc = json.loads(protocol_offline(stage))
    david = next(x for x in doc["beslutande"] if label(x) == "David Dahl (C)")
    assert david["deltagande"] == "på distans" and "till_ordförandens_lokal" in david["kom_och_gick"][0]
    (place,) = doc["ärenden"][0]["beslut"][0]["plats"]
    assert label(place) == "David Dahl (C)" and place["plats"] == "i ordförandens lokal"
    assert "registrerat från videosamtalet" in protocol_offline(stage, "md")
