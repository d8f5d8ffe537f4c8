"""MatrixRTC call membership as Element Call writes it, read into who is in the call on which
device until when. Pure: the transport hands in state events, the shell keeps the result.

The forms read (matrix-js-sdk `CallMembership`, MSC4143 with MSC3401's event type):
- one state event per device, state key `_@user:server_DEVICE` (today's Element Call; the
  leading `_` lets a homeserver without MSC3757 accept it) or `@user:server_DEVICE` (MSC3757),
  content `{application: "m.call", call_id, scope, device_id, focus_active, foci_preferred,
  created_ts?, expires?}`; `expires` is milliseconds after `created_ts`, or after the event's
  own `origin_server_ts` when `created_ts` is absent;
- the older form, one state event per user (state key `@user:server`) whose content holds a
  `memberships` list of such entries, each with `expires` (relative as above) or `expires_ts`
  (absolute);
- an empty content: the device (or, for the older form, every device of the user) has left.
Only room calls of the application `m.call` count. The state key must name the sender: a
member cannot put someone else in or out of the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

CALL_MEMBER = "org.matrix.msc3401.call.member"


@dataclass(frozen=True)
class Device:
    device: str
    expires: datetime | None  # None: valid until the device leaves


def owner(state_key: str) -> str | None:
    """The user a call membership state key belongs to, or None if it names none."""
    key = state_key[1:] if state_key.startswith("_@") else state_key
    if not key.startswith("@") or ":" not in key:
        return None
    colon = key.index(":", 1)
    underscore = key.find("_", colon + 1)
    return key[:underscore] if underscore != -1 else key


def devices(state_key: str, content: dict[str, Any], sender: str, origin_ts_ms: int) -> list[Device] | None:
    """The devices this state event says its sender has in the room's call (empty: none), or
    None when the event is not the sender's own (it is then ignored)."""
    if owner(state_key) != sender:
        return None
    entries = content.get("memberships") if "memberships" in content else [content] if content else []
    if not isinstance(entries, list):
        return []
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("application") != "m.call":
            continue
        if not isinstance(entry.get("device_id"), str) or entry.get("scope", "m.room") != "m.room":
            continue
        out.append(Device(entry["device_id"], _expiry(entry, origin_ts_ms)))
    return out


def _expiry(entry: dict[str, Any], origin_ts_ms: int) -> datetime | None:
    created = entry.get("created_ts")
    created = created if isinstance(created, int | float) else origin_ts_ms
    if isinstance(entry.get("expires"), int | float):
        return _at(created + entry["expires"])
    if isinstance(entry.get("expires_ts"), int | float):
        return _at(entry["expires_ts"])
    return None


def _at(ms: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def current(slots: dict[str, tuple[str, list[Device]]], user: str, now: datetime) -> dict[str, str | None]:
    """A user's devices in the call now, from the call state by state key (owner, devices):
    device -> its expiry as ISO time, or None. Devices already expired are not in the call."""
    out: dict[str, str | None] = {}
    for who, found in slots.values():
        if who != user:
            continue
        for d in found:
            if d.expires is None or d.expires > now:
                out[d.device] = d.expires.isoformat() if d.expires else None
    return out
