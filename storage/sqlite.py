"""The SQLite store, through aiosqlite: the embedded default, one file and nothing to set up.
Each meeting's append-only event log, the outbox of answers, the sources already handled, and
small settings (sync token, login). See `storage.base` for what every store promises.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from rules.state import Event
from storage.base import Anchor, Chain, Dump, Lagging, Outgoing, chain, event_of, event_rows, newer_schema, walk

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


class SqliteStore(Lagging):
    def __init__(self, db: aiosqlite.Connection) -> None:
        super().__init__()
        self.db = db
        self.heads: dict[str, tuple[str, int]] = {}  # each body's last link and length, once read or written
        self.body_of: dict[str, str] = {}  # meeting id -> its body's id, once read
        # One connection serves the command being stored and the outbox marking what was sent:
        # every write takes its turn, so no statement lands inside another's transaction.
        self.writing = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: transactions are explicit (BEGIN IMMEDIATE in record()).
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
        async with self.db.execute(sql) as cur:
            bodies = [row[0] async for row in cur]
        for body_id in bodies:
            await self.db.execute("BEGIN IMMEDIATE")
            head, length = await self._head(body_id)
            sql = (
                "SELECT e.meeting_id, e.seq, e.kind, e.at, e.actor, e.source, e.data FROM events e "
                "JOIN meetings m ON m.id = e.meeting_id WHERE m.body_id = ? AND e.link IS NULL ORDER BY m.rowid, e.seq"
            )
            async with self.db.execute(sql, (body_id,)) as cur:
                rows = [row async for row in cur]
            updates = []
            for row in rows:
                head = chain(head, *row)
                updates.append((length, head, row[0], row[1]))
                length += 1
            await self.db.executemany("UPDATE events SET pos = ?, link = ? WHERE meeting_id = ? AND seq = ?", updates)
            await self.db.commit()
            for b in (await self.check(body_id)).breaks:  # said now, and by every verify from now on
                log.warning(
                    "Loggen för %s var bruten före uppgraderingen: %s händelse %s: %s",
                    body_id,
                    b.meeting_id,
                    b.seq,
                    b.why,
                )

    async def _head(self, body_id: str) -> tuple[str, int]:
        """The body's chain as stored: its last link and its length."""
        sql = (
            "SELECT e.link, e.pos FROM events e JOIN meetings m ON m.id = e.meeting_id "
            "WHERE m.body_id = ? AND e.link IS NOT NULL ORDER BY e.pos DESC LIMIT 1"
        )
        row = await self._one(sql, (body_id,))
        return (row[0], row[1] + 1) if row else ("", 0)

    # --- reading ----------------------------------------------------------------------------

    async def meetings(self) -> list[tuple[str, str, str | None]]:
        """Each meeting: its id, its body's and the body's configuration it was convened with."""
        async with self.db.execute("SELECT id, body_id, roster FROM meetings ORDER BY rowid") as cur:
            return [(r[0], r[1], r[2]) async for r in cur]

    async def _one(self, sql: str, params: tuple) -> Any:
        """The first row of a query, or None: one trip to the database thread, not three."""
        rows = await self.db.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def events(self, meeting_id: str, after: int = 0) -> list[Event]:
        """The meeting's events from number `after` on (0: all)."""
        sql = "SELECT kind, at, actor, data FROM events WHERE meeting_id = ? AND seq >= ? ORDER BY seq"
        async with self.db.execute(sql, (meeting_id, after)) as cur:
            return [event_of(*row) async for row in cur]

    async def snapshot(self, meeting_id: str, version: str) -> tuple[int, bytes] | None:
        sql = "SELECT seq, state FROM snapshots WHERE meeting_id = ? AND version = ?"
        row = await self._one(sql, (meeting_id, version))
        return (row[0], row[1]) if row else None

    async def save_snapshot(self, meeting_id: str, seq: int, version: str, state: bytes) -> None:
        async with self.writing:
            await self.db.execute(
                "INSERT INTO snapshots (meeting_id, seq, version, state) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(meeting_id) DO UPDATE SET seq = excluded.seq, version = excluded.version, "
                "state = excluded.state",
                (meeting_id, seq, version, state),
            )

    async def is_handled(self, source: str) -> bool:
        return await self._one("SELECT 1 FROM handled WHERE source = ?", (source,)) is not None

    async def unsent(self) -> list[Outgoing]:
        """What is owed, as committed: never an answer of a command whose transaction is open."""
        sql = (
            "SELECT id, room_id, kind, content, attachment_name, attachment, tag FROM outbox "
            "WHERE sent_event_id IS NULL ORDER BY id"
        )
        async with self.writing:
            rows = await self.db.execute_fetchall(sql)
        return [
            Outgoing(room, kind, json.loads(content), name, att, tag, id)
            for id, room, kind, content, name, att, tag in rows
        ]

    async def tag_of(self, event_id: str) -> str | None:
        """The tag of a message the bot sent (to recognise a ✅ on a check message)."""
        row = await self._one("SELECT tag FROM outbox WHERE sent_event_id = ?", (event_id,))
        return row[0] if row else None

    async def event_of_tag(self, tag: str) -> str:
        """The event id of the message the bot sent with `tag` ("" if not sent)."""
        sql = "SELECT sent_event_id FROM outbox WHERE tag = ? AND sent_event_id IS NOT NULL ORDER BY id LIMIT 1"
        row = await self._one(sql, (tag,))
        return row[0] if row else ""

    async def setting(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return row[0] if row else None

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
        """Store one handled command (or timer) atomically. False if `source` was handled
        before; any other failure (a full disk, a locked or read-only file, a constraint) raises,
        and nothing of it is stored. `anchor` makes, from the body's chain after these events,
        the message that posts it in the room, owed in the same transaction."""
        async with self.writing:
            head = None
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    await self.db.execute(
                        "INSERT INTO handled (source, room_id, at) VALUES (?, ?, ?)", (source, room_id, at.isoformat())
                    )
                except sqlite3.IntegrityError:  # handled before
                    await self.db.rollback()
                    return False
                if meeting:
                    await self.db.execute(
                        "INSERT INTO meetings (id, body_id, created_at, roster) VALUES (?, ?, ?, ?)",
                        (meeting[0], meeting[1], at.isoformat(), meeting[2]),
                    )
                if events:
                    assert meeting_id is not None
                    body_id = await self._body_of(meeting_id)
                    head = await self._append(body_id, meeting_id, next_seq, source, events)
                    if anchor:
                        outgoing = [*outgoing, anchor(Anchor(head[1], head[0]))]
                await self._insert_outgoing(outgoing)
                pending = await self._write_pending()
                await self.db.commit()
                self._written(pending)
                if head:
                    self.heads[body_id] = head
                return True
            except BaseException:
                if self.db.in_transaction:
                    await self.db.rollback()
                raise

    async def _body_of(self, meeting_id: str) -> str:
        if meeting_id not in self.body_of:
            row = await self._one("SELECT body_id FROM meetings WHERE id = ?", (meeting_id,))
            if row is None:
                raise KeyError(f"sammanträdet {meeting_id} finns inte i databasen")
            self.body_of[meeting_id] = row[0]
        return self.body_of[meeting_id]

    async def _append(
        self, body_id: str, meeting_id: str, next_seq: int, source: str, events: list[Event]
    ) -> tuple[str, int]:
        """The events added, chained on to the body's last; returns its new head and length."""
        head, length = self.heads.get(body_id) or await self._head(body_id)
        rows, head_after = event_rows(meeting_id, next_seq, source, events, head, length)
        await self.db.executemany(
            "INSERT INTO events (meeting_id, seq, kind, at, actor, source, data, pos, link) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return head_after

    async def check(self, body_id: str) -> Chain:
        sql = (
            "SELECT e.meeting_id, e.seq, e.kind, e.at, e.actor, e.source, e.data, e.hash, e.pos, e.link "
            "FROM events e JOIN meetings m ON m.id = e.meeting_id WHERE m.body_id = ? ORDER BY e.pos NULLS LAST"
        )
        return walk(await self.db.execute_fetchall(sql, (body_id,)))

    async def _insert_outgoing(self, outgoing: list[Outgoing]) -> None:
        if not outgoing:
            return
        await self.db.executemany(
            "INSERT INTO outbox (room_id, kind, content, attachment_name, attachment, tag) VALUES (?, ?, ?, ?, ?, ?)",
            [(o.room_id, o.kind, json.dumps(o.content), o.attachment_name, o.attachment, o.tag) for o in outgoing],
        )

    async def mark_sent(self, sent: dict[int, str]) -> None:
        """Answers the homeserver took (outbox id -> its event id), marked in one transaction."""
        async with self.writing:
            if len(sent) == 1:  # a statement is a transaction of its own
                ((outbox_id, event_id),) = sent.items()
                await self.db.execute("UPDATE outbox SET sent_event_id = ? WHERE id = ?", (event_id, outbox_id))
                return
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                await self.db.executemany(
                    "UPDATE outbox SET sent_event_id = ? WHERE id = ?", [(ev, i) for i, ev in sent.items()]
                )
                await self.db.commit()
            except BaseException:
                await self.db.rollback()
                raise

    async def flush(self) -> None:
        async with self.writing:
            self._written(await self._write_pending())

    async def _write_pending(self) -> dict[str, str]:
        """The lagging settings written (in the caller's transaction, if any); returns what was."""
        pending = dict(self.pending)
        await self._write_settings(pending)
        return pending

    async def _write_settings(self, values: dict[str, str]) -> None:
        if not values:
            return
        await self.db.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    async def forget_setting(self, key: str) -> None:
        async with self.writing:
            await self.db.execute("DELETE FROM settings WHERE key = ?", (key,))

    async def set_setting(self, key: str, value: str) -> None:
        async with self.writing:
            await self._write_settings({key: value})

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
                rows = {name: [tuple(r) for r in await self.db.execute_fetchall(sql)] for name, sql in queries.items()}
            finally:
                await self.db.rollback()
        return Dump(**rows)
