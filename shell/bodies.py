"""The bodies and their meetings as the shell holds them: each body's engine on its latest
meeting, the meetings read from the log (a snapshot, then the events after it), and the rosters
they were convened with. A restart loses nothing: all of it is rebuilt from the store."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from config import BodyConfig, Config
from rules import events as rules_events
from rules import model as rules_model
from rules import shown as rules_shown
from rules import state as rules_state
from rules import tables as rules_tables
from rules.actions import Command
from rules.engine import Engine
from rules.roster import Roster
from rules.state import Meeting
from shell.calls import Slots
from shell.facts import engine_ports
from shell.ports import MediaRoom, View

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger("distansbot")

# A meeting's state is saved every this many events, so a start replays at most that many.
SNAPSHOT_EVERY = 1000
# Snapshots are JSON of the meeting's state (never pickle: a pickle read back runs code).
SNAPSHOT_FORMAT = 1
_MEETING_JSON = TypeAdapter(Meeting)


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
    # The room's call state by the transport's key (one per device or per person): from the room
    # state at start-up and the changes after it; the meeting learns of it through the engine.
    call_slots: Slots = field(default_factory=dict)
    # The event of each key's membership now: a hand raised in the call relates to it.
    call_events: dict[str, str] = field(default_factory=dict)
    follow: MediaRoom | None = None  # the reader of the call's media server, with [livekit]


class Bodies:
    """Every configured body, and every meeting the store has."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.tz = ZoneInfo(config.timezone)
        self.view: View | None = None  # the live view, with [web] (its links answer !vy)
        self.reads_media = config.livekit is not None  # the rosters read the call's media server
        ports = engine_ports(self.name_meeting, view=lambda: self.view)
        self.bodies: dict[str, Body] = {}
        for b in config.bodies:
            roster = b.roster(self.tz, self.reads_media)
            self.bodies[b.id] = Body(b, roster, Engine(roster, ports=ports))
        self.meetings: dict[str, Meeting] = {}  # those loaded
        self.known: dict[str, str] = {}  # every meeting id -> its body id
        self.rosters: dict[str, Roster] = {}  # every meeting id -> the roster it was convened with
        self.snapshot_at: dict[str, int] = {}
        self.by_room: dict[str, Body] = {}

    async def load(self) -> None:
        """Rebuild each body's latest meeting from its log (a restart loses nothing). Older
        meetings are closed and are read only when asked for (`meeting()`)."""
        for meeting_id, body_id, convened_with in await self.store.meetings():
            body = self.bodies.get(body_id)
            if body is None:
                log.warning("Sammanträde %s hör till organet %s som inte längre är konfigurerat", meeting_id, body_id)
                continue
            self.known[meeting_id] = body_id
            # Meetings stored before rosters were kept with them read the configuration's.
            saved = (
                BodyConfig.model_validate_json(convened_with).roster(self.tz, self.reads_media)
                if convened_with
                else body.roster
            )
            self.rosters[meeting_id] = saved
            body.meetings.append(meeting_id)
        for body in self.bodies.values():
            await self._latest(body)
        if self.view is not None:  # the live view shows them from now (a standby's has waited)
            await self.view.serve()

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

    def added(self, body: Body, m: Meeting) -> None:
        """A kallelse began meeting `m`, and it is stored."""
        self.meetings[m.id] = m
        self.known[m.id] = body.config.id
        self.rosters[m.id] = body.engine.roster
        body.meetings.append(m.id)

    async def maybe_snapshot(self, m: Meeting, force: bool = False) -> None:
        if force or m.event_count - self.snapshot_at.get(m.id, 0) >= SNAPSHOT_EVERY:
            state = _MEETING_JSON.dump_json(m)
            await self.store.save_snapshot(m.id, m.event_count, _state_version(self.rosters[m.id]), state)
            self.snapshot_at[m.id] = m.event_count

    async def reload(self, body: Body) -> None:
        """Memory back to exactly what the log holds, after a fold or a store failed. If the log
        cannot be read now, nothing is decided on this body until it can (`stale`)."""
        body.stale = True
        for meeting_id in body.meetings:
            self.meetings.pop(meeting_id, None)
        await self._latest(body)
        body.timers_for = None
        body.stale = False

    def name_meeting(self, roster: Roster, cmd: Command) -> str:
        assert cmd.convening is not None
        base = f"{roster.body_id}-{cmd.convening.start.date().isoformat()}"
        taken = set(self.known)
        return (
            base if base not in taken else next(f"{base}-{i}" for i in range(2, 10_000) if f"{base}-{i}" not in taken)
        )

    def reconfigure(self, new: Config, later: list[str]) -> None:
        """SIGHUP, between commands: a body's changed roster is what its next kallelse gets; a
        meeting under way keeps the roster it was convened with (`later` gets what waits)."""
        for b in new.bodies:
            body = self.bodies.get(b.id)
            if body is None or body.config == b:
                continue
            if b.room != body.config.room:
                later.append(f"rummet för {b.id} ändras först vid omstart")
                b = b.model_copy(update={"room": body.config.room})
                if b == body.config:
                    continue
            body.config, body.roster = b, b.roster(self.tz, self.reads_media)
            body.engine.upcoming = body.roster
            if body.engine.meeting is None:
                body.engine.roster = body.roster
            later.append(f"{b.id}: den nya förteckningen gäller från nästa kallelse")


@functools.cache
def _state_version(roster: Roster) -> str:
    """Snapshots are valid for the format, the code that folds the log and the roster."""
    digest = hashlib.sha256(f"json-{SNAPSHOT_FORMAT}".encode())
    fold = [*Path(rules_state.__file__).parent.glob("*.py"), *Path(rules_events.__file__).parent.glob("*.py")]
    types = [Path(m.__file__) for m in (rules_model, rules_shown, rules_tables)]
    for path in sorted([*fold, *types]):  # the fold, its types and tables
        digest.update(path.read_bytes())
    digest.update(repr(roster).encode())
    return digest.hexdigest()[:20]
