"""The call's media server as the shell follows it (`shell.ports.MediaServer`, with [livekit]): a
reader per body whose call is followed, and what it reads brought into the meeting through the
engine, stored and answered like a command (`sync`: when the server shows something new, and
before each command)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rules.engine import FoldError, Step
from shell import calls
from shell.bodies import Bodies, Body
from shell.ports import CallMember, Camera, MediaRoom, MediaServer, Microphone, Seen

if TYPE_CHECKING:
    from shell.loop import Loop

log = logging.getLogger("distansbot")


class Media:
    def __init__(self, bodies: Bodies, loop: Loop) -> None:
        self.bodies, self.loop = bodies, loop
        self.server: MediaServer | None = None  # given by the caller (bot.py) with [livekit]
        loop.media_sync = self.sync

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
        """The server showed something new: the meeting is brought to what it shows."""
        now = datetime.now(UTC)
        async with self.loop.lock:
            await self.loop.tick(body, now)
            await self.sync(body, now)
        self.loop.outbox.wakeup.set()

    async def sync(self, body: Body, now: datetime) -> None:
        """The meeting brought to what the media server's reader last read (whether the server
        can be read, and per person), stored and answered like a command under a source naming
        the reading, so that a reading applies once. Before each command too: a meeting convened
        after people joined the call learns what the server shows of them."""
        follow, m, engine = body.follow, body.engine.meeting, body.engine
        if follow is None or m is None:
            return
        wanted: list[tuple[str, Callable[[], Step | None]]] = []
        if follow.down is not None and m.media_down is None:
            down = follow.down
            wanted.append(
                (f"media:{m.id}:down:{down.since.isoformat()}", lambda: engine.media_unavailable(down.reason, now))
            )
        elif follow.down is None and m.media_down is not None:
            wanted.append((f"media:{m.id}:up:{now.isoformat()}", lambda: engine.media_available(now)))
        if follow.down is None:
            for user, seen in list(follow.seen.items()):
                wanted.append(
                    (
                        f"media:{m.id}:{user}:{seen.since.isoformat()}",
                        lambda s=seen: engine.media(s.user, s.camera.value, s.microphone.value, s.connected, now),
                    )
                )
        for source, step_now in wanted:
            try:
                step = step_now()
            except FoldError:
                log.exception("Samtalets ljud och bild kunde inte läggas in; sammanträdet läses om")
                await self.bodies.reload(body)
                return
            if step is not None:
                await self.loop.commit(body, source, now, step, confirm=False)

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


def call_members(body: Body) -> list[CallMember]:
    """The room's call members by device, with the membership's own id where it gives one: whom
    the server's participants may be."""
    return [CallMember(who, d.device, d.member_id) for who, d in calls.live(body.call_slots, datetime.now(UTC))]
