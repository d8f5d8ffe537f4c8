"""The engine's ports as the bot fills them, the same for the shell, the test driver and the
benchmarks: only how a meeting is named (the shell: unique among the stored ones) and whether
the lot is drawn (the driver: a fixed one, so that a test's meeting is always the same) differ."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import commands
from minutes import protocol
from minutes import view as view_words
from rules.actions import Command
from rules.engine import Ports, default_name
from rules.roster import Roster
from rules.state import Meeting
from shell.ports import View


def draw() -> int:
    """A tied election is settled by lot (KL 5 kap. 56 §): the rules stay pure, so it is drawn
    outside them, from the operating system's CSPRNG; the event keeps it."""
    return secrets.randbelow(2**32)


def engine_ports(
    name_meeting: Callable[[Roster, Command], str] = default_name,
    lot: Callable[[], int] = draw,
    view: Callable[[], View | None] = lambda: None,
) -> Ports:
    """`view`: the live view as it is now (None without [web]), asked at each !vy."""

    def vy(m: Meeting | None, r: Roster, user: str) -> tuple[str, str]:
        served = view()
        refusal = view_words.vy_refusal(m, r, user, served is not None)
        if refusal:
            return refusal, ""
        assert m is not None and served is not None
        return view_words.VY_SENT, view_words.vy_link(m, r, served.link(r.body_id, m.id, user))

    def help_text(m: Meeting | None, r: Roster, user: str) -> str:
        return commands.help_text(m, r, user, view=view() is not None)

    # What a signature is on, or what the room is shown, is hashed from the log (minutes'); the
    # help lists what the command tables allow the person now (commands').
    return Ports(name_meeting, lot, protocol.fingerprint_of, protocol.FINGERPRINTED, help_text, vy)
