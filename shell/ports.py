"""What the shell needs of the world, as protocols: a store that keeps the log, the outbox and
the handled marks. The SQLite store (`storage.Store`) is one; any other backend fits if it keeps
these promises. (Declared here until `storage/` declares its own; the methods are the SQLite
store's, so the two agree.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rules.state import Event
    from storage import Anchor, Chain, Outgoing


class Store(Protocol):
    async def meetings(self) -> list[tuple[str, str, str | None]]: ...
    async def events(self, meeting_id: str, after: int = 0) -> list[Event]: ...
    async def snapshot(self, meeting_id: str, version: str) -> tuple[int, bytes] | None: ...
    async def save_snapshot(self, meeting_id: str, seq: int, version: str, state: bytes) -> None: ...
    async def is_handled(self, source: str) -> bool: ...
    async def unsent(self) -> list[Outgoing]: ...
    async def tag_of(self, event_id: str) -> str | None: ...
    async def event_of_tag(self, tag: str) -> str: ...
    async def check(self, body_id: str) -> Chain: ...
    async def mark_sent(self, sent: dict[int, str]) -> None: ...

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
        """One handled command (or timer) atomically: its handled mark, events and answers; False
        if `source` was handled before, and any other failure raises with nothing stored."""
        ...
