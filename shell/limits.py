"""How fast one person may send commands."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class RateLimiter:
    """At most `burst` commands per `window` from one person, by the messages' own timestamps, so
    one sender cannot flood the room or crowd out the others."""

    def __init__(self, burst: int, window: timedelta = timedelta(minutes=1)) -> None:
        self.burst, self.window = burst, window
        self.recent: dict[str, deque[datetime]] = {}
        self.told: dict[str, datetime] = {}

    def check(self, sender: str, now: datetime) -> bool | None:
        """None: go ahead. True: slow down, and say so. False: slow down, already said."""
        times = self.recent.setdefault(sender, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.burst:
            times.append(now)
            return None
        last = self.told.get(sender)
        if last is not None and now - last < self.window:
            return False
        self.told[sender] = now
        return True
