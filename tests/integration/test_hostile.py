"""Hostile and careless use through Matrix: edits, redactions, notices, floods, other rooms."""

from __future__ import annotations

import asyncio

from nio import RoomSendResponse

from testing.actors import create_room, say, text_of, write_config
from testing.meeting import kalla, open_meeting
from testing.stage import BOT_PASSWORD, ORGANISATION, body_config, wait_until


async def test_edit_and_redaction_of_an_applied_command_change_nothing(room):
    stage = room
    await open_meeting(stage, present=("anna", "bo", "cecilia", "david"))
    item = await stage.say("anna", "!ärende 1")
    await stage.observer.answer(item)
    anna = stage["anna"].client
    edit = {
        "msgtype": "m.text",
        "body": "* !ärende 2",
        "m.new_content": {"msgtype": "m.text", "body": "!ärende 2"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": item},
    }
    resp = await anna.room_send(stage.room_id, "m.room.message", edit, ignore_unverified_devices=True)
    assert isinstance(resp, RoomSendResponse)
    note = await stage.observer.answer(resp.event_id)
    assert text_of(note).startswith("✏️ Ett ändrat kommando verkställs inte")
    await anna.room_redact(stage.room_id, item, reason="fel ärende")
    status = await stage.ask("anna", "!status")
    assert "Uppe: ärende 1" in status


async def test_notices_and_other_bots_are_ignored_and_other_rooms_not_joined(room):
    stage = room
    await stage.ask("anna", kalla(stage))
    anna = stage["anna"].client
    notice = {"msgtype": "m.notice", "body": "!öppna"}
    resp = await anna.room_send(stage.room_id, "m.room.message", notice, ignore_unverified_devices=True)
    other_room = await create_room(stage["mallory"], ["@distansbot:localhost"], "DM med boten")
    await say(stage["mallory"], other_room, "!kalla 2030-01-01 10:00 distans\nMotivering: x\n1. A")
    status = await stage.ask("anna", "!status")
    assert "sammanträdet kallat" in status  # the notice did not open it
    assert stage.observer.answers_to(resp.event_id) == []
    joined = await anna.joined_members(other_room)
    assert "@distansbot:localhost" not in [m.user_id for m in getattr(joined, "members", [])]


async def test_one_person_flooding_is_slowed_and_the_others_are_answered(stage):
    await stage.new_meeting_room(commands_per_minute=5)
    try:
        await stage.ask("anna", kalla(stage))
        flood = [await stage.say("mallory", "!status") for _ in range(12)]
        anna = await stage.say("anna", "!dagordning")
        assert text_of(await stage.observer.answer(anna)).startswith("Föredragningslista")
        await asyncio.sleep(1)
        answers = [stage.observer.answers_to(e) for e in flood]
        told = [a for a in answers if a and text_of(a[0]).startswith("⏳")]
        refused = [a for a in answers if a and text_of(a[0]).startswith("⛔ § 2")]
        assert len(refused) == 5 and len(told) == 1 and sum(1 for a in answers if not a) == 6
    finally:
        stage.bot.stop()


async def test_par_10_a_room_in_the_configuration_that_the_bot_is_not_in_keeps_no_other_room_from_being_served(stage):
    """IT adds a body whose room the bot has not been invited to yet, and restarts it. At a start
    the bot reads back what it told people in each room (its own messages), which that room
    refuses: that must not keep it from serving the others (§ 10: no meeting goes on without it)."""
    await stage.new_meeting_room()
    before = await stage.ask("anna", "!status")
    other = await create_room(stage["anna"], [], "Barn- och utbildningsnämnden")
    assert stage.bot and stage.config_path
    stage.bot.stop()
    write_config(
        stage.config_path,
        stage.hs.url,
        BOT_PASSWORD,
        stage.config_path.parent,
        [body_config(stage.room_id), body_config(other, id="bun", name="Barn- och utbildningsnämnden")],
        commands_per_minute=1000,
        organisation=ORGANISATION,
    )
    stage.bot.start()
    refused = f"i {other} kunde inte läsas: M_FORBIDDEN"
    await wait_until(lambda: refused in stage.bot.log.read_text(errors="replace"), 60)
    assert await stage.ask("anna", "!status", timeout=60) == before
