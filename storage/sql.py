"""What the SQL backends share, written once: the log and its chain, the outbox and the handled
marks, the settings, and the one transaction that stores a handled command with all of it
(`SqlStore.record`). A backend (`storage.sqlite`, `storage.postgres`) gives the connection, as
`Sql` (statements with `?` placeholders, rows as tuples), its transactions, its migrations, and
the few places where its schema differs (`MEETING_ORDER`, how an attachment is kept).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, ClassVar, Protocol

from rules.state import Event
from storage.base import Anchor, Chain, Lagging, Outgoing, event_of, event_rows, walk


class Sql(Protocol):
    """A connection (or pool) as the shared code uses it: `?` placeholders, rows as tuples."""

    async def fetch(self, sql: str, *args: Any) -> list[tuple]: ...
    async def execute(self, sql: str, *args: Any) -> None: ...
    async def executemany(self, sql: str, rows: Sequence[tuple]) -> None: ...


async def one(db: Sql, sql: str, *args: Any) -> tuple | None:
    rows = await db.fetch(sql, *args)
    return rows[0] if rows else None


class _Backend:
    """What every part below needs of the backend."""

    sql: Sql  # for reads; every write goes through `_transaction`, which a standby's lease fences
    # One write at a time: the chain's head is read and extended by one, and SQLite's one
    # connection must not have a statement land inside another's transaction.
    writing: asyncio.Lock
    MEETING_ORDER: ClassVar[str]  # the column that keeps the order meetings were stored in

    def _transaction(self) -> AbstractAsyncContextManager[Sql]:
        """A transaction: committed when the block ends, rolled back if it raises (on PostgreSQL,
        refused unless this process still holds the lease: `storage.lease.Lease.fence`)."""
        raise NotImplementedError


class Log(_Backend):
    """The meetings, their append-only event logs chained per body, and the snapshots."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[str, int]] = {}  # each body's last link and length, once read or written
        self.body_of: dict[str, str] = {}  # meeting id -> its body's id, once read

    async def meetings(self) -> list[tuple[str, str, str | None]]:
        rows = await self.sql.fetch(f"SELECT id, body_id, roster FROM meetings ORDER BY {self.MEETING_ORDER}")
        return [(r[0], r[1], r[2]) for r in rows]

    async def events(self, meeting_id: str, after: int = 0) -> list[Event]:
        sql = "SELECT kind, at, actor, data FROM events WHERE meeting_id = ? AND seq >= ? ORDER BY seq"
        return [event_of(*row) for row in await self.sql.fetch(sql, meeting_id, after)]

    async def check(self, body_id: str) -> Chain:
        sql = (
            "SELECT e.meeting_id, e.seq, e.kind, e.at, e.actor, e.source, e.data, e.hash, e.pos, e.link "
            "FROM events e JOIN meetings m ON m.id = e.meeting_id WHERE m.body_id = ? ORDER BY e.pos NULLS LAST"
        )
        return walk(await self.sql.fetch(sql, body_id))

    async def snapshot(self, meeting_id: str, version: str) -> tuple[int, bytes] | None:
        row = await one(
            self.sql, "SELECT seq, state FROM snapshots WHERE meeting_id = ? AND version = ?", meeting_id, version
        )
        return (row[0], bytes(row[1])) if row else None

    async def save_snapshot(self, meeting_id: str, seq: int, version: str, state: bytes) -> None:
        async with self.writing, self._transaction() as tx:
            await tx.execute(
                "INSERT INTO snapshots (meeting_id, seq, version, state) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (meeting_id) DO UPDATE SET seq = excluded.seq, version = excluded.version, "
                "state = excluded.state",
                meeting_id,
                seq,
                version,
                state,
            )

    async def _body_of(self, db: Sql, meeting_id: str) -> str:
        if meeting_id not in self.body_of:
            row = await one(db, "SELECT body_id FROM meetings WHERE id = ?", meeting_id)
            if row is None:
                raise KeyError(f"sammanträdet {meeting_id} finns inte i databasen")
            self.body_of[meeting_id] = row[0]
        return self.body_of[meeting_id]

    async def _head(self, db: Sql, body_id: str) -> tuple[str, int]:
        """The body's chain as stored: its last link and its length."""
        sql = (
            "SELECT e.link, e.pos FROM events e JOIN meetings m ON m.id = e.meeting_id "
            "WHERE m.body_id = ? AND e.link IS NOT NULL ORDER BY e.pos DESC LIMIT 1"
        )
        row = await one(db, sql, body_id)
        return (row[0], row[1] + 1) if row else ("", 0)

    async def _append(
        self, db: Sql, body_id: str, meeting_id: str, next_seq: int, source: str, events: list[Event]
    ) -> tuple[str, int]:
        """The events added, chained on to the body's last; returns its new head and length."""
        head, length = self.heads.get(body_id) or await self._head(db, body_id)
        rows, head_after = event_rows(meeting_id, next_seq, source, events, head, length)
        await db.executemany(
            "INSERT INTO events (meeting_id, seq, kind, at, actor, source, data, pos, link) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return head_after


class Outbox(_Backend):
    """The answers the bot owes until the homeserver has taken them, and the sources handled."""

    ATTACHMENT: ClassVar[tuple[str, ...]]  # the outbox's columns that keep an attachment

    @staticmethod
    def _attachment_columns(attachment: str | bytes | None) -> tuple:
        """An attachment as its columns keep it."""
        raise NotImplementedError

    @staticmethod
    def _attachment_of(columns: tuple) -> str | bytes | None:
        """An attachment from its columns, as it was given."""
        raise NotImplementedError

    async def is_handled(self, source: str) -> bool:
        return await one(self.sql, "SELECT 1 FROM handled WHERE source = ?", source) is not None

    async def applied(self, source: str) -> bool:
        return await one(self.sql, "SELECT 1 FROM events WHERE source = ? LIMIT 1", source) is not None

    async def unsent(self) -> list[Outgoing]:
        """What is owed, as committed: never an answer of a command whose transaction is open
        (SQLite's one connection would see it), so it is read between writes."""
        width = len(self.ATTACHMENT)
        sql = (
            f"SELECT id, room_id, kind, content, attachment_name, tag, {', '.join(self.ATTACHMENT)} FROM outbox "
            "WHERE sent_event_id IS NULL ORDER BY id"
        )
        async with self.writing:
            rows = await self.sql.fetch(sql)
        return [
            Outgoing(room, kind, json.loads(content), name, self._attachment_of(tuple(rest[:width])), tag, id)
            for id, room, kind, content, name, tag, *rest in rows
        ]

    async def tag_of(self, event_id: str) -> str | None:
        """The tag of a message the bot sent (to recognise a ✅ on a check message)."""
        row = await one(self.sql, "SELECT tag FROM outbox WHERE sent_event_id = ? LIMIT 1", event_id)
        return row[0] if row else None

    async def event_of_tag(self, tag: str) -> str:
        """The event id of the message the bot sent with `tag` ("" if not sent)."""
        sql = "SELECT sent_event_id FROM outbox WHERE tag = ? AND sent_event_id IS NOT NULL ORDER BY id LIMIT 1"
        row = await one(self.sql, sql, tag)
        return row[0] if row else ""

    async def mark_sent(self, sent: dict[int, str]) -> None:
        """Answers the homeserver took (outbox id -> its event id), marked in one transaction."""
        rows = [(event_id, outbox_id) for outbox_id, event_id in sent.items()]
        update = "UPDATE outbox SET sent_event_id = ? WHERE id = ?"
        async with self.writing, self._transaction() as tx:
            await tx.executemany(update, rows)

    async def _insert_outgoing(self, db: Sql, outgoing: list[Outgoing]) -> None:
        if not outgoing:
            return
        columns = ("room_id", "kind", "content", "attachment_name", "tag", *self.ATTACHMENT)
        await db.executemany(
            f"INSERT INTO outbox ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [
                (
                    o.room_id,
                    o.kind,
                    json.dumps(o.content),
                    o.attachment_name,
                    o.tag,
                    *self._attachment_columns(o.attachment),
                )
                for o in outgoing
            ],
        )


async def write_settings(db: Sql, values: dict[str, str]) -> None:
    if values:
        await db.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )


class Settings(_Backend, Lagging):
    """Small settings (the sync token, the login, a direct room), some of them lagging (`Lagging`)."""

    async def setting(self, key: str) -> str | None:
        row = await one(self.sql, "SELECT value FROM settings WHERE key = ?", key)
        return row[0] if row else None

    async def set_setting(self, key: str, value: str) -> None:
        async with self.writing, self._transaction() as tx:
            await write_settings(tx, {key: value})

    async def forget_setting(self, key: str) -> None:
        async with self.writing, self._transaction() as tx:
            await tx.execute("DELETE FROM settings WHERE key = ?", key)

    async def flush(self) -> None:
        async with self.writing:
            pending = dict(self.pending)
            if pending:
                async with self._transaction() as tx:
                    await write_settings(tx, pending)
            self._written(pending)


class _HandledBefore(Exception):
    """The source was handled before: its transaction is rolled back, and `record` is False."""


class SqlStore(Log, Outbox, Settings):
    """A store over SQL, the backend's connection given as `sql` and `_transaction`."""

    def __init__(self) -> None:
        Log.__init__(self)
        Lagging.__init__(self)
        self.writing = asyncio.Lock()

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
        """Store one handled command (or timer) atomically, with the lagging settings. False if
        `source` was handled before; any other failure (a full disk, a locked or read-only file,
        a lost server, a constraint) raises, and nothing of it is stored. `anchor` makes, from
        the body's chain after these events, the message that posts it in the room, owed in the
        same transaction."""
        async with self.writing:
            head = None
            try:
                async with self._transaction() as tx:
                    new = await tx.fetch(
                        "INSERT INTO handled (source, room_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
                        source,
                        room_id,
                        at.isoformat(),
                    )
                    if not new:
                        raise _HandledBefore
                    if meeting:
                        await tx.execute(
                            "INSERT INTO meetings (id, body_id, created_at, roster) VALUES (?, ?, ?, ?)",
                            meeting[0],
                            meeting[1],
                            at.isoformat(),
                            meeting[2],
                        )
                    if events:
                        assert meeting_id is not None
                        body_id = await self._body_of(tx, meeting_id)
                        head = await self._append(tx, body_id, meeting_id, next_seq, source, events)
                        if anchor:
                            outgoing = [*outgoing, anchor(Anchor(head[1], head[0]))]
                    await self._insert_outgoing(tx, outgoing)
                    pending = dict(self.pending)
                    await write_settings(tx, pending)
            except _HandledBefore:  # rolled back
                return False
            self._written(pending)
            if head:
                self.heads[body_id] = head
            return True
