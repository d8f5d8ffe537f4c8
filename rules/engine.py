"""The one entry point to the rules: a command or a tick of the clock goes in, stamped events
or a refusal come out, and the events are folded into the meeting.

Theory of operation: like h11's `Connection` or nio's `Client`, the engine holds protocol state
and does no I/O. The shell (Matrix and SQLite), the test driver and the benchmarks all drive
this one loop, so they cannot drift apart: the same command at the same time gives the same
events with the same stamps everywhere. `decide` is pure; `step` and `tick` also fold. A fold
that fails leaves the meeting half-changed, so it raises `FoldError` and the owner of the
engine must rebuild the meeting from its log (the shell does; a test fails).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rules import meeting as rules
from rules import transmission
from rules.actions import Accepted, Command, Outcome
from rules.roster import Roster
from rules.state import Event, Meeting, apply

BOT = "distansbot"  # the actor of what the clock does


class FoldError(Exception):
    """Folding accepted events failed: the meeting in memory can no longer be trusted."""


@dataclass(frozen=True)
class Step:
    outcome: Outcome
    events: tuple[Event, ...] = ()
    meeting: Meeting | None = None  # the meeting the events were folded into
    new: bool = False  # a kallelse that began a new meeting
    key: str = ""  # for what the clock did: what fell due ("check:3", "call:@u:DEV:…")


def default_name(roster: Roster, cmd: Command) -> str:
    assert cmd.convening is not None
    return f"{roster.body_id}-{cmd.convening.start.date().isoformat()}"


class Engine:
    """A body's latest meeting and the rules that move it.

    `roster` is the meeting's own, the one it was convened with; `upcoming` is the one a new
    kallelse gets (the configuration now). A roster changed mid-meeting so applies from the next."""

    def __init__(
        self,
        roster: Roster,
        meeting: Meeting | None = None,
        name_meeting: Callable[[Roster, Command], str] = default_name,
        audit: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.roster = self.upcoming = roster
        self.meeting = meeting
        self.name_meeting = name_meeting
        self.audit = audit  # sees each outcome before it is folded (tests check purity with it)

    def decide(self, cmd: Command, now: datetime) -> Outcome:
        roster = self.upcoming if rules.starts_meeting(self.meeting, cmd) else self.roster
        return rules.decide(self.meeting, roster, cmd, now)

    def step(self, cmd: Command, now: datetime) -> Step:
        outcome = self.decide(cmd, now)
        if self.audit:
            self.audit(outcome)
        if not isinstance(outcome, Accepted):
            return Step(outcome, meeting=self.meeting)
        if outcome.new_meeting:
            self.roster = self.upcoming
            self.meeting = Meeting(self.name_meeting(self.roster, cmd), self.roster.body_id)
        events = tuple(Event(kind, now, cmd.actor, data) for kind, data in outcome.events)
        self._fold(events)
        return Step(outcome, events, self.meeting, outcome.new_meeting)

    def tick(self, now: datetime) -> Step | None:
        """Time has passed: the earliest thing the clock ends (a check at its deadline, a call
        membership at its expiry) is stamped with the moment it ended, whenever the engine got
        to notice it. Call again until it returns None."""
        m = self.meeting
        due = rules.tick(m, self.roster, now)
        if due is None or m is None:
            return None
        at, key, outcome = due
        events = tuple(Event(kind, at, BOT, data) for kind, data in outcome.events)
        self._fold(events)
        return Step(outcome, events, m, key=key)

    def call(self, user: str, devices: dict[str, str | None], now: datetime) -> Step | None:
        """The room's call state says `user` is in the call on `devices` (device -> expiry)."""
        m = self.meeting
        outcome = rules.call(m, self.roster, user, devices, now)
        if outcome is None or m is None:
            return None
        events = tuple(Event(kind, now, user, data) for kind, data in outcome.events)
        self._fold(events)
        return Step(outcome, events, m)

    def media(self, user: str, camera: str, microphone: str, connected: bool, now: datetime) -> Step | None:
        """The call's media server shows `user` with this camera, microphone and connection."""
        return self._media(
            user, transmission.shown(self.meeting, self.roster, user, camera, microphone, connected, now), now
        )

    def media_unavailable(self, reason: str, now: datetime) -> Step | None:
        """The call's media server cannot be read from `now` (reason: unreachable | refused | error)."""
        return self._media(BOT, transmission.unavailable(self.meeting, self.roster, reason, now), now)

    def media_available(self, now: datetime) -> Step | None:
        return self._media(BOT, transmission.available(self.meeting, self.roster, now), now)

    def _media(self, actor: str, outcome: Accepted | None, now: datetime) -> Step | None:
        if outcome is None or self.meeting is None:
            return None
        events = tuple(Event(kind, now, actor, data) for kind, data in outcome.events)
        self._fold(events)
        return Step(outcome, events, self.meeting)

    def _fold(self, events: tuple[Event, ...]) -> None:
        if not events:
            return
        assert self.meeting is not None
        try:
            for e in events:
                apply(self.meeting, self.roster, e)
        except Exception as e:
            raise FoldError(f"{type(e).__name__}: {e}") from e
