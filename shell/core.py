"""The shell as one object: the registry of bodies, the loop, the timers and the outbox wired
together, run over a transport until stopped."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from commands.text import Message
from config import Config
from matrix import rtc
from rules.state import Meeting
from shell import admin
from shell.answers import Answers
from shell.bodies import Bodies, Body
from shell.limits import RateLimiter
from shell.loop import Loop
from shell.media import Media
from shell.outbox import Outbox
from shell.ports import Store
from shell.timers import Timers
from shell.words import NOTES

log = logging.getLogger("distansbot")

# On SIGTERM the owed answers get this long, so the bot is gone well within 10 seconds.
SEND_ON_STOP_SECONDS = 6


class Shell:
    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.registry = Bodies(config, store)
        self.outbox = Outbox(store)
        self.answers = Answers(config, store)
        self.loop = Loop(store, self.registry, self.outbox, self.answers, RateLimiter(config.commands_per_minute))
        self.timers_ = Timers(self.registry, self.loop)
        self.media = Media(config, self.registry, self.on_media)
        self.bus = self.loop.bus

    # What tests and the command line read: the registry's and the outbox's state.
    bodies = property(lambda self: self.registry.bodies)
    meetings = property(lambda self: self.registry.meetings)
    known = property(lambda self: self.registry.known)
    rosters = property(lambda self: self.registry.rosters)
    by_room = property(lambda self: self.registry.by_room)
    unstored = property(lambda self: self.outbox.unstored)
    unmarked = property(lambda self: self.outbox.unmarked)
    sent = property(lambda self: self.outbox.sent)

    @property
    def room_encrypted(self):
        return self.loop.room_encrypted

    @room_encrypted.setter
    def room_encrypted(self, fn) -> None:
        self.loop.room_encrypted = fn

    async def load(self) -> None:
        await self.registry.load()

    async def meeting(self, meeting_id: str) -> Meeting | None:
        return await self.registry.meeting(meeting_id)

    async def _maybe_snapshot(self, m: Meeting, force: bool = False) -> None:
        await self.registry.maybe_snapshot(m, force)

    async def reconfigure(self, new: Config) -> list[str]:
        """SIGHUP: take up a reread configuration. What cannot change while running (the login,
        the files, the clock, which bodies and rooms) waits for a restart; the lines returned say so."""
        later = [
            f"{name} ändras först vid omstart"
            for name, changed in (
                ("[matrix]", new.matrix != self.config.matrix),
                ("[storage]", new.storage != self.config.storage),
                ("timezone", new.timezone != self.config.timezone),
                ("vilka organ som finns", [b.id for b in new.bodies] != list(self.bodies)),
            )
            if changed
        ]
        async with self.loop.lock:  # between commands, so that a meeting is stored with the roster it got
            self.registry.reconfigure(new, later)
            self.loop.limiter.burst = new.commands_per_minute
        return later

    # --- what the transport hands over ---------------------------------------------------------

    async def handle(
        self, body: Body, source: str, msg: Message, sender: str, now: datetime, answers: tuple[str, int] | None = None
    ) -> None:
        await self.loop.handle(body, source, msg, sender, now, answers)

    async def on_message(self, room_id: str, event_id: str, msg: Message, sender: str, now: datetime) -> None:
        body = self.by_room.get(room_id)
        if body is not None:
            await self.loop.handle(body, event_id, msg, sender, now)

    async def on_reaction(
        self, room_id: str, event_id: str, reacts_to: str, key: str, sender: str, now: datetime
    ) -> None:
        """A ✅ on a check's message answers that check, and only that one: the rules are told
        which check it was given on (`Command.answers`)."""
        body = self.by_room.get(room_id)
        if body is None or key.rstrip("\ufe0f") != "✅":
            return
        tag = await self.outbox.tag_of(reacts_to)
        if tag and tag.startswith("check:"):
            meeting_id, _, n = tag.removeprefix("check:").rpartition(":")
            await self.loop.handle(body, event_id, Message("!ok"), sender, now, answers=(meeting_id, int(n)))

    async def on_poll_response(
        self, room_id: str, event_id: str, poll_id: str, choice: str, sender: str, now: datetime
    ) -> None:
        """A response to a vote's poll is that person's !ja, !nej or !avstår on that vote, and
        only on that one: the rules are told which vote the poll was (`Command.answers`)."""
        body = self.by_room.get(room_id)
        tag = await self.outbox.tag_of(poll_id) if body is not None else None
        if body is None or not tag or not tag.startswith("poll:"):
            return
        meeting_id, _, n = tag.removeprefix("poll:").rpartition(":")
        await self.loop.handle(body, event_id, Message(f"!{choice}"), sender, now, answers=(meeting_id, int(n)))

    async def on_call_member(
        self,
        room_id: str,
        event_id: str,
        state_key: str,
        content: dict,
        sender: str,
        origin_ts_ms: int,
        now: datetime | None = None,
    ) -> None:
        """A call membership state event: from the timeline (`now` its time), or from the room
        state read at start-up (what changed while the bot was away counts from now)."""
        body = self.by_room.get(room_id)
        if body is None or body.engine.roster.video != "element-call":
            return
        try:
            found = rtc.devices(state_key, content, sender, origin_ts_ms)
        except rtc.Unreadable as e:  # written by any member: the call stands as it was
            log.warning("Samtalsmedlemskap %.100r från %.100r ignoreras: %s", state_key, sender, e)
            user, m = rtc.owner(state_key), body.engine.meeting
            if user == sender and state_key not in body.call_slots and m is not None:
                # Read at a start, with nothing read for the key before: it stands as the log has it.
                body.call_slots[state_key] = (user, rtc.kept(state_key, m.in_call.get(user, {})))
            return
        body.call_slots[state_key] = (sender, found)
        if body.follow is not None:  # who the server's participants may be has changed
            body.follow.wake()
        now = now or datetime.now(UTC)
        async with self.loop.lock:
            await self.loop.tick(body, now)
            await self.loop.call_sync(body, [sender], f"call:{event_id}", now)
        self.outbox.wakeup.set()

    async def on_media(self, body: Body) -> None:
        """The call's media server showed something new: the meeting is brought to what it shows."""
        now = datetime.now(UTC)
        async with self.loop.lock:
            await self.loop.tick(body, now)
            await self.loop.media_sync(body, now)
        self.outbox.wakeup.set()

    async def on_note(self, room_id: str, event_id: str, note: str, now: datetime) -> None:
        """Answer a message that is no command to act on (an edit, one the bot cannot read), once."""
        body = self.by_room.get(room_id)
        if body is not None:
            await self.loop.note(body, event_id, NOTES[note], now)

    async def on_caught_up(self) -> None:
        await self.timers_.start()

    # --- time and sending ----------------------------------------------------------------------

    async def timers(self, body: Body) -> list[tuple[str, datetime]]:
        return await self.timers_.due(body)

    async def on_timer(self, job_id: str, now: datetime | None = None) -> None:
        await self.timers_.fire(job_id, now)

    async def send_outbox(self, transport: Any) -> None:
        await self.outbox.send(transport)

    # --- running -------------------------------------------------------------------------------

    async def run(self, transport: Any, stop: asyncio.Event) -> None:
        await self.load()
        resolved = await transport.start([b.config.room for b in self.bodies.values()], stop)
        if resolved is None:  # stopped while waiting for the homeserver
            return
        self.answers.room_name, self.loop.room_encrypted = transport.room_name, transport.encrypted
        for body in self.bodies.values():
            if body.config.room in resolved:
                body.room_id = resolved[body.config.room]
                self.by_room[body.room_id] = body
        for body in self.by_room.values():  # who is in the call now, also after a restart
            if body.engine.roster.video == "element-call":
                for event_id, state_key, content, sender, ts in await transport.call_state(body.room_id):
                    await self.on_call_member(body.room_id, event_id, state_key, content, sender, ts)
        self.outbox.wakeup.set()
        log.info("distansbot är igång som %s (enhet %s)", *transport.whoami)
        tasks = [
            asyncio.create_task(transport.sync_forever(stop, self, self.outbox.wakeup)),
            asyncio.create_task(self.outbox.forever(transport, stop)),
            *(asyncio.create_task(follow.run()) for follow in self.media.follows()),
        ]
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        async with self.loop.lock:  # the command in hand is finished first; no new one starts
            for task in [stopping, *tasks]:
                task.cancel()
            await asyncio.gather(stopping, *tasks, return_exceptions=True)
        self.timers_.stop()
        await self.media.close()
        for task in done:
            if task is not stopping and task.exception():
                raise task.exception()
        try:  # what is owed goes out before the bot exits, if the homeserver takes it in time
            await asyncio.wait_for(self.outbox.send(transport), SEND_ON_STOP_SECONDS)
        except Exception as e:  # kept in the outbox: it goes out at the next start
            log.warning("Allt kunde inte skickas före avslutet (%s); det skickas vid nästa start", type(e).__name__)

    async def protocol_text(self, meeting_id: str | None, fmt: str) -> str | bytes:
        return await admin.protocol_text(self.store, self.registry, meeting_id, fmt)
