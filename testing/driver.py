"""Drives the pure rules as the shell does, without a transport or a store: for unit and
property tests, and the benchmarks. Through the same engine and the same ports as the shell
(`shell.facts.engine_ports`); only the meeting's name and the lot are fixed, so that a test's
meeting is always the same."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import commands
from commands.text import Message
from matrix import content
from minutes import protocol
from rules.actions import Accepted, Command, Refused
from rules.engine import Engine, Facts
from rules.roster import Person, Role, Roster
from rules.state import Event, Meeting
from shell import Shell
from shell.facts import engine_ports
from storage import open_store

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
    """A meeting in memory, driven through the same engine as the bot: `say` parses and steps."""

    def __init__(self, roster: Roster = ROSTER, before_fold: Callable[[Driver, Accepted], None] | None = None) -> None:
        self.roster = roster
        # Property tests look at each accepted outcome against the state it was decided on.
        self.before_fold = before_fold
        self.lot = 0  # what the next lot drawn gives (the shell's is random), for a tied election
        ports = engine_ports(lambda r, cmd: f"{r.body_id}-1", lot=lambda: self.lot)
        self.engine = Engine(roster, ports=ports, audit=self._audit)
        # Ten minutes before the meeting that KALLA convenes (18.00 in Stockholm): it may be opened.
        self.now = datetime(2026, 12, 3, 16, 50, tzinfo=UTC)
        self.log: list[Event] = []
        self._before: Meeting | None = None
        self.pending: Command | None = None
        self.room_encrypted = True  # the room's end-to-end encryption, as the shell hands it in (§ 2)

    @property
    def m(self) -> Meeting | None:
        return self.engine.meeting

    def say(self, sender: str, body: str, formatted: str | None = None) -> Accepted | Refused:
        self.now += timedelta(seconds=1)
        self.tick()
        cmd = commands.parse(Message(body, formatted), sender)
        assert cmd is not None and not isinstance(cmd, commands.Unknown), body
        return self.decide(cmd)

    def _audit(self, cmd: Command, outcome: Accepted | Refused) -> None:
        assert self.m == self._before, "decide changed the meeting"
        self.pending = cmd  # what `before_fold` is looking at: the command with its facts
        if self.before_fold and isinstance(outcome, Accepted):
            self.before_fold(self, outcome)

    def decide(self, cmd: Command) -> Accepted | Refused:
        """The command stepped as the shell steps it, with the facts the shell gives: its event
        id, the room's encryption (§ 2) and the log (for a fingerprint)."""
        self._before = copy.deepcopy(self.m)
        self.pending = None
        facts = Facts(f"$event{len(self.log)}-{self.now.timestamp():.0f}", self.room_encrypted, self.log)
        step = self.engine.step(cmd, self.now, facts)
        self.log.extend(step.events)
        return step.outcome

    def hand(self, user: str, reaction: str, raised: bool = True) -> Accepted | Refused:
        """A hand raised in the call (`reaction`, the event that raised it) or lowered, as the shell
        hands it over once it has found the hand on the sender's own current call membership."""
        self.now += timedelta(seconds=1)
        self.tick()
        return self.decide(Command("ordet", user, word="" if raised else "återta", hand=reaction))

    def tick(self) -> None:
        while step := self.engine.tick(self.now):
            self.log.extend(step.events)

    def call(self, user: str, devices: dict[str, datetime | None]) -> Accepted | None:
        """The room's call state for `user` now (device -> expiry), as the shell hands it in."""
        self.now += timedelta(seconds=1)
        self.tick()
        self._before = copy.deepcopy(self.m)
        self.pending = None
        step = self.engine.call(user, {d: e.isoformat() if e else None for d, e in devices.items()}, self.now)
        if step is None:
            return None
        self.log.extend(step.events)
        assert isinstance(step.outcome, Accepted)
        return step.outcome

    def media(self, user: str, camera: str, microphone: str, connected: bool = True) -> Accepted | None:
        """What the call's media server shows for `user` now, as the shell hands it in."""
        return self._stepped(lambda: self.engine.media(user, camera, microphone, connected, self.now))

    def media_down(self, reason: str = "unreachable") -> Accepted | None:
        return self._stepped(lambda: self.engine.media_unavailable(reason, self.now))

    def media_up(self) -> Accepted | None:
        return self._stepped(lambda: self.engine.media_available(self.now))

    def _stepped(self, step_now) -> Accepted | None:
        self.now += timedelta(seconds=1)
        self.tick()
        self._before = copy.deepcopy(self.m)
        self.pending = None
        step = step_now()
        if step is None:
            return None
        self.log.extend(step.events)
        assert isinstance(step.outcome, Accepted)
        return step.outcome

    def protocol(self, fmt: str = "md") -> str:
        assert self.m is not None
        return protocol.render(self.m.id, self.m.body_id, self.log, self.roster, fmt)

    def ok(self, sender: str, body: str, formatted: str | None = None) -> Accepted:
        outcome = self.say(sender, body, formatted)
        assert isinstance(outcome, Accepted), outcome
        return outcome

    def refused(self, sender: str, body: str, formatted: str | None = None) -> Refused:
        outcome = self.say(sender, body, formatted)
        assert isinstance(outcome, Refused), outcome
        return outcome

    def opened(self, present: tuple[str, ...] = MEMBERS + (SUB1, SUB2, SECR)) -> Driver:
        """Convened, opened early and the roll call made; then the time called to (§ 1)."""
        self.ok(CHAIR, KALLA)
        self.ok(CHAIR, "!öppna")
        for user in present:
            self.ok(user, "!närvarande")
        self.until_called()
        return self

    def until_called(self) -> None:
        """Let the time come to the one in the kallelse, when items may be taken up (§ 1)."""
        assert self.m is not None and self.m.start is not None
        self.now = max(self.now, self.m.start)

    def close(self, sender: str = CHAIR) -> Accepted | Refused:
        """!avsluta, after striking (!utgår) the items never taken up, as a chair who ends the
        meeting early does: the protocol accounts for every item (KL 6 kap. 35 §)."""
        assert self.m is not None
        for n, item in self.m.items.items():
            if not item.handled:
                self.ok(sender, f"!utgår {n}")
        return self.say(sender, "!avsluta")

    def checked(self, item: int = 1) -> Driver:
        if self.m is None or self.m.current != item:
            self.ok(CHAIR, f"!ärende {item}")
        self.ok(CHAIR, "!teknikkontroll")
        for user in self.m.serving(self.roster):
            self.ok(user, "!ok")
        assert self.m.check is not None and self.m.check.passed
        return self


async def started(config) -> Shell:
    """The shell over a real store and the Matrix transport's encoding, without a homeserver."""
    bot = Shell(config, await open_store(config.storage.database, config.storage.secret()), content.encode)
    await bot.load()
    bot.bodies["ks"].room_id = "!room:localhost"
    bot.by_room["!room:localhost"] = bot.bodies["ks"]
    return bot
