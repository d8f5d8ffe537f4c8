"""The shell's step bus: each committed step is published to whoever subscribed (the live view).

A stand-in with the interface of the shell package's bus (issue 21), which replaces it when merged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rules.state import Event, Meeting


@dataclass(frozen=True)
class Committed:
    body: str  # body id
    meeting: Meeting | None  # rules.state.Meeting after the step
    events: tuple[Event, ...]  # rules.state.Event appended by this step
    at: datetime


class Bus:
    def __init__(self) -> None:
        self._subscribers: list[Callable[[Committed], None]] = []

    def subscribe(self, fn: Callable[[Committed], None]) -> Callable[[], None]:
        """Call `fn` with every step committed from now on; returns the way to stop."""
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def publish(self, step: Committed) -> None:
        for fn in list(self._subscribers):
            fn(step)
