"""Tells subscribers of each committed step: a live view, a media source, a metrics exporter.

The loop publishes a step only after it is durably stored, and only a step that appended events
(a refusal, a question or a "not recorded" is never one). Subscribers run in the loop, one after
the other, so they must be quick (hand work to a task of their own); one that raises is logged and
never stops the loop or the others. `meeting` is the meeting as it stands after the step, the
loop's own object: read it during the call, copy what is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rules.state import Event, Meeting

log = logging.getLogger("distansbot")


@dataclass(frozen=True)
class Committed:
    body: str  # body id
    meeting: Meeting | None  # rules.state.Meeting after the step
    events: tuple[Event, ...]  # rules.state.Event appended by this step (never empty)
    at: datetime


class Bus:
    def __init__(self) -> None:
        self._subscribers: list[Callable[[Committed], None]] = []

    def subscribe(self, fn: Callable[[Committed], None]) -> Callable[[], None]:
        """`fn` is called with each committed step from now on; the function returned stops that."""
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def publish(self, step: Committed) -> None:
        for fn in list(self._subscribers):  # one that unsubscribes while called does not skip another
            try:
                fn(step)
            except Exception:
                log.exception("En prenumerant på sammanträdets händelser (%r) föll; loopen går vidare", fn)
