"""MatrixRTC call membership as Element Call writes it, read into who is in the call on which
device until when, and handed to the shell as a neutral `CallChanged`. Pure: the client hands
in state events.

The forms read (matrix-js-sdk `CallMembership`, MSC4143 with MSC3401's event type):
- one state event per device, state key `_@user:server_DEVICE` (today's Element Call; the
  leading `_` lets a homeserver without MSC3757 accept it) or `@user:server_DEVICE` (MSC3757),
  content `{application: "m.call", call_id, scope, device_id, focus_active, foci_preferred,
  created_ts?, expires?, membershipID?}`; `expires` is milliseconds after `created_ts`, or after
  the event's own `origin_server_ts` when `created_ts` is absent; `membershipID` is the
  membership's own id, which a hashed media-server identity is made from (`CallMember.member_id`;
  matrix-js-sdk `SessionMembershipData.membershipID`, `CallMembership.memberId`);
- the older form, one state event per user (state key `@user:server`) whose content holds a
  `memberships` list of such entries, each with `expires` (relative as above) or `expires_ts`
  (absolute);
- an empty content: the device (or, for the older form, every device of the user) has left.
Only room calls of the application `m.call` count. The state key must name the sender: a
member cannot put someone else in or out of the call. Any member may write these events, so
every field is checked: an event the bot cannot read is refused whole (`Unreadable`), never
half taken, and reading one never raises anything else.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from shell.ports import CallChanged, Device

log = logging.getLogger("distansbot")

CALL_MEMBER = "org.matrix.msc3401.call.member"
# Element Call raises a hand as an `m.reaction` with this key, relating (m.annotation) to the
# sender's own call membership event, and lowers it by redacting that reaction (element-call,
# src/reactions/useReactionsSender.tsx, ReactionsReader.ts): the key exactly, as it reads it.
RAISED_HAND = "🖐️"


# What a membership may hold to be read at all: anything else is a membership the bot cannot
# read, ignored and logged (contract, "Element Call"). Device ids are short (Synapse makes ten
# letters); one person's event names a handful of devices, never thousands.
MAX_ID = 255
MAX_DEVICES = 16
# Times are milliseconds since 1970 from 1970 up to the year 3000: what a clock can say. A time
# outside (10**15, a negative created_ts) is nonsense, and could not be a datetime anyway.
MAX_MS = 32_503_680_000_000


class Unreadable(ValueError):
    """A call membership state event the bot does not take: not the sender's own, or not one it
    can read. The reason, in Swedish, is for the log."""


def owner(state_key: str) -> str | None:
    """The user a call membership state key belongs to, or None if it names none."""
    if not isinstance(state_key, str):
        return None
    key = state_key[1:] if state_key.startswith("_@") else state_key
    if not key.startswith("@") or ":" not in key:
        return None
    colon = key.index(":", 1)
    underscore = key.find("_", colon + 1)
    return key[:underscore] if underscore != -1 else key


def devices(state_key: Any, content: Any, sender: Any, origin_ts_ms: Any) -> list[Device]:
    """The devices this state event says its sender has in the room's call (empty: none).
    Raises `Unreadable` for an event that is not the sender's own or that cannot be read
    whole: the caller ignores it, and the call stands as it was. Never raises anything else,
    whatever the event holds (it is written by any member of the room)."""
    if not isinstance(sender, str) or owner(state_key) != sender:
        raise Unreadable("nyckeln gäller någon annan än avsändaren")
    if not isinstance(content, dict):
        raise Unreadable("innehållet är inget objekt")
    entries = content.get("memberships") if "memberships" in content else [content] if content else []
    if not isinstance(entries, list) or len(entries) > MAX_DEVICES:
        raise Unreadable(f"memberships är ingen lista med högst {MAX_DEVICES} poster")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise Unreadable("en post är inget objekt")
        if entry.get("application") != "m.call" or entry.get("scope", "m.room") != "m.room":
            continue  # another application's, or not the room's call: not ours to read
        device = entry.get("device_id")
        if not _short_text(device):
            raise Unreadable("device_id saknas eller är ingen kort text")
        member_id = entry.get("membershipID")
        if member_id is not None and not _short_text(member_id):
            raise Unreadable("membershipID är ingen kort text")
        out.append(Device(device, _expiry(entry, origin_ts_ms), member_id))
    return out


def _short_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID and value.isprintable()


def _ms(value: Any, what: str, low: int = 0) -> int | float | None:
    """A time field in milliseconds, checked: absent is None; anything but a finite number in
    range is unreadable (a bool is no number, though Python counts it as one)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= MAX_MS:
        raise Unreadable(f"{what} är inget tal mellan {low} och {MAX_MS}")
    return value  # NaN fails the comparison above; infinities are out of range


def _expiry(entry: dict[str, Any], origin_ts_ms: Any) -> datetime | None:
    created = _ms(entry.get("created_ts"), "created_ts")
    created = created if created is not None else _ms(origin_ts_ms, "origin_server_ts")
    expires = _ms(entry.get("expires"), "expires")
    if expires is not None:
        return _at(_ms((created or 0) + expires, "created_ts + expires"))
    expires_ts = _ms(entry.get("expires_ts"), "expires_ts")
    return _at(expires_ts) if expires_ts is not None else None


def _at(ms: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def change(
    room: str, event_id: str, state_key: Any, content: Any, sender: Any, origin_ts_ms: Any, at: datetime | None
) -> CallChanged | None:
    """A call membership state event as the shell takes it (`at` None: read from the room's state
    at a start). One that cannot be read is logged and handed over without devices, so that the
    call stands as it was; one that is not the sender's own is logged and dropped."""
    try:
        return CallChanged(
            room, event_id, state_key, sender, tuple(devices(state_key, content, sender, origin_ts_ms)), at
        )
    except Unreadable as e:  # written by any member: the call stands as it was
        log.warning("Samtalsmedlemskap %.100r från %.100r ignoreras: %s", state_key, sender, e)
    user = owner(state_key)
    if user != sender:
        return None
    key = state_key.removeprefix("_")
    device = key[len(user) + 1 :] if len(key) > len(user) else None  # None: the per-user form
    return CallChanged(room, event_id, state_key, sender, None, at, device=device)
