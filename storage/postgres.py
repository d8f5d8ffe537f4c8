"""The PostgreSQL store, through asyncpg, for a kommun's IT that runs its services on
PostgreSQL (backed up, replicated). The same tables as the SQLite store, the same rows: every
text is stored as the bot wrote it (TEXT, never jsonb, which would reorder a JSON object), so
the hash chain reads the same on both and a copy from SQLite verifies.

asyncpg: asyncio-native (no thread per connection, as aiosqlite needs), well kept (MagicStack,
releases for every PostgreSQL and Python), and the fastest Python driver, with a pool that
replaces a connection lost when the server restarted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg

from rules.state import Event
from storage.base import Anchor, Chain, Dump, Lagging, Outgoing, Unavailable, event_of, event_rows, newer_schema, walk

# Each entry moves the schema one version up; never edit one that has shipped. Version 1 is the
# SQLite store's fifth, whole: PostgreSQL starts there.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meetings (
        ord BIGSERIAL UNIQUE,  -- the order they were stored in (SQLite's rowid)
        id TEXT PRIMARY KEY,
        body_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        roster TEXT
    );
    CREATE INDEX meetings_body ON meetings(body_id);
    CREATE TABLE events (
        meeting_id TEXT NOT NULL REFERENCES meetings(id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        source TEXT NOT NULL,
        data TEXT NOT NULL,
        hash TEXT,
        pos INTEGER,
        link TEXT,
        PRIMARY KEY (meeting_id, seq)
    );
    CREATE INDEX events_pos ON events(pos);
    CREATE TABLE handled (
        source TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        room_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        content TEXT NOT NULL,
        attachment_name TEXT,
        attachment_text TEXT,
        attachment_bytes BYTEA,
        tag TEXT NOT NULL DEFAULT '',
        sent_event_id TEXT
    );
    CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_event_id IS NULL;
    CREATE INDEX outbox_sent ON outbox(sent_event_id);
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE snapshots (
        meeting_id TEXT PRIMARY KEY REFERENCES meetings(id),
        seq INTEGER NOT NULL,
        version TEXT NOT NULL,
        state BYTEA NOT NULL
    );
    """,
)

# The advisory lock under which one process migrates while the others (standby) wait.
MIGRATION_LOCK = 0x64697374  # "dist"

# How long a connection or a statement may take before the command is answered "not recorded".
CONNECT_SECONDS = 5
STATEMENT_SECONDS = 15


class _HandledBefore(Exception):
    """The source was handled before: its transaction is rolled back, and `record` is False."""


class PostgresStore(Lagging):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self.pool = pool
        self.heads: dict[str, tuple[str, int]] = {}  # each body's last link and length, once read or written
        self.body_of: dict[str, str] = {}  # meeting id -> its body's id, once read
        # One write at a time, as in the SQLite store: the chain's head is read and extended by one.
        self.writing = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, password: str | None = None) -> PostgresStore:
        try:
            pool = await asyncpg.create_pool(
                url,
                password=password,
                min_size=1,
                max_size=4,
                timeout=CONNECT_SECONDS,
                command_timeout=STATEMENT_SECONDS,
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise Unavailable(f"PostgreSQL kunde inte nås ({type(e).__name__}: {e})") from e
        store = cls(pool)
        try:
            await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        try:
            await self.flush()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):  # faulted: they lag one start more
            pass
        await self.pool.close()

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = await conn.fetchval("SELECT version FROM schema_version")
            if version is None:
                version = 0
                await conn.execute("INSERT INTO schema_version (version) VALUES (0)")
            if version > len(MIGRATIONS):
                raise newer_schema(version, len(MIGRATIONS))
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await conn.execute(script)
                await conn.execute("UPDATE schema_version SET version = $1", number)

    # --- reading ----------------------------------------------------------------------------

    async def meetings(self) -> list[tuple[str, str, str | None]]:
        rows = await self.pool.fetch("SELECT id, body_id, roster FROM meetings ORDER BY ord")
        return [(r[0], r[1], r[2]) for r in rows]

    async def events(self, meeting_id: str, after: int = 0) -> list[Event]:
        sql = "SELECT kind, at, actor, data FROM events WHERE meeting_id = $1 AND seq >= $2 ORDER BY seq"
        return [event_of(*row) for row in await self.pool.fetch(sql, meeting_id, after)]

    async def check(self, body_id: str) -> Chain:
        sql = (
            "SELECT e.meeting_id, e.seq, e.kind, e.at, e.actor, e.source, e.data, e.hash, e.pos, e.link "
            "FROM events e JOIN meetings m ON m.id = e.meeting_id WHERE m.body_id = $1 ORDER BY e.pos NULLS LAST"
        )
        return walk(tuple(row) for row in await self.pool.fetch(sql, body_id))

    async def snapshot(self, meeting_id: str, version: str) -> tuple[int, bytes] | None:
        sql = "SELECT seq, state FROM snapshots WHERE meeting_id = $1 AND version = $2"
        row = await self.pool.fetchrow(sql, meeting_id, version)
        return (row[0], bytes(row[1])) if row else None

    async def is_handled(self, source: str) -> bool:
        return await self.pool.fetchval("SELECT 1 FROM handled WHERE source = $1", source) is not None

    async def unsent(self) -> list[Outgoing]:
        # Another connection than the writer's: it sees only what is committed.
        sql = (
            "SELECT id, room_id, kind, content, attachment_name, attachment_text, attachment_bytes, tag FROM outbox "
            "WHERE sent_event_id IS NULL ORDER BY id"
        )
        return [
            Outgoing(room, kind, json.loads(content), name, text if blob is None else bytes(blob), tag, id)
            for id, room, kind, content, name, text, blob, tag in await self.pool.fetch(sql)
        ]

    async def tag_of(self, event_id: str) -> str | None:
        return await self.pool.fetchval("SELECT tag FROM outbox WHERE sent_event_id = $1 LIMIT 1", event_id)

    async def event_of_tag(self, tag: str) -> str:
        sql = "SELECT sent_event_id FROM outbox WHERE tag = $1 AND sent_event_id IS NOT NULL ORDER BY id LIMIT 1"
        return await self.pool.fetchval(sql, tag) or ""

    async def setting(self, key: str) -> str | None:
        return await self.pool.fetchval("SELECT value FROM settings WHERE key = $1", key)

    # --- writing ----------------------------------------------------------------------------

    async def record(
        self,
        source: str,
        room_id: str,
        at: datetime,
        events: list[Event],
        outgoing: list[Outgoing],
        meeting: tuple[str, str, str | None] | None = None,
        meeting_id: str | None = None,
        next_seq: int = 0,
        anchor: Callable[[Anchor], Outgoing] | None = None,
    ) -> bool:
        head = None
        try:
            async with self.writing, self.pool.acquire() as conn, conn.transaction():
                new = await conn.fetchval(
                    "INSERT INTO handled (source, room_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
                    source,
                    room_id,
                    at.isoformat(),
                )
                if new is None:
                    raise _HandledBefore
                if meeting:
                    await conn.execute(
                        "INSERT INTO meetings (id, body_id, created_at, roster) VALUES ($1, $2, $3, $4)",
                        meeting[0],
                        meeting[1],
                        at.isoformat(),
                        meeting[2],
                    )
                if events:
                    assert meeting_id is not None
                    body_id = await self._body_of(conn, meeting_id)
                    head = await self._append(conn, body_id, meeting_id, next_seq, source, events)
                    if anchor:
                        outgoing = [*outgoing, anchor(Anchor(head[1], head[0]))]
                await _insert_outgoing(conn, outgoing)
                pending = dict(self.pending)
                await _write_settings(conn, pending)
        except _HandledBefore:  # rolled back
            return False
        self._written(pending)
        if head:
            self.heads[body_id] = head
        return True

    async def _body_of(self, conn: asyncpg.Connection, meeting_id: str) -> str:
        if meeting_id not in self.body_of:
            body_id = await conn.fetchval("SELECT body_id FROM meetings WHERE id = $1", meeting_id)
            if body_id is None:
                raise KeyError(f"sammanträdet {meeting_id} finns inte i databasen")
            self.body_of[meeting_id] = body_id
        return self.body_of[meeting_id]

    async def _head(self, conn: asyncpg.Connection, body_id: str) -> tuple[str, int]:
        sql = (
            "SELECT e.link, e.pos FROM events e JOIN meetings m ON m.id = e.meeting_id "
            "WHERE m.body_id = $1 AND e.link IS NOT NULL ORDER BY e.pos DESC LIMIT 1"
        )
        row = await conn.fetchrow(sql, body_id)
        return (row[0], row[1] + 1) if row else ("", 0)

    async def _append(
        self, conn: asyncpg.Connection, body_id: str, meeting_id: str, next_seq: int, source: str, events: list[Event]
    ) -> tuple[str, int]:
        head, length = self.heads.get(body_id) or await self._head(conn, body_id)
        rows, head_after = event_rows(meeting_id, next_seq, source, events, head, length)
        await conn.executemany(
            "INSERT INTO events (meeting_id, seq, kind, at, actor, source, data, pos, link) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            rows,
        )
        return head_after

    async def save_snapshot(self, meeting_id: str, seq: int, version: str, state: bytes) -> None:
        async with self.writing:
            await self.pool.execute(
                "INSERT INTO snapshots (meeting_id, seq, version, state) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (meeting_id) DO UPDATE SET seq = excluded.seq, version = excluded.version, "
                "state = excluded.state",
                meeting_id,
                seq,
                version,
                state,
            )

    async def mark_sent(self, sent: dict[int, str]) -> None:
        async with self.writing, self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "UPDATE outbox SET sent_event_id = $1 WHERE id = $2", [(ev, i) for i, ev in sent.items()]
            )

    async def flush(self) -> None:
        async with self.writing:
            pending = dict(self.pending)
            if pending:
                async with self.pool.acquire() as conn, conn.transaction():
                    await _write_settings(conn, pending)
            self._written(pending)

    async def set_setting(self, key: str, value: str) -> None:
        async with self.writing, self.pool.acquire() as conn:
            await _write_settings(conn, {key: value})

    async def forget_setting(self, key: str) -> None:
        async with self.writing:
            await self.pool.execute("DELETE FROM settings WHERE key = $1", key)

    async def dump(self) -> Dump:
        """Every row, read in one snapshot of the database."""
        queries = {
            "meetings": "SELECT id, body_id, created_at, roster FROM meetings ORDER BY ord",
            "events": "SELECT meeting_id, seq, kind, at, actor, source, data, hash, pos, link FROM events "
            "ORDER BY meeting_id, seq",
            "handled": "SELECT source, room_id, at FROM handled ORDER BY source",
            "outbox": "SELECT id, room_id, kind, content, attachment_name, attachment_text, attachment_bytes, tag, "
            "sent_event_id FROM outbox ORDER BY id",
            "settings": "SELECT key, value FROM settings ORDER BY key",
            "snapshots": "SELECT meeting_id, seq, version, state FROM snapshots ORDER BY meeting_id",
        }
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            rows = {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in queries.items()}
        rows["outbox"] = [
            (*r[:5], r[5] if r[6] is None else bytes(r[6]), *r[7:]) for r in rows["outbox"]
        ]  # as given: text or bytes
        rows["snapshots"] = [(*r[:3], bytes(r[3])) for r in rows["snapshots"]]
        return Dump(**rows)

    async def load(self, dump: Dump) -> None:
        """A copy of another store's rows into this one, which must be empty, in one transaction.
        The outbox keeps its ids (the transaction ids of answers already sent), and its sequence
        goes on after them."""
        async with self.writing, self.pool.acquire() as conn, conn.transaction():
            for table in ("meetings", "handled", "outbox", "settings"):
                if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                    raise ValueError(f"måldatabasen är inte tom (tabellen {table} har rader)")
            await conn.executemany(
                "INSERT INTO meetings (id, body_id, created_at, roster) VALUES ($1, $2, $3, $4)", dump.meetings
            )
            await conn.executemany(
                "INSERT INTO events (meeting_id, seq, kind, at, actor, source, data, hash, pos, link) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                dump.events,
            )
            await conn.executemany("INSERT INTO handled (source, room_id, at) VALUES ($1, $2, $3)", dump.handled)
            await conn.executemany(
                "INSERT INTO outbox (id, room_id, kind, content, attachment_name, attachment_text, attachment_bytes, "
                "tag, sent_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                [
                    (
                        *r[:5],
                        r[5] if isinstance(r[5], str) else None,
                        r[5] if isinstance(r[5], bytes) else None,
                        *r[6:],
                    )
                    for r in dump.outbox
                ],
            )
            await conn.execute("SELECT setval('outbox_id_seq', COALESCE((SELECT MAX(id) FROM outbox), 0) + 1, false)")
            await _write_settings(conn, dict(dump.settings))
            await conn.executemany(
                "INSERT INTO snapshots (meeting_id, seq, version, state) VALUES ($1, $2, $3, $4)", dump.snapshots
            )
        self.heads.clear()
        self.body_of.clear()


async def _insert_outgoing(conn: asyncpg.Connection, outgoing: list[Outgoing]) -> None:
    if not outgoing:
        return
    await conn.executemany(
        "INSERT INTO outbox (room_id, kind, content, attachment_name, attachment_text, attachment_bytes, tag) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (
                o.room_id,
                o.kind,
                json.dumps(o.content),
                o.attachment_name,
                o.attachment if isinstance(o.attachment, str) else None,
                o.attachment if isinstance(o.attachment, bytes) else None,
                o.tag,
            )
            for o in outgoing
        ],
    )


async def _write_settings(conn: asyncpg.Connection, values: dict[str, Any]) -> None:
    if not values:
        return
    await conn.executemany(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        list(values.items()),
    )
