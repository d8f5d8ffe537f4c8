"""The store contract: what every backend (SQLite, PostgreSQL) must do, the same tests run
against each. The log is the evidence of the meeting (KL 5 kap. 69 §: the protocol is built from
it), so it must be kept whole, in order, once, and any change after the fact must show.

The PostgreSQL tests start a real server (testing/postgres.py); in CI they never skip.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rules.state import Event
from storage import Anchor, Outgoing, Store, chain, open_store

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
ROOM = "!rum:localhost"


@dataclass
class Backend:
    name: str
    database: str | Path
    password: str | None = None

    async def open(self) -> Store:
        return await open_store(self.database, self.password)

    async def sql(self, store: Store, script: str) -> None:
        """Statements written past the store, as someone with the database file or a login would."""
        for statement in filter(str.strip, script.split(";")):
            if self.name == "sqlite":
                await store.db.execute(statement)
                await store.db.commit()
            else:
                await store.pool.execute(statement)

    async def version(self, store: Store) -> int:
        if self.name == "sqlite":
            async with store.db.execute("PRAGMA user_version") as cur:
                return (await cur.fetchone())[0]
        return await store.pool.fetchval("SELECT version FROM schema_version")

    @property
    def integrity(self) -> type[Exception]:
        """What the database raises for a row that breaks a key (its own kind of error)."""
        if self.name == "sqlite":
            import sqlite3

            return sqlite3.IntegrityError
        import asyncpg

        return asyncpg.IntegrityConstraintViolationError

    def latest(self) -> int:
        from storage import postgres, sqlite

        return len((sqlite if self.name == "sqlite" else postgres).MIGRATIONS)

    async def set_version(self, store: Store, version: int) -> None:
        if self.name == "sqlite":
            await self.sql(store, f"PRAGMA user_version = {version}")
        else:
            await self.sql(store, f"UPDATE schema_version SET version = {version}")


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request, tmp_path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", tmp_path / "db.sqlite3")
    server = request.getfixturevalue("postgres_server")
    return Backend("postgresql", await server.database(), server.password)


@pytest.fixture
async def store(backend):
    s = await backend.open()
    yield s
    await s.close()


def events(n: int, start: int = 0, at: datetime = T0) -> list[Event]:
    """Events with text as people write it (å, ä, ö, quotes, emoji), each a second apart."""
    return [
        Event(
            "motion",
            at + timedelta(seconds=start + i),
            "@anna:localhost",
            {"text": f"Förslag {start + i}: ”bifall” ✅"},
        )
        for i in range(n)
    ]


def notice(text: str, **kw) -> Outgoing:
    return Outgoing(ROOM, "m.room.message", {"msgtype": "m.notice", "body": text}, **kw)


async def begin(store: Store, mid: str = "ks-2026-03-02", body: str = "ks", n: int = 3, source: str = "$1") -> None:
    """A meeting begun with n events (`source` the command that convened it)."""
    assert await store.record(source, ROOM, T0, events(n), [], meeting=(mid, body, '{"id": "ks"}'), meeting_id=mid)


def recomputed(rows: list[tuple]) -> list[str]:
    links, prev = [], ""
    for row in rows:
        prev = chain(prev, *row)
        links.append(prev)
    return links


# --- the log ------------------------------------------------------------------------------------------------


async def test_a_fresh_store_is_empty_and_at_the_latest_schema(backend, store):
    assert await store.meetings() == []
    assert await store.unsent() == []
    assert await store.setting("sync_token") is None
    assert not await store.is_handled("$x")
    assert (await store.check("ks")).links == []
    assert await backend.version(store) == backend.latest()


async def test_kl_5_69_events_are_read_back_as_written_in_their_order(store):
    await begin(store, n=3)
    more = events(2, start=3)
    assert await store.record("$2", ROOM, T0, more, [], meeting_id="ks-2026-03-02", next_seq=3)
    assert await store.meetings() == [("ks-2026-03-02", "ks", '{"id": "ks"}')]
    assert await store.events("ks-2026-03-02") == events(3) + more
    assert await store.events("ks-2026-03-02", after=3) == more
    assert await store.events("ks-2026-03-02", after=5) == []
    assert await store.events("okänt") == []


async def test_meetings_are_listed_in_the_order_they_were_stored(store):
    # Names that sort otherwise than they were stored: the order is the store's, not the name's.
    for i, mid in enumerate(["ks-2026-09-01", "bn-2026-01-01", "ks-2026-03-02"]):
        await begin(store, mid=mid, body=mid[:2], n=1, source=f"${i}")
    assert [m[0] for m in await store.meetings()] == ["ks-2026-09-01", "bn-2026-01-01", "ks-2026-03-02"]


async def test_kl_5_69_the_chain_links_each_event_to_its_bodys_previous_across_meetings(store):
    await begin(store, mid="ks-1", n=2, source="$1")
    await begin(store, mid="bn-1", body="bn", n=1, source="$2")
    await begin(store, mid="ks-2", n=2, source="$3")
    found = await store.check("ks")
    assert found.breaks == [] and found.upgraded == 0 and found.kinds == ["motion"] * 4
    rows = [
        (mid, seq, e.kind, e.at.isoformat(), e.actor, src, json.dumps(e.data))
        for mid, src, evs in (("ks-1", "$1", events(2)), ("ks-2", "$3", events(2)))
        for seq, e in enumerate(evs)
    ]
    assert found.links == recomputed(rows)  # ks-2's first event is chained to ks-1's last
    assert (await store.check("bn")).links == recomputed(
        [("bn-1", 0, "motion", T0.isoformat(), "@anna:localhost", "$2", json.dumps(events(1)[0].data))]
    )


async def test_kl_5_69_the_anchor_is_owed_with_the_chain_after_the_events(store):
    await begin(store, n=2)
    seen: list[Anchor] = []

    def anchor(a: Anchor) -> Outgoing:
        seen.append(a)
        return notice(f"kedja {a.length} {a.head}")

    assert await store.record(
        "$2", ROOM, T0, events(3, start=2), [notice("svar")], meeting_id="ks-2026-03-02", next_seq=2, anchor=anchor
    )
    links = (await store.check("ks")).links
    assert seen == [Anchor(5, links[4])]
    assert [o.content["body"] for o in await store.unsent()] == ["svar", f"kedja 5 {links[4]}"]


# --- exactly once --------------------------------------------------------------------------------------------


async def test_a_command_is_applied_once_a_second_record_of_its_source_is_refused(store):
    await begin(store, n=2)
    store.remember("sync_token", "s2")
    again = await store.record(
        "$1", ROOM, T0, events(1, start=2), [notice("igen")], meeting_id="ks-2026-03-02", next_seq=2
    )
    assert again is False
    assert len(await store.events("ks-2026-03-02")) == 2 and await store.unsent() == []
    assert await store.setting("sync_token") is None and store.pending == {"sync_token": "s2"}  # rolled back too


async def test_a_failed_record_stores_nothing_of_it_mark_events_answers_or_sync_token(backend, store):
    await begin(store, n=2)
    store.remember("sync_token", "s2")
    with pytest.raises(backend.integrity):  # event 1 is taken: the whole transaction fails
        await store.record("$2", ROOM, T0, events(2, start=1), [notice("svar")], meeting_id="ks-2026-03-02", next_seq=1)
    assert not await store.is_handled("$2")
    assert len(await store.events("ks-2026-03-02")) == 2 and await store.unsent() == []
    assert await store.setting("sync_token") is None and store.pending == {"sync_token": "s2"}
    assert (await store.check("ks")).breaks == []
    # ... and the next command goes in whole, with the token, on the chain as it was
    assert await store.record(
        "$2", ROOM, T0, events(1, start=2), [notice("svar")], meeting_id="ks-2026-03-02", next_seq=2
    )
    assert await store.is_handled("$2") and await store.setting("sync_token") == "s2" and store.pending == {}
    found = await store.check("ks")
    assert found.breaks == [] and len(found.links) == 3


async def test_a_record_for_a_meeting_not_stored_raises_and_stores_nothing(store):
    with pytest.raises(KeyError):
        await store.record("$1", ROOM, T0, events(1), [notice("svar")], meeting_id="finns-inte")
    assert not await store.is_handled("$1") and await store.unsent() == []


async def test_a_meeting_begun_twice_fails_whole(backend, store):
    await begin(store, n=1)
    with pytest.raises(backend.integrity):
        await begin(store, n=1, source="$2")
    assert not await store.is_handled("$2") and len(await store.events("ks-2026-03-02")) == 1


async def test_a_command_without_events_stores_its_answers_and_its_mark(store):
    assert await store.record("$hjälp", ROOM, T0, [], [notice("hjälptext")])
    assert await store.is_handled("$hjälp") and await store.meetings() == []
    assert [o.content["body"] for o in await store.unsent()] == ["hjälptext"]


async def test_two_processes_on_one_database_apply_a_source_once(backend, store):
    """Two bot processes (a standby taking over) that both read the same command: the database
    lets one of them record it."""
    await begin(store, n=1)
    other = await backend.open()
    try:
        results = await asyncio.gather(
            *(
                s.record(
                    "$2", ROOM, T0, events(1, start=1), [notice(f"svar {i}")], meeting_id="ks-2026-03-02", next_seq=1
                )
                for i, s in enumerate((store, other))
            ),
            return_exceptions=True,
        )
    finally:
        await other.close()
    assert sorted(r is True for r in results) == [False, True], results
    assert len(await store.events("ks-2026-03-02")) == 2 and len(await store.unsent()) == 1


# --- settings -----------------------------------------------------------------------------------------------


async def test_the_sync_token_lags_until_the_next_record_or_a_flush(backend, store):
    store.remember("sync_token", "s1")
    assert await store.setting("sync_token") is None
    await store.flush()
    assert await store.setting("sync_token") == "s1" and store.pending == {}
    store.remember("sync_token", "s2")
    assert await store.record("$1", ROOM, T0, [], [])
    assert await store.setting("sync_token") == "s2"
    store.remember("sync_token", "s3")
    await store.close()  # a stop flushes what lags
    again = await backend.open()
    try:
        assert await again.setting("sync_token") == "s3"
    finally:
        await again.close()


async def test_settings_are_set_replaced_and_forgotten(store):
    await store.set_setting("session", "@bot:localhost\nDEV\ntoken")
    await store.set_setting("session", "@bot:localhost\nDEV2\ntoken2")
    assert await store.setting("session") == "@bot:localhost\nDEV2\ntoken2"
    await store.forget_setting("session")
    assert await store.setting("session") is None
    await store.forget_setting("session")  # forgetting what is not there is no error


# --- the outbox ---------------------------------------------------------------------------------------------


async def test_answers_are_owed_in_order_until_marked_sent(store):
    pdf = b"%PDF-1.7\x00\xff binary"
    owed = [
        notice("först", tag="check:m:1"),
        Outgoing(ROOM, "m.reaction", {"m.relates_to": {"key": "✅"}}),
        Outgoing(ROOM, "file", {}, "protokoll.md", "# Protokoll åäö"),
        Outgoing(ROOM, "file", {}, "protokoll.pdf", pdf, tag="pdf"),
    ]
    assert await store.record("$1", ROOM, T0, [], owed)
    got = await store.unsent()
    assert [(o.kind, o.content, o.attachment_name, o.attachment, o.tag) for o in got] == [
        (o.kind, o.content, o.attachment_name, o.attachment, o.tag) for o in owed
    ]
    assert type(got[2].attachment) is str and type(got[3].attachment) is bytes
    ids = [o.id for o in got]
    assert ids == sorted(ids) and len(set(ids)) == 4
    await store.mark_sent({ids[0]: "$sent0"})
    await store.mark_sent({ids[1]: "$sent1", ids[3]: "$sent3"})
    assert [o.id for o in await store.unsent()] == [ids[2]]
    assert await store.tag_of("$sent0") == "check:m:1" and await store.tag_of("$okänt") is None
    assert await store.tag_of("$sent1") == ""
    assert await store.event_of_tag("pdf") == "$sent3" and await store.event_of_tag("check:m:2") == ""
    assert await store.event_of_tag("check:m:1") == "$sent0"


# --- snapshots ----------------------------------------------------------------------------------------------


async def test_a_snapshot_is_replaced_and_read_only_at_its_version(store):
    await begin(store, n=1)
    assert await store.snapshot("ks-2026-03-02", "v1") is None
    await store.save_snapshot("ks-2026-03-02", 1, "v1", b'{"id": "ks"}')
    assert await store.snapshot("ks-2026-03-02", "v1") == (1, b'{"id": "ks"}')
    await store.save_snapshot("ks-2026-03-02", 1000, "v2", b"\x00\xff")
    assert await store.snapshot("ks-2026-03-02", "v1") is None  # another code or roster's: ignored
    assert await store.snapshot("ks-2026-03-02", "v2") == (1000, b"\x00\xff")


# --- reopening and migrations -------------------------------------------------------------------------------


async def test_everything_is_there_after_a_reopen(backend, store):
    await begin(store, n=3)
    await store.record("$2", ROOM, T0, [], [notice("svar", tag="t")])
    await store.save_snapshot("ks-2026-03-02", 3, "v", b"s")
    await store.set_setting("session", "x")
    before = (
        await store.meetings(),
        await store.events("ks-2026-03-02"),
        await store.check("ks"),
        await store.unsent(),
    )
    await store.close()
    again = await backend.open()
    try:
        after = (
            await again.meetings(),
            await again.events("ks-2026-03-02"),
            await again.check("ks"),
            await again.unsent(),
        )
        assert after == before
        assert await again.snapshot("ks-2026-03-02", "v") == (3, b"s") and await again.setting("session") == "x"
        assert await again.is_handled("$1") and await backend.version(again) == backend.latest()
        # the chain goes on from where it was, not from its start
        assert await again.record("$3", ROOM, T0, events(1, start=3), [], meeting_id="ks-2026-03-02", next_seq=3)
        assert (await again.check("ks")).breaks == []
    finally:
        await again.close()


async def test_a_database_of_a_newer_version_of_the_bot_is_refused(backend):
    store = await backend.open()
    await backend.set_version(store, backend.latest() + 1)
    await store.close()
    with pytest.raises(RuntimeError, match="nyare än den här versionen av boten"):
        await backend.open()


# --- a log changed after the fact ---------------------------------------------------------------------------


async def test_kl_5_69_an_event_changed_after_the_fact_breaks_the_chain(backend, store):
    await begin(store, n=4)
    await backend.sql(store, 'UPDATE events SET data = \'{"text": "Avslag"}\' WHERE seq = 2')
    (found,) = (await store.check("ks")).breaks
    assert (found.meeting_id, found.seq, found.kind) == ("ks-2026-03-02", 2, "motion") and "ändrat" in found.why


async def test_kl_5_69_an_event_removed_after_the_fact_breaks_the_chain(backend, store):
    await begin(store, n=4)
    await backend.sql(store, "DELETE FROM events WHERE seq = 1")
    # event 2 is out of the body's chain, out of the meeting's numbering and off its link
    assert [(b.seq, b.why) for b in (await store.check("ks")).breaks] == [
        (2, "organets händelse 1 saknas (borttagen, med sitt sammanträde?)"),
        (2, "händelse 1 saknas (nästa är 2)"),
        (2, "innehållet stämmer inte med kedjan (ändrat i efterhand)"),
    ]


async def test_kl_5_69_an_event_inserted_after_the_fact_breaks_the_chain(backend, store):
    await begin(store, n=2)
    await backend.sql(
        store,
        "INSERT INTO events (meeting_id, seq, kind, at, actor, source, data) "
        "VALUES ('ks-2026-03-02', 2, 'decided', '2026-03-02T17:00:05+00:00', '@anna:localhost', '$x', '{}')",
    )
    # the inserted row alone is flagged, on both backends: the chain written stays whole
    assert [(b.seq, b.why) for b in (await store.check("ks")).breaks] == [
        (2, "händelsen står utanför organets kedja (tillagd i efterhand)"),
        (2, "innehållet stämmer inte med kedjan (ändrat i efterhand)"),
    ]


async def test_kl_5_69_a_meeting_deleted_whole_shows_in_its_bodys_chain(backend, store):
    await begin(store, mid="ks-1", n=2, source="$1")
    await begin(store, mid="ks-2", n=2, source="$2")
    await begin(store, mid="ks-3", n=1, source="$3")
    await backend.sql(store, "DELETE FROM events WHERE meeting_id = 'ks-2'; DELETE FROM meetings WHERE id = 'ks-2'")
    breaks = (await store.check("ks")).breaks
    assert breaks and breaks[0].meeting_id == "ks-3"
    assert breaks[0].why == "organets händelse 2–3 saknas (borttagen, med sitt sammanträde?)"


# --- serving, and nio's key store ---------------------------------------------------------------------------


async def test_par_10_a_store_alone_on_its_database_serves_and_holds_until_stopped(store):
    stop = asyncio.Event()
    assert await asyncio.wait_for(store.lease.serve(stop), 10) and store.lease.serving()
    holding = asyncio.create_task(store.lease.hold(stop))
    await asyncio.sleep(0.1)
    assert not holding.done() and store.lease.serving()
    stop.set()
    await asyncio.wait_for(holding, 5)
    assert await store.record("$1", ROOM, T0, [], [notice("svar")])  # a serving store writes


async def test_the_key_store_is_kept_where_the_backend_keeps_it(backend, store):
    assert await store.key_store() is None
    await store.save_key_store(b"SQLite format 3\x00 nycklar")
    kept = await store.key_store()
    # SQLite: the key store is the directory beside the file alone; PostgreSQL: in the database
    assert kept == (b"SQLite format 3\x00 nycklar" if store.keeps_key_store else None)
    assert store.keeps_key_store == (backend.name == "postgresql")
