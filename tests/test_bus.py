"""The bus tells a subscriber (a live view) of each committed step, after it is stored, and of
nothing else; a subscriber that fails never stops the loop or the others."""

from __future__ import annotations

import logging
from datetime import timedelta

from commands.text import Message
from shell import Committed
from testing.driver import KALLA, started
from tests.test_schedule import STOCKHOLM_18
from tests.test_shell import opened

BEFORE = STOCKHOLM_18 - timedelta(minutes=5)


async def test_each_committed_step_is_published_with_its_events_and_one_the_store_refused_is_not(config):
    bot = await started(config)
    told: list[Committed] = []
    bot.bus.subscribe(told.append)
    body, now = await opened(bot)
    assert [s.events[0].kind for s in told][:2] == ["convened", "opened"]
    assert all(s.body == "ks" and s.events and s.meeting is body.engine.meeting for s in told)
    assert told[-1].events[-1].kind == "item_taken" and told[-1].at == now
    stored = await bot.store.events(body.engine.meeting.id)
    assert [e for s in told for e in s.events] == stored  # every event stored is told, once, in order
    # A step the store does not take (a full disk) is never told: the bus only hears what is durable.
    await bot.store.db.execute(
        "CREATE TRIGGER disk_full BEFORE INSERT ON events WHEN NEW.kind = 'motion' "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    before = len(told)
    await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
    assert len(told) == before
    await bot.store.db.execute("DROP TRIGGER disk_full")
    await bot.handle(body, "$motion-again", Message("!yrka Avslag"), "@bo:localhost", now)
    assert [e.kind for e in told[-1].events] == ["motion"]
    await bot.store.close()


async def test_a_refusal_a_question_and_a_duplicate_are_not_published(config):
    bot = await started(config)
    body, now = await opened(bot)
    told: list[Committed] = []
    bot.bus.subscribe(told.append)
    await bot.handle(body, "$outsider", Message("!yrka Avslag"), "@mallory:localhost", now)  # refused
    await bot.handle(body, "$status", Message("!status"), "@anna:localhost", now)  # a question: no events
    await bot.handle(body, "$item", Message("!ärende 1"), "@anna:localhost", now)  # handled before
    assert told == []
    await bot.store.close()


async def test_a_subscriber_that_raises_is_logged_and_neither_stops_the_loop_nor_the_others(config, caplog):
    bot = await started(config)
    told: list[Committed] = []

    def broken(step: Committed) -> None:
        raise RuntimeError("the live view fell over")

    bot.bus.subscribe(broken)
    stop = bot.bus.subscribe(told.append)
    with caplog.at_level(logging.ERROR, logger="distansbot"):
        await bot.handle(bot.bodies["ks"], "$kalla", Message(KALLA), "@anna:localhost", BEFORE)
    assert bot.bodies["ks"].engine.meeting is not None and len(told) == 1  # stored, and the other told
    assert any("prenumerant" in r.message for r in caplog.records)
    stop()
    await bot.handle(bot.bodies["ks"], "$open", Message("!öppna"), "@anna:localhost", BEFORE)
    assert len(told) == 1  # unsubscribed: told no more
    assert bot.bodies["ks"].engine.meeting.opened_at is not None  # and the loop goes on
    await bot.store.close()
