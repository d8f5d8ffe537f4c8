"""The imperative shell: takes what the transport hears, runs it through the engine, stores,
sends and schedules. No rule is decided here.

- `core.Shell`: the whole, wired together and run over a transport until stopped;
- `loop`: one command, tick or call change at a time: dedupe, tick, step, render, record, tell
  the bus, wake the outbox (its docstring has the order of effects);
- `bodies`: the bodies, their engines and meetings, snapshots and the rosters they were convened with;
- `answers`: what a step says in the room; `outbox`: sending what is owed;
- `timers`: what the meetings wait for; `admin`: `bot.py protokoll` and `bot.py verify`;
- `bus`: tells subscribers (a live view) of each committed step; `ports`: what the shell needs
  of a store.
"""

from shell.admin import check_meeting, verify
from shell.bus import Bus, Committed
from shell.core import Shell
from shell.words import NOT_RECORDED, TOO_BIG

__all__ = ["NOT_RECORDED", "TOO_BIG", "Bus", "Committed", "Shell", "check_meeting", "verify"]
