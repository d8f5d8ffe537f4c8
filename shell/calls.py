"""The room's call as the shell keeps it between the transport's changes: by the transport's key
(one per device or per person), who it is and the devices it says are in the call."""

from __future__ import annotations

from datetime import datetime

from rules.state import Meeting
from shell.ports import CallChanged, Device, Hand

Slots = dict[str, tuple[str, tuple[Device, ...]]]


def live(slots: Slots, now: datetime) -> list[tuple[str, Device]]:
    """Everyone's devices in the call now, from the call state by key (owner, devices), as
    (owner, device). Devices already expired are not in the call."""
    return [(who, d) for who, found in slots.values() for d in found if d.expires is None or d.expires > now]


def current(slots: Slots, user: str, now: datetime) -> dict[str, str | None]:
    """A user's devices in the call now: device -> its expiry as ISO time, or None."""
    return {d.device: d.expires.isoformat() if d.expires else None for who, d in live(slots, now) if who == user}


def on_own_membership(slots: Slots, events: dict[str, str], hand: Hand) -> bool:
    """Is a raised hand on its sender's own membership as the call stands now (`events`: each
    key's current membership event), not someone else's, nor one replaced or left since?"""
    key = next((k for k, ev in events.items() if ev == hand.on), None)
    owner, found = slots.get(key, ("", ())) if key is not None else ("", ())
    return owner == hand.sender and any(d.expires is None or d.expires > hand.at for d in found)


def kept(change: CallChanged, m: Meeting) -> tuple[Device, ...]:
    """What an unreadable change leaves standing when nothing was read for its key before it (at
    a start): the devices the key stood for as the meeting last recorded them."""
    logged = m.in_call.get(change.owner, {})
    return tuple(
        Device(d, datetime.fromisoformat(e) if e else None) for d, e in logged.items() if change.device in (None, d)
    )


def users(slots: Slots, m: Meeting | None) -> list[str]:
    """Everyone the call state or the meeting has in the call."""
    return list(dict.fromkeys([*(who for who, _ in slots.values()), *(m.in_call if m else ())]))
