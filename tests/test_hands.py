"""A hand raised in the room's Element Call asks for the floor as !ordet does (§ 9), and lowering
it leaves the speakers' list. Element Call raises a hand as an `m.reaction` with key 🖐️ relating
to the sender's own call membership event, and lowers it by redacting that reaction. What others'
clients write is hostile input: a hand on someone else's membership or on a membership that is
no longer the sender's current one, a redaction of someone else's hand, changes nothing.

Through the real transport's parsing (nio) and the real shell and SQLite store.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import pytest_asyncio

from commands.text import Message
from matrix import rtc
from testing.driver import started
from tests.test_hostile_events import (
    ROOM,
    _batch,
    _call_event,
    _in_call_meeting,
    _membership,
    _transport,
    call_config,  # noqa: F401  (a fixture)
    on_call_member,
)
from tests.test_schedule import STOCKHOLM_18

NOW = STOCKHOLM_18 + timedelta(minutes=1)
TS = int(NOW.timestamp() * 1000) + 10_000


def _hand(event_id: str, who: str, membership: str, ts: int, key: str = rtc.RAISED_HAND) -> dict:
    return {
        "type": "m.reaction",
        "event_id": event_id,
        "sender": f"@{who}:localhost",
        "origin_server_ts": ts,
        "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": membership, "key": key}},
    }


def _lowered(event_id: str, who: str, reaction: str, ts: int) -> dict:
    return {
        "type": "m.room.redaction",
        "event_id": event_id,
        "sender": f"@{who}:localhost",
        "origin_server_ts": ts,
        "redacts": reaction,
        "content": {},
    }


@pytest_asyncio.fixture
async def debate(call_config):  # noqa: F811
    """Item 1 up in a meeting whose members are in the call; closed after the test, failed or not."""
    bot = await started(call_config)
    body = await _in_call_meeting(bot, STOCKHOLM_18 - timedelta(minutes=5))
    await bot.handle(body, "$item", Message("!ärende 1"), "@anna:localhost", NOW)
    transport = await _transport(call_config, bot)
    yield bot, body, transport
    await transport.close()
    await bot.store.close()


def _replies_to(outgoing, event_id: str) -> list[str]:
    return [
        o.content["body"]
        for o in outgoing
        if (o.content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == event_id
    ]


async def test_p9_a_hand_raised_in_the_call_puts_one_on_the_list_and_lowering_it_takes_one_off(debate):
    bot, body, transport = debate
    await transport.reader.on_sync(_batch([_hand("$hand-bo", "bo", "$join-bo", TS)]), bot)
    item = body.engine.meeting.item
    assert item.speakers == ["@bo:localhost"] and item.hands == {"@bo:localhost": "$hand-bo"}
    answers = _replies_to(await bot.store.unsent(), "$hand-bo")
    assert answers == ["Bo Berg (M) står på talarlistan som nummer 1."]  # a reaction gets no ✅
    await bot.handle(body, "$ordet", Message("!ordet"), "@cecilia:localhost", NOW)
    await transport.reader.on_sync(_batch([_lowered("$down", "bo", "$hand-bo", TS + 1000)]), bot)
    assert item.speakers == ["@cecilia:localhost"] and item.hands == {}
    assert _replies_to(await bot.store.unsent(), "$down") == []
    kinds = [(e.kind, e.data.get("via")) for e in await bot.store.events(body.engine.meeting.id)]
    assert ("floor_withdrawn", "call") in kinds


@pytest.mark.parametrize(
    "why",
    [
        "on someone else's membership",
        "on a membership replaced since",
        "on a membership that left the call",
        "with another key",
        "on a chat message",
    ],
)
async def test_p9_a_hand_that_is_not_on_the_senders_own_current_membership_changes_nothing(debate, why):
    bot, body, transport = debate
    events = {
        "on someone else's membership": [_hand("$h", "bo", "$join-eva", TS)],
        "on a membership replaced since": [
            _call_event("$bo-again", "bo", _membership(), TS),  # a new membership event for the same device
            _hand("$h", "bo", "$join-bo", TS + 1000),
        ],
        "on a membership that left the call": [
            _call_event("$bo-left", "bo", {}, TS),
            _hand("$h", "bo", "$bo-left", TS + 1000),
        ],
        "with another key": [_hand("$h", "bo", "$join-bo", TS, key="🖐")],  # Element Call reads 🖐️ only
        "on a chat message": [_hand("$h", "bo", "$item", TS)],
    }[why]
    before = len(await bot.store.events(body.engine.meeting.id))
    await transport.reader.on_sync(_batch(events), bot)
    assert body.engine.meeting.item.speakers == []
    assert not [e for e in (await bot.store.events(body.engine.meeting.id))[before:] if e.kind == "floor"]
    assert _replies_to(await bot.store.unsent(), "$h") == []


async def test_p2_a_hand_from_off_the_roster_is_refused_and_changes_nothing(debate):
    bot, body, transport = debate
    await on_call_member(
        bot, ROOM, "$join-mallory", "_@mallory:localhost_DEV", _membership(), "@mallory:localhost", TS, NOW
    )
    await transport.reader.on_sync(_batch([_hand("$h", "mallory", "$join-mallory", TS + 1000)]), bot)
    assert body.engine.meeting.item.speakers == []
    (answer,) = _replies_to(await bot.store.unsent(), "$h")
    assert answer.startswith("⛔ § 2")


async def test_p9_a_lowered_hand_is_only_its_raisers_and_a_deleted_message_is_no_lowered_hand(debate):
    bot, body, transport = debate
    await transport.reader.on_sync(_batch([_hand("$hand-bo", "bo", "$join-bo", TS)]), bot)
    before = len(await bot.store.events(body.engine.meeting.id))
    batch = [
        _lowered("$x", "anna", "$hand-bo", TS + 1000),  # the chair (a moderator) redacts Bo's hand
        _lowered("$y", "eva", "$item", TS + 2000),  # Eva deletes a message
    ]
    await transport.reader.on_sync(_batch(batch), bot)
    assert body.engine.meeting.item.speakers == ["@bo:localhost"]
    assert len(await bot.store.events(body.engine.meeting.id)) == before
    assert not _replies_to(await bot.store.unsent(), "$x") and not _replies_to(await bot.store.unsent(), "$y")


async def test_p9_a_hand_after_the_streck_is_refused_citing_p9(debate):
    bot, body, transport = debate
    await bot.handle(body, "$streck", Message("!streck"), "@anna:localhost", NOW)
    await transport.reader.on_sync(_batch([_hand("$h", "bo", "$join-bo", TS)]), bot)
    (answer,) = _replies_to(await bot.store.unsent(), "$h")
    assert answer.startswith("⛔ § 9") and "!streck återta" in answer
