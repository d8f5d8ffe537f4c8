"""The loop: one command, tick or call change at a time, under one lock.

Order of effects for one command: is it handled already? -> let the clock tick -> parse ->
`Engine.step` (decide, stamp, fold into memory) -> render the answers from the new state -> store
events, answers and the "handled" mark in one transaction -> tell the bus -> send from the
outbox. If the fold or the store fails, the meeting in memory is rebuilt from the log, so memory
is never ahead of or behind it, and the person is answered "⚠ not recorded". A command that was
stored is applied exactly once, across crashes: the handled mark is in the same transaction as
its events.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import commands
from commands.text import Message
from rules.actions import Accepted, Command, Refused
from rules.engine import Facts, FoldError, Step
from rules.state import Event
from shell import calls
from shell.answers import Answers
from shell.bodies import Bodies, Body
from shell.bus import Bus, Committed
from shell.limits import RateLimiter
from shell.outbox import Outbox
from shell.words import SLOW_DOWN

if TYPE_CHECKING:
    from storage import Outgoing, Store

log = logging.getLogger("distansbot")


def _word(cmd: Command) -> str:
    """The command as the log names it: its word and its number (`!ärende 3`), nothing a person
    wrote. A motion, an agenda or a reason may carry personal data, secrecy or säkerhetsskydd
    (§§ 7–8), and the log leaves the encrypted room."""
    return f"!{cmd.name}" + (f" {cmd.number}" if cmd.number is not None else "")


def _log_command(source: str, sender: str, word: str, outcome: str, level: int = logging.INFO) -> None:
    """The log's one line per command handled: who, the command, what became of it."""
    log.log(level, "Kommando %s från %s (%s): %s", word, sender, source, outcome)


class Loop:
    def __init__(self, store: Store, bodies: Bodies, outbox: Outbox, answers: Answers, limiter: RateLimiter) -> None:
        self.store, self.bodies, self.outbox, self.answers, self.limiter = store, bodies, outbox, answers, limiter
        self.lock = asyncio.Lock()
        self.bus = Bus()
        # Whether a room is end-to-end encrypted: the transport's fact, which the rules are given (§ 2).
        self.room_encrypted: Callable[[str], bool] = lambda room_id: True
        # The meeting brought to what the call's media server shows, before each command ([livekit]).
        self.media_sync: Callable[[Body, datetime], Awaitable[None]] = _no_media
        # The timers follow the meeting: told after each commit (the shell's `Timers`).
        self.rescheduled: Callable[[Body], Awaitable[None]] = _nothing

    async def handle(self, body: Body, source: str, msg: Message, sender: str, now: datetime) -> None:
        """One chat message in a body's room: parse, step, store, answer."""
        await self._in_turn(body, source, sender, commands.parse(msg, sender), now, react=True)

    async def answered(self, body: Body, source: str, sender: str, tag: str, choice: str, now: datetime) -> None:
        """A person answered the bot's message tagged `tag` without typing (a ✅, a poll answer):
        the command the engine makes of it, tied to what that message asked, or nothing."""
        cmd = body.engine.answer(sender, tag, choice)
        if cmd is not None:
            await self._in_turn(body, source, sender, cmd, now, react=False)

    async def hand(self, body: Body, source: str, sender: str, reaction: str, raised: bool, now: datetime) -> None:
        """A hand raised in the call (`reaction`, the event that raised it) asks for the floor as
        !ordet does, and lowered leaves the speakers' list as !ordet återta does (§ 9)."""
        cmd = Command("ordet", sender, word="" if raised else "återta", hand=reaction)
        await self._in_turn(body, source, sender, cmd, now, react=False)

    async def _in_turn(
        self, body: Body, source: str, sender: str, cmd: Command | commands.Unknown | None, now: datetime, react: bool
    ) -> None:
        """A command (None: a message that is none), once, after time has passed for the meeting.
        `react`: typed, so confirmed with ✅; never on what is itself a ✅, a poll's answer or a hand."""
        async with self.lock:
            if await self._handled(body, source, now):
                return
            await self.tick(body, now)
            await self.media_sync(body, now)
            if cmd is not None:
                await self._command(body, source, sender, cmd, now, react)
        self.outbox.wakeup.set()

    async def _handled(self, body: Body, source: str, now: datetime) -> bool:
        """Was `source` handled before? When the store cannot even say (its database away), the
        person is told "not recorded" at once, and the source counts as handled from now on: it
        is marked when the store is back, and never applied later (`fault`)."""
        try:
            return await self.outbox.handled(source)
        except Exception as e:
            log.warning("Lagringen kunde inte svara om %s var behandlat (%s): inte sparat", source, type(e).__name__)
            self.outbox.not_recorded(source, body.room_id, now, self.answers.not_recorded(body, source))
            return True

    async def _command(
        self, body: Body, source: str, sender: str, parsed: Command | commands.Unknown, now: datetime, react: bool
    ) -> None:
        slowed = self.limiter.check(sender, now)
        word = "!?" if isinstance(parsed, commands.Unknown) else _word(parsed)
        if slowed is not None:
            # Recorded as handled either way; told once per burst, then quietly dropped.
            notice = [self.answers.notice(body, SLOW_DOWN, source)] if slowed else []
            await self.record_answers(body, source, now, notice)
            # the first of a burst is logged, the rest only at DEBUG: a flood does not flood the log
            level = logging.INFO if slowed else logging.DEBUG
            _log_command(source, sender, word, "bromsat (för många kommandon)", level)
            return
        if isinstance(parsed, commands.Unknown):
            await self.record_answers(body, source, now, [self.answers.notice(body, parsed.body, source)])
            _log_command(source, sender, word, "okänt kommando")
            return
        engine = body.engine
        # What a signature is on, or what the room is shown, is hashed from the log: read once,
        # for the fingerprint and for the protocol the answer carries.
        before = await self.store.events(engine.meeting.id) if engine.needs_log(parsed) and engine.meeting else None
        facts = Facts(source, self.room_encrypted(body.room_id), before)
        await self.step(body, source, parsed, now, facts, react)
        if engine.follows_call:  # a new or opened meeting learns who is in the call
            await self.call_sync(body, calls.users(body.call_slots, engine.meeting), f"callsync:{source}", now)

    async def note(self, body: Body, source: str, text: str, now: datetime) -> None:
        """Answer a message that is no command to act on, once."""
        async with self.lock:
            if not await self._handled(body, source, now):
                await self.record_answers(body, source, now, [self.answers.notice(body, text, source)])
        self.outbox.wakeup.set()

    async def call_sync(self, body: Body, users: list[str], source: str, now: datetime) -> None:
        """Tell the meeting who is in the call now; what changes is stored and answered like a
        command, under `source` (a state event's id, so the same event applies once)."""
        for user in users:
            try:
                step = body.engine.call(user, calls.current(body.call_slots, user, now), now)
            except FoldError:
                log.exception("Samtalsändringen för %s kunde inte läggas in; sammanträdet läses om", user)
                await self.bodies.reload(body)
                return
            if step is not None:
                await self.commit(body, f"{source}:{user}", now, step, confirm=False)

    async def step(self, body: Body, source: str, cmd: Command, now: datetime, facts: Facts, react: bool) -> None:
        try:
            step = body.engine.step(cmd, now, facts)
        except FoldError:
            log.exception("Händelserna från %s kunde inte läggas in; sammanträdet läses om från loggen", source)
            await self.fault(body, source, now)
            return
        if isinstance(step.outcome, Refused):
            await self.record_answers(body, source, now, [self.answers.notice(body, step.outcome.body, source)])
            _log_command(source, cmd.actor, _word(cmd), f"avvisat ({step.outcome.rule})")
            return
        if step.meeting is None:  # a question before any kallelse (!status): answered, nothing to store
            answers = [self.answers.notice(body, reply.text, source) for reply in step.outcome.replies]
            await self.record_answers(body, source, now, answers)
            _log_command(source, cmd.actor, _word(cmd), "godtaget")
            return
        # An accepted command that gets no reply of its own is confirmed with ✅ (a reaction
        # answering a check gets none: the ✅ is already there).
        confirm = react and not any(r.reply for r in step.outcome.replies)
        stored = await self.commit(body, source, now, step, confirm, facts.log)
        _log_command(source, cmd.actor, _word(cmd), "godtaget" if stored else "inte sparat (fel i lagringen)")

    async def tick(self, body: Body, now: datetime) -> None:
        """Let time pass for the body's meeting before anything else is decided."""
        if body.stale:
            await self.bodies.reload(body)
        while True:
            try:
                step = body.engine.tick(now)
            except FoldError:
                log.exception("Tidens händelser kunde inte läggas in; sammanträdet läses om från loggen")
                await self.bodies.reload(body)
                return
            if step is None:
                return
            assert step.meeting is not None
            await self.commit(body, f"tick:{step.meeting.id}:{step.key}", now, step, confirm=False)

    async def commit(
        self, body: Body, source: str, now: datetime, step: Step, confirm: bool, before: Sequence[Event] | None = None
    ) -> bool:
        """Store what the step folded, atomically, then tell the bus; on any failure, memory goes
        back to the log (and False). `before`: the meeting's events before the step, if read."""
        m = step.meeting
        assert m is not None and isinstance(step.outcome, Accepted)
        try:
            outgoing = await self.answers.of(body, source, step, before)
            if confirm:
                outgoing.insert(0, self.answers.confirm(body, source))
            stored = await self.store.record(
                source,
                body.room_id,
                now,
                list(step.events),
                outgoing,
                meeting=(m.id, body.config.id, body.config.model_dump_json()) if step.new else None,
                meeting_id=m.id,
                next_seq=m.event_count - len(step.events),
                anchor=functools.partial(self.answers.anchor, body) if step.effects.anchor else None,
            )
        except Exception:
            log.exception("Kommandot %s kunde inte sparas; sammanträdet läses om från loggen", source)
            await self.fault(body, source, now)
            return False
        if not stored:  # handled after all (cannot happen under the lock, but never fold twice)
            log.error("Kommandot %s var redan behandlat; sammanträdet läses om från loggen", source)
            await self.bodies.reload(body)
            return False
        if step.new:
            self.bodies.added(body, m)
        if step.events:
            self.bus.publish(Committed(body.config.id, m, step.events, now))
        await self.bodies.maybe_snapshot(m)
        await self.rescheduled(body)
        return True

    async def fault(self, body: Body, source: str, now: datetime) -> None:
        """Loud, and nothing changed: memory rebuilt from the log, the person told. "Not
        recorded" is final: the command is marked handled with that answer, so that it is never
        applied later (read again after a restart) when the person has already sent it anew."""
        said = self.answers.not_recorded(body, source)
        if said:  # a person's command, not the clock's
            try:
                await self.store.record(source, body.room_id, now, [], [said[0]])
            except Exception:  # the store is down altogether: told all the same, marked when it is back
                log.exception("Inte ens felmeddelandet om %s kunde sparas; det skickas osparat", source)
                self.outbox.not_recorded(source, body.room_id, now, said)
        await self.bodies.reload(body)

    async def record_answers(self, body: Body, source: str, now: datetime, outgoing: list[Outgoing]) -> None:
        """A command that changes no meeting: its answers and its handled mark."""
        try:
            await self.store.record(source, body.room_id, now, [], outgoing)
        except Exception:
            log.exception("Svaret på %s kunde inte sparas", source)
            await self.fault(body, source, now)


async def _no_media(body: Body, now: datetime) -> None:
    return None


async def _nothing(body: Body) -> None:
    return None
