"""The SQLite store, through aiosqlite: the embedded default, one file and nothing to set up.
Each meeting's append-only event log, the outbox of answers, the sources already handled, and
small settings (sync token, login). See `storage.base` for what every store promises, and
`storage.sql` for the code it shares with the PostgreSQL store.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.base import Alone, Dump, chain, newer_schema
from storage.sql import Sql, SqlStore

log = logging.getLogger("distansbot")

# Each entry moves the schema one version up; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meetings (
        id TEXT PRIMARY KEY,
        body_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE events (
        meeting_id TEXT NOT NULL REFERENCES meetings(id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        source TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (meeting_id, seq)
    );
    CREATE TABLE handled (
        source TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        content TEXT NOT NULL,
        attachment_name TEXT,
        attachment TEXT,
        tag TEXT NOT NULL DEFAULT '',
        sent_event_id TEXT
    );
    CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_event_id IS NULL;
    CREATE INDEX outbox_sent ON outbox(sent_event_id);
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # A meeting's state folded up to `seq`, so that a start does not replay a long log; `version`
    # names the code and roster it was folded with, and a snapshot of another version is ignored.
    """
    CREATE TABLE snapshots (
        meeting_id TEXT PRIMARY KEY REFERENCES meetings(id),
        seq INTEGER NOT NULL,
        version TEXT NOT NULL,
        state BLOB NOT NULL
    );
    """,
    # Each event chained to the one before by hash (`chain`), so that a changed, removed or
    # inserted event shows; rows stored before this have theirs computed at the next start.
    """
    ALTER TABLE events ADD COLUMN hash TEXT;
    """,
    # The body's configuration a meeting was convened with (JSON), so that a roster changed later
    # never changes a meeting under way or a protocol already written; NULL before this.
    """
    ALTER TABLE meetings ADD COLUMN roster TEXT;
    """,
    # One chain per body across its meetings (`pos`, `link`), so that a meeting deleted whole
    # shows; rows stored before this are linked at the next start, in the body's order, and keep
    # their per-meeting `hash`, which `breaks` goes on checking: the re-linking hides nothing.
    """
    ALTER TABLE events ADD COLUMN pos INTEGER;
    ALTER TABLE events ADD COLUMN link TEXT;
    CREATE INDEX meetings_body ON meetings(body_id);
    """,
)


class _Connection:
    """aiosqlite's connection as `storage.sql.Sql`: its placeholders are SQLite's own."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, *args: Any) -> list[tuple]:
        return [tuple(r) for r in await self.db.execute_fetchall(sql, args)]

    async def execute(self, sql: str, *args: Any) -> None:
        await self.db.execute(sql, args)

    async def executemany(self, sql: str, rows: Sequence[tuple]) -> None:
        await self.db.executemany(sql, rows)


class SqliteStore(SqlStore):
    MEETING_ORDER = "rowid"
    ATTACHMENT = ("attachment",)  # text (md, ics) or bytes (PDF): SQLite keeps either in one column

    def __init__(self, db: aiosqlite.Connection) -> None:
        super().__init__()
        self.db = db
        self.sql: Sql = _Connection(db)
        self.lease = Alone()  # one file, one process: a standby needs PostgreSQL

    @staticmethod
    def _attachment_columns(attachment: str | bytes | None) -> tuple:
        return (attachment,)

    @staticmethod
    def _attachment_of(columns: tuple) -> str | bytes | None:
        return columns[0]

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Sql]:
        # Autocommit otherwise: a transaction is explicit, and takes the write lock of the file at once.
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.sql
            await self.db.commit()
        except BaseException:
            if self.db.in_transaction:
                await self.db.rollback()
            raise

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        store = cls(db)
        await store._migrate()
        return store

    async def close(self) -> None:
        try:
            await self.flush()
        except sqlite3.Error:  # the store is faulted: the lagging settings lag one start more
            pass
        await self.db.close()

    # nio's key store is the directory beside the file alone: nothing of it is kept here.
    keeps_key_store = False

    async def key_store(self) -> bytes | None:
        return None

    async def save_key_store(self, data: bytes) -> None:
        pass

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
        if version > len(MIGRATIONS):
            raise newer_schema(version, len(MIGRATIONS))
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self.db.executescript(f"BEGIN; {script} PRAGMA user_version = {number}; COMMIT;")
        await self._link_unlinked()

    async def _link_unlinked(self) -> None:
        """Link the rows stored before the body-wide chain into it, in the body's order (its
        meetings as stored, each in its own order). Their per-meeting `hash` stays as it was and
        is still checked (`check`), so a row changed before the upgrade is found after it too."""
        sql = "SELECT DISTINCT m.body_id FROM events e JOIN meetings m ON m.id = e.meeting_id WHERE e.link IS NULL"
        for (body_id,) in await self.sql.fetch(sql):
            async with self._transaction() as tx:
                head, length = await self._head(tx, body_id)
                sql = (
                    "SELECT e.meeting_id, e.seq, e.kind, e.at, e.actor, e.source, e.data FROM events e JOIN meetings m "
                    "ON m.id = e.meeting_id WHERE m.body_id = ? AND e.link IS NULL ORDER BY m.rowid, e.seq"
                )
                updates = []
                for row in await tx.fetch(sql, body_id):
                    head = chain(head, *row)
                    updates.append((length, head, row[0], row[1]))
                    length += 1
                await tx.executemany("UPDATE events SET pos = ?, link = ? WHERE meeting_id = ? AND seq = ?", updates)
            for b in (await self.check(body_id)).breaks:  # said now, and by every verify from now on
                log.warning(
                    "Loggen för %s var bruten före uppgraderingen: %s händelse %s: %s",
                    body_id,
                    b.meeting_id,
                    b.seq,
                    b.why,
                )

    async def dump(self) -> Dump:
        """Every row, read in one transaction (a consistent copy, also of a bot still running)."""
        queries = {
            "meetings": "SELECT id, body_id, created_at, roster FROM meetings ORDER BY rowid",
            "events": "SELECT meeting_id, seq, kind, at, actor, source, data, hash, pos, link FROM events "
            "ORDER BY meeting_id, seq",
            "handled": "SELECT source, room_id, at FROM handled ORDER BY rowid",
            "outbox": "SELECT id, room_id, kind, content, attachment_name, attachment, tag, sent_event_id FROM outbox "
            "ORDER BY id",
            "settings": "SELECT key, value FROM settings ORDER BY key",
            "snapshots": "SELECT meeting_id, seq, version, state FROM snapshots ORDER BY meeting_id",
        }
        async with self.writing:
            await self.db.execute("BEGIN")
            try:
                rows = {name: await self.sql.fetch(sql) for name, sql in queries.items()}
            finally:
                await self.db.rollback()
        return Dump(**rows)
