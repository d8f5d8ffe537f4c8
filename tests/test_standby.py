"""Standby on PostgreSQL (storage.lease): of the processes sharing a database one serves, the
others wait and take over when it stops; a holder frozen past a takeover cannot write, and steps
down by itself. Two processes are two stores here, each with its own pool and lease, on a real
server (testing/postgres.py); in CI these never skip.

A meeting that cannot go on while the bot is away is stopped (§ 10), so a standby must take
over; and a command applied twice or by two bots at once would stand twice in the protocol
(KL 5 kap. 69 §), so two must never serve at once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from commands.text import Message
from rules.state import Event
from shell import NOT_RECORDED
from shell.words import APPLIED_AFTER_ALL
from storage import lease as lease_module
from storage import open_store
from storage.lease import Fenced
from testing.driver import started
from tests.test_postgres import on
from tests.test_shell import Room, opened, reply_of

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
MID = "ks-2026-03-02"


@pytest.fixture
def quick(monkeypatch):
    """A lease of 2 s renewed every 0.5 s: the same rules, told in less time."""
    monkeypatch.setattr(lease_module, "LEASE_SECONDS", 2)
    monkeypatch.setattr(lease_module, "RENEW_SECONDS", 0.5)
    monkeypatch.setattr(lease_module, "MARGIN_SECONDS", 0.5)
    monkeypatch.setattr(lease_module, "POLL_SECONDS", 0.2)


@pytest.fixture
async def url(postgres_server):
    return (await postgres_server.database()).replace("distansbot@", f"distansbot:{postgres_server.password}@")


def event(n: int) -> list[Event]:
    return [Event("motion", T0, "@anna:localhost", {"n": n})]


async def serving(store, stop: asyncio.Event, within: float) -> bool:
    try:
        return await asyncio.wait_for(store.lease.serve(stop), within)
    except TimeoutError:
        return False


async def test_par_10_one_serves_and_the_other_stands_by_until_it_stops(url, quick):
    a, b = await open_store(url), await open_store(url)
    stop = asyncio.Event()
    try:
        assert await serving(a, stop, 5) and a.lease.serving()
        assert not await serving(b, stop, 1) and not b.lease.serving()  # waits while a holds the lease
        waiting = asyncio.create_task(b.lease.serve(stop))
        await asyncio.sleep(0.5)
        found = {pid_holder[0]: pid_holder[3] for pid_holder in await a.lease.processes()}
        assert found == {a.lease.holder: True, b.lease.holder: False}
        started = time.monotonic()
        await a.close()  # a clean stop frees the lease at once
        assert await asyncio.wait_for(waiting, 2) and b.lease.serving()
        assert time.monotonic() - started < 1
        assert [(p[0], p[3]) for p in await b.lease.processes()] == [(b.lease.holder, True)]
    finally:
        stop.set()
        await b.close()


async def test_par_10_a_holder_that_stops_renewing_is_taken_over_within_the_lease(url, quick):
    a, b = await open_store(url), await open_store(url)
    stop = asyncio.Event()
    try:
        assert await serving(a, stop, 5)
        # a renews nothing from now on (killed, its machine lost): b takes over when it expires
        started = time.monotonic()
        assert await serving(b, stop, 4)
        took = time.monotonic() - started
        assert lease_module.LEASE_SECONDS - 0.5 <= took <= lease_module.LEASE_SECONDS + 1, took
        assert b.lease.epoch == a.lease.epoch + 1
    finally:
        stop.set()
        await a.close()
        await b.close()


async def test_kl_5_69_a_frozen_holder_that_wakes_after_a_takeover_cannot_write_and_steps_down(url, quick):
    a, b = await open_store(url), await open_store(url)
    stop = asyncio.Event()
    try:
        assert await serving(a, stop, 5)
        assert await a.record("$1", "!r", T0, event(0), [], meeting=(MID, "ks", None), meeting_id=MID)
        assert await serving(b, stop, 4)  # a frozen: not renewed, taken over
        assert not a.lease.serving()  # woken: its own clock says the lease ran out, so it sends nothing
        a.remember("sync_token", "a-old")
        for write in (
            a.record("$2", "!r", T0, event(1), [], meeting_id=MID, next_seq=1),
            a.mark_sent({1: "$x"}),
            a.set_setting("session", "a"),
            a.save_snapshot(MID, 1, "v", b"a"),
            a.flush(),
        ):
            with pytest.raises(Fenced):
                await write
        assert not await b.is_handled("$2") and len(await b.events(MID)) == 1
        assert await b.setting("sync_token") is None and await b.setting("session") is None
        await asyncio.wait_for(a.lease.hold(stop), 2)  # steps down by itself
        # b goes on from the log as it is, on the chain as it is
        assert await b.record("$2", "!r", T0, event(1), [], meeting_id=MID, next_seq=1)
        assert (await b.check("ks")).breaks == []
    finally:
        stop.set()
        await a.close()
        await b.close()
    again = await open_store(url)
    try:
        assert await again.setting("sync_token") is None  # a's close wrote nothing either
    finally:
        await again.close()


async def test_kl_5_69_a_holder_frozen_inside_its_transaction_is_ended_by_the_server_before_a_takeover(
    url, quick, postgres_server
):
    """Frozen after its lease check, inside the write's transaction: the check's share lock keeps
    the takeover waiting until the server ends the frozen session, and then the write is lost
    with it, never landing after the other began to serve."""
    a, b = await open_store(url), await open_store(url)
    stop = asyncio.Event()
    try:
        assert await serving(a, stop, 5)
        conn = await a.pool.acquire()
        tr = conn.transaction()
        await tr.start()
        await a.lease.fence(conn)  # the lease checked, the row locked: and then a is frozen
        await conn.execute("INSERT INTO settings (key, value) VALUES ('late', 'a')")
        started = time.monotonic()
        assert await serving(b, stop, 10)
        waited = time.monotonic() - started
        assert waited >= lease_module.IDLE_IN_TRANSACTION_MS / 1000 - 0.5, waited
        with pytest.raises(Exception):  # noqa: B017  the session was ended: nothing of it is stored
            await tr.commit()
        await a.pool.release(conn)
        assert await b.setting("late") is None
    finally:
        stop.set()
        await a.close()
        await b.close()


async def test_par_10_a_holder_keeps_its_lease_across_a_moment_of_silence_if_nobody_took_it(url, quick):
    """A holder that could not renew in time (the database away a moment) but whose epoch nobody
    took keeps serving: nobody else served meanwhile. It sends nothing while it is unrenewed."""
    a = await open_store(url)
    stop = asyncio.Event()
    try:
        assert await serving(a, stop, 5)
        await asyncio.sleep(lease_module.LEASE_SECONDS + 0.2)  # not renewed: expired, but not taken
        assert not a.lease.serving()
        holding = asyncio.create_task(a.lease.hold(stop))
        await asyncio.sleep(1)
        assert a.lease.serving() and not holding.done()
        assert await a.record("$1", "!r", T0, event(0), [], meeting=(MID, "ks", None), meeting_id=MID)
    finally:
        stop.set()
        await a.close()


async def test_par_10_after_the_database_server_restarts_the_holder_renews_before_a_standby_may_take_over(
    url, quick, postgres_server, monkeypatch
):
    """The server away longer than the lease, then back: the lease has expired by its clock, but
    a standby leaves the holder a lease's time from the server's start to renew, so the holder,
    which may owe "not recorded" answers whose handled marks only it holds, goes on serving.
    (The standby tries five times a second, the holder renews once: without that time the
    standby would be the first to find the server back.)"""
    monkeypatch.setattr(lease_module, "LEASE_SECONDS", 3)
    monkeypatch.setattr(lease_module, "RENEW_SECONDS", 1)
    a, b = await open_store(url), await open_store(url)
    stop = asyncio.Event()
    holding = waiting = None
    try:
        assert await serving(a, stop, 5)
        holding = asyncio.create_task(a.lease.hold(stop))
        waiting = asyncio.create_task(b.lease.serve(stop))
        await asyncio.sleep(0.3)
        await asyncio.to_thread(postgres_server.halt)
        await asyncio.sleep(lease_module.LEASE_SECONDS + 0.5)  # expired, had anyone been there to see it
        assert not a.lease.serving()  # unrenewed: it sends nothing meanwhile
        await asyncio.to_thread(postgres_server.resume)  # both go on trying meanwhile, as two processes would
        await asyncio.sleep(lease_module.LEASE_SECONDS + 0.5)
        assert a.lease.serving() and not holding.done()
        assert not waiting.done()  # b still stands by
        assert await a.record("$1", "!r", T0, event(0), [], meeting=(MID, "ks", None), meeting_id=MID)
    finally:
        if not postgres_server.started:
            postgres_server.resume()
        stop.set()
        for task in (holding, waiting):
            if task:
                await asyncio.gather(task, return_exceptions=True)
        await a.close()
        await b.close()


async def test_kl_6_35_the_database_away_answers_not_recorded_at_once_and_never_applies_it_after(
    config, url, postgres_server
):
    """The server gone while the bot serves: the store cannot even say whether a command was
    handled. The person is told "not recorded" at once (the lease is still fresh), the command is
    marked handled when the server is back, and so it is never applied behind the person's back."""
    bot = await started(on(config, url))
    stop = asyncio.Event()
    assert await serving(bot.store, stop, 10)
    holding = asyncio.create_task(bot.store.lease.hold(stop))
    room = Room()
    try:
        body, now = await opened(bot)
        await bot.send_outbox(room)
        before = len(room.sent)
        postgres_server.halt()
        try:
            await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
            assert [o.content["body"] for o in bot.unstored] == [NOT_RECORDED] and "$motion" in bot.unmarked
            with pytest.raises(Exception):  # noqa: B017  the answer goes out; its mark waits for the server
                await bot.send_outbox(room)
            assert [o.content["body"] for o in room.sent[before:]] == [NOT_RECORDED]
        finally:
            postgres_server.resume()
        for _ in range(100):  # renewed by itself once the server is back
            if bot.store.lease.serving():
                break
            await asyncio.sleep(0.1)
        assert bot.store.lease.serving() and not holding.done()
        await bot.send_outbox(room)
        assert await bot.store.is_handled("$motion") and bot.unmarked == {}
        await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)  # read again
        assert body.engine.meeting.items[1].motions == []
        await bot.handle(body, "$motion2", Message("!yrka Avslag"), "@bo:localhost", now)
        assert [x.text for x in body.engine.meeting.items[1].motions] == ["Avslag"]
        await bot.send_outbox(room)
        assert [o.content["body"] for o in room.sent[before:]].count(NOT_RECORDED) == 1
    finally:
        if not postgres_server.started:
            postgres_server.resume()
        stop.set()
        await asyncio.gather(holding, return_exceptions=True)
        await bot.store.close()


async def test_kl_6_35_a_command_told_not_recorded_that_the_store_then_shows_applied_is_corrected_once(
    config, url, postgres_server
):
    """Applied, then read again (after a restart) while the server is gone, so the store cannot
    even say that it was handled: the person is told "not recorded" at once; when the server is
    back and the store shows it applied after all, they are told that this was wrong, once, lest
    they send it again and it stand twice."""
    bot = await started(on(config, url))
    stop = asyncio.Event()
    assert await serving(bot.store, stop, 10)
    holding = asyncio.create_task(bot.store.lease.hold(stop))
    room = Room()
    try:
        body, now = await opened(bot)
        await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
        await bot.send_outbox(room)
        before = len(room.sent)
        postgres_server.halt()
        try:
            await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)  # read again
            with pytest.raises(Exception):  # noqa: B017  the answer goes out; its mark waits for the server
                await bot.send_outbox(room)
        finally:
            postgres_server.resume()
        for _ in range(100):  # renewed by itself once the server is back
            if bot.store.lease.serving():
                break
            await asyncio.sleep(0.1)
        await bot.send_outbox(room)
        await bot.send_outbox(room)
        assert [(reply_of(o), o.content["body"]) for o in room.sent[before:]] == [
            ("$motion", NOT_RECORDED),
            ("$motion", APPLIED_AFTER_ALL),
        ]
        assert [m.text for m in body.engine.meeting.items[1].motions] == ["Avslag"]
    finally:
        if not postgres_server.started:
            postgres_server.resume()
        stop.set()
        await asyncio.gather(holding, return_exceptions=True)
        await bot.store.close()
