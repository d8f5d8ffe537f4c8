"""The call's media server ([livekit]) as the shell follows it: a reader per body whose call is
followed (media.livekit.Follow), and what it reads brought into the meeting through the engine,
stored and answered like a command (`Loop.media_sync`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from config import Config
from matrix import rtc
from media.livekit import Follow, LiveKitServer
from media.record import CallMember, Camera, Microphone, Seen
from shell.bodies import Bodies, Body


class Media:
    def __init__(self, config: Config, bodies: Bodies, on_change: Callable[[Body], Awaitable[None]]) -> None:
        self.config, self.bodies, self.on_change = config, bodies, on_change
        self.server: LiveKitServer | None = None

    def follows(self) -> list[Follow]:
        """A reader per body whose call is followed, seeded with what the meeting last recorded,
        so that a change while the bot was away is seen as one. None without [livekit]."""
        lk = self.config.livekit
        if lk is None:
            return []
        self.server = LiveKitServer(lk.url, lk.api_key, lk.api_secret.get_secret_value())
        for body in self.bodies.by_room.values():
            if body.engine.roster.reads_media:
                body.follow = Follow(
                    self.server,
                    body.room_id,
                    functools.partial(call_members, body),
                    lambda _changes, body=body: self.on_change(body),
                )
                m = body.engine.meeting
                for user, s in (m.shown if m else {}).items():
                    body.follow.seen[user] = Seen(
                        user, Camera(s.camera), Microphone(s.microphone), s.connected, s.since
                    )
        return [b.follow for b in self.bodies.by_room.values() if b.follow is not None]

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


def call_members(body: Body) -> list[CallMember]:
    """The room's call members by device: whom the server's participants may be."""
    now = datetime.now(UTC)
    users = {who for who, _ in body.call_slots.values()}
    return [CallMember(u, d) for u in users for d in rtc.current(body.call_slots, u, now)]
