"""The one entry point to the rules: a command or a tick of the clock goes in, stamped events
or a refusal come out, and the events are folded into the meeting.

Theory of operation: like h11's `Connection` or nio's `Client`, the engine holds protocol state
and does no I/O. The shell (a transport and a store), the test driver and the benchmarks all
drive this one loop, so they cannot drift apart: the same command at the same time gives the
same events with the same stamps everywhere. `decide` is pure; `step` and `tick` also fold. A
fold that fails leaves the meeting half-changed, so it raises `FoldError` and the owner of the
engine must rebuild the meeting from its log (the shell does; a test fails).

What the rules cannot know themselves reaches them through the engine's ports, the same way
for every caller: per engine (`Ports`) how a new meeting is named, the lot drawn for a tied
election, the fingerprint of the log and the help text; per command (`Facts`) the event it came
in, whether the room is end-to-end encrypted, and the log so far when `needs_log` says the
command is one that is fingerprinted. What a step asks of the room besides its replies comes
out with it (`Step.effects`), so that the shell never decides by a command's name or an
event's kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rules import meeting as rules
from rules import transmission
from rules.actions import Accepted, Command, Outcome, Reply
from rules.roster import Roster
from rules.state import Event, Meeting, apply

BOT = "distansbot"  # the actor of what the clock does

# A tied election is settled by lot (KL 5 kap. 56 §): drawn through `Ports.lot`.
DRAWS_LOT = frozenset({"votering"})
HELP = "hjälp"  # answered from the command tables (`Ports.help`), never a step of the meeting
VIEW = "vy"  # answered with a link of the live view's (`Ports.view`), never a step of the meeting
# What a person may answer without typing, by what the bot's message asked (its tag's kind).
ANSWERS = {"check": frozenset({"ok"}), "poll": frozenset({"ja", "nej", "avstår"})}
# The body's chain is anchored in the room when a meeting closes and at every justering, so that
# a database rewritten afterwards (chain and all) shows against what the room kept.
ANCHORED_AT = frozenset({"closed", "justerad", "paragraph_justerad"})


class FoldError(Exception):
    """Folding accepted events failed: the meeting in memory can no longer be trusted."""


def default_name(roster: Roster, cmd: Command) -> str:
    assert cmd.convening is not None
    return f"{roster.body_id}-{cmd.convening.start.date().isoformat()}"


@dataclass(frozen=True)
class Ports:
    """Facts from outside the rules, per engine."""

    name_meeting: Callable[[Roster, Command], str] = default_name
    lot: Callable[[], int] = lambda: 0
    # The fingerprint a command in `fingerprinted` is given, from the log before it (minutes').
    fingerprint: Callable[[Engine, Sequence[Event], Command, datetime], str] | None = None
    fingerprinted: frozenset[str] = frozenset()
    help: Callable[[Meeting | None, Roster, str], str] | None = None
    # !vy: the answer in the room, and the text of the direct message with the link ("": none).
    view: Callable[[Meeting | None, Roster, str], tuple[str, str]] | None = None


@dataclass(frozen=True)
class Facts:
    """Facts from outside the rules, per command."""

    event_id: str = ""  # the transport's id of the event the command came in (a signature records it)
    room_encrypted: bool = True  # is the meeting room end-to-end encrypted (§ 2)
    log: Sequence[Event] | None = None  # the meeting's events before the command, when `needs_log`


@dataclass(frozen=True)
class Effects:
    """What a step asks of the room besides its replies (their files are `Reply.attach`)."""

    poll: tuple[int, str] | None = None  # a vote begun that is also a poll: its id, the poll's tag
    polls_ended: tuple[str, ...] = ()  # the tags of the polls whose votes ended
    anchor: bool = False  # the body's chain is posted in the room
    direct: tuple[str, str] | None = None  # a direct message to a person: their user id, the text


@dataclass(frozen=True)
class Step:
    outcome: Outcome
    events: tuple[Event, ...] = ()
    meeting: Meeting | None = None  # the meeting the events were folded into
    new: bool = False  # a kallelse that began a new meeting
    key: str = ""  # for what the clock did: what fell due ("check:3", "call:@u:DEV:…")
    effects: Effects = Effects()


def poll_tag(meeting_id: str, vote: int) -> str:
    return f"poll:{meeting_id}:{vote}"


class Engine:
    """A body's latest meeting and the rules that move it.

    `roster` is the meeting's own, the one it was convened with; `upcoming` is the one a new
    kallelse gets (the configuration now). A roster changed mid-meeting so applies from the next."""

    def __init__(
        self,
        roster: Roster,
        meeting: Meeting | None = None,
        ports: Ports = Ports(),
        audit: Callable[[Command, Outcome], None] | None = None,
    ) -> None:
        self.roster = self.upcoming = roster
        self.meeting = meeting
        self.ports = ports
        self.audit = audit  # sees each command and outcome before it is folded (tests check purity with it)

    @property
    def follows_call(self) -> bool:
        """Does the meeting follow the room's call (who is in it, on which device)?"""
        return self.roster.follows_call

    def needs_log(self, cmd: Command) -> bool:
        """Must `Facts.log` be given with this command (it is fingerprinted)?"""
        return self.meeting is not None and self.ports.fingerprint is not None and cmd.name in self.ports.fingerprinted

    def answer(self, actor: str, tag: str, choice: str) -> Command | None:
        """A person's answer to a message of the bot's without typing (a ✅ on a check's
        message, a poll answer) as the command it stands for, tied to what that message asked
        (`tag`), or None when it answers nothing the rules take that way."""
        kind, _, rest = tag.partition(":")
        meeting_id, _, n = rest.rpartition(":")
        if choice not in ANSWERS.get(kind, ()) or not n.isdigit():
            return None
        return Command(choice, actor, answers=(meeting_id, int(n)))

    def decide(self, cmd: Command, now: datetime) -> Outcome:
        roster = self.upcoming if rules.starts_meeting(self.meeting, cmd) else self.roster
        return rules.decide(self.meeting, roster, cmd, now)

    def complete(self, cmd: Command, now: datetime, facts: Facts) -> Command:
        """The command with what the caller and the ports know of it."""
        cmd = dataclasses.replace(cmd, event_id=facts.event_id, room_encrypted=facts.room_encrypted)
        if cmd.name in DRAWS_LOT:
            cmd = dataclasses.replace(cmd, lot=self.ports.lot())
        if self.needs_log(cmd) and facts.log is not None:
            assert self.ports.fingerprint is not None
            cmd = dataclasses.replace(cmd, fingerprint=self.ports.fingerprint(self, facts.log, cmd, now))
        return cmd

    def step(self, cmd: Command, now: datetime, facts: Facts = Facts()) -> Step:
        if cmd.name == HELP and self.ports.help is not None:
            return Step(
                Accepted(replies=[Reply(self.ports.help(self.meeting, self.roster, cmd.actor))]), meeting=self.meeting
            )
        if cmd.name == VIEW and self.ports.view is not None:
            answer, link = self.ports.view(self.meeting, self.roster, cmd.actor)
            effects = Effects(direct=(cmd.actor, link)) if link else Effects()
            return Step(Accepted(replies=[Reply(answer)]), meeting=self.meeting, effects=effects)
        cmd = self.complete(cmd, now, facts)
        outcome = self.decide(cmd, now)
        if self.audit:
            self.audit(cmd, outcome)
        if not isinstance(outcome, Accepted):
            return Step(outcome, meeting=self.meeting)
        if outcome.new_meeting:
            self.roster = self.upcoming
            self.meeting = Meeting(self.ports.name_meeting(self.roster, cmd), self.roster.body_id)
        events = tuple(Event(kind, now, cmd.actor, data) for kind, data in outcome.events)
        self._fold(events)
        return Step(outcome, events, self.meeting, outcome.new_meeting, effects=self._effects(events))

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
        return Step(outcome, events, m, key=key, effects=self._effects(events))

    def call(self, user: str, devices: dict[str, str | None], now: datetime) -> Step | None:
        """The room's call state says `user` is in the call on `devices` (device -> expiry)."""
        m = self.meeting
        outcome = rules.call(m, self.roster, user, devices, now)
        if outcome is None or m is None:
            return None
        events = tuple(Event(kind, now, user, data) for kind, data in outcome.events)
        self._fold(events)
        return Step(outcome, events, m, effects=self._effects(events))

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
        return Step(outcome, events, self.meeting, effects=self._effects(events))

    def _fold(self, events: tuple[Event, ...]) -> None:
        if not events:
            return
        assert self.meeting is not None
        try:
            for e in events:
                apply(self.meeting, self.roster, e)
        except Exception as e:
            raise FoldError(f"{type(e).__name__}: {e}") from e

    def _effects(self, events: tuple[Event, ...]) -> Effects:
        """What the folded events ask of the room: an open vote is also a poll, started with it
        and ended when it ends (decided or void); a close or a justering anchors the chain."""
        m = self.meeting
        if m is None or not events:
            return Effects()
        poll, ended = None, []
        for e in events:
            if e.kind == "vote_started" and not e.data.get("closed"):
                poll = (m.votes[-1].id, poll_tag(m.id, m.votes[-1].id))  # one vote starts at a time: this one
            elif e.kind == "vote_ended" and not m.votes[e.data["id"] - 1].closed:
                ended.append(poll_tag(m.id, e.data["id"]))
        return Effects(poll, tuple(ended), bool(ANCHORED_AT & {e.kind for e in events}))
