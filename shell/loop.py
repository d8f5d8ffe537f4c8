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
import dataclasses
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime

import commands
from commands.text import Message
from matrix import rtc
from minutes import protocol
from rules.actions import Accepted, Command, Refused
from rules.engine import FoldError, Step
from shell.answers import ANCHORED_AT, Answers
from shell.bodies import Bodies, Body
from shell.bus import Bus, Committed
from shell.limits import RateLimiter
from shell.outbox import Outbox
from shell.ports import Store
from shell.words import NOT_RECORDED, SLOW_DOWN
from storage import Outgoing

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
        # The timers follow the meeting: told after each commit (the shell's `Timers`).
        self.rescheduled: Callable[[Body], Awaitable[None]] = _nothing

    async def handle(
        self,
        body: Body,
        source: str,
        msg: Message,
        sender: str,
        now: datetime,
        answers: tuple[str, int] | None = None,
    ) -> None:
        """One chat message (or ✅ on a check) in a body's room: parse, step, store, answer."""
        async with self.lock:
            if await self.outbox.handled(source):
                return
            await self.tick(body, now)
            await self.media_sync(body, now)
            parsed = commands.parse(msg, sender)
            if parsed is None:
                return
            slowed = self.limiter.check(sender, now)
            word = "!?" if isinstance(parsed, commands.Unknown) else _word(parsed)
            if slowed is not None:
                # Recorded as handled either way; told once per burst, then quietly dropped.
                notice = [self.answers.notice(body, SLOW_DOWN, source)] if slowed else []
                await self.record_answers(body, source, now, notice)
                # the first of a burst is logged, the rest only at DEBUG: a flood does not flood the log
                level = logging.INFO if slowed else logging.DEBUG
                _log_command(source, sender, word, "bromsat (för många kommandon)", level)
            elif isinstance(parsed, commands.Unknown):
                await self.record_answers(body, source, now, [self.answers.notice(body, parsed.body, source)])
                _log_command(source, sender, word, "okänt kommando")
            elif parsed.name == "hjälp":
                text = commands.help_text(body.engine.meeting, body.engine.roster, sender)
                await self.record_answers(body, source, now, [self.answers.notice(body, text, source)])
                _log_command(source, sender, word, "godtaget")
            else:
                if parsed.name == "votering":
                    # A tied election is settled by lot (KL 5 kap. 56 §): the rules stay pure, so
                    # the shell draws here, from the operating system's CSPRNG; the event keeps it.
                    parsed = dataclasses.replace(parsed, lot=secrets.randbelow(2**32))
                if answers is not None:
                    parsed = dataclasses.replace(parsed, answers=answers)
                parsed = dataclasses.replace(parsed, event_id=source, room_encrypted=self.room_encrypted(body.room_id))
                if parsed.name in protocol.FINGERPRINTED and body.engine.meeting is not None:
                    # What the signature is on, or what the room is shown: the rules stay pure, so
                    # the shell hashes the log.
                    events = await self.store.events(body.engine.meeting.id)
                    fp = protocol.fingerprint_of(body.engine, events, parsed, now)
                    parsed = dataclasses.replace(parsed, fingerprint=fp)
                await self.step(body, source, parsed, now, react=answers is None)
                if body.engine.roster.video == "element-call":  # a new or opened meeting learns who is in the call
                    await self.call_sync(body, self.call_users(body), f"callsync:{source}", now)
        self.outbox.wakeup.set()

    async def note(self, body: Body, source: str, text: str, now: datetime) -> None:
        """Answer a message that is no command to act on, once."""
        async with self.lock:
            if not await self.outbox.handled(source):
                await self.record_answers(body, source, now, [self.answers.notice(body, text, source)])
        self.outbox.wakeup.set()

    async def call_sync(self, body: Body, users: list[str], source: str, now: datetime) -> None:
        """Tell the meeting who is in the call now; what changes is stored and answered like a
        command, under `source` (a state event's id, so the same event applies once)."""
        for user in users:
            try:
                step = body.engine.call(user, rtc.current(body.call_slots, user, now), now)
            except FoldError:
                log.exception("Samtalsändringen för %s kunde inte läggas in; sammanträdet läses om", user)
                await self.bodies.reload(body)
                return
            if step is not None:
                await self.commit(body, f"{source}:{user}", now, step, confirm=False)

    async def media_sync(self, body: Body, now: datetime) -> None:
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
                await self.commit(body, source, now, step, confirm=False)

    def call_users(self, body: Body) -> list[str]:
        m = body.engine.meeting
        return list(dict.fromkeys([*(who for who, _ in body.call_slots.values()), *(m.in_call if m else ())]))

    async def step(self, body: Body, source: str, cmd: Command, now: datetime, react: bool) -> None:
        try:
            step = body.engine.step(cmd, now)
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
        stored = await self.commit(body, source, now, step, confirm)
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

    async def commit(self, body: Body, source: str, now: datetime, step: Step, confirm: bool) -> bool:
        """Store what the step folded, atomically, then tell the bus; on any failure, memory goes
        back to the log (and False)."""
        m = step.meeting
        assert m is not None and isinstance(step.outcome, Accepted)
        try:
            outgoing = await self.answers.of(body, source, step)
            if confirm:
                outgoing.insert(0, self.answers.confirm(body, source))
            anchored = ANCHORED_AT & {e.kind for e in step.events}
            stored = await self.store.record(
                source,
                body.room_id,
                now,
                list(step.events),
                outgoing,
                meeting=(m.id, body.config.id, body.config.model_dump_json()) if step.new else None,
                meeting_id=m.id,
                next_seq=m.event_count - len(step.events),
                anchor=functools.partial(self.answers.anchor, body) if anchored else None,
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
        if source.startswith("$"):  # a person's command, not the clock's
            notice = self.answers.notice(body, NOT_RECORDED, source)
            try:
                await self.store.record(source, body.room_id, now, [], [notice])
            except Exception:  # the store is down altogether: told all the same, marked when it is back
                log.exception("Inte ens felmeddelandet om %s kunde sparas; det skickas osparat", source)
                self.outbox.unstored.append(notice)
                self.outbox.unmarked[source] = (body.room_id, now)
        await self.bodies.reload(body)

    async def record_answers(self, body: Body, source: str, now: datetime, outgoing: list[Outgoing]) -> None:
        """A command that changes no meeting: its answers and its handled mark."""
        try:
            await self.store.record(source, body.room_id, now, [], outgoing)
        except Exception:
            log.exception("Svaret på %s kunde inte sparas", source)
            await self.fault(body, source, now)


async def _nothing(body: Body) -> None:
    return None
