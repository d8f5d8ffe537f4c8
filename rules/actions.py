"""What a person asks of the meeting (a parsed command), and what the rules answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rules.citations import Rule
from rules.events import check

_QUOTED = re.compile(r"(«[^»]*»)")  # what a person wrote, as a refusal quotes it


@dataclass(frozen=True)
class AgendaItem:
    n: int
    title: str
    klass: str = ""  # "", personuppgifter, sekretess, säkerhetsskydd
    dnr: str = ""  # the diarienummer, "Dnr KS 2026/123", or none


@dataclass(frozen=True)
class Convening:
    start: datetime  # naive: wall-clock time on the body's clock (Roster.tz)
    form: str  # distans | hybrid
    motivation: str
    agenda: tuple[AgendaItem, ...]


@dataclass(frozen=True)
class Command:
    """One command, as parsed from chat. `name` is the canonical Swedish command word."""

    name: str
    actor: str
    people: tuple[str, ...] = ()
    text: str = ""
    number: int | None = None
    word: str = ""  # a keyword argument: ljud/bild, återta, sluten
    convening: Convening | None = None
    options: tuple[str, ...] = ()  # a vote's proposals: Ja/A, Nej/B
    counts: tuple[tuple[str, int], ...] = ()  # a closed vote's counted ballots: a, b, blanka
    lot: int = 0  # drawn by the shell with a CSPRNG, for a tied election
    answers: tuple[str, int] | None = None  # (meeting, check) a ✅ reaction was given on
    # A hand raised in the call asks for the floor as !ordet does: the event that raised it (with
    # `återta`, the hand lowered), handed in once the shell found it on the sender's own membership.
    hand: str = ""
    event_id: str = ""  # the Matrix event the command came in (a signature records it)
    fingerprint: str = ""  # for !justera: the shell's SHA-256 of the protocol (or paragraph) now
    typed_fingerprint: str = ""  # !justera FINGERAVTRYCK: the hex digits the signer typed
    room_encrypted: bool = True  # the shell's fact: is the meeting room end-to-end encrypted (§ 2)
    error: str = ""  # set when the arguments could not be read; the rules refuse it


@dataclass(frozen=True)
class Reply:
    text: str
    mentions: tuple[str, ...] = ()
    reply: bool = True  # in reply to the command, or a message of its own
    tag: str = ""  # names what the message asks for, so a ✅ on it answers that ("check:MEETING:N")
    attach: str = ""  # "protocol" or "calendar": a file rendered from the meeting after the events


@dataclass(frozen=True)
class Accepted:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)  # none: a ✅ reaction
    new_meeting: bool = False

    def __post_init__(self) -> None:
        for kind, data in self.events:  # nothing reaches the log that `rules.events` does not declare
            check(kind, data)


@dataclass(frozen=True)
class Refused:
    rule: Rule
    text: str

    @property
    def body(self) -> str:
        """The refusal as the room reads it: its rule first, and so never again after a reason in
        the text (the bot's words; what people wrote, quoted «…», stays as written)."""
        own = re.compile(rf" \({re.escape(self.rule)}\)(?=[.;,]|$)")
        parts = _QUOTED.split(self.text)
        text = "".join(part if k % 2 else own.sub("", part) for k, part in enumerate(parts))
        return f"⛔ {self.rule}: {text}"


Outcome = Accepted | Refused
