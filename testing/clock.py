"""The test stage's wall clock: Synapse and the bot run on it, and it can be moved forward.

Members are called to the time in the kallelse, and no item may be taken up before it (contract,
`!ärende`). A test that convenes a meeting and then decides in it would have to wait up to a minute
of real time for every meeting. Instead the homeserver and every bot process the tests start run
under libfaketime (Debian's `faketime`) reading one shared offset file, and `advance_to` moves
that clock forward for all of them at once, as if the time had passed: the homeserver stamps the
next messages with the later time, the bot's timers see it too. Nothing in the bot knows.
The monotonic clocks stay real (asyncio's and Twisted's waits keep working); only the calendar
time jumps, and only forward.
"""

from __future__ import annotations

import asyncio
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
# libfaketime rereads the file at most this often (seconds, counted in whole seconds):
# `advance_to` waits twice that, so that every process has read the new offset.
_REREAD = 1


class StageClock:
    def __init__(self, workdir: Path) -> None:
        if not LIBFAKETIME.exists():
            raise RuntimeError(
                f"{LIBFAKETIME} saknas: installera Debians paket faketime (apt-get install faketime); "
                "./test.sh gör det när det körs som root."
            )
        self.file = workdir / "faketime"
        self.offset = 0
        self._write()

    def _write(self) -> None:
        self.file.write_text(f"{self.offset:+.0f}\n")

    def env(self) -> dict[str, str]:
        """The environment of a process that runs on this clock."""
        return {
            **os.environ,
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME_TIMESTAMP_FILE": str(self.file),
            "FAKETIME_CACHE_DURATION": str(_REREAD),
            "DONT_FAKE_MONOTONIC": "1",
            # Debian's libfaketime 0.9.10 otherwise "fixes" every wait on the monotonic clock
            # (pthread_cond_timedwait) against the faked one, which made each hand-over between
            # two threads wait for the kernel's timer: 4 a second instead of 50,000, measured
            # with Python's queue.Queue. Synapse hands every database call to a thread, and so
            # does aiosqlite. (wolfcw/libfaketime#503, fixed upstream after 0.9.10.)
            "FAKETIME_FORCE_MONOTONIC_FIX": "0",
        }

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    async def advance_to(self, when: datetime) -> None:
        """Move the clock forward to `when` (never back), and wait until every process sees it."""
        ahead = (when - self.now()).total_seconds()
        if ahead <= 0:
            return
        self.offset += math.ceil(ahead) + 1  # whole seconds: libfaketime reads no fraction
        self._write()
        await asyncio.sleep(2 * _REREAD + 0.2)
