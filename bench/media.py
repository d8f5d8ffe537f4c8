"""Issue 22's speed, against a real LiveKit server on loopback (testing/livekit.py) and the shell
in-process over SQLite following it as bot.py does with [livekit] (a reader per body, each
reading the server every second). Outside CI, like the other benchmarks.

1. A camera turned off (or on again) to the bot's record of it: a meeting opened, one member in
   the call muting and unmuting the camera `--mutes` times at moments that fall anywhere between
   two reads. "Recorded": the step stored and the meeting showing it (`Meeting.shown`).
2. The CPU of reading many meetings at once: `--rooms` bodies, each with a meeting open and
   `--per-room` members in its call, each member a participant of LiveKit's SDK publishing a
   camera and a microphone (`testing.livekit.Crowd`, in `--workers` processes). Over `--window`
   seconds each: the server with the participants alone, the readers reading all the rooms (the
   reading process's CPU, the server's, and what every read saw), and the participants alone
   again.

    flock /tmp/distansbot-synapse.lock .venv/bin/python bench/media.py [--mutes 20] [--rooms 20 --per-room 15]

Writes bench/MEDIA.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import commit, load_average, pct, process_cpu_and_peak  # noqa: E402
from commands.text import Message  # noqa: E402
from config import BodyConfig, Config  # noqa: E402
from matrix import content  # noqa: E402
from media.identity import room_names  # noqa: E402
from media.livekit import LiveKitServer as Reader  # noqa: E402
from media.record import Participant  # noqa: E402
from shell import Shell  # noqa: E402
from shell.bodies import Body  # noqa: E402
from shell.ports import CallChanged, Camera, Device, Microphone  # noqa: E402
from storage import open_store  # noqa: E402
from testing import livekit as lk  # noqa: E402
from testing.stage import body_config  # noqa: E402

ROOM = "!bench-media:localhost"
MEMBERS = ("anna", "bo", "cecilia", "david", "eva")


async def start_shell(sfu: lk.LiveKitServer, work: Path, bodies: list[dict], reader: Reader) -> Shell:
    """The shell over SQLite with these bodies in their rooms, reading the server with `reader`."""
    config = Config.model_validate(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@distansbot:localhost", "password": "x"},
            "storage": {"database": str(work / "db.sqlite3"), "e2ee_store": str(work / "e2ee")},
            "livekit": {"url": sfu.url, "api_key": sfu.api_key, "api_secret": sfu.api_secret},
            "bodies": [BodyConfig(**b).model_dump() for b in bodies],
        }
    )
    bot = Shell(config, await open_store(config.storage.database), content.encode)
    bot.media.server = reader  # as bot.py gives it
    await bot.load()
    for body_id, b in zip(bot.bodies, bodies, strict=True):
        bot.bodies[body_id].room_id, bot.by_room[b["room"]] = b["room"], bot.bodies[body_id]
    return bot


async def meet(bot: Shell, body: Body, calling: list[tuple[str, str]]) -> None:
    """A meeting convened and opened by the chair, and these (user, device) in its call (the
    events' ids name the room: an id is a source the store takes once)."""
    now = datetime.now(UTC)
    at = (now + timedelta(minutes=2)).astimezone(body.engine.roster.tz).strftime("%Y-%m-%d %H:%M")
    for n, text in enumerate([f"!kalla {at} distans\nMotivering: smittspridning\n1. Budget", "!öppna"]):
        await bot.handle(body, f"$chair{n}{body.room_id}", Message(text), body.engine.roster.chair, datetime.now(UTC))
    for user, device in calling:
        now = datetime.now(UTC)
        devices = (Device(device, now + timedelta(hours=4)),)
        await bot.call_changed(
            CallChanged(body.room_id, f"$cm-{user}{body.room_id}", f"_{user}_{device}", user, devices, now)
        )


async def measure(mutes: int, work: Path) -> dict:
    sfu = lk.LiveKitServer(work / "livekit", lk.install())
    callers: list[lk.Caller] = []
    bot, tasks = None, []
    try:
        sfu.start()
        bot = await start_shell(
            sfu, work, [body_config(ROOM, video="element-call")], Reader(sfu.url, sfu.api_key, sfu.api_secret)
        )
        body = bot.bodies["ks"]
        (follow,) = bot.media.follows()
        tasks.append(asyncio.create_task(follow.run()))
        await meet(bot, body, [(f"@{who}:localhost", f"{who.upper()}DEV") for who in MEMBERS])
        for who in MEMBERS:
            caller = await lk.Caller(sfu, room_names(ROOM)[0], f"@{who}:localhost:{who.upper()}DEV").connect()
            callers.append(caller)
            await caller.publish("camera")
            await caller.publish("microphone")

        def camera(who: str) -> str | None:
            shown = body.engine.meeting.shown.get(f"@{who}:localhost")
            return shown.camera if shown else None

        async def until(who: str, state: str, timeout: float = 20) -> None:
            deadline = time.monotonic() + timeout
            while camera(who) != state:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{who}: kameran visas inte som {state}")
                await asyncio.sleep(0.005)

        for who in MEMBERS:
            await until(who, "on")
        bo = callers[MEMBERS.index("bo")]
        times: list[float] = []
        rng = random.Random(22)
        for i in range(mutes):
            await asyncio.sleep(rng.uniform(0.2, 1.2))  # anywhere between two of the reader's reads
            off = i % 2 == 0
            started = time.monotonic()
            bo.mute("camera", off)
            await until("bo", "off" if off else "on")
            times.append(time.monotonic() - started)
        return {
            "mutes": mutes,
            "interval": follow.interval,
            "p50": pct(times, 50),
            "max": max(times),
            "min": min(times),
            "times": times,
        }
    finally:
        await stop(sfu, bot, tasks, callers)


async def stop(sfu: lk.LiveKitServer, bot: Shell | None, tasks: list[asyncio.Task], callers: list[lk.Caller]) -> None:
    """Everything a part started, ended: the readers, the participants, the shell, the server."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    try:
        await asyncio.gather(*(caller.disconnect(30) for caller in callers), return_exceptions=True)
        if bot is not None:
            await bot.media.close()
            await bot.store.close()
    finally:
        sfu.stop()


class Counted(Reader):
    """The bot's reader, counting its reads and what each saw (participants; connected; with the
    camera on; with the microphone on: the crowd publishes both), and the reads that failed."""

    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        super().__init__(url, api_key, api_secret)
        self.saw: list[tuple[int, int, int, int]] = []
        self.failed = 0

    async def participants(self, names: list[str]) -> list[Participant]:
        try:
            out = await super().participants(names)
        except Exception:
            self.failed += 1
            raise
        self.saw.append(
            (
                len(out),
                sum(p.connected for p in out),
                sum(p.camera == Camera.ON for p in out),
                sum(p.microphone == Microphone.ON for p in out),
            )
        )
        return out


def cpu(pid: int) -> float:
    return process_cpu_and_peak(pid)[0]


async def window(seconds: float, pids: dict[str, list[int]], reader: Counted) -> dict:
    """CPU seconds per second of each named group of processes over `seconds`, and the reads
    made meanwhile with what they saw."""
    reads, failed = len(reader.saw), reader.failed
    before = {name: sum(map(cpu, group)) for name, group in pids.items()}
    started = time.monotonic()
    await asyncio.sleep(seconds)
    used = {name: sum(map(cpu, group)) - before[name] for name, group in pids.items()}
    took = time.monotonic() - started
    return {
        "seconds": took,
        "cpu": {name: x / took for name, x in used.items()},
        "reads": len(reader.saw) - reads,
        "failed": reader.failed - failed,
        "saw": dict(Counter("/".join(map(str, saw)) for saw in reader.saw[reads:])),
    }


async def crowd(rooms: int, per_room: int, workers: int, seconds: float, work: Path) -> dict:
    """`rooms` bodies meeting at once with `per_room` members each in the call, read as in
    service; the CPU over three windows (participants alone, read, alone again)."""
    sfu = lk.LiveKitServer(work / "livekit", lk.install())
    # Each body its own members (one chair convening fifty meetings at once would be refused as
    # too many commands too fast, and rightly).
    people = [[f"@b{n:02d}m{i:02d}:localhost" for i in range(per_room)] for n in range(rooms)]
    bodies = [
        body_config(
            f"!bench-crowd-{n:02d}:localhost",
            video="element-call",
            id=f"b{n:02d}",
            chair=mine[0],
            vice_chairs=mine[1:2],
            members=[{"user": user, "name": f"Ledamot {i}", "party": "S"} for i, user in enumerate(mine)],
        )
        for n, mine in enumerate(people)
    ]
    seats = [(room_names(b["room"])[0], f"{user}:DEV") for b, mine in zip(bodies, people, strict=True) for user in mine]
    reader = Counted(sfu.url, sfu.api_key, sfu.api_secret)
    crowds: list[lk.Caller] = []
    bot, tasks = None, []
    try:
        sfu.start()
        bot = await start_shell(sfu, work, bodies, reader)
        for (body_id, body), mine in zip(bot.bodies.items(), people, strict=True):
            await meet(bot, body, [(user, "DEV") for user in mine])
            if body.engine.meeting is None:
                raise RuntimeError(f"{body_id}: sammanträdet öppnades inte")
        started = time.monotonic()
        crowds = [lk.Crowd(sfu, seats[k::workers]) for k in range(workers)]
        await asyncio.gather(*(c.connect() for c in crowds))
        joined = time.monotonic() - started
        pids = {"server": [sfu.proc.pid], "reader": [os.getpid()], "participants": [c.proc.pid for c in crowds]}
        await asyncio.sleep(5)  # the last joins settled
        alone = await window(seconds, pids, reader)
        follows = bot.media.follows()
        tasks += [asyncio.create_task(f.run()) for f in follows]
        deadline = time.monotonic() + 120
        while not all(
            b.engine.meeting and sum(s.connected for s in b.engine.meeting.shown.values()) == per_room
            for b in bot.bodies.values()
        ):
            if time.monotonic() > deadline:
                shown = {k: sum(s.connected for s in b.engine.meeting.shown.values()) for k, b in bot.bodies.items()}
                raise TimeoutError(f"mötena visar inte alla deltagare: {shown}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)
        read = await window(seconds, pids, reader)
        unmapped = sum(f.unmapped for f in follows)
        for task in tasks:
            task.cancel()
        await asyncio.sleep(2)
        again = await window(seconds, pids, reader)
        return {
            "rooms": rooms,
            "per_room": per_room,
            "workers": workers,
            "joined": joined,
            "interval": follows[0].interval,
            "unmapped": unmapped,
            "alone": alone,
            "read": read,
            "again": again,
        }
    finally:
        await stop(sfu, bot, tasks, crowds)


def report(r: dict, command: str) -> str:
    s = lambda x: f"{x:.2f} s"  # noqa: E731
    return "\n".join(
        [
            "# Issue 22: a camera turned off in the call, to the bot's record of it",
            "",
            f"`{command}` at commit {r['commit']}, {r['at']}; livekit-server {lk.VERSION} on loopback",
            f"(development mode), the shell in-process over SQLite reading it every {r['interval']:.0f} s as bot.py",
            "does, five members in the call, one camera muted and unmuted in turn at moments spread over",
            "the reader's second. Load average before / after: " + f"{r['load_before']} / {r['load_after']}.",
            "",
            "| | |",
            "|---|---|",
            f"| mutes and unmutes | {r['mutes']} |",
            f"| p50 | {s(r['p50'])} (goal ≤ 1 s) |",
            f"| max (the issue's p99 goal ≤ 2 s; {r['mutes']} are too few for a p99) | {s(r['max'])} |",
            f"| min | {s(r['min'])} |",
            "",
            "Each time runs from the participant's SDK being told to mute (its own process) to the",
            "meeting showing the change: the SDK's signal to the server, the wait for the reader's next",
            "read (up to a second), the read, and the step stored. The reader's interval is most of it.",
            "",
            "All times (s): " + ", ".join(f"{t:.2f}" for t in r["times"]),
            "",
            *(crowd_report(r["crowd"]) if "crowd" in r else []),
        ]
    )


def crowd_report(c: dict) -> list[str]:
    alone, read, again = c["alone"], c["read"], c["again"]
    windows = (alone, read, again)
    base = (alone["cpu"]["server"] + again["cpu"]["server"]) / 2
    per_read = lambda cores: f"{cores * read['seconds'] / read['reads'] * 1000:.2f} ms"  # noqa: E731
    row = lambda name, cells: f"| {name} | " + " | ".join(cells) + " |"  # noqa: E731
    cores = lambda group: [f"{w['cpu'][group]:.3f}" for w in windows]  # noqa: E731
    n = c["rooms"] * c["per_room"]
    return [
        f"## The CPU of reading {c['rooms']} meetings of {c['per_room']} at once",
        "",
        f"{c['rooms']} bodies with a meeting open and {c['per_room']} members each in the call: {n} participants of",
        f"LiveKit's SDK (livekit {rtc_version()}) in {c['workers']} processes at nice 19 (`testing.livekit.Crowd`),",
        "each joined with the identity Element Call gives it, subscribing to nothing, publishing a camera",
        f"and a microphone and sending no frames ({c['joined']:.0f} s to join them all). The shell's readers are the",
        f"bot's own (`media.livekit.Follow`, one a body, each reading every {c['interval']:.0f} s), driven in this",
        "process as bot.py drives them, over three windows: the participants alone, the readers reading, the",
        "participants alone again. CPU in cores (CPU seconds per second, user + system, from /proc).",
        f"Machine: {os.cpu_count()} cores; load average after: {c['load_after']}.",
        "",
        "| | participants alone | read | alone again |",
        "|---|---|---|---|",
        row("window", [f"{w['seconds']:.1f} s" for w in windows]),
        row("LiveKit server", cores("server")),
        row("the reading process (the shell)", cores("reader")),
        row("the participants' processes", cores("participants")),
        row("reads (one room's ListRooms and ListParticipants)", [str(w["reads"]) for w in windows]),
        row("failed reads", [str(w["failed"]) for w in windows]),
        "",
        f"- Reads per room per second: {read['reads'] / c['rooms'] / read['seconds']:.2f}; "
        + (
            f"every read saw {c['per_room']} participants, all connected with camera and microphone on"
            if read["saw"] == {"/".join([str(c["per_room"])] * 4): read["reads"]}
            else "NOT every read saw all participants connected with camera and microphone on: reads by "
            "(participants/connected/camera on/microphone on) " + ", ".join(f"{k}: {v}" for k, v in read["saw"].items())
        )
        + f"; participants tied to nobody: {c['unmapped']}.",
        f"- The reader: {read['cpu']['reader']:.3f} of a core for the {c['rooms']} rooms, "
        f"{read['cpu']['reader'] / c['rooms'] * 1000:.1f} ms of CPU per room per second, "
        f"{per_read(read['cpu']['reader'])} per room read.",
        f"- The server's cost of being read: {read['cpu']['server'] - base:.3f} of a core over the participants "
        f"alone (the mean of the two windows without reads, {base:.3f}), {per_read(read['cpu']['server'] - base)} "
        "per room read.",
        "",
    ]


def rtc_version() -> str:
    from importlib.metadata import version

    return version("livekit")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mutes", type=int, default=20)
    parser.add_argument("--rooms", type=int, default=20, help="part 2's meetings (0: none; 50 x 15 fails on 2 cores)")
    parser.add_argument("--per-room", type=int, default=15, help="part 2's participants per meeting")
    parser.add_argument("--workers", type=int, default=2, help="processes holding part 2's participants")
    parser.add_argument("--window", type=float, default=30, help="seconds of each of part 2's windows")
    parser.add_argument("--out", default=str(Path(__file__).with_name("MEDIA.md")))
    args = parser.parse_args()
    r = {"commit": commit(), "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load_before": load_average()}
    with tempfile.TemporaryDirectory(prefix="distansbot-media-") as work:
        (Path(work) / "crowd").mkdir()
        r |= await measure(args.mutes, Path(work))
        r["load_after"] = load_average()
        if args.rooms:
            r["crowd"] = await crowd(args.rooms, args.per_room, args.workers, args.window, Path(work) / "crowd")
            r["crowd"]["load_after"] = load_average()
    text = report(r, " ".join(["python", "bench/media.py", *sys.argv[1:]]))
    out = Path(args.out)
    await asyncio.to_thread(out.write_text, text, encoding="utf-8")
    await asyncio.to_thread(out.with_suffix(".json").write_text, json.dumps(r, indent=1), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
