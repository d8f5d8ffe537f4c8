"""Benchmarks: what the bot costs next to the homeserver.

    python bench/run.py [--smoke] [--out bench/RESULTS.md]

Starts its own Synapse on loopback and measures, in one run:
1. latency, command to answer, for the bot and for a minimal echo bot (the floor);
2. load: many bodies meeting at once, each driven by a script of real commands;
3. start-up with a large database, and the cost of one command at that size;
4. rendering the protocol of a large meeting.
`--smoke` runs every part at tiny sizes (CI runs it so that the benchmarks keep working).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nio import AsyncClient, LoginResponse, RoomCreateResponse, SyncResponse  # noqa: E402
from pypdf import PdfReader  # noqa: E402

import commands  # noqa: E402
from commands.text import Message  # noqa: E402
from config import Config  # noqa: E402
from matrix import content  # noqa: E402
from minutes import protocol as protocol_module  # noqa: E402
from rules.actions import Accepted  # noqa: E402
from rules.engine import Engine, Facts  # noqa: E402
from rules.roster import Person, Role, Roster  # noqa: E402
from rules.state import Event, Meeting  # noqa: E402
from shell import Shell  # noqa: E402
from shell.facts import engine_ports  # noqa: E402
from storage import Store, open_store  # noqa: E402
from testing.actors import BotProcess, relates_to, write_config  # noqa: E402
from testing.homeserver import Homeserver  # noqa: E402

PASSWORD = "bench-lösenord"


@dataclass
class Sizes:
    latency_commands: int = 500
    bodies: int = 50
    members: int = 15
    load_seconds: int = 180
    closed_meetings: int = 1000
    open_events: int = 100_000
    protocol_members: int = 101
    protocol_items: int = 60


SMOKE = Sizes(20, 2, 5, 10, 10, 500, 11, 3)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- Matrix plumbing ------------------------------------------------------------------------------


async def login(hs: Homeserver, localpart: str) -> AsyncClient:
    client = AsyncClient(hs.url, f"@{localpart}:localhost")
    resp = await client.login(PASSWORD, device_name="bench")
    assert isinstance(resp, LoginResponse), resp
    return client


class Watcher:
    """One client syncing all the time; notes when the answer to each command arrives."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.arrived: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future] = {}
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        first = await self.client.sync(timeout=0)
        self.token = first.next_batch
        self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            resp = await self.client.sync(
                timeout=30_000, since=self.token, sync_filter={"room": {"timeline": {"limit": 500}}}
            )
            now = time.monotonic()
            if not isinstance(resp, SyncResponse):
                await asyncio.sleep(0.2)
                continue
            self.token = resp.next_batch
            for joined in resp.rooms.join.values():
                for ev in joined.timeline.events:
                    target = relates_to(ev.source)
                    if target and target not in self.arrived:
                        self.arrived[target] = now
                        future = self.waiting.pop(target, None)
                        if future and not future.done():
                            future.set_result(now)

    async def answered_at(self, event_id: str, timeout: float = 30) -> float | None:
        if event_id in self.arrived:
            return self.arrived[event_id]
        future = asyncio.get_running_loop().create_future()
        self.waiting[event_id] = future
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()


async def send(client: AsyncClient, room: str, body: str) -> tuple[str, float]:
    start = time.monotonic()
    resp = await client.room_send(room, "m.room.message", {"msgtype": "m.text", "body": body})
    return resp.event_id, start


async def ask(client: AsyncClient, room: str, body: str, watcher: Watcher) -> float | None:
    event_id, start = await send(client, room, body)
    at = await watcher.answered_at(event_id)
    return None if at is None else at - start


async def make_room(creator: AsyncClient, members: list[AsyncClient], invite_extra: list[str]) -> str:
    resp = await creator.room_create(invite=[m.user_id for m in members] + invite_extra)
    assert isinstance(resp, RoomCreateResponse), resp
    for member in members:
        await member.join(resp.room_id)
    return resp.room_id


def body_entry(i: int, room: str, people: list[str]) -> dict:
    return {
        "id": f"b{i:03d}",
        "name": f"Nämnd {i}",
        "room": room,
        "chair": f"@{people[0]}:localhost",
        "check_timeout_seconds": 3600,
        "members": [{"user": f"@{p}:localhost", "name": p.capitalize(), "party": "S"} for p in people],
    }


def kalla(items: int) -> str:
    day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    agenda = "\n".join(f"{n}. Ärende {n}" for n in range(1, items + 1))
    return f"!kalla {day} 18:00 distans\nMotivering: mätning\n{agenda}"


def process_cpu_and_peak(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and peak resident memory in bytes of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = next(
        int(line.split()[1]) * 1024
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    return cpu, peak


# --- 1. latency -------------------------------------------------------------------------------------


async def latency(hs: Homeserver, work: Path, n: int) -> dict:
    people = ["chair", "m2", "m3", "m4", "m5"]
    clients = {p: await login(hs, p) for p in people}
    watcher = Watcher(await login(hs, "watcher"))
    await watcher.start()
    members = list(clients.values())
    bot_room = await make_room(members[0], members[1:] + [watcher.client], ["@distansbot:localhost"])
    echo_room = await make_room(members[0], members[1:] + [watcher.client], ["@echo:localhost"])
    echo2_room = await make_room(members[0], members[1:] + [watcher.client], ["@echo2:localhost"])
    config = write_config(
        work / "latency.toml",
        hs.url,
        PASSWORD,
        work / "latency-data",
        [body_entry(1, bot_room, people)],
        commands_per_minute=100_000,
    )
    bot = BotProcess(config, work / "latency-bot.log")
    bot.start()
    echoes = {}
    for name, user, room, extra in (
        ("echo", "@echo:localhost", echo_room, []),
        ("echo_e2ee", "@echo2:localhost", echo2_room, [str(work / "echo-store")]),
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "echo.py"),
            hs.url,
            user,
            PASSWORD,
            room,
            *extra,
            stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdout and (await proc.stdout.readline()).strip() == b"ready"
        echoes[name] = proc
    await asyncio.sleep(3)  # the bot logs in, joins and syncs
    chair = clients["chair"]
    for body in (kalla(2), "!öppna", *["!närvarande"] * 0):
        assert await ask(chair, bot_room, body, watcher) is not None
    for p in people:
        await ask(clients[p], bot_room, "!närvarande", watcher)
    await ask(chair, bot_room, "!ärende 1", watcher)
    cycle = [
        ("chair", "!teknikkontroll"),
        *[(p, "!ok") for p in people],
        ("chair", "!beslut Bifall"),
        ("chair", "!beslut Igen"),
        ("m3", "!status"),
        ("m4", "!närvarande"),
    ]
    names = ("bot", "echo", "echo_e2ee")
    kinds: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    lost = dict.fromkeys(names, 0)
    done = 0
    assert bot.proc and hs.proc
    pids = {"bot": bot.proc.pid, **{name: p.pid for name, p in echoes.items()}, "homeserver": hs.proc.pid}
    cpu_start = {name: process_cpu_and_peak(pid)[0] for name, pid in pids.items()}
    while done < n:
        for who, body in cycle:
            for name, room in (("bot", bot_room), ("echo", echo_room), ("echo_e2ee", echo2_room)):
                took = await ask(clients[who], room, body, watcher)
                if took is None:
                    lost[name] += 1
                else:
                    kinds[name].setdefault(body.split()[0], []).append(took)
            done += 1
    cpu = {name: process_cpu_and_peak(pid)[0] - cpu_start[name] for name, pid in pids.items()}
    bot.stop()
    for proc in echoes.values():
        proc.terminate()
        await proc.wait()
    for client in [*members, watcher.client]:
        await client.close()
    await watcher.stop()
    # The homeserver serves all three alike: its CPU per command of any of them.
    result: dict = {"homeserver_cpu_ms_per_command": cpu["homeserver"] / max(3 * done, 1) * 1000}
    for name in names:
        every = [x for values in kinds[name].values() for x in values]
        result[name] = {
            "n": len(every),
            "p50": pct(every, 50),
            "p99": pct(every, 99),
            "lost": lost[name],
            "cpu_ms_per_command": cpu[name] / max(len(every), 1) * 1000,
            "by_kind": {k: (len(v), pct(v, 50), pct(v, 99)) for k, v in kinds[name].items()},
        }
    return result


# --- 2. load ------------------------------------------------------------------------------------------


async def load(hs: Homeserver, work: Path, sizes: Sizes) -> dict:
    people = [f"l{i:02d}" for i in range(1, sizes.members + 1)]
    clients = {p: await login(hs, p) for p in people}
    watcher = Watcher(await login(hs, "watcher"))
    await watcher.start()
    members = list(clients.values())
    rooms = [
        await make_room(members[0], members[1:] + [watcher.client], ["@distansbot:localhost"])
        for _ in range(sizes.bodies)
    ]
    config = write_config(
        work / "load.toml",
        hs.url,
        PASSWORD,
        work / "load-data",
        [body_entry(i, room, people) for i, room in enumerate(rooms)],
        commands_per_minute=100_000,
    )
    bot = BotProcess(config, work / "load-bot.log")
    bot.start()
    await asyncio.sleep(3 + sizes.bodies * 0.1)  # joins
    assert bot.proc and hs.proc
    cpu_before, _ = process_cpu_and_peak(bot.proc.pid)
    hs_before, _ = process_cpu_and_peak(hs.proc.pid)
    latencies: list[float] = []
    lost = 0
    deadline = time.monotonic() + sizes.load_seconds

    async def meeting(room: str) -> None:
        nonlocal lost
        chair = clients[people[0]]
        script = [(people[0], kalla(60)), (people[0], "!öppna"), *[(p, "!närvarande") for p in people]]
        item = 0
        while time.monotonic() < deadline:
            if not script:
                item = item % 60 + 1
                script = [
                    (people[0], f"!ärende {item}"),
                    (people[0], "!teknikkontroll"),
                    *[(p, "!ok") for p in people],
                    (people[1], "!yrka Bifall"),
                    (people[0], "!beslut Bifall"),
                    (people[2], "!status"),
                ]
            who, body = script.pop(0)
            took = await ask(clients[who] if who != people[0] else chair, room, body, watcher)
            if took is None:
                lost += 1
            else:
                latencies.append(took)

    started = time.monotonic()
    await asyncio.gather(*(meeting(room) for room in rooms))
    elapsed = time.monotonic() - started
    cpu_after, peak = process_cpu_and_peak(bot.proc.pid)
    hs_after, _ = process_cpu_and_peak(hs.proc.pid)
    bot.stop()
    for client in [*members, watcher.client]:
        await client.close()
    await watcher.stop()
    handled = len(latencies)
    return {
        "bodies": sizes.bodies,
        "members": sizes.members,
        "seconds": elapsed,
        "commands": handled,
        "per_second": handled / elapsed,
        "bot_core_share": (cpu_after - cpu_before) / elapsed,
        "synapse_core_share": (hs_after - hs_before) / elapsed,
        "cpu_ms_per_command": (cpu_after - cpu_before) / max(handled, 1) * 1000,
        "peak_mb": peak / 2**20,
        "lost": lost,
        "late": sum(1 for x in latencies if x > 5),
        "p50": pct(latencies, 50) if latencies else 0,
        "p99": pct(latencies, 99) if latencies else 0,
    }


# --- 3. start-up and replay -----------------------------------------------------------------------------


def roster(n: int, body_id: str = "b") -> Roster:
    members = tuple(Person(f"@p{i}:localhost", f"Person {i}", Role.MEMBER, party="S") for i in range(n))
    return Roster(body_id, "Nämnden", members[0].user, members, check_timeout_seconds=3600)


class Folder:
    """Steps commands through the bot's engine without Matrix, to build large meetings fast."""

    def __init__(self, r: Roster, meeting_id: str) -> None:
        self.r, self.now = r, datetime(2026, 1, 5, 8, tzinfo=UTC)
        self.engine = Engine(r, ports=engine_ports(lambda roster, cmd: meeting_id))
        self.events: list[Event] = []

    @property
    def m(self) -> Meeting:
        assert self.engine.meeting is not None
        return self.engine.meeting

    def say(self, user: str, body: str) -> None:
        self.now += timedelta(seconds=1)
        step = self.engine.step(commands.parse(Message(body), user), self.now, Facts(log=self.events))
        assert isinstance(step.outcome, Accepted), (body, step.outcome)
        self.events.extend(step.events)


def big_meeting(r: Roster, meeting_id: str, events: int, items: int = 2) -> Folder:
    f = Folder(r, meeting_id)
    f.now = datetime.now(UTC) - timedelta(days=1)
    day = (f.now + timedelta(minutes=10)).astimezone(r.tz).strftime("%Y-%m-%d %H:%M")  # may be opened at once
    agenda = "\n".join(f"{n}. Ärende {n}" for n in range(1, items + 1))
    f.say(r.chair, f"!kalla {day} distans\nMotivering: mätning\n{agenda}")
    f.say(r.chair, "!öppna")
    for p in r.members:
        f.say(p.user, "!närvarande")
    f.now = max(f.now, f.m.start)  # items are taken up from the time called to (§ 1)
    item = 0
    while len(f.events) < events:
        item = item % items + 1
        f.say(r.chair, f"!ärende {item}")
        f.say(r.chair, "!teknikkontroll")
        for p in r.members:
            f.say(p.user, "!ok")
        f.say(r.chair, "!beslut Bifall")
    return f


async def store_meeting(store: Store, body_id: str, f: Folder) -> None:
    await store.record(f"bench:{f.m.id}", "!r", f.now, f.events, [], meeting=(f.m.id, body_id, None), meeting_id=f.m.id)


async def startup(work: Path, sizes: Sizes) -> dict:
    """Two bodies in one database: b000 with the closed meetings and the huge open one, b001 with
    a small open meeting, so that a command's cost can be compared at both sizes, same file."""
    big_r, small_r = roster(5, "b000"), roster(5, "b001")
    db = work / "big.sqlite3"
    store = await open_store(db)
    for i in range(sizes.closed_meetings):
        f = big_meeting(big_r, f"closed-{i:04d}", 20)
        for n in [n for n, item in f.m.items.items() if not item.handled]:  # every item accounted for
            f.say(big_r.chair, f"!utgår {n}")
        f.say(big_r.chair, "!avsluta")
        await store_meeting(store, "b000", f)
    built = time.monotonic()
    big = big_meeting(big_r, "open", sizes.open_events)
    build_seconds = time.monotonic() - built
    await store_meeting(store, "b000", big)
    await store_meeting(store, "b001", big_meeting(small_r, "small", 100))
    await store.close()
    config = Config.model_validate(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@distansbot:localhost", "password": "x"},
            "storage": {"database": str(db), "e2ee_store": str(work / "e2ee")},
            "bodies": [
                {
                    "id": r.body_id,
                    "name": "Nämnden",
                    "room": f"!{r.body_id}",
                    "chair": r.chair,
                    "members": [{"user": p.user, "name": p.name, "party": "S"} for p in r.members],
                }
                for r in (big_r, small_r)
            ],
        }
    )

    async def timed_load() -> tuple[float, Shell]:
        bot = Shell(config, await open_store(db), content.encode)
        for body in bot.bodies.values():
            body.room_id = body.config.room
        start = time.monotonic()
        await bot.load()
        return time.monotonic() - start, bot

    replay, bot = await timed_load()  # no snapshot yet: the whole log
    for body in bot.bodies.values():
        await bot.registry.maybe_snapshot(body.engine.meeting, force=True)
    await bot.store.close()
    with_snapshot, bot = await timed_load()
    cost: dict[str, list[float]] = {"b000": [], "b001": []}
    for i in range(600):  # alternating, so that neither size gets the warm-up
        body_id = "b000" if i % 2 else "b001"
        # Each member asks for the floor and leaves the list in turn, so that every command
        # stores an event (a second !ordet keeps one place on the list, and stores none).
        text = "!ordet återta" if (i // 10) % 2 else "!ordet"
        start = time.monotonic()
        await bot.handle(bot.bodies[body_id], f"$bench{i}", Message(text), big_r.members[i % 5].user, datetime.now(UTC))
        cost[body_id].append(time.monotonic() - start)
    await bot.store.close()
    started = time.monotonic()
    await asyncio.to_thread(subprocess.run, [sys.executable, "-c", "import bot, matrix.client"], cwd=ROOT, check=True)
    imports = time.monotonic() - started
    return {
        "closed": sizes.closed_meetings,
        "open_events": big.m.event_count,
        "build_seconds": build_seconds,
        "replay": replay,
        "snapshot": with_snapshot,
        "imports": imports,
        "command_large": statistics.median(cost["b000"]),
        "command_small": statistics.median(cost["b001"]),
        "db_mb": db.stat().st_size / 2**20,
    }


# --- 4. protocol ------------------------------------------------------------------------------------------


def protocol(sizes: Sizes) -> dict:
    r = roster(sizes.protocol_members)
    f = big_meeting(r, "protocol", 0, items=sizes.protocol_items)
    for n in range(1, sizes.protocol_items + 1):
        f.say(r.chair, f"!ärende {n}")
        f.say(r.chair, "!teknikkontroll")
        for p in r.members:
            f.say(p.user, "!ok")
        f.say(r.chair, f"!beslut Beslut i ärende {n}")
    f.say(r.chair, "!avsluta")
    f.say(r.chair, f"!justerare {r.members[1].user}")
    times: dict[str, float] = {}
    sizes_out = {}
    for fmt in protocol_module.FORMATS:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            out = protocol_module.render(f.m.id, f.m.body_id, f.events, r, fmt)
            runs.append(time.perf_counter() - start)
        times[fmt] = statistics.median(runs)
        sizes_out[fmt] = len(out if isinstance(out, bytes) else out.encode())
    pdf = protocol_module.render(f.m.id, f.m.body_id, f.events, r, "pdf")
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    return {
        "members": sizes.protocol_members,
        "items": sizes.protocol_items,
        "events": f.m.event_count,
        "pdf_bytes": sizes_out["pdf"],
        "pdf_pages": pages,
        **times,
    }


# --- the report ---------------------------------------------------------------------------------------------


BEFORE = ROOT / "bench" / "BEFORE-latency.json"


def before_after(lat: dict) -> list[str]:
    """Part 1 next to the same run of an earlier commit (`--latency-only`, kept in BEFORE)."""
    if not BEFORE.exists():
        return []
    old = json.loads(BEFORE.read_text(encoding="utf-8"))
    rows = [
        ("distansbot", "bot"),
        ("echo bot (floor)", "echo"),
        ("echo bot, encryption and a durable store", "echo_e2ee"),
    ]
    return [
        f"Before and after: the same run on commit {old['commit']} (before the cuts of issue 14), CPU per command.",
        "",
        "| | before | now |",
        "|---|---|---|",
        *(
            f"| {label} | {old[key]['cpu_ms_per_command']:.2f} ms | {lat[key]['cpu_ms_per_command']:.2f} ms |"
            for label, key in rows
        ),
        f"| Synapse (all three) | {old['homeserver_cpu_ms_per_command']:.2f} ms "
        f"| {lat['homeserver_cpu_ms_per_command']:.2f} ms |",
        f"| distansbot p50 / p99 | {ms(old['bot']['p50'])} / {ms(old['bot']['p99'])} "
        f"| {ms(lat['bot']['p50'])} / {ms(lat['bot']['p99'])} |",
        "",
    ]


def report(sizes: Sizes, lat: dict, ld: dict, st: dict, pr: dict, smoke: bool) -> str:
    bot, echo, echo2 = lat["bot"], lat["echo"], lat["echo_e2ee"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    lines = [
        "# distansbot – benchmark results",
        "",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}. " + ("SMOKE SIZES, not results." if smoke else ""),
        "Synapse (from PyPI, SQLite) on loopback, started by the run; the bot as its own process.",
        "",
        "## 1. Latency, command to answer",
        "",
        f"{bot['n']} commands to each, alternating, the same homeserver, one at a time. The second echo bot",
        "is the fair floor: encryption enabled with nio's key store, keys kept flowing, and each sync",
        "token written durably to SQLite, as a bot that loses nothing must.",
        "",
        "| | p50 | p99 | lost | CPU per command |",
        "|---|---|---|---|---|",
        f"| distansbot | {ms(bot['p50'])} | {ms(bot['p99'])} | {bot['lost']} | {bot['cpu_ms_per_command']:.2f} ms |",
        f"| echo bot (floor) | {ms(echo['p50'])} | {ms(echo['p99'])} | {echo['lost']} "
        f"| {echo['cpu_ms_per_command']:.2f} ms |",
        f"| echo bot, encryption and a durable store | {ms(echo2['p50'])} | {ms(echo2['p99'])} | {echo2['lost']} "
        f"| {echo2['cpu_ms_per_command']:.2f} ms |",
        f"| ratio | {bot['p50'] / echo['p50']:.2f} × | {bot['p99'] / echo['p99']:.2f} × | "
        f"| {bot['cpu_ms_per_command'] / max(echo['cpu_ms_per_command'], 1e-9):.2f} × |",
        "",
        f"Synapse, serving all three: {lat['homeserver_cpu_ms_per_command']:.2f} ms of CPU per command.",
        "",
        *before_after(lat),
        "By kind (distansbot): "
        + "; ".join(f"`{k}` n={v[0]} p50 {ms(v[1])} p99 {ms(v[2])}" for k, v in bot["by_kind"].items()),
        "",
        "## 2. Load",
        "",
        f"{ld['bodies']} bodies of {ld['members']} members meeting at once for {ld['seconds']:.0f} s, each "
        "driven by a script (kallelse, upprop, then item after item: check, every member's !ok, a motion, "
        "a decision, !status), each sender waiting for the answer before the next command.",
        "",
        f"CPU used during the run, in cores: the bot {ld['bot_core_share']:.2f}, Synapse "
        f"{ld['synapse_core_share']:.2f} (of 2; the driving clients take the rest).",
        "",
        "| commands answered | per second | bot CPU per command | bot peak memory | lost | late (> 5 s) | p50 | p99 |",
        "|---|---|---|---|---|---|---|---|",
        f"| {ld['commands']} | {ld['per_second']:.1f} | {ld['cpu_ms_per_command']:.2f} ms | {ld['peak_mb']:.0f} MB "
        f"| {ld['lost']} | {ld['late']} | {ms(ld['p50'])} | {ms(ld['p99'])} |",
        "",
        "## 3. Start-up and replay",
        "",
        f"A database of {st['closed']} closed meetings and one open meeting of {st['open_events']} events "
        f"({st['db_mb']:.0f} MB).",
        "",
        "| | time |",
        "|---|---|",
        f"| load, replaying the whole log | {st['replay']:.2f} s |",
        f"| load, from the snapshot | {st['snapshot']:.3f} s |",
        f"| a new Python process importing the bot (before it loads anything) | {st['imports']:.2f} s |",
        "| one command (`!ordet` or `!ordet återta`: decide, store durably, fold; median), "
        f"open meeting of {st['open_events']} events | {ms(st['command_large'])} |",
        f"| one command, a meeting of 100 events in the same database | {ms(st['command_small'])} |",
        "",
        "## 4. Protocol",
        "",
        f"A meeting of {pr['members']} members and {pr['items']} items ({pr['events']} events), median of 5:",
        "",
        "| md | html | json | PDF/A |",
        "|---|---|---|---|",
        f"| {ms(pr['md'])} | {ms(pr['html'])} | {ms(pr['json'])} | {ms(pr['pdf'])} |",
        "",
        f"The PDF/A file: {pr['pdf_bytes'] / 1024:.0f} KiB, {pr['pdf_pages']} pages (fonts embedded as subsets).",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    checks = [
        ("p50 latency ≤ 1.2 × the echo bot's", f"{bot['p50'] / echo['p50']:.2f} ×", bot["p50"] <= 1.2 * echo["p50"]),
        ("p99 latency ≤ 1.2 × the echo bot's", f"{bot['p99'] / echo['p99']:.2f} ×", bot["p99"] <= 1.2 * echo["p99"]),
        ("≤ 2 ms CPU per command (latency run)", f"{bot['cpu_ms_per_command']:.2f} ms", bot["cpu_ms_per_command"] <= 2),
        (
            "CPU per command ≤ the fair floor's (echo bot with encryption and a durable store)",
            f"{bot['cpu_ms_per_command'] / max(echo2['cpu_ms_per_command'], 1e-9):.2f} ×",
            bot["cpu_ms_per_command"] <= echo2["cpu_ms_per_command"],
        ),
        ("≤ 2 ms CPU per command (load run)", f"{ld['cpu_ms_per_command']:.2f} ms", ld["cpu_ms_per_command"] <= 2),
        ("ready in < 1 s with the large database (load from snapshot)", f"{st['snapshot']:.2f} s", st["snapshot"] < 1),
        (
            "a command's cost independent of the meeting's length",
            f"{ms(st['command_large'])} vs {ms(st['command_small'])}",
            st["command_large"] < 2 * st["command_small"],
        ),
        ("protocol < 100 ms", ms(max(pr["md"], pr["html"], pr["json"])), max(pr["md"], pr["html"], pr["json"]) < 0.1),
        ("peak memory < 150 MB under load", f"{ld['peak_mb']:.0f} MB", ld["peak_mb"] < 150),
        (
            "no answer lost or late under load",
            f"{ld['lost']} lost, {ld['late']} late",
            ld["lost"] == 0 and ld["late"] == 0,
        ),
    ]
    lines += [f"| {name} | {value} | {'met' if ok else 'MISSED'} |" for name, value, ok in checks]
    lines += ["", NOTES, ""]
    return "\n".join(lines)


NOTES = """## Where the time goes, and what would close the gaps

- **CPU per command.** The bot's own work (parse, decide, fold, compose the answer) is well under a
  millisecond a command (section 3). What was cut since the run before: the bot no longer syncs
  its own messages, typing, receipts or presence (each answer it sent woke it once more, and a
  member's client sends a receipt for every answer it shows); the sync token rides in the next
  command's transaction (or alone every 10 s) instead of a commit per sync; answers are marked
  sent in one transaction per round; the store takes one trip to its thread per query, with no
  SELECT before the handled mark and the hash chain's head kept in memory; and nio's list of
  encrypted rooms is written only when a room is added. What is left is the client library's:
  an echo bot that does nothing but answer costs what the table shows, and with encryption and a
  durable store, as the bot must have, about as much as the bot. The 2 ms target is below what
  matrix-nio itself spends on a sync and a send on this machine; closing it would take a leaner
  client library (nio validates every response against a JSON schema), not less work in the bot.
- **Load.** Fifty bodies on one 2-core machine that also runs Synapse and the 750 simulated
  members. The homeserver is the bottleneck: a Synapse process runs Python on one core, and it
  used nearly all of it (the figure above), while the bot used about a tenth of one. Throughput and
  latency under load are the homeserver's; answers counted late waited in Synapse's queue, not in
  the bot's. Closing that takes a larger homeserver (Synapse workers, PostgreSQL) or a machine
  that does not also run the 750 members' clients; the bot itself has headroom.
- **Start-up.** The bot reads only each body's latest meeting (closed ones are read when asked
  for), from a snapshot saved every 1,000 events plus the events after it; a new process also
  spends the import time shown before it reads anything.
"""


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to see that it all runs")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--latency-only", action="store_true", help="part 1 alone, printed as JSON (before/after)")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else Sizes()
    work = Path(tempfile.mkdtemp(prefix="distansbot-bench-"))
    hs = Homeserver(work / "homeserver")
    hs.start()
    try:
        for name in [
            "distansbot",
            "echo",
            "echo2",
            "watcher",
            "chair",
            "m2",
            "m3",
            "m4",
            "m5",
            *[f"l{i:02d}" for i in range(1, sizes.members + 1)],
        ]:
            hs.register(name, PASSWORD)
        print("latency …", flush=True)
        lat = await latency(hs, work, sizes.latency_commands)
        if args.latency_only:
            print(json.dumps(lat, indent=1, default=str))
            return
        print("load …", flush=True)
        ld = await load(hs, work, sizes)
    finally:
        hs.stop()
    print("start-up …", flush=True)
    st = await startup(work, sizes)
    print("protocol …", flush=True)
    pr = protocol(sizes)
    text = report(sizes, lat, ld, st, pr, args.smoke)
    await asyncio.to_thread(Path(args.out).write_text, text, encoding="utf-8")
    raw = json.dumps({"latency": lat, "load": ld, "startup": st, "protocol": pr}, indent=1, default=str)
    await asyncio.to_thread(Path(args.out).with_suffix(".json").write_text, raw, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
