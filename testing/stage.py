"""A stage for whole meetings: a homeserver, the demo body's people as real clients, a room, and
the bot as a process. The integration tests and the demo both play on it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rules.roster import STOCKHOLM
from testing.actors import (
    ROOT,
    BotProcess,
    Observer,
    Person,
    connect,
    create_room,
    join_all,
    say,
    text_of,
    write_config,
)
from testing.clock import StageClock
from testing.homeserver import Homeserver, free_port

PASSWORD = "hemligt-lösenord-för-test"
BOT_PASSWORD = "bottens-lösenord"

# localpart, name, party or title, role
CAST = [
    ("anna", "Anna Andersson", "S", "member"),
    ("bo", "Bo Berg", "M", "member"),
    ("cecilia", "Cecilia Carlsson", "S", "member"),
    ("david", "David Dahl", "C", "member"),
    ("eva", "Eva Ek", "V", "member"),
    ("erik", "Erik Eriksson", "S", "substitute"),
    ("frida", "Frida Fors", "M", "substitute"),
    ("sara", "Sara Sekreterare", "nämndsekreterare", "secretary"),
    ("tina", "Tina Tjänsteperson", "kommundirektör", "attendee"),
    ("sven", "Sven Säkerhet", "säkerhetsskyddschef", "security"),
    ("mallory", "Mallory Utomstående", "", "outsider"),
    ("observer", "Observatör", "", "outsider"),
]


ORGANISATION = "Exempelby kommun"  # the demo's kommun: the configuration's top-level `organisation`


def web_config(hs_url: str) -> dict[str, Any]:
    """A [web] section on a free loopback port; the test Synapse answers OpenID on its client port."""
    port = free_port()
    return {
        "listen": f"127.0.0.1:{port}",
        "public_url": f"http://127.0.0.1:{port}",
        "openid_servers": {"localhost": hs_url},
    }


def body_config(room_id: str, hs: str = "localhost", check_timeout: int = 8, **settings: Any) -> dict[str, Any]:
    def uid(localpart: str) -> str:
        return f"@{localpart}:{hs}"

    by_role: dict[str, list] = {}
    for localpart, name, extra, role in CAST:
        by_role.setdefault(role, []).append((localpart, name, extra))
    return {
        "id": "ks",
        "name": "Kommunstyrelsen",
        "room": room_id,
        "chair": uid("anna"),
        "vice_chairs": [uid("bo")],
        "secretaries": [uid("sara")],
        "security_chief": uid("sven"),
        "check_timeout_seconds": check_timeout,
        "place": "Kommunhuset, sammanträdesrum Tingshuset",
        "members": [{"user": uid(lp), "name": n, "party": p} for lp, n, p in by_role["member"]],
        "substitutes": [{"user": uid(lp), "name": n, "party": p} for lp, n, p in by_role["substitute"]],
        # The secretary and the security chief are listed as attendees too, to have their names.
        "attendees": [
            {"user": uid(lp), "name": n, "title": t}
            for lp, n, t in by_role["secretary"] + by_role["attendee"] + by_role["security"]
        ],
        **settings,
    }


@dataclass
class Stage:
    workdir: Path
    hs: Homeserver
    people: dict[str, Person] = field(default_factory=dict)
    observer: Observer | None = None
    room_id: str = ""
    bot: BotProcess | None = None
    config_path: Path | None = None
    rooms: int = 0
    clock: StageClock | None = None  # None: the real clock, and waiting takes real time
    called_for: datetime | None = None  # the time in the last kallelse made by `kalla_for`

    @classmethod
    async def open(cls, workdir: Path, movable_clock: bool = False) -> Stage:
        """Synapse started and the cast registered; with `movable_clock` the homeserver and the
        bots run on a clock the tests can move forward (testing.clock)."""
        clock = StageClock(workdir) if movable_clock else None
        hs = Homeserver(workdir / "homeserver", env=clock.env() if clock else None)
        hs.start()
        stage = cls(workdir, hs, clock=clock)
        try:
            hs.register("distansbot", BOT_PASSWORD)
            for localpart, name, _, _ in CAST:
                hs.register(localpart, PASSWORD)
                stage.people[localpart] = await connect(
                    hs.url, Person(localpart, name), PASSWORD, workdir / "keys" / localpart
                )
            stage.observer = Observer(stage.people["observer"])
            await stage.observer.start()
        except BaseException:  # stopped or failed while setting up: no Synapse left behind
            await stage.close()
            raise
        return stage

    def __getitem__(self, localpart: str) -> Person:
        return self.people[localpart]

    async def new_meeting_room(
        self,
        check_timeout: int = 15,
        start_bot: bool = True,
        commands_per_minute: int = 1000,
        encrypted: bool = False,
        web: dict[str, Any] | None = None,
        bot_moderator: bool = False,
        livekit: dict[str, Any] | None = None,
        **settings: Any,
    ) -> str:
        """A fresh room with everyone in it, a fresh bot database, and the bot started; with
        `web`, the bot's [web] section, with `livekit` its [livekit] section, and with
        `bot_moderator` the bot may set the room's widgets."""
        if self.bot:
            self.bot.stop()
        if self.room_id:
            # The next bot starts on a fresh device and database: out of the finished room, so that
            # its first (full) sync reads the room it serves, not every room of the session so far.
            await self.people["anna"].client.room_kick(self.room_id, "@distansbot:localhost")
        self.rooms += 1
        others = [p for lp, p in self.people.items() if lp != "anna"]
        room_id = await create_room(
            self.people["anna"],
            [p.user_id for p in others] + ["@distansbot:localhost"],
            f"KS {self.rooms}",
            encrypted=encrypted,
            moderators=("@distansbot:localhost",) if bot_moderator else (),
        )
        await join_all(others, room_id)
        self.room_id = room_id
        data = self.workdir / f"bot-{self.rooms}"
        data.mkdir(parents=True, exist_ok=True)
        self.config_path = write_config(
            data / "config.toml",
            self.hs.url,
            BOT_PASSWORD,
            data,
            [body_config(room_id, check_timeout=check_timeout, **settings)],
            tables={name: table for name, table in (("web", web), ("livekit", livekit)) if table},
            # scripted people type faster than people do
            commands_per_minute=commands_per_minute,
            organisation=ORGANISATION,
        )
        self.bot = BotProcess(self.config_path, data / "bot.log", env=self.clock.env() if self.clock else None)
        if start_bot:
            await self.start_bot()
        return room_id

    async def start_bot(self) -> None:
        """Start the bot and wait until it is in the room."""
        assert self.bot and self.observer
        self.bot.start()
        room = self.room_id
        for _ in range(120):
            if not self.bot.running:
                raise RuntimeError(f"the bot stopped; see {self.bot.log}")
            try:
                await self.observer.wait_for(
                    lambda ev: (
                        ev.get("room_id") == room
                        and ev.get("type") == "m.room.member"
                        and ev.get("state_key") == "@distansbot:localhost"
                        and ev.get("content", {}).get("membership") == "join"
                    ),
                    timeout=0.5,
                )
                return
            except TimeoutError:
                continue
        raise TimeoutError("the bot did not join the room")

    def cli(self, action: str, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        """`python bot.py ACTION --config <this stage's config> ARGS`, as an operator runs it."""
        assert self.config_path
        return subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), action, "--config", str(self.config_path), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
            env=self.clock.env() if self.clock else None,
        )

    def now(self) -> datetime:
        """The time on the homeserver's and the bot's clock."""
        return self.clock.now() if self.clock else datetime.now(UTC)

    def kalla_for(self, ahead: timedelta) -> str:
        """`ÅÅÅÅ-MM-DD HH:MM` on the body's clock for a kallelse `ahead` from now (to the minute,
        never less than `ahead`), remembered for `until_called`."""
        when = (self.now() + ahead + timedelta(seconds=59)).astimezone(STOCKHOLM).replace(second=0, microsecond=0)
        self.called_for = when
        return when.strftime("%Y-%m-%d %H:%M")

    async def until_called(self) -> None:
        """Let the time come to the one in the kallelse: items may be taken up (§ 1)."""
        assert self.called_for is not None
        await self.advance_to(self.called_for)

    async def advance_to(self, when: datetime) -> None:
        """Let the time come to `when`: the movable clock is moved, the real one waited for."""
        if self.clock:
            await self.clock.advance_to(when)
            return
        await asyncio.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))

    async def wait_for(self, match, timeout: float = 30) -> dict[str, Any]:
        """The first event in this stage's current room that matches."""
        assert self.observer
        room = self.room_id
        return await self.observer.wait_for(lambda ev: ev.get("room_id") == room and match(ev), timeout)

    async def say(self, who: str, template: str, *mentioned: str) -> str:
        return await say(self.people[who], self.room_id, template, *(self.people[m] for m in mentioned))

    async def ask(self, who: str, template: str, *mentioned: str, timeout: float = 30) -> str:
        """Send a command and return the bot's first answer: a notice's body or the reaction key."""
        assert self.observer
        event_id = await self.say(who, template, *mentioned)
        return text_of(await self.observer.answer(event_id, timeout))

    async def close(self) -> None:
        """Stops the bot and the homeserver, whatever fails on the way between them."""
        if self.bot:
            self.bot.stop()
        try:
            if self.observer:
                await self.observer.stop()
            for p in self.people.values():
                if p.client:
                    await p.client.close()
        finally:
            self.hs.stop()


async def wait_until(predicate, timeout: float = 30, step: float = 0.1) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
