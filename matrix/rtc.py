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

Element Call's "Matrix 2.0" mode (`matrix_rtc_mode = "matrix_2_0"`) writes the membership
instead as a sticky timeline event (MSC4354) of type `org.matrix.msc4143.rtc.member`, as read
in matrix-js-sdk 8fec0cb (src/matrixrtc/membershipData/rtc.ts `checkRtcMembershipData`,
CallMembership.ts, MembershipManager.ts `StickyEventMembershipManager`, MatrixRTCSession.ts,
models/room-sticky-events.ts, models/event.ts `unstableStickyExpiresAt`), element-call b51a33c
(src/config/ConfigOptions.ts `MatrixRTCMode`, src/state/CallViewModel/CallViewModel.ts, its
localMember/LocalMember.ts `unstableSendStickyEvents`) and matrix-spec-proposals (MSC4354 at
74fc75e, proposals/4354-sticky-events.md; MSC4143 at 0eb3656, proposals/4143-matrix-rtc.md):
- the event carries, beside its content, `msc4354_sticky: {duration_ms}` (Element Call: one
  hour, renewed before it ends); without it the event is no membership at all (js-sdk keeps
  only sticky ones). It counts until `unsigned.msc4354_sticky_duration_ttl_ms` after it is
  received when the homeserver gives that, else until `min(origin_server_ts, received)` plus
  the duration, never more than an hour (MSC4354, `MAX_STICKY_DURATION_MS`);
- content `{slot_id: "m.call#ROOM", application: {type: "m.call", …}, member: {user_id,
  device_id, id}, rtc_transports: [{type, …}], versions: [], msc4354_sticky_key}` where
  `member.id` is a fresh id per join (a uuid) and the sticky key is that same id;
  `member.user_id` must be the sender;
- the events form a map (MSC4354's addendum): under the sender and the sticky key the event
  that ends last counts (then the higher event id), whatever order they arrive in;
- a content of the sticky key alone (Element Call's leave, also the delayed one the server
  sends when the client vanishes), or `member.membership` other than `join` (MSC4143's text),
  is a leave; so is an event whose time ran out without a newer one. An event that cannot be
  read is ignored and logged, the call standing as it was (the contract's rule for any
  membership the bot cannot read; Element Call would show nobody under its key, but a member
  may not make the bot record a drop with an event no client writes). One without a sticky
  key files nothing.
The media server's identity for such a member is made from `member.id` (`CallMember.member_id`;
`computeRtcIdentityRaw`, media/identity.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shell.ports import CallChanged, Device

log = logging.getLogger("distansbot")

CALL_MEMBER = "org.matrix.msc3401.call.member"
STICKY_MEMBER = "org.matrix.msc4143.rtc.member"  # Element Call's Matrix 2.0 mode (MSC4143, MSC4354)
ROOM_CALL = ("m.call", "m.call#ROOM")  # the room call's application and slot
MAX_STICKY_MS = 3_600_000  # MSC4354: no event is sticky longer than an hour
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


def _user_id(value: Any) -> bool:
    return _short_text(value) and value.startswith("@") and ":" in value


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


# --- the sticky form (Element Call's Matrix 2.0 mode) ---------------------------------------------

STICKY_KEYS = ("msc4354_sticky_key", "sticky_key")  # the unstable name (Element Call's) and MSC4143's


@dataclass(frozen=True)
class Sticky:
    """A sticky call membership event filed in MSC4354's map: under `key` (its sender and sticky
    key), ranked by `rank` (the one that ends last wins, then the higher event id), and what the
    shell takes of it."""

    key: str
    rank: tuple[int | float, str]
    change: CallChanged


def sticky_change(room: str, source: Any, received_ms: int, at: datetime | None) -> Sticky | None:
    """A sticky call membership event (its source) as the shell takes it: its member's device
    until the event stops being sticky, or none (left, another call's, or unreadable: logged).
    None when it files nothing: not sticky (Element Call reads no membership in it either), its
    time already run out, or without a sender and sticky key to file it under. Never raises,
    whatever the event holds (it is written by any member of the room)."""
    if not isinstance(source, dict):
        return None
    sender, event_id, content = source.get("sender"), source.get("event_id"), source.get("content")
    if not _user_id(sender) or not _short_text(event_id) or not isinstance(content, dict):
        return None
    sticky_key = next((content[k] for k in STICKY_KEYS if k in content), None)
    if not _short_text(sticky_key):
        return None
    try:
        end, rank_end = _sticky_end(source, received_ms)
    except Unreadable as e:
        log.info("Samtalsmedlemskapet %.100r från %.100r är inte fäst (sticky): %s", event_id, sender, e)
        return None
    if end <= received_ms:
        return None  # no longer sticky: as if never sent (js-sdk drops it too)
    key = json.dumps([sender, sticky_key])
    try:
        found = tuple(member_devices(content, sender, _at(end)))
    except Unreadable as e:  # written by any member: ignored, the call stands as it was (contract)
        log.warning("Samtalsmedlemskap %.100r från %.100r räknas inte: %s", event_id, sender, e)
        return None
    return Sticky(key, (rank_end, event_id), CallChanged(room, event_id, key, sender, found, at))


def _sticky_end(source: dict[str, Any], received_ms: int) -> tuple[int | float, int | float]:
    """When the event stops being sticky (ms), and its end as MSC4354's map ranks it (from its
    own fields alone, the same on every client). Raises `Unreadable` for an event not sticky."""
    sticky = source.get("msc4354_sticky")
    duration = _ms(sticky.get("duration_ms") if isinstance(sticky, dict) else None, "duration_ms")
    if not duration:
        raise Unreadable("msc4354_sticky.duration_ms saknas")
    duration = min(duration, MAX_STICKY_MS)
    origin = _ms(source.get("origin_server_ts"), "origin_server_ts") or 0
    unsigned = source.get("unsigned")
    ttl = unsigned.get("msc4354_sticky_duration_ttl_ms") if isinstance(unsigned, dict) else None
    try:
        ttl = _ms(ttl, "msc4354_sticky_duration_ttl_ms")
    except Unreadable:
        ttl = None  # the homeserver's hint only: the event's own times decide
    # The homeserver's remaining time spares the bot its clock's skew (js-sdk prefers it too);
    # otherwise an origin time from the future counts from when the event came (MSC4354).
    end = received_ms + min(ttl, MAX_STICKY_MS) if ttl else min(origin, received_ms) + duration
    return end, origin + duration


def member_devices(content: Any, sender: str, expires: datetime) -> list[Device]:
    """The device a sticky membership's content says its sender has in the room's call (empty:
    none). Raises `Unreadable` for one the bot cannot read whole (matrix-js-sdk's
    `checkRtcMembershipData`, and a bound on every list and id)."""
    if not isinstance(content, dict):
        raise Unreadable("innehållet är inget objekt")
    keys = [content[k] for k in STICKY_KEYS if k in content]
    if not all(_short_text(k) for k in keys) or len(set(keys)) > 1:
        raise Unreadable("de fästa nycklarna är ingen kort text, eller olika")
    if not set(content) - set(STICKY_KEYS):
        return []  # the key alone: left
    member = content.get("member")
    if not isinstance(member, dict):
        raise Unreadable("member är inget objekt")
    if member.get("membership", "join") != "join":
        return []  # MSC4143's leave
    if member.get("user_id") != sender:
        raise Unreadable("member.user_id är inte avsändaren")
    device, member_id = member.get("device_id"), member.get("id")
    if not _short_text(device) or not _short_text(member_id):
        raise Unreadable("member.device_id eller member.id saknas eller är ingen kort text")
    application, slot = content.get("application"), content.get("slot_id")
    kind = application.get("type") if isinstance(application, dict) else None
    if not _short_text(kind) or "#" in kind:
        raise Unreadable("application.type saknas, är ingen kort text eller har #")
    if not _short_text(slot) or slot.count("#") != 1 or not slot.startswith(f"{kind}#"):
        raise Unreadable("slot_id är inte application.type#id")
    transports, versions = content.get("rtc_transports"), content.get("versions")
    if not _short_list(transports, lambda t: isinstance(t, dict) and isinstance(t.get("type"), str)):
        raise Unreadable(f"rtc_transports är ingen lista med högst {MAX_DEVICES} poster med type")
    if not _short_list(versions, lambda v: isinstance(v, str)):
        raise Unreadable(f"versions är ingen lista med högst {MAX_DEVICES} texter")
    relation = content.get("m.relates_to")
    if "m.relates_to" in content and not (
        isinstance(relation, dict)
        and relation.get("rel_type") == "m.reference"
        and isinstance(relation.get("event_id"), str)
    ):
        raise Unreadable("m.relates_to är ingen m.reference till en händelse")
    if (kind, slot) != ROOM_CALL:
        return []  # another application's, or not the room's call: not ours to read
    return [Device(device, expires, member_id)]


def _short_list(value: Any, each: Callable[[Any], bool]) -> bool:
    return isinstance(value, list) and len(value) <= MAX_DEVICES and all(each(v) for v in value)
