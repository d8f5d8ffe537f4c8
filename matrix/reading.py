"""What the rooms say, read from a sync batch and handed to the shell as neutral records
(`shell.ports`) in the room's order: messages, ✅ reactions and poll answers, hands raised and
lowered in the call, call membership changes, and notes on what cannot be acted on (an edit, a
message the bot cannot decrypt)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from nio import (
    AsyncClient,
    MegolmEvent,
    ReactionEvent,
    RoomGetStateResponse,
    RoomMessagesResponse,
    RoomMessageText,
    SyncResponse,
)

from matrix import content as shapes
from matrix import rtc
from shell.ports import Answered, CallChanged, Hand, Inbound, Note, Said
from storage import Store

log = logging.getLogger("distansbot")

EDITED = "edited"
UNDECRYPTABLE = "undecryptable"
CHECKED = "✅"  # a reaction that answers a check (`Answered`); any other is no answer
# Sticky call memberships read back at a start: pages of 100 events, the last hour's at most.
MAX_STICKY_PAGES = 20
MAX_STICKY_KEYS = 10_000  # the map of sticky memberships is cleared of ended ones beyond this


class Reader:
    def __init__(
        self, client: AsyncClient, store: Store, rooms: set[str], join: Callable[[str], Awaitable[None]]
    ) -> None:
        self.client, self.store, self.rooms, self.join = client, store, rooms, join
        self.joined_at: dict[str, int] = {}  # room -> ms since epoch
        # MSC4354's map of sticky call memberships: (room, key) -> the rank of the event the key
        # holds now; one that ranks lower (older, or seen before) changes nothing.
        self.sticky: dict[tuple[str, str], tuple[int | float, str]] = {}

    async def joined(self, room_id: str) -> int:
        """Messages from before the bot joined (or first saw) the room are history, not commands.
        Read once per room: it never changes after it is first set."""
        if room_id not in self.joined_at:
            key = f"joined:{room_id}"
            value = await self.store.setting(key)
            if value is None:
                value = str(_now_ms())
                await self.store.set_setting(key, value)
            self.joined_at[room_id] = int(value)
        return self.joined_at[room_id]

    async def on_sync(self, resp: SyncResponse, inbound: Inbound) -> None:
        for room_id in resp.rooms.invite:
            if room_id in self.rooms:
                await self.join(room_id)
        for room_id, joined in resp.rooms.join.items():
            if room_id not in self.rooms:
                continue
            since = await self.joined(room_id)
            events = list(joined.timeline.events)
            if joined.timeline.limited:
                events = await self._backfill(room_id, joined.timeline.prev_batch, since) + events
            # The room's order (contract, "Element Call"): the state that changed before the
            # timeline (a gap), then the timeline, where a call change stands between the
            # messages sent before and after it. A state event also met in the timeline is
            # applied there, in its place.
            seen = {getattr(ev, "event_id", None) for ev in events}
            for ev in joined.state:
                if getattr(ev, "event_id", None) not in seen:
                    await self._call_change(room_id, ev, inbound)
            for ev in events:
                if await self._call_change(room_id, ev, inbound):
                    continue
                # nio keeps an event it cannot read without sender or time (UnknownBadEvent): skipped
                ts = getattr(ev, "server_timestamp", None)
                if (
                    getattr(ev, "sender", self.client.user_id) != self.client.user_id
                    and isinstance(ts, int)
                    and ts >= since
                ):
                    await self._on_event(room_id, ev, inbound)

    async def _call_change(self, room_id: str, ev: Any, inbound: Inbound) -> bool:
        """Hand over a call membership, a state event or a sticky one; False if `ev` is none."""
        source = getattr(ev, "source", None) or {}
        sticky = source.get("type") == rtc.STICKY_MEMBER and "state_key" not in source
        if not sticky and (source.get("type") != rtc.CALL_MEMBER or "state_key" not in source):
            return False
        ts = source.get("origin_server_ts", 0)
        at = time_of(ts)
        if at is None:
            log.warning("Samtalsmedlemskap %s har en omöjlig tidsstämpel; ignoreras", source.get("event_id"))
            return True
        change = self._sticky(room_id, source, at) if sticky else _call_changed(room_id, source, at)
        if change is not None:
            await inbound.call_changed(change)
        return True

    def _sticky(self, room_id: str, source: dict, at: datetime | None) -> CallChanged | None:
        """A sticky call membership as the shell takes it, if it ranks above what its key holds."""
        found = rtc.sticky_change(room_id, source, _now_ms(), at)
        return found.change if found is not None and self._takes(room_id, found) else None

    def _takes(self, room_id: str, found: rtc.Sticky) -> bool:
        """MSC4354's map: under a key the event that ends last counts, in whatever order they come."""
        held = self.sticky.get((room_id, found.key))
        if held is not None and held >= found.rank:
            return False
        if held is None and len(self.sticky) >= MAX_STICKY_KEYS:  # those ended rank below any new one
            now = _now_ms()
            self.sticky = {k: rank for k, rank in self.sticky.items() if rank[0] > now}
        self.sticky[(room_id, found.key)] = found.rank
        return True

    async def _backfill(self, room_id: str, token: str, since: int) -> list:
        """A limited timeline: page back until events already handled or older than the bot."""
        older: list = []
        while token:
            resp = await self.client.room_messages(room_id, start=token, limit=100)
            if not isinstance(resp, RoomMessagesResponse) or not resp.chunk:
                break
            done = False
            for ev in resp.chunk:  # newest first
                if ev.server_timestamp < since or await self.store.is_handled(ev.event_id):
                    done = True
                    break
                older.append(ev)
            if done:
                break
            token = resp.end
        return list(reversed(older))

    async def _on_event(self, room_id: str, ev: Any, inbound: Inbound) -> None:
        now = time_of(ev.server_timestamp)
        if now is None:  # a homeserver's clock says nonsense: not an event to act on
            log.warning("Händelsen %s har en omöjlig tidsstämpel; ignoreras", ev.event_id)
            return
        if isinstance(ev, RoomMessageText):
            content = ev.source.get("content")
            replaced = shapes.edit_of(content)
            if replaced is not None:
                # An edit never runs a command again, nor undoes one: the log keeps what was applied.
                if replaced and await self.store.is_handled(replaced):
                    await inbound.noted(Note(room_id, ev.event_id, EDITED, now))
                return
            said = Said(
                room_id, ev.event_id, ev.sender, ev.body or "", now, ev.formatted_body, shapes.mentioned(content)
            )
            await inbound.said(said)
        elif isinstance(ev, ReactionEvent) and ev.key == rtc.RAISED_HAND:
            await inbound.hand(Hand(room_id, ev.event_id, ev.sender, ev.reacts_to, True, now))
        elif isinstance(ev, ReactionEvent):
            if ev.key.rstrip("\ufe0f") == CHECKED:  # with or without the emoji variation selector
                await inbound.answered(Answered(room_id, ev.event_id, ev.sender, ev.reacts_to, "ok", now))
        elif withdrawn := shapes.redacted(getattr(ev, "source", None) or {}):
            # Element Call lowers a hand by withdrawing the reaction that raised it
            await inbound.hand(Hand(room_id, ev.event_id, ev.sender, withdrawn, False, now))
        elif answer := shapes.poll_answer(_type_of(ev), (getattr(ev, "source", None) or {}).get("content") or {}):
            await inbound.answered(Answered(room_id, ev.event_id, ev.sender, answer[0], answer[1], now))
        elif isinstance(ev, MegolmEvent):  # encrypted, and the bot has no key for it
            log.warning("Kunde inte dekryptera %s från %s (session %s)", ev.event_id, ev.sender, ev.session_id)
            await inbound.noted(Note(room_id, ev.event_id, UNDECRYPTABLE, now))
            try:
                await self.client.request_room_key(ev)
            except Exception as e:  # asking twice, or no device to ask: the answer above stands
                log.info("Nyckelbegäran för %s: %s", ev.event_id, e)

    async def call_state(self, room_id: str) -> list[CallChanged]:
        """The room's call memberships now, each counted from now (read at a start): the state
        events, and the sticky ones still sticky."""
        resp = await self.client.room_get_state(room_id)
        if not isinstance(resp, RoomGetStateResponse):
            log.warning("Rummets tillstånd kunde inte läsas (%s); samtalet följs från nästa ändring", resp)
            found = []
        else:
            found = [_call_changed(room_id, e, None) for e in resp.events if e.get("type") == rtc.CALL_MEMBER]
        return [change for change in found + await self._sticky_state(room_id) if change is not None]

    async def _sticky_state(self, room_id: str) -> list[CallChanged | None]:
        """The sticky call memberships still sticky, each key's winner. They are no room state,
        and a sync from the stored token hands over only what came after it: they are read back
        through the room's last hour, beyond which none is sticky (MSC4354)."""
        now = _now_ms()
        found: dict[str, rtc.Sticky] = {}
        token = None
        for _ in range(MAX_STICKY_PAGES):
            resp = await self.client.room_messages(room_id, start=token, limit=100)
            if not isinstance(resp, RoomMessagesResponse):
                log.warning("Samtalets fästa medlemskap kunde inte läsas (%s); de följs från nästa ändring", resp)
                break
            for ev in resp.chunk:  # newest first
                source = getattr(ev, "source", None) or {}
                if source.get("type") == rtc.STICKY_MEMBER and "state_key" not in source:
                    s = rtc.sticky_change(room_id, source, now, None)
                    if s is not None and (s.key not in found or s.rank > found[s.key].rank):
                        found[s.key] = s
            times = [t for ev in resp.chunk if isinstance(t := getattr(ev, "server_timestamp", None), int)]
            if not resp.chunk or not resp.end or min(times, default=0) < now - rtc.MAX_STICKY_MS:
                break
            token = resp.end
        else:
            log.warning("Samtalets fästa medlemskap lästes bara %d sidor bakåt", MAX_STICKY_PAGES)
        return [s.change for s in found.values() if self._takes(room_id, s)]


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def time_of(ms: Any) -> datetime | None:
    """An event's origin_server_ts as a time, or None when it is none a clock could show."""
    if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= rtc.MAX_MS:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC)


def _call_changed(room_id: str, source: dict, at: datetime | None) -> CallChanged | None:
    """A call membership state event (its source) as the shell takes it, if it is one to take."""
    if "state_key" not in source:
        return None
    return rtc.change(
        room_id,
        source.get("event_id", ""),
        source["state_key"],
        source.get("content") or {},
        source.get("sender", ""),
        source.get("origin_server_ts", 0),
        at,
    )


def _type_of(ev: Any) -> str:
    """An event's type, also for one nio knows no class for (and one decrypted)."""
    return getattr(ev, "type", None) or (getattr(ev, "source", None) or {}).get("type", "")
