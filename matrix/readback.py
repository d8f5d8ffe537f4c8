"""What the bot told people before this start, read back from the rooms before the first batch:
a process that lost its database told people things it could not record (a "not recorded"
answer), and the room is the only place that keeps them (`shell.ports.Told`)."""

from __future__ import annotations

import logging
from typing import Any

from nio import AsyncClient, MegolmEvent, MessageDirection, RoomMessagesError, RoomMessagesResponse

from matrix import content as shapes
from matrix.reading import time_of
from shell.ports import Inbound, Told

log = logging.getLogger("distansbot")


class ReadBack:
    def __init__(self, client: AsyncClient, rooms: set[str]) -> None:
        self.client, self.rooms = client, rooms
        self.done = False

    async def once(self, token: str | None, inbound: Inbound) -> None:
        """The bot's own replies since the stored sync position `token`, handed over once. Its
        own messages never come in a sync (`sync_filter_for`), so they are paged for here, by
        sender; the server's word that they are the bot's is checked too. Encrypted ones are read
        with the device's keys, which went over through the database (standby). A room that
        refuses (one the bot is not in) is passed over; no answer at all raises, to be tried again."""
        if self.done or token is None:  # a first start has told nobody anything
            self.done = True
            return
        me = self.client.user_id
        only_mine = {"senders": [me], "types": ["m.room.message", "m.room.encrypted"]}
        read = unreadable = 0
        for room_id in sorted(self.rooms):
            start: str | None = token
            while start:
                resp = await self.client.room_messages(
                    room_id, start=start, direction=MessageDirection.front, limit=100, message_filter=only_mine
                )
                if isinstance(resp, RoomMessagesError) and resp.status_code:
                    log.warning("Botens egna meddelanden i %s kunde inte läsas: %s", room_id, resp.status_code)
                    break
                if not isinstance(resp, RoomMessagesResponse):
                    raise RuntimeError(f"rummets meddelanden kunde inte läsas ({resp})")
                for ev in resp.chunk:  # oldest first
                    if getattr(ev, "sender", None) != me:
                        continue
                    if isinstance(ev, MegolmEvent):
                        unreadable += 1
                        log.warning("Botens eget meddelande %s kunde inte dekrypteras vid starten", ev.event_id)
                        continue
                    read += 1
                    await _told(room_id, ev, inbound)
                start = resp.end if resp.chunk and resp.end != start else None
        log.info("Botens egna meddelanden sedan den sparade positionen: %d lästa, %d olästa", read, unreadable)
        self.done = True


async def _told(room_id: str, ev: Any, inbound: Inbound) -> None:
    content = (getattr(ev, "source", None) or {}).get("content")
    replied, at = shapes.reply_to(content), time_of(getattr(ev, "server_timestamp", None))
    text = content.get("body") if isinstance(content, dict) else None
    if replied and at is not None and isinstance(text, str):
        await inbound.told(Told(room_id, replied, text, at))
