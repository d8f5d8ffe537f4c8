"""What the shell and the command line need of a store, whichever database holds it: the
`Store` protocol, the records it takes and gives, and the hash chain, which is the same on
every backend (a row hashes to the same link in SQLite and PostgreSQL, so a copy verifies).

Every backend keeps the same promise: one transaction holds a command's events, its answers,
the mark that its source was handled and the lagging settings (the sync token), so after a
crash either all of it is there or none, and a command is applied exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from rules.state import Event


def chain(prev: str, meeting_id: str, seq: int, kind: str, at: str, actor: str, source: str, data: str) -> str:
    """An event's link: SHA-256 over the previous link (of the body's previous event, whichever
    meeting it was in) and the row exactly as stored."""
    row = json.dumps([prev, meeting_id, seq, kind, at, actor, source, data], ensure_ascii=False)
    return hashlib.sha256(row.encode()).hexdigest()


def newer_schema(version: int, known: int) -> RuntimeError:
    return RuntimeError(
        f"Databasen har schemaversion {version}, nyare än den här versionen av boten ({known}). Uppgradera boten."
    )


class Unavailable(Exception):
    """The database server cannot be reached or refuses the bot (its words say which)."""


@dataclass(frozen=True)
class Break:
    """Where a body's stored log stops being what was written."""

    meeting_id: str
    seq: int
    kind: str
    why: str


@dataclass(frozen=True)
class Anchor:
    """A body's chain as the bot posted it in the room: its length and its head then."""

    length: int
    head: str


@dataclass(frozen=True)
class Chain:
    """A body's stored log read against its chain: where it breaks, and the chain its rows give
    when recomputed (`links[n - 1]` is the head after n events), to hold against the anchors."""

    breaks: list[Break]
    links: list[str]
    kinds: list[str]  # each event's kind, in the chain's order
    upgraded: int  # how many of the first events were stored before the body-wide chain


@dataclass(frozen=True)
class Outgoing:
    """A message or reaction the bot owes, kept until the homeserver has taken it."""

    room_id: str
    kind: str  # "m.room.message" | "m.reaction" | "file" (attachment, sent as an m.file message)
    content: dict[str, Any]
    attachment_name: str | None = None
    attachment: str | bytes | None = None  # text (md, ics) or bytes (PDF)
    tag: str = ""
    id: int = 0


# A stored event row as the chain reads it, in the body's order: meeting_id, seq, kind, at, actor,
# source, data (as stored), the per-meeting hash of before the body-wide chain, pos, link.
Row = tuple[str, int, str, str, str, str, str, str | None, int | None, str | None]


def walk(rows: Iterable[Row]) -> Chain:
    """A body's log against its chain: every place where the stored rows do not follow the
    chain or their numbering (an event changed, removed or inserted after it was written, a
    meeting deleted), and the chain the rows give, for the anchors in the room. Rows from
    before the body-wide chain are also held against their meeting's own chain."""
    out: list[Break] = []
    links: list[str] = []
    kinds: list[str] = []
    upgraded = 0
    stored_prev = computed = ""
    expected = 0  # the next position in the body's chain
    seqs: dict[str, int] = {}  # each meeting's next seq
    legacy: dict[str, str] = {}  # each meeting's last per-meeting hash
    for mid, seq, kind, at, actor, source, data, old, pos, link in rows:
        row = (mid, seq, kind, at, actor, source, data)
        if pos is None:
            out.append(Break(mid, seq, kind, "händelsen står utanför organets kedja (tillagd i efterhand)"))
        elif pos != expected:
            missing = f"{expected}" if pos == expected + 1 else f"{expected}–{pos - 1}"
            out.append(Break(mid, seq, kind, f"organets händelse {missing} saknas (borttagen, med sitt sammanträde?)"))
        if seq != seqs.get(mid, 0):
            out.append(Break(mid, seq, kind, f"händelse {seqs.get(mid, 0)} saknas (nästa är {seq})"))
        if link != chain(stored_prev, *row):
            out.append(Break(mid, seq, kind, "innehållet stämmer inte med kedjan (ändrat i efterhand)"))
        if old is not None and old != chain(legacy.get(mid, ""), *row):
            out.append(Break(mid, seq, kind, "innehållet stämmer inte med sammanträdets kedja (ändrat i efterhand)"))
        computed = chain(computed, *row)
        links.append(computed)
        kinds.append(kind)
        upgraded += old is not None
        stored_prev, seqs[mid], expected = link or "", seq + 1, (expected if pos is None else pos) + 1
        if old is not None:
            legacy[mid] = old
    return Chain(out, links, kinds, upgraded)


def event_rows(
    meeting_id: str, next_seq: int, source: str, events: list[Event], head: str, length: int
) -> tuple[list[tuple], tuple[str, int]]:
    """The rows of events added to a body's chain after (`head`, `length`): meeting_id, seq,
    kind, at, actor, source, data, pos, link; and the chain's new head and length."""
    rows = []
    for i, e in enumerate(events):
        fields = (meeting_id, next_seq + i, e.kind, e.at.isoformat(), e.actor, source, json.dumps(e.data))
        head = chain(head, *fields)
        rows.append((*fields, length, head))
        length += 1
    return rows, (head, length)


def event_of(kind: str, at: str, actor: str, data: str) -> Event:
    return Event(kind, datetime.fromisoformat(at), actor, json.loads(data))


@dataclass
class Dump:
    """A whole store's rows, as stored, to copy into another backend (`bot.py flytta`). Each row
    is a tuple in the column order named; attachments are str or bytes as they were given."""

    meetings: list[tuple]  # id, body_id, created_at, roster; oldest first
    events: list[tuple]  # meeting_id, seq, kind, at, actor, source, data, hash, pos, link
    handled: list[tuple]  # source, room_id, at
    outbox: list[tuple]  # id, room_id, kind, content, attachment_name, attachment, tag, sent_event_id
    settings: list[tuple]  # key, value
    snapshots: list[tuple]  # meeting_id, seq, version, state

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in vars(self).items()}


class Lagging:
    """The settings that may lag (the sync token): written with the next command's transaction
    or by `flush`, not in a transaction of their own each time. Shared by the backends."""

    def __init__(self) -> None:
        self.pending: dict[str, str] = {}

    def remember(self, key: str, value: str) -> None:
        """A setting that may lag behind: stored with the next transaction, or at `flush`."""
        self.pending[key] = value

    def _written(self, pending: dict[str, str]) -> None:
        """What a committed transaction wrote of the lagging settings is no longer pending
        (unless it changed meanwhile)."""
        for key, value in pending.items():
            if self.pending.get(key) == value:
                del self.pending[key]


class Serving(Protocol):
    """Whether this process serves, of the bot processes that share the database: one serves,
    the others stand by (PostgreSQL, `storage.lease`); alone on its file, a process always serves."""

    def serving(self) -> bool:
        """May this process write, send and sync now (it holds the lease, renewed in time)?"""
        ...

    async def serve(self, stop: asyncio.Event) -> bool:
        """Stand by until this process serves (True), or until `stop` (False)."""
        ...

    async def hold(self, stop: asyncio.Event) -> None:
        """Keep serving until `stop`; returns early when another process took over (step down)."""
        ...

    async def processes(self) -> list[tuple[str, str, int, bool, float]]:
        """`bot.py check`: each process that serves or stands by: (holder, host, pid, serving,
        seconds since it was heard from), the one that serves first."""
        ...


class Alone:
    """The one process on its own database (SQLite): it always serves."""

    def serving(self) -> bool:
        return True

    async def serve(self, stop: asyncio.Event) -> bool:
        return True

    async def hold(self, stop: asyncio.Event) -> None:
        await stop.wait()

    async def processes(self) -> list[tuple[str, str, int, bool, float]]:
        return []


class Store(Protocol):
    """A meeting log's store, as the shell, the transport and the command line use it."""

    lease: Serving

    async def close(self) -> None: ...

    # --- reading

    async def meetings(self) -> list[tuple[str, str, str | None]]:
        """Each meeting, oldest first: its id, its body's and the body's configuration (JSON) it
        was convened with (None for meetings stored before rosters were kept)."""
        ...

    async def events(self, meeting_id: str, after: int = 0) -> list[Event]:
        """The meeting's events from number `after` on (0: all)."""
        ...

    async def check(self, body_id: str) -> Chain:
        """A body's log against its chain (see `walk`)."""
        ...

    async def snapshot(self, meeting_id: str, version: str) -> tuple[int, bytes] | None:
        """The meeting's saved state of this version, and how many events it folds."""
        ...

    async def is_handled(self, source: str) -> bool: ...

    async def applied(self, source: str) -> bool:
        """Did `source` change a meeting (are there events of it in the log)?"""
        ...

    async def unsent(self) -> list[Outgoing]:
        """What is owed, as committed: never an answer of a command whose transaction is open."""
        ...

    async def tag_of(self, event_id: str) -> str | None:
        """The tag of a message the bot sent (to recognise a ✅ on a check message)."""
        ...

    async def event_of_tag(self, tag: str) -> str:
        """The event id of the message the bot sent with `tag` ("" if not sent)."""
        ...

    async def setting(self, key: str) -> str | None: ...

    # --- writing

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
        `source` was handled before; any other failure raises, and nothing of it is stored.
        `meeting` (id, body id, roster JSON) is a meeting the events begin; `anchor` makes, from
        the body's chain after these events, the message that posts it in the room, owed in the
        same transaction."""
        ...

    async def save_snapshot(self, meeting_id: str, seq: int, version: str, state: bytes) -> None: ...

    async def mark_sent(self, sent: dict[int, str]) -> None:
        """Answers the homeserver took (outbox id -> its event id), marked in one transaction."""
        ...

    def remember(self, key: str, value: str) -> None:
        """A setting that may lag behind (the sync token): stored with the next `record`, or at
        `flush`."""
        ...

    async def flush(self) -> None: ...

    async def set_setting(self, key: str, value: str) -> None: ...

    async def forget_setting(self, key: str) -> None: ...

    # --- nio's key store (matrix.keystore), kept where a standby can take it over

    keeps_key_store: bool  # False: the key store is the local directory alone (SQLite)

    async def key_store(self) -> bytes | None:
        """The key store's saved copy (None: none saved)."""
        ...

    async def save_key_store(self, data: bytes) -> None: ...
