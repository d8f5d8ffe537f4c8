"""The engine's ports as the bot fills them, the same for the shell, the test driver and the
benchmarks: only how a meeting is named (the shell: unique among the stored ones) and whether
the lot is drawn (the driver: a fixed one, so that a test's meeting is always the same) differ."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import commands
from minutes import protocol
from rules.actions import Command
from rules.engine import Ports, default_name
from rules.roster import Roster


def draw() -> int:
    """A tied election is settled by lot (KL 5 kap. 56 §): the rules stay pure, so it is drawn
    outside them, from the operating system's CSPRNG; the event keeps it."""
    return secrets.randbelow(2**32)


def engine_ports(name_meeting: Callable[[Roster, Command], str] = default_name, lot: Callable[[], int] = draw) -> Ports:
    # What a signature is on, or what the room is shown, is hashed from the log (minutes'); the
    # help lists what the command tables allow the person now (commands').
    return Ports(name_meeting, lot, protocol.fingerprint_of, protocol.FINGERPRINTED, commands.help_text)
