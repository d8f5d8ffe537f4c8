"""How an event kind is declared, and how the rules' events and the stored ones are held to the
declarations: `declare` makes a kind's frozen type and registers it in `EVENTS`; `check`, `of`
and `covers` read that register (see `rules.events`)."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar


class Absent:
    """The value of a field the stored data did not have, where that means "as it was"."""


ABSENT: Any = Absent()


class EventData:
    kind: ClassVar[str]


EVENTS: dict[str, type[EventData]] = {}
_FIELDS: dict[str, frozenset[str]] = {}
_REQUIRED: dict[str, frozenset[str]] = {}


def declare(kind: str):
    def declare(cls):
        cls = dataclass(frozen=True, kw_only=True, slots=True)(cls)
        cls.kind = kind
        EVENTS[kind] = cls
        _FIELDS[kind] = frozenset(f.name for f in fields(cls))
        _REQUIRED[kind] = frozenset(f.name for f in fields(cls) if MISSING is f.default is f.default_factory)
        return cls

    return declare


def check(kind: str, data: dict[str, Any]) -> None:
    """Raise if an event the rules emit is not as declared."""
    declared = _FIELDS.get(kind)
    if declared is None:
        raise ValueError(f"undeclared event kind {kind!r}")
    if not data.keys() <= declared or not _REQUIRED[kind] <= data.keys():
        extra, lacking = sorted(data.keys() - declared), sorted(_REQUIRED[kind] - data.keys())
        raise ValueError(f"event {kind!r}: undeclared fields {extra}, missing fields {lacking}")


def of(kind: str, data: dict[str, Any]) -> EventData:
    """Stored data read into its kind's type (a field no longer declared is left out)."""
    cls, declared = EVENTS[kind], _FIELDS[kind]
    return cls(**(data if data.keys() <= declared else {k: v for k, v in data.items() if k in declared}))


def covers(what: str, kinds) -> None:
    """Raise unless `kinds` (a fold's or a renderer's table) has exactly the declared kinds."""
    if set(kinds) != EVENTS.keys():
        raise RuntimeError(
            f"{what} does not cover the declared events: missing {sorted(EVENTS.keys() - set(kinds))}, "
            f"undeclared {sorted(set(kinds) - EVENTS.keys())}"
        )
