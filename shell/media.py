"""The call's media server as the shell follows it (`shell.ports.MediaServer`, with [livekit]): a
reader per body whose call is followed, and what it reads brought into the meeting through the
engine, stored and answered like a command (`Loop.media_sync`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from shell import calls
from shell.bodies import Bodies, Body
from shell.ports import CallMember, Camera, MediaRoom, MediaServer, Microphone, Seen


class Media:
    def __init__(self, bodies: Bodies, on_change: Callable[[Body], Awaitable[None]]) -> None:
        self.bodies, self.on_change = bodies, on_change
        self.server: MediaServer | None = None  # given by the caller (bot.py) with [livekit]

    def follows(self) -> list[MediaRoom]:
        """A reader per body whose call is followed, seeded with what the meeting last recorded,
        so that a change while the bot was away is seen as one. None without a server."""
        if self.server is None:
            return []
        for body in self.bodies.by_room.values():
            if body.engine.roster.reads_media:
                body.follow = self.server.follow(
                    body.room_id, functools.partial(call_members, body), functools.partial(self._report, body)
                )
                m = body.engine.meeting
                for user, s in (m.shown if m else {}).items():
                    body.follow.seen[user] = Seen(
                        user, Camera(s.camera), Microphone(s.microphone), s.connected, s.since
                    )
        return [b.follow for b in self.bodies.by_room.values() if b.follow is not None]

    async def _report(self, body: Body, _changes: list) -> None:
        await self.on_change(body)

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


def call_members(body: Body) -> list[CallMember]:
    """The room's call members by device: whom the server's participants may be."""
    now = datetime.now(UTC)
    users = {who for who, _ in body.call_slots.values()}
    return [CallMember(u, d) for u in users for d in calls.current(body.call_slots, u, now)]
