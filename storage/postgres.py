"""The PostgreSQL store, through asyncpg, for a kommun's IT that runs its services on
PostgreSQL (backed up, replicated). The same tables as the SQLite store, the same rows: every
text is stored as the bot wrote it (TEXT, never jsonb, which would reorder a JSON object), so
the hash chain reads the same on both and a copy from SQLite verifies.

asyncpg: asyncio-native (no thread per connection, as aiosqlite needs), well kept (MagicStack,
releases for every PostgreSQL and Python), and the fastest Python driver, with a pool that
replaces a connection lost when the server restarted. The code it shares with the SQLite store
is `storage.sql`'s.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from storage.base import Dump, Unavailable, newer_schema
from storage.lease import IDLE_IN_TRANSACTION_MS, Fenced, Lease
from storage.sql import Sql, SqlStore, write_settings

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
    # Standby (storage.lease): the one lease that lets a process serve, its holder and epoch
    # checked by every write in the write's own transaction; the processes that serve or stand
    # by; and nio's key store, for a standby to take over as the same device (matrix.keystore).
    """
    CREATE TABLE lease (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL DEFAULT '',
        epoch BIGINT NOT NULL DEFAULT 0,
        expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
    );
    INSERT INTO lease (name) VALUES ('serving');
    CREATE TABLE processes (
        holder TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        serving BOOLEAN NOT NULL,
        seen_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE keystore (
        name TEXT PRIMARY KEY,
        data BYTEA NOT NULL
    );
    """,
)

# The advisory lock under which one process migrates while the others (standby) wait.
MIGRATION_LOCK = 0x64697374  # "dist"

# What asyncpg raises when the server is away or refuses: the command is answered "not recorded".
ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

# How long a connection or a statement may take before the command is answered "not recorded".
CONNECT_SECONDS = 5
STATEMENT_SECONDS = 15


@functools.cache
def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1`, `$2`, … (no statement here has a `?` of its own)."""
    n = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(n)}", sql)


class _Connection:
    """An asyncpg connection or pool as `storage.sql.Sql`."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, *args: Any) -> list[tuple]:
        return [tuple(r) for r in await self.db.fetch(_numbered(sql), *args)]

    async def execute(self, sql: str, *args: Any) -> None:
        await self.db.execute(_numbered(sql), *args)

    async def executemany(self, sql: str, rows: Sequence[tuple]) -> None:
        await self.db.executemany(_numbered(sql), rows)


class PostgresStore(SqlStore):
    MEETING_ORDER = "ord"
    ATTACHMENT = ("attachment_text", "attachment_bytes")  # a column for each type

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self.pool = pool
        self.lease = Lease(pool, ERRORS)  # the right to serve, which every write checks (`Lease.fence`)
        # Reads on a connection of their own: they see only what is committed.
        self.sql: Sql = _Connection(pool)

    @staticmethod
    def _attachment_columns(attachment: str | bytes | None) -> tuple:
        return (
            attachment if isinstance(attachment, str) else None,
            attachment if isinstance(attachment, bytes) else None,
        )

    @staticmethod
    def _attachment_of(columns: tuple) -> str | bytes | None:
        text, blob = columns
        return text if blob is None else bytes(blob)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Sql]:
        async with self.pool.acquire() as conn, conn.transaction():
            await self.lease.fence(conn)
            yield _Connection(conn)

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
                server_settings={"idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS)},
            )
        except ERRORS as e:
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
        except (*ERRORS, Fenced):  # faulted, or taken over: they lag one start more (or are the other's)
            pass
        try:  # the lease free at once for a standby; a standby no longer listed
            await (self.lease.release() if self.lease.epoch is not None else self.lease.leave())
        except ERRORS:
            pass
        await self.pool.close()

    # nio's key store (matrix.keystore), where a standby on another machine takes it over.
    keeps_key_store = True

    async def key_store(self) -> bytes | None:
        data = await self.pool.fetchval("SELECT data FROM keystore WHERE name = 'nio'")
        return None if data is None else bytes(data)

    async def save_key_store(self, data: bytes) -> None:
        async with self.writing, self._transaction() as tx:
            await tx.execute(
                "INSERT INTO keystore (name, data) VALUES ('nio', ?) "
                "ON CONFLICT (name) DO UPDATE SET data = excluded.data",
                data,
            )

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
        # as given: text or bytes
        rows["outbox"] = [(*r[:5], self._attachment_of(r[5:7]), *r[7:]) for r in rows["outbox"]]
        rows["snapshots"] = [(*r[:3], bytes(r[3])) for r in rows["snapshots"]]
        return Dump(**rows)

    async def load(self, dump: Dump) -> None:
        """A copy of another store's rows into this one, which must be empty, in one transaction.
        The outbox keeps its ids (the transaction ids of answers already sent), and its sequence
        goes on after them."""
        async with self.writing, self._transaction() as tx:
            for table in ("meetings", "handled", "outbox", "settings"):
                if await tx.fetch(f"SELECT 1 FROM {table} LIMIT 1"):
                    raise ValueError(f"måldatabasen är inte tom (tabellen {table} har rader)")
            await tx.executemany(
                "INSERT INTO meetings (id, body_id, created_at, roster) VALUES (?, ?, ?, ?)", dump.meetings
            )
            await tx.executemany(
                "INSERT INTO events (meeting_id, seq, kind, at, actor, source, data, hash, pos, link) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                dump.events,
            )
            await tx.executemany("INSERT INTO handled (source, room_id, at) VALUES (?, ?, ?)", dump.handled)
            await tx.executemany(
                "INSERT INTO outbox (id, room_id, kind, content, attachment_name, attachment_text, attachment_bytes, "
                "tag, sent_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*r[:5], *self._attachment_columns(r[5]), *r[6:]) for r in dump.outbox],
            )
            await tx.execute("SELECT setval('outbox_id_seq', COALESCE((SELECT MAX(id) FROM outbox), 0) + 1, false)")
            await write_settings(tx, dict(dump.settings))
            await tx.executemany(
                "INSERT INTO snapshots (meeting_id, seq, version, state) VALUES (?, ?, ?, ?)", dump.snapshots
            )
        self.heads.clear()
        self.body_of.clear()
