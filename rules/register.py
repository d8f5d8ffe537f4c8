"""The one table from command name to handler.

Each section module registers its handlers where they are written (`@handles("kalla")`), so a
new command touches its handler module, its row in `rules.tables`, its parser family in
`commands/` and its words, and nothing else. `rules.meeting` imports every section and checks,
when imported, that the handlers and the table's rows name the same commands.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rules.actions import Command, Outcome
from rules.model import Meeting
from rules.roster import Roster

Handler = Callable[[Meeting | None, Roster, Command, datetime], Outcome]

HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of the commands `names`."""

    def register(handler: Handler) -> Handler:
        for name in names:
            if name in HANDLERS:
                raise ValueError(f"two handlers for !{name}")
            HANDLERS[name] = handler
        return handler

    return register
