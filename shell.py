"""The imperative shell: takes what the transport hears, runs it through the engine, stores,
sends and schedules. No rule is decided here.

Order of effects for one command, under one lock: is it handled already? -> let the clock tick
-> parse -> `Engine.step` (decide, stamp, fold into memory) -> render the answers from the new
state -> store events, answers and the "handled" mark in one transaction -> send from the
outbox. If the fold or the store fails, the meeting in memory is rebuilt from the log, so
memory is never ahead of or behind it, and the person is answered "⚠ not recorded". A command
that was stored is applied exactly once, across crashes: the handled mark is in the same
transaction as its events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import TypeAdapter

import commands
from commands.text import Message
from config import BodyConfig, Config
from matrix import content as shapes
from matrix import rtc
from media.livekit import Follow, LiveKitServer
from media.record import CallMember, Camera, Microphone, Seen
from minutes import calendar, protocol
from rules import schedule, transmission
from rules import state as rules_state
from rules.actions import Accepted, Command, Refused, Reply
from rules.engine import Engine, FoldError, Step
from rules.roster import Roster
from rules.state import Meeting
from rules.words import short_fingerprint
from storage import Anchor, Break, Chain, Outgoing, Store

log = logging.getLogger("distansbot")

EDITED = (
    "✏️ Ett ändrat kommando verkställs inte, och det som redan verkställts står kvar i protokollet. "
    "Skriv ett nytt kommando i stället."
)
UNDECRYPTABLE = (
    "⚠️ Jag kunde inte dekryptera ditt meddelande, så om det var ett kommando har det inte verkställts. "
    "Skriv det igen; hjälper inte det, verifiera din session eller kontakta IT."
)
NOTES = {"edited": EDITED, "undecryptable": UNDECRYPTABLE}
SLOW_DOWN = "⏳ Du skickar kommandon för snabbt. Vänta några sekunder; kommandona verkställdes inte."
NOT_RECORDED = (
    "⚠️ Kommandot kunde inte sparas och har INTE verkställts (ett fel i botens lagring). "
    "Inget har ändrats. Försök igen om en stund; kvarstår felet, kontakta IT."
)
TOO_BIG = "Protokollet är för stort för ett meddelande och finns i sin helhet i den bifogade filen."

# The body's chain is anchored in the room when a meeting closes and at every justering, so that
# a database rewritten afterwards (chain and all) shows against what the room kept.
ANCHORED_AT = frozenset({"closed", "justerad", "paragraph_justerad"})

# A meeting's state is saved every this many events, so a start replays at most that many.
SNAPSHOT_EVERY = 1000
# Snapshots are JSON of the meeting's state (never pickle: a pickle read back runs code).
SNAPSHOT_FORMAT = 1
_MEETING_JSON = TypeAdapter(Meeting)


# On SIGTERM the owed answers get this long, so the bot is gone well within 10 seconds.
SEND_ON_STOP_SECONDS = 6


@dataclass
class Body:
    config: BodyConfig  # as configured now: what the next meeting is convened with
    roster: Roster  # the same, as the rules read it; a meeting's own is `engine.roster`
    engine: Engine
    room_id: str = ""
    meetings: list[str] = field(default_factory=list)  # ids, oldest first
    timers_for: tuple | None = None  # what the body's scheduled timers were made from
    stale: bool = False  # memory may be ahead of the log (a reload failed): reload before anything
    jobs: set[str] = field(default_factory=set)
    # The room's call state (Element Call) by state key: (owner, devices). From the room state at
    # start-up and the state events after it; the meeting learns of it through the engine.
    call_slots: dict[str, tuple[str, list[rtc.Device]]] = field(default_factory=dict)
    follow: Follow | None = None  # the call's media server, read with [livekit]


def _word(cmd: Command) -> str:
    """The command as the log names it: its word and its number (`!ärende 3`), nothing a person
    wrote. A motion, an agenda or a reason may carry personal data, secrecy or säkerhetsskydd
    (§§ 7–8), and the log leaves the encrypted room."""
    return f"!{cmd.name}" + (f" {cmd.number}" if cmd.number is not None else "")


def _log_command(source: str, sender: str, word: str, outcome: str, level: int = logging.INFO) -> None:
    """The log's one line per command handled: who, the command, what became of it."""
    log.log(level, "Kommando %s från %s (%s): %s", word, sender, source, outcome)


class RateLimiter:
    """At most `burst` commands per `window` from one person, by the messages' own timestamps, so
    one sender cannot flood the room or crowd out the others."""

    def __init__(self, burst: int, window: timedelta = timedelta(minutes=1)) -> None:
        self.burst, self.window = burst, window
        self.recent: dict[str, deque[datetime]] = {}
        self.told: dict[str, datetime] = {}

    def check(self, sender: str, now: datetime) -> bool | None:
        """None: go ahead. True: slow down, and say so. False: slow down, already said."""
        times = self.recent.setdefault(sender, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.burst:
            times.append(now)
            return None
        last = self.told.get(sender)
        if last is not None and now - last < self.window:
            return False
        self.told[sender] = now
        return True


class Shell:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        tz = ZoneInfo(config.timezone)
        self.bodies: dict[str, Body] = {}
        self.reads_media = config.livekit is not None
        for b in config.bodies:
            roster = b.roster(tz, self.reads_media)
            self.bodies[b.id] = Body(b, roster, Engine(roster, name_meeting=self._name_meeting))
        self.meetings: dict[str, Meeting] = {}  # those loaded
        self.known: dict[str, str] = {}  # every meeting id -> its body id
        self.rosters: dict[str, Roster] = {}  # every meeting id -> the roster it was convened with
        self.snapshot_at: dict[str, int] = {}
        self.by_room: dict[str, Body] = {}
        self.lock = asyncio.Lock()
        self.scheduler: AsyncIOScheduler | None = None
        self.outbox_wakeup = asyncio.Event()
        self.limiter = RateLimiter(config.commands_per_minute)
        self.unstored: list[Outgoing] = []  # answers owed that the store could not take
        self.unmarked: dict[str, tuple[str, datetime]] = {}  # handled, the store could not say so yet
        # Answers sent whose marks are not stored yet (outbox id -> event id, tag): never sent again.
        self.sent: dict[int, tuple[str, str]] = {}
        # What the transport knows of a room: its name as members see it (m.room.name), for the
        # calendar file; whether it is end-to-end encrypted, a fact the rules are given (§ 2).
        self.room_name: Callable[[str], str] = lambda room_id: ""
        self.room_encrypted: Callable[[str], bool] = lambda room_id: True
        self.media_server: LiveKitServer | None = None  # with [livekit], made at the start of `run`

    # --- state ---------------------------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild each body's latest meeting from its log (a restart loses nothing). Older
        meetings are closed and are read only when asked for (`meeting()`)."""
        tz = ZoneInfo(self.config.timezone)
        for meeting_id, body_id, convened_with in await self.store.meetings():
            body = self.bodies.get(body_id)
            if body is None:
                log.warning("Sammanträde %s hör till organet %s som inte längre är konfigurerat", meeting_id, body_id)
                continue
            self.known[meeting_id] = body_id
            # Meetings stored before rosters were kept with them read the configuration's.
            saved = (
                BodyConfig.model_validate_json(convened_with).roster(tz, self.reads_media)
                if convened_with
                else body.roster
            )
            self.rosters[meeting_id] = saved
            body.meetings.append(meeting_id)
        for body in self.bodies.values():
            await self._latest(body)

    async def _latest(self, body: Body) -> None:
        """The body's engine on its latest meeting, under that meeting's own roster."""
        latest = body.meetings[-1] if body.meetings else None
        body.engine.meeting = await self.meeting(latest) if latest else None
        body.engine.roster = self.rosters[latest] if latest else body.roster

    async def meeting(self, meeting_id: str) -> Meeting | None:
        """A meeting's state: its latest snapshot, if any, with the events after it folded in."""
        if meeting_id in self.meetings or meeting_id not in self.known:
            return self.meetings.get(meeting_id)
        roster = self.rosters[meeting_id]
        saved = await self.store.snapshot(meeting_id, _state_version(roster))
        m = _MEETING_JSON.validate_json(saved[1]) if saved else Meeting(meeting_id, roster.body_id)
        for event in await self.store.events(meeting_id, after=m.event_count):
            rules_state.apply(m, roster, event)
        self.meetings[meeting_id] = m
        self.snapshot_at[meeting_id] = m.event_count if saved else 0
        return m

    async def _maybe_snapshot(self, m: Meeting, force: bool = False) -> None:
        if force or m.event_count - self.snapshot_at.get(m.id, 0) >= SNAPSHOT_EVERY:
            state = _MEETING_JSON.dump_json(m)
            await self.store.save_snapshot(m.id, m.event_count, _state_version(self.rosters[m.id]), state)
            self.snapshot_at[m.id] = m.event_count

    async def _reload(self, body: Body) -> None:
        """Memory back to exactly what the log holds, after a fold or a store failed. If the log
        cannot be read now, nothing is decided on this body until it can (`stale`)."""
        body.stale = True
        for meeting_id in body.meetings:
            self.meetings.pop(meeting_id, None)
        await self._latest(body)
        body.timers_for = None
        body.stale = False

    def _name_meeting(self, roster: Roster, cmd: Command) -> str:
        assert cmd.convening is not None
        base = f"{roster.body_id}-{cmd.convening.start.date().isoformat()}"
        taken = set(self.known)
        return (
            base if base not in taken else next(f"{base}-{i}" for i in range(2, 10_000) if f"{base}-{i}" not in taken)
        )

    async def reconfigure(self, new: Config) -> list[str]:
        """SIGHUP: take up a reread configuration. A body's changed roster is what its next
        kallelse gets; a meeting under way keeps the roster it was convened with. What cannot
        change while running (the login, the files, the clock, which bodies and rooms) waits
        for a restart; the lines returned say so."""
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
        async with self.lock:  # between commands, so that a meeting is stored with the roster it got
            tz = ZoneInfo(self.config.timezone)
            for b in new.bodies:
                body = self.bodies.get(b.id)
                if body is None or body.config == b:
                    continue
                if b.room != body.config.room:
                    later.append(f"rummet för {b.id} ändras först vid omstart")
                    b = b.model_copy(update={"room": body.config.room})
                    if b == body.config:
                        continue
                body.config, body.roster = b, b.roster(tz, self.reads_media)
                body.engine.upcoming = body.roster
                if body.engine.meeting is None:
                    body.engine.roster = body.roster
                later.append(f"{b.id}: den nya förteckningen gäller från nästa kallelse")
            self.limiter.burst = new.commands_per_minute
        return later

    # --- the call's media server ([livekit]) -------------------------------------------------

    def _follows(self) -> list[Follow]:
        """A reader of the media server per body whose call is followed, seeded with what the
        meeting last recorded, so that a change while the bot was away is seen as one."""
        lk = self.config.livekit
        if lk is None:
            return []
        self.media_server = LiveKitServer(lk.url, lk.api_key, lk.api_secret.get_secret_value())
        for body in self.by_room.values():
            if body.engine.roster.reads_media:
                body.follow = Follow(
                    self.media_server,
                    body.room_id,
                    functools.partial(self._call_members, body),
                    functools.partial(self.on_media, body),
                )
                m = body.engine.meeting
                for user, s in (m.shown if m else {}).items():
                    body.follow.seen[user] = Seen(
                        user, Camera(s.camera), Microphone(s.microphone), s.connected, s.since
                    )
        return [b.follow for b in self.by_room.values() if b.follow is not None]

    def _call_members(self, body: Body) -> list[CallMember]:
        """The room's call members by device: whom the server's participants may be."""
        now = datetime.now(UTC)
        users = {who for who, _ in body.call_slots.values()}
        return [CallMember(u, d) for u in users for d in rtc.current(body.call_slots, u, now)]

    async def on_media(self, body: Body, changes: list) -> None:
        """The media server showed something new: the meeting is brought to what it shows."""
        now = datetime.now(UTC)
        async with self.lock:
            await self._tick(body, now)
            await self._media_sync(body, now)
        self.outbox_wakeup.set()

    async def _media_sync(self, body: Body, now: datetime) -> None:
        """The meeting brought to what the reader last read (whether the server can be read, and
        per person), stored and answered like a command under a source naming the reading, so
        that a reading applies once. Before each command too: a meeting convened after people
        joined the call learns what the server shows of them."""
        follow, m = body.follow, body.engine.meeting
        if follow is None or m is None:
            return
        wanted: list[tuple[str, Callable[[], Step | None]]] = []
        engine = body.engine
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
                await self._reload(body)
                return
            if step is not None:
                await self._commit(body, source, now, step, confirm=False)

    # --- what the transport hands over ---------------------------------------------------------

    async def on_message(self, room_id: str, event_id: str, msg: Message, sender: str, now: datetime) -> None:
        body = self.by_room.get(room_id)
        if body is not None:
            await self.handle(body, event_id, msg, sender, now)

    async def on_reaction(
        self, room_id: str, event_id: str, reacts_to: str, key: str, sender: str, now: datetime
    ) -> None:
        """A ✅ on a check's message answers that check, and only that one: the rules are told
        which check it was given on (`Command.answers`)."""
        body = self.by_room.get(room_id)
        if body is None or key.rstrip("\ufe0f") != "✅":
            return
        tag = await self._tag_of(reacts_to)
        if tag and tag.startswith("check:"):
            meeting_id, _, n = tag.removeprefix("check:").rpartition(":")
            await self.handle(body, event_id, Message("!ok"), sender, now, answers=(meeting_id, int(n)))

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
        async with self.lock:
            await self._tick(body, now)
            await self._call_sync(body, [sender], f"call:{event_id}", now)
        self.outbox_wakeup.set()

    async def _call_sync(self, body: Body, users: list[str], source: str, now: datetime) -> None:
        """Tell the meeting who is in the call now; what changes is stored and answered like a
        command, under `source` (a state event's id, so the same event applies once)."""
        for user in users:
            try:
                step = body.engine.call(user, rtc.current(body.call_slots, user, now), now)
            except FoldError:
                log.exception("Samtalsändringen för %s kunde inte läggas in; sammanträdet läses om", user)
                await self._reload(body)
                return
            if step is not None:
                await self._commit(body, f"{source}:{user}", now, step, confirm=False)

    def _call_users(self, body: Body) -> list[str]:
        m = body.engine.meeting
        return list(dict.fromkeys([*(who for who, _ in body.call_slots.values()), *(m.in_call if m else ())]))

    async def on_poll_response(
        self, room_id: str, event_id: str, poll_id: str, choice: str, sender: str, now: datetime
    ) -> None:
        """A response to a vote's poll is that person's !ja, !nej or !avstår on that vote, and
        only on that one: the rules are told which vote the poll was (`Command.answers`)."""
        body = self.by_room.get(room_id)
        tag = await self._tag_of(poll_id) if body is not None else None
        if body is None or not tag or not tag.startswith("poll:"):
            return
        meeting_id, _, n = tag.removeprefix("poll:").rpartition(":")
        await self.handle(body, event_id, Message(f"!{choice}"), sender, now, answers=(meeting_id, int(n)))

    async def _handled(self, source: str) -> bool:
        return source in self.unmarked or await self.store.is_handled(source)

    async def _tag_of(self, event_id: str) -> str | None:
        """The tag of a message the bot sent, also one whose mark is not stored yet."""
        tag = next((t for ev, t in self.sent.values() if ev == event_id), None)
        return tag if tag is not None else await self.store.tag_of(event_id)

    async def _event_of_tag(self, tag: str) -> str:
        """The event id of the message the bot sent with `tag`, also one whose mark is not stored yet."""
        event_id = next((ev for ev, t in self.sent.values() if t == tag), None)
        return event_id or await self.store.event_of_tag(tag)

    async def on_note(self, room_id: str, event_id: str, note: str, now: datetime) -> None:
        """Answer a message that is no command to act on (an edit, one the bot cannot read), once."""
        body = self.by_room.get(room_id)
        if body is None:
            return
        async with self.lock:
            if not await self._handled(event_id):
                await self._record_answers(body, event_id, now, [self._notice(body, NOTES[note], event_id)])
        self.outbox_wakeup.set()

    # --- one command ---------------------------------------------------------------------------

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
            if await self._handled(source):
                return
            await self._tick(body, now)
            await self._media_sync(body, now)
            parsed = commands.parse(msg, sender)
            if parsed is None:
                return
            slowed = self.limiter.check(sender, now)
            word = "!?" if isinstance(parsed, commands.Unknown) else _word(parsed)
            if slowed is not None:
                # Recorded as handled either way; told once per burst, then quietly dropped.
                await self._record_answers(body, source, now, [self._notice(body, SLOW_DOWN, source)] if slowed else [])
                # the first of a burst is logged, the rest only at DEBUG: a flood does not flood the log
                level = logging.INFO if slowed else logging.DEBUG
                _log_command(source, sender, word, "bromsat (för många kommandon)", level)
            elif isinstance(parsed, commands.Unknown):
                await self._record_answers(body, source, now, [self._notice(body, parsed.body, source)])
                _log_command(source, sender, word, "okänt kommando")
            elif parsed.name == "hjälp":
                text = commands.help_text(body.engine.meeting, body.engine.roster, sender)
                await self._record_answers(body, source, now, [self._notice(body, text, source)])
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
                await self._step(body, source, parsed, now, react=answers is None)
                if body.engine.roster.video == "element-call":  # a new or opened meeting learns who is in the call
                    await self._call_sync(body, self._call_users(body), f"callsync:{source}", now)
        self.outbox_wakeup.set()

    async def _step(self, body: Body, source: str, cmd: Command, now: datetime, react: bool) -> None:
        try:
            step = body.engine.step(cmd, now)
        except FoldError:
            log.exception("Händelserna från %s kunde inte läggas in; sammanträdet läses om från loggen", source)
            await self._fault(body, source, now)
            return
        if isinstance(step.outcome, Refused):
            await self._record_answers(body, source, now, [self._notice(body, step.outcome.body, source)])
            _log_command(source, cmd.actor, _word(cmd), f"avvisat ({step.outcome.rule})")
            return
        if step.meeting is None:  # a question before any kallelse (!status): answered, nothing to store
            answers = [self._notice(body, reply.text, source) for reply in step.outcome.replies]
            await self._record_answers(body, source, now, answers)
            _log_command(source, cmd.actor, _word(cmd), "godtaget")
            return
        # An accepted command that gets no reply of its own is confirmed with ✅ (a reaction
        # answering a check gets none: the ✅ is already there).
        confirm = react and not any(r.reply for r in step.outcome.replies)
        stored = await self._commit(body, source, now, step, confirm)
        _log_command(source, cmd.actor, _word(cmd), "godtaget" if stored else "inte sparat (fel i lagringen)")

    async def _tick(self, body: Body, now: datetime) -> None:
        """Let time pass for the body's meeting before anything else is decided."""
        if body.stale:
            await self._reload(body)
        while True:
            try:
                step = body.engine.tick(now)
            except FoldError:
                log.exception("Tidens händelser kunde inte läggas in; sammanträdet läses om från loggen")
                await self._reload(body)
                return
            if step is None:
                return
            assert step.meeting is not None
            await self._commit(body, f"tick:{step.meeting.id}:{step.key}", now, step, confirm=False)

    async def _commit(self, body: Body, source: str, now: datetime, step: Step, confirm: bool) -> bool:
        """Store what the step folded, atomically; on any failure, memory goes back to the log
        (and False)."""
        m = step.meeting
        assert m is not None and isinstance(step.outcome, Accepted)
        try:
            outgoing = await self._answers(body, source, step)
            if confirm:
                outgoing.insert(0, Outgoing(body.room_id, "m.reaction", shapes.reaction(source)))
            stored = await self.store.record(
                source,
                body.room_id,
                now,
                list(step.events),
                outgoing,
                meeting=(m.id, body.config.id, body.config.model_dump_json()) if step.new else None,
                meeting_id=m.id,
                next_seq=m.event_count - len(step.events),
                anchor=functools.partial(self._anchor, body) if ANCHORED_AT & {e.kind for e in step.events} else None,
            )
        except Exception:
            log.exception("Kommandot %s kunde inte sparas; sammanträdet läses om från loggen", source)
            await self._fault(body, source, now)
            return False
        if not stored:  # handled after all (cannot happen under the lock, but never fold twice)
            log.error("Kommandot %s var redan behandlat; sammanträdet läses om från loggen", source)
            await self._reload(body)
            return False
        if step.new:
            self.meetings[m.id] = m
            self.known[m.id] = body.config.id
            self.rosters[m.id] = body.engine.roster
            body.meetings.append(m.id)
        await self._maybe_snapshot(m)
        await self._schedule(body)
        return True

    async def _fault(self, body: Body, source: str, now: datetime) -> None:
        """Loud, and nothing changed: memory rebuilt from the log, the person told. "Not
        recorded" is final: the command is marked handled with that answer, so that it is never
        applied later (read again after a restart) when the person has already sent it anew."""
        if source.startswith("$"):  # a person's command, not the clock's
            notice = self._notice(body, NOT_RECORDED, source)
            try:
                await self.store.record(source, body.room_id, now, [], [notice])
            except Exception:  # the store is down altogether: told all the same, marked when it is back
                log.exception("Inte ens felmeddelandet om %s kunde sparas; det skickas osparat", source)
                self.unstored.append(notice)
                self.unmarked[source] = (body.room_id, now)
        await self._reload(body)

    async def _record_answers(self, body: Body, source: str, now: datetime, outgoing: list[Outgoing]) -> None:
        """A command that changes no meeting: its answers and its handled mark."""
        try:
            await self.store.record(source, body.room_id, now, [], outgoing)
        except Exception:
            log.exception("Svaret på %s kunde inte sparas", source)
            await self._fault(body, source, now)

    async def _answers(self, body: Body, source: str, step: Step) -> list[Outgoing]:
        m = step.meeting
        assert m is not None and isinstance(step.outcome, Accepted)
        out = []
        for reply in step.outcome.replies:
            in_reply_to = source if reply.reply else None
            content = shapes.message(reply, body.engine.roster, in_reply_to)
            file: tuple[str, str | bytes] | None = None
            if reply.attach in ("protocol", "pdf") or reply.attach.startswith("extract:"):
                events = [*await self.store.events(m.id), *step.events]
                doc = protocol.build(m.id, m.body_id, events, body.engine.roster)  # the log replayed once
                if reply.attach == "protocol":
                    text, html_text = protocol.render_doc(doc, "md"), protocol.html_body(doc)
                    content = shapes.with_document(content, text, html_text, TOO_BIG)
                    file = (f"protokoll-{m.id}.md", text)
                elif reply.attach == "pdf":  # seconds for a large meeting: off the loop, which keeps syncing
                    file = (f"protokoll-{m.id}.pdf", await asyncio.to_thread(protocol.render_doc, doc, "pdf"))
                else:
                    n = int(reply.attach.split(":")[1])
                    name = f"protokollsutdrag-{m.id}-paragraf-{m.items[n].paragraph}.pdf"
                    file = (name, await asyncio.to_thread(protocol.extract_pdf, doc, n))
            elif reply.attach == "calendar":
                room = body.config.room if body.config.room.startswith("#") else body.room_id  # an alias reads better
                via = self.config.matrix.user_id.partition(":")[2]
                ics = calendar.ics(m, body.engine.roster, room, self.room_name(body.room_id), via)
                file = (f"kallelse-{m.id}.ics", ics)
            out.append(Outgoing(body.room_id, "m.room.message", content, tag=reply.tag))

            if file:
                # A row of its own: the file goes out even if the homeserver refuses the message.
                relates = {"m.relates_to": content["m.relates_to"]} if in_reply_to else {}
                out.append(Outgoing(body.room_id, "file", relates, file[0], file[1]))
        return out + self._polls(body, m, step)

    def _polls(self, body: Body, m: Meeting, step: Step) -> list[Outgoing]:
        """Each open vote is also an Element poll (MSC3381): started with the vote, ended when the
        vote ends (decided or void). A response to it counts as the responder's vote."""
        out = []
        for e in step.events:
            if e.kind == "vote_started" and not e.data.get("closed"):
                vote = m.votes[-1]  # one vote starts at a time: the one this step began
                start = shapes.poll_start(f"Votering {vote.id} i ärende {vote.item}", vote.a, vote.b)
                out.append(Outgoing(body.room_id, shapes.POLL_START, start, tag=f"poll:{m.id}:{vote.id}"))
            elif e.kind == "vote_ended" and not m.votes[e.data["id"] - 1].closed:
                end = shapes.poll_end(f"tag:poll:{m.id}:{e.data['id']}", "Voteringen är avslutad.")
                out.append(Outgoing(body.room_id, shapes.POLL_END, end))
        return out

    def _anchor(self, body: Body, anchor: Anchor) -> Outgoing:
        """The body's chain as it stands, posted in the room, where the homeserver keeps it."""
        r = body.engine.roster
        text = protocol.anchor_text(r, anchor.length, anchor.head)
        return Outgoing(body.room_id, "m.room.message", shapes.anchor(Reply(text), r, anchor.length, anchor.head))

    def _notice(self, body: Body, text: str, source: str) -> Outgoing:
        return Outgoing(body.room_id, "m.room.message", shapes.message(Reply(text), body.engine.roster, source))

    # --- time ----------------------------------------------------------------------------------

    async def timers(self, body: Body) -> list[tuple[str, datetime]]:
        """What the body's meeting is waiting for, by job id: a running check's deadline (§ 12)
        and the reminders not yet handled. Derived from the stored state, so a restart rebuilds it."""
        m = body.engine.meeting
        if m is None:
            return []
        out = []
        if m.check and m.check.running:
            out.append((f"{body.config.id}|check|{m.check.id}", m.check.deadline))
        # A call membership that is not renewed has ended when it expires: noticed on time.
        expiries = [e for devices in m.in_call.values() for e in devices.values() if e]
        if expiries:
            first = min(expiries)
            out.append((f"{body.config.id}|call|{first}", datetime.fromisoformat(first)))
        grace = transmission.grace_at(m, body.engine.roster)  # a camera off longer than the grace (§ 5)
        if grace is not None:
            out.append((f"{body.config.id}|grace|{grace.isoformat()}", grace))
        for rem in schedule.reminders(m, body.engine.roster):
            if not await self.store.is_handled(_reminder_source(m, rem.key)):
                out.append((f"{body.config.id}|reminder|{rem.key}", rem.at))
        return out

    async def _schedule(self, body: Body) -> None:
        if self.scheduler is None:
            return
        m = body.engine.meeting
        # The timers follow from these alone; most commands change none of them.
        check = (m.check.id, m.check.running) if m and m.check else None
        calls = min((e for d in m.in_call.values() for e in d.values() if e), default=None) if m else None
        grace = transmission.grace_at(m, body.engine.roster) if m else None
        shape = (m.id, m.phase, m.start, m.opened_at, check, calls, grace) if m else None
        if shape == body.timers_for:
            return
        body.timers_for = shape
        wanted = dict(await self.timers(body))
        for job_id in body.jobs - wanted.keys():
            if self.scheduler.get_job(job_id):
                self.scheduler.remove_job(job_id)
        body.jobs = set(wanted)
        for job_id, at in wanted.items():
            # One that fell due while the bot was down runs at once (misfire_grace_time=None).
            self.scheduler.add_job(
                self.on_timer,
                "date",
                run_date=at,
                args=[job_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def on_caught_up(self) -> None:
        """The timers start once what was said while the bot was away has been read: a check's
        deadline that passed meanwhile must not end it before the answers given in time (§ 12)."""
        if self.scheduler is not None:
            return
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.start()
        for body in self.bodies.values():
            await self._schedule(body)

    async def on_timer(self, job_id: str, now: datetime | None = None) -> None:
        body_id, kind, key = job_id.split("|", 2)
        body = self.bodies[body_id]
        now = now or datetime.now(UTC)
        async with self.lock:
            await self._tick(body, now)  # a check's deadline, a call's expiry: or time before a reminder
            if kind == "reminder":
                await self._remind(body, key, now)
        self.outbox_wakeup.set()

    async def _remind(self, body: Body, key: str, now: datetime) -> None:
        m = body.engine.meeting
        if m is None:
            return
        source = _reminder_source(m, key)
        if await self._handled(source):
            return
        reply = schedule.remind(m, body.engine.roster, key, now)
        # A reminder that no longer matters is recorded all the same, so it is not tried again.
        outgoing = (
            [Outgoing(body.room_id, "m.room.message", shapes.message(reply, body.engine.roster, None))] if reply else []
        )
        await self._record_answers(body, source, now, outgoing)

    # --- running -------------------------------------------------------------------------------

    async def send_outbox(self, transport: Any) -> None:
        """Send every answer owed, in order; what the server took is marked sent, all in one
        transaction at the end. Until the mark is stored it is kept in memory (`sent`), so an
        answer is not sent again while the store is down; a resend after a crash lands once, by
        its transaction id."""
        from matrix.client import SendError

        while self.unstored:  # "not recorded" answers the store could not keep: sent first, once
            await transport.send(self.unstored[0])
            self.unstored.pop(0)
        for source, (room_id, at) in list(self.unmarked.items()):  # the store is back: marked now
            await self.store.record(source, room_id, at, [], [])
            del self.unmarked[source]
        try:
            for out in await self.store.unsent():
                if out.id in self.sent:
                    continue
                relates = out.content.get("m.relates_to") or {}
                if str(relates.get("event_id", "")).startswith("tag:"):
                    # A poll's end points at the poll, whose event id is known once the poll was sent.
                    poll = await self._event_of_tag(relates["event_id"].removeprefix("tag:"))
                    out = dataclasses.replace(
                        out, content={**out.content, "m.relates_to": {**relates, "event_id": poll}}
                    )
                try:
                    event_id = await transport.send(out)
                except SendError as e:
                    if not e.permanent:
                        raise
                    # The homeserver will never take it (e.g. forbidden): log it, do not block the rest.
                    log.error("Svar %s kunde inte skickas och ges upp: %s", out.id, e)
                    event_id = f"failed:{e.errcode}"
                self.sent[out.id] = (event_id, out.tag)
        finally:
            if self.sent:
                await self.store.mark_sent({i: ev for i, (ev, _) in self.sent.items()})
                self.sent.clear()

    async def outbox_forever(self, transport: Any, stop: asyncio.Event) -> None:
        from matrix.client import MAX_BACKOFF_SECONDS

        backoff = 1.0
        while not stop.is_set():
            await self.outbox_wakeup.wait()
            self.outbox_wakeup.clear()
            try:
                await self.send_outbox(transport)
                backoff = 1.0
            except Exception as e:  # keep what is owed; it goes out when the server (or the store) is back
                log.warning("Kunde inte skicka (%s); nytt försök om %.0f s", e, backoff)
                # A new answer owed is a reason to try at once: "not recorded" must not wait.
                try:
                    await asyncio.wait_for(self.outbox_wakeup.wait(), backoff)
                except TimeoutError:
                    pass
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                self.outbox_wakeup.set()

    async def run(self, transport: Any, stop: asyncio.Event) -> None:
        await self.load()
        resolved = await transport.start([b.config.room for b in self.bodies.values()], stop)
        if resolved is None:  # stopped while waiting for the homeserver
            return
        self.room_name, self.room_encrypted = transport.room_name, transport.encrypted
        for body in self.bodies.values():
            if body.config.room in resolved:
                body.room_id = resolved[body.config.room]
                self.by_room[body.room_id] = body
        for body in self.by_room.values():  # who is in the call now, also after a restart
            if body.engine.roster.video == "element-call":
                for event_id, state_key, content, sender, ts in await transport.call_state(body.room_id):
                    await self.on_call_member(body.room_id, event_id, state_key, content, sender, ts)
        self.outbox_wakeup.set()
        log.info("distansbot är igång som %s (enhet %s)", *transport.whoami)
        tasks = [
            asyncio.create_task(transport.sync_forever(stop, self, self.outbox_wakeup)),
            asyncio.create_task(self.outbox_forever(transport, stop)),
            *(asyncio.create_task(follow.run()) for follow in self._follows()),
        ]
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        async with self.lock:  # the command in hand is finished first; no new one starts
            for task in [stopping, *tasks]:
                task.cancel()
            await asyncio.gather(stopping, *tasks, return_exceptions=True)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.media_server is not None:
            await self.media_server.close()
        for task in done:
            if task is not stopping and task.exception():
                raise task.exception()
        try:  # what is owed goes out before the bot exits, if the homeserver takes it in time
            await asyncio.wait_for(self.send_outbox(transport), SEND_ON_STOP_SECONDS)
        except Exception as e:  # kept in the outbox: it goes out at the next start
            log.warning("Allt kunde inte skickas före avslutet (%s); det skickas vid nästa start", type(e).__name__)

    async def protocol_text(self, meeting_id: str | None, fmt: str) -> str | bytes:
        """`bot.py protokoll`: a meeting's protocol from the log alone, checked first as `verify`
        checks the database (its chain, every signature; not the room): a log that does not hold
        is written with what is wrong at its top, and never as justerat."""
        from config import ConfigError

        if not self.known:
            raise ConfigError("Databasen innehåller inga sammanträden.")
        meeting_id = meeting_id or list(self.known)[-1]
        if meeting_id not in self.known:
            raise ConfigError(f"Sammanträdet {meeting_id} finns inte. Finns: {', '.join(self.known)}")
        body_id = self.known[meeting_id]
        held, lines = await check_meeting(self.store, self, meeting_id, await self.store.check(body_id))
        doc = protocol.build(meeting_id, body_id, await self.store.events(meeting_id), self.rosters[meeting_id])
        if not held:
            faults = [line.removeprefix(f"FEL {meeting_id}: ") for line in lines]
            doc = protocol.unverified(doc, [f[:1].upper() + f[1:] for f in faults])
        return protocol.render_doc(doc, fmt)


async def verify(
    store: Store, shell: Shell, meeting_id: str | None, room: dict[str, list[Anchor] | str]
) -> tuple[bool, list[str]]:
    """`bot.py verify`: each body's log follows its chain, every signature (on the protocol, or on
    an omedelbart justerad paragraph) is on the events the log has before it, and the log gives
    every anchor the bot posted in the body's room (`room`: per body, its anchors, oldest
    first, or why the room could not be read). True only when all of it holds."""
    if meeting_id and meeting_id not in shell.known:
        return False, [f"Sammanträdet {meeting_id} finns inte."]
    ids = [meeting_id] if meeting_id else list(shell.known)
    ok, lines = True, []
    for body_id in dict.fromkeys(shell.known[mid] for mid in ids):
        chain = await store.check(body_id)
        for mid in (m for m in ids if shell.known[m] == body_id):
            held, found = await check_meeting(store, shell, mid, chain)
            ok = held and ok
            lines += found
        ok = _against_room(body_id, chain, room.get(body_id, "rummet lästes inte"), lines) and ok
    return ok, lines


async def check_meeting(store: Store, shell: Shell, mid: str, chain: Chain) -> tuple[bool, list[str]]:
    """What the database alone shows of one meeting (`chain`: its body's): its events follow the
    chain, and every signature is on the events the log has before it. True when both hold,
    with one OK line; otherwise the faults, one line each (starting "FEL")."""
    body_id = shell.known[mid]
    lines: list[str] = []
    found = _meeting_faults(mid, [b for b in chain.breaks if b.meeting_id == mid], lines)
    events = await store.events(mid)
    state = "ej justerat"
    for k, e in enumerate(events):
        if e.kind not in ("signed", "justerad", "paragraph_justerad"):
            continue
        n, fp = e.data.get("n"), e.data["fingerprint"]
        form = protocol.signed_form(mid, body_id, events[:k], shell.rosters[mid], n, fp)
        if form is None:
            found = True
            lines.append(f"FEL {mid}: {_signing(mid, shell.rosters[mid], events, k)}")
        elif e.kind == "justerad":
            state = f"justerat, fingeravtryck {fp} stämmer" + (
                " (med dagens återgivning av texten, som det signerades på före uppgraderingen)"
                if form == "text"
                else ""
            )
    if found:
        return False, lines
    return True, [f"OK {mid}: {len(events)} händelser, kedjan är hel; protokollet {state}."]


def _meeting_faults(mid: str, breaks: list[Break], lines: list[str]) -> bool:
    for b in breaks[:3]:
        lines.append(f"FEL {mid}: händelse {b.seq} ({b.kind}): {b.why}.")
    if len(breaks) > 3:
        lines.append(f"FEL {mid}: och {len(breaks) - 3} brott till i kedjan.")
    return bool(breaks)


def _signing(mid: str, r: Roster, events: list[rules_state.Event], k: int) -> str:
    """What a signature (event k) that is not on the log before it means, in words."""
    e = events[k]
    n = e.data.get("n")
    paragraph = next((x.data.get("paragraph") for x in events if x.kind == "item_taken" and x.data["n"] == n), n)
    if e.kind == "paragraph_justerad":
        return (
            f"§ {paragraph} stämmer inte med den omedelbart justerade lydelsen: loggen har ändrats efter justeringen."
        )
    if e.kind == "justerad":
        return (
            f"protokollet justerades med fingeravtrycket {e.data['fingerprint']}, men loggen före justeringen ger "
            f"{protocol.fingerprint(mid, events[:k], r)}: den har ändrats efter justeringen."
        )
    what = "protokollet" if n is None else f"§ {paragraph}"
    return f"signaturen av {r.label(e.data['user'])} på {what} (händelse {k}) gäller inte det som loggen har före den."


def _against_room(body_id: str, chain: Chain, anchors: list[Anchor] | str, lines: list[str]) -> bool:
    """The body's chain held against the anchors the bot posted in its room: each must be what
    the database gives at that length (longer is fine: events after the last anchor)."""
    length = len(chain.links)
    if isinstance(anchors, str):
        lines.append(
            f"EJ PRÖVAT MOT RUMMET {body_id}: {anchors}. Endast databasen är kontrollerad, och en databas "
            "som skrivits om i efterhand med kedjan omräknad syns inte utan rummets förankringar."
        )
        return False
    faults = []
    for a in dict.fromkeys(anchors):
        if a.length > length:
            faults.append(
                f"rummet har en förankring av {a.length} händelser, men databasen har bara {length}: "
                "händelser eller sammanträden har tagits bort ur den"
            )
        elif chain.links[a.length - 1] != a.head:
            faults.append(
                f"databasen ger inte rummets förankring av {a.length} händelser (huvud {short_fingerprint(a.head)}): "
                "den har skrivits om i efterhand"
            )
    # Every close and justering since the body-wide chain was posted: the last one's must be there.
    owed = max((i + 1 for i, k in enumerate(chain.kinds) if k in ANCHORED_AT and i >= chain.upgraded), default=0)
    if owed > max((a.length for a in anchors), default=0):
        faults.append(
            f"förankringen efter organets händelse {owed - 1} finns inte i rummet (borttagen ur rummet, "
            "eller inte skickad än)"
        )
    for fault in faults[:3]:
        lines.append(f"FEL {body_id}: {fault}.")
    if faults:
        return False
    if anchors:
        last = max(a.length for a in anchors)
        after = f"; {length - last} händelser efter den senaste" if length > last else ""
        count = len(set(anchors))
        lines.append(
            f"OK {body_id}: organets kedja ({length} händelser) stämmer med rummets {count} "
            f"{'förankring' if count == 1 else 'förankringar'}{after}."
        )
    else:
        lines.append(f"OK {body_id}: organets kedja har {length} händelser; rummet har inga förankringar än.")
    return True


@functools.cache
def _state_version(roster: Roster) -> str:
    """Snapshots are valid for the format, the code that folds the log and the roster."""
    digest = hashlib.sha256(f"json-{SNAPSHOT_FORMAT}".encode())
    digest.update(Path(rules_state.__file__).read_bytes())
    digest.update(repr(roster).encode())
    return digest.hexdigest()[:20]


def _reminder_source(m: Meeting, key: str) -> str:
    return f"reminder:{m.id}:{key}"
