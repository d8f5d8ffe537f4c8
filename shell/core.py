"""The shell as one object: the registry of bodies, the loop, the timers and the outbox wired
together, run over a transport until stopped."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from commands.text import Message
from config import Config
from rules.state import Meeting
from shell import admin, calls
from shell.answers import Answers, Encode
from shell.bodies import Bodies, Body
from shell.limits import RateLimiter
from shell.loop import Loop
from shell.media import Media
from shell.outbox import Outbox
from shell.ports import Answered, CallChanged, Hand, Note, Said, Told, Transport
from shell.timers import Timers
from shell.words import NOT_RECORDED, NOTES

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger("distansbot")

# On SIGTERM the owed answers get this long, so the bot is gone well within 10 seconds.
SEND_ON_STOP_SECONDS = 6


class Shell:
    def __init__(self, config: Config, store: Store, encode: Encode) -> None:
        """`encode`: the transport's (`Transport.encode`), which makes what the shell owes into
        the outbox's rows; it is all the shell needs of the transport before `run`."""
        self.config, self.store = config, store
        self.registry = Bodies(config, store)
        self.outbox = Outbox(store)
        self.answers = Answers(store, encode)
        self.loop = Loop(store, self.registry, self.outbox, self.answers, RateLimiter(config.commands_per_minute))
        self.timers_ = Timers(self.registry, self.loop)
        self.media = Media(self.registry, self.loop)  # its server given with [livekit] (bot.py)
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
    def view(self):
        """The live view (`web.server.ViewServer`), with [web]: its widget and !vy's links."""
        return self.answers.view

    @view.setter
    def view(self, view) -> None:
        self.answers.view = self.registry.view = view

    async def load(self) -> None:
        await self.registry.load()

    async def meeting(self, meeting_id: str) -> Meeting | None:
        return await self.registry.meeting(meeting_id)

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

    # --- what the transport hands over (`shell.ports.Inbound`) -------------------------------

    async def handle(self, body: Body, source: str, msg: Message, sender: str, now: datetime) -> None:
        await self.loop.handle(body, source, msg, sender, now)

    async def said(self, said: Said) -> None:
        body = self.by_room.get(said.room)
        if body is not None:
            msg = Message(said.text, said.html, said.mentions)
            await self.loop.handle(body, said.event_id, msg, said.sender, said.at)

    async def answered(self, answered: Answered) -> None:
        """An answer to a check's message or a vote's poll answers that check or vote, and only
        that one: the engine is told which it was by the message's tag (`Command.answers`)."""
        body = self.by_room.get(answered.room)
        tag = await self.outbox.tag_of(answered.answers) if body is not None else None
        if body is not None and tag:
            await self.loop.answered(body, answered.event_id, answered.sender, tag, answered.choice, answered.at)

    async def hand(self, hand: Hand) -> None:
        """A hand raised in the call asks for the floor as !ordet does, when it is raised on the
        sender's own membership as the call stands now; any other (someone else's, one replaced
        or left since) is no hand the call shows, and changes nothing. Lowered (the event that
        raised it withdrawn by the one who raised it), it leaves the speakers' list; any other
        withdrawal is none of the meeting's."""
        body = self.by_room.get(hand.room)
        if body is None or not body.engine.follows_call:
            return
        if not hand.raised:
            m = body.engine.meeting
            item = m.item if m is not None else None
            if item is not None and item.hands.get(hand.sender) == hand.on:
                await self.loop.hand(body, hand.event_id, hand.sender, hand.on, False, hand.at)
            return
        if not calls.on_own_membership(body.call_slots, body.call_events, hand):
            log.info(
                "Handen %s från %s ignoreras: inte på avsändarens medlemskap i samtalet nu", hand.event_id, hand.sender
            )
            return
        await self.loop.hand(body, hand.event_id, hand.sender, hand.event_id, True, hand.at)

    async def call_changed(self, change: CallChanged) -> None:
        """The room's call state under one key: from the timeline (`at` its time), or from the
        room state read at start-up (what changed while the bot was away counts from now)."""
        body = self.by_room.get(change.room)
        if body is None or not body.engine.follows_call:
            return
        if change.devices is None:  # unreadable (the transport said why): the call stands as it was
            body.call_events.pop(change.key, None)  # no hand is raised on a membership not read
            m = body.engine.meeting
            if change.key not in body.call_slots and m is not None:
                # Read at a start, with nothing read for the key before: it stands as the log has it.
                body.call_slots[change.key] = (change.owner, calls.kept(change, m))
            return
        body.call_slots[change.key] = (change.owner, change.devices)
        body.call_events[change.key] = change.event_id
        if body.follow is not None:  # who the server's participants may be has changed
            body.follow.wake()
        now = change.at or datetime.now(UTC)
        async with self.loop.lock:
            await self.loop.tick(body, now)
            await self.loop.call_sync(body, [change.owner], f"call:{change.event_id}", now)
        self.outbox.wakeup.set()

    async def noted(self, note: Note) -> None:
        """Answer a message that is no command to act on (an edit, one the bot cannot read), once."""
        body = self.by_room.get(note.room)
        if body is not None:
            await self.loop.note(body, note.event_id, NOTES[note.note], note.at)

    async def told(self, told: Told) -> None:
        """A "not recorded" answer read back from the room (`Outbox.told`)."""
        body = self.by_room.get(told.room)
        if body is not None and told.text == NOT_RECORDED:
            async with self.loop.lock:
                await self.outbox.told(told, self.answers.not_recorded(body, told.event_id))

    async def caught_up(self) -> None:
        await self.timers_.start()

    # --- time and sending ----------------------------------------------------------------------

    async def timers(self, body: Body) -> list[tuple[str, datetime]]:
        return await self.timers_.due(body)

    async def on_timer(self, job_id: str, now: datetime | None = None) -> None:
        await self.timers_.fire(job_id, now)

    async def send_outbox(self, transport: Transport) -> None:
        await self.outbox.send(transport)

    # --- running -------------------------------------------------------------------------------

    async def run(self, transport: Transport, stop: asyncio.Event) -> None:
        """Serve until `stop`, or until another process took over (`storage.lease`): then return,
        having sent nothing more. Standing by, nothing is read, loaded or sent."""
        if not await self.store.lease.serve(stop):  # stopped while standing by
            return
        # Renewed from now on (also while the homeserver is waited for); returns when taken over.
        holding = asyncio.create_task(self.store.lease.hold(stop))
        try:
            await self._serve(transport, stop, holding)
        finally:
            holding.cancel()
            await asyncio.gather(holding, return_exceptions=True)

    async def _serve(self, transport: Transport, stop: asyncio.Event, holding: asyncio.Task) -> None:
        await self.load()
        resolved = await transport.start([b.config.room for b in self.bodies.values()], stop)
        if resolved is None or holding.done():  # stopped while waiting for the homeserver, or taken over
            return
        self.answers.room_name, self.answers.room_link = transport.room_name, transport.room_link
        self.answers.can_set_state, self.loop.room_encrypted = transport.can_set_state, transport.encrypted
        for body in self.bodies.values():
            if body.config.room in resolved:
                body.room_id = resolved[body.config.room]
                self.by_room[body.room_id] = body
        for body in self.by_room.values():  # who is in the call now, also after a restart
            if body.engine.follows_call:
                for change in await transport.call_state(body.room_id):
                    await self.call_changed(change)
        self.outbox.wakeup.set()
        log.info("distansbot är igång som %s (enhet %s)", *transport.whoami)
        tasks = [
            asyncio.create_task(transport.listen(stop, self, self.outbox.wakeup)),
            asyncio.create_task(self.outbox.forever(transport, stop)),
            *(asyncio.create_task(follow.run()) for follow in self.media.follows()),
        ]
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopping, holding, *tasks], return_when=asyncio.FIRST_COMPLETED)
        async with self.loop.lock:  # the command in hand is finished first; no new one starts
            for task in [stopping, *tasks]:
                task.cancel()
            await asyncio.gather(stopping, *tasks, return_exceptions=True)
        self.timers_.stop()
        await self.media.close()
        for task in done:
            if task not in (stopping, holding) and task.exception():
                raise task.exception()
        await self.outbox.last(transport, SEND_ON_STOP_SECONDS)

    async def protocol_text(self, meeting_id: str | None, fmt: str) -> str | bytes:
        return await admin.protocol_text(self.store, self.registry, meeting_id, fmt)
