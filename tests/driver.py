"""Drives the pure rules as the shell does, without Matrix or SQLite: for unit and property tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import commands
from commands.text import Message
from rules import meeting as rules
from rules.actions import Accepted, Command, Refused
from rules.roster import Person, Role, Roster
from rules.state import Event, Meeting, apply

CHAIR = "@anna:ex.se"
VICE = "@bo:ex.se"
M3, M4, M5 = "@cecilia:ex.se", "@david:ex.se", "@eva:ex.se"
SUB1, SUB2 = "@erik:ex.se", "@frida:ex.se"
SECR = "@sekr:ex.se"
TJP = "@tina:ex.se"
SSC = "@ssc:ex.se"
OUTSIDER = "@mallory:ex.se"
MEMBERS = (CHAIR, VICE, M3, M4, M5)

ROSTER = Roster(
    body_id="ks",
    name="Kommunstyrelsen",
    chair=CHAIR,
    members=(
        Person(CHAIR, "Anna Andersson", Role.MEMBER, party="S"),
        Person(VICE, "Bo Berg", Role.MEMBER, party="M"),
        Person(M3, "Cecilia Carlsson", Role.MEMBER, party="S"),
        Person(M4, "David Dahl", Role.MEMBER, party="C"),
        Person(M5, "Eva Ek", Role.MEMBER, party="V"),
    ),
    substitutes=(
        Person(SUB1, "Erik Ek", Role.SUBSTITUTE, party="S"),
        Person(SUB2, "Frida Fors", Role.SUBSTITUTE, party="M"),
    ),
    attendees=(Person(TJP, "Tina Tjänsteperson", Role.ATTENDEE, title="kommundirektör"),),
    vice_chairs=(VICE,),
    secretaries=(SECR,),
    security_chief=SSC,
    check_timeout_seconds=60,
)

KALLA = (
    "!kalla 2026-12-03 18:00 distans\n"
    "Motivering: smittspridning i kommunen\n"
    "1. Budget 2027\n"
    "2. Anställning av förvaltningschef [personuppgifter]\n"
    "3. Skyddsobjekt [säkerhetsskydd]\n"
    "4. Upphandling [sekretess]"
)


class Driver:
    """A meeting in memory. `say` parses and decides like the bot; accepted events are folded."""

    def __init__(self, roster: Roster = ROSTER, before_fold: Callable[[Driver, Accepted], None] | None = None) -> None:
        self.roster = roster
        # Property tests look at each accepted outcome against the state it was decided on.
        self.before_fold = before_fold
        self.m: Meeting | None = None
        self.now = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 17.00 in Stockholm
        self.log: list[Event] = []
        self.accepted: list[Command] = []

    def say(self, sender: str, body: str, formatted: str | None = None) -> Accepted | Refused:
        self.now += timedelta(seconds=1)
        self.tick()
        cmd = commands.parse(Message(body, formatted), sender)
        assert cmd is not None and not isinstance(cmd, commands.Unknown), body
        return self.decide(cmd)

    def decide(self, cmd: Command) -> Accepted | Refused:
        before = copy.deepcopy(self.m)
        outcome = rules.decide(self.m, self.roster, cmd, self.now)
        assert self.m == before, "decide changed the meeting"
        if isinstance(outcome, Accepted):
            if self.before_fold:
                self.before_fold(self, outcome)
            if outcome.new_meeting:
                self.m = Meeting("ks-1", "ks")
            self._fold(outcome, cmd.actor)
            self.accepted.append(cmd)
        return outcome

    def tick(self) -> None:
        outcome = rules.tick(self.m, self.roster, self.now)
        if outcome:
            self._fold(outcome, "distansbot")

    def _fold(self, outcome: Accepted, actor: str) -> None:
        assert self.m is not None
        for kind, data in outcome.events:
            event = Event(kind, self.now, actor, data)
            self.log.append(event)
            apply(self.m, self.roster, event)

    def ok(self, sender: str, body: str, formatted: str | None = None) -> Accepted:
        outcome = self.say(sender, body, formatted)
        assert isinstance(outcome, Accepted), outcome
        return outcome

    def refused(self, sender: str, body: str, formatted: str | None = None) -> Refused:
        outcome = self.say(sender, body, formatted)
        assert isinstance(outcome, Refused), outcome
        return outcome

    def opened(self, present: tuple[str, ...] = MEMBERS + (SUB1, SUB2, SECR)) -> Driver:
        self.ok(CHAIR, KALLA)
        self.ok(CHAIR, "!öppna")
        for user in present:
            self.ok(user, "!närvarande")
        return self

    def checked(self, item: int = 1) -> Driver:
        if self.m is None or self.m.current != item:
            self.ok(CHAIR, f"!ärende {item}")
        self.ok(CHAIR, "!teknikkontroll")
        for user in self.m.serving(self.roster):
            self.ok(user, "!ok")
        assert self.m.check is not None and self.m.check.passed
        return self
