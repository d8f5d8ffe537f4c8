"""Issue 22's speed: the time from a camera turned off (or on again) in the call's LiveKit server
to the bot's record of it. A real LiveKit server on loopback (testing/livekit.py), the shell
in-process over SQLite following it as bot.py does with [livekit] (its reader reads the server
every second), a meeting opened, one member in the call muting and unmuting the camera
`--mutes` times at moments that fall anywhere between two reads. "Recorded": the step stored
and the meeting showing it (`Meeting.shown`). Outside CI, like the other benchmarks.

    flock /tmp/distansbot-synapse.lock .venv/bin/python bench/media.py [--mutes 20]

Writes bench/MEDIA.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import commit, load_average, pct  # noqa: E402
from commands.text import Message  # noqa: E402
from config import BodyConfig, Config  # noqa: E402
from matrix import content  # noqa: E402
from media.identity import room_names  # noqa: E402
from media.livekit import LiveKitServer as Reader  # noqa: E402
from shell import Shell  # noqa: E402
from shell.ports import CallChanged, Device  # noqa: E402
from storage import open_store  # noqa: E402
from testing import livekit as lk  # noqa: E402
from testing.stage import body_config  # noqa: E402

ROOM = "!bench-media:localhost"
MEMBERS = ("anna", "bo", "cecilia", "david", "eva")


async def measure(mutes: int, work: Path) -> dict:
    sfu = lk.LiveKitServer(work / "livekit", lk.install())
    sfu.start()
    callers: list[lk.Caller] = []
    config = Config.model_validate(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@distansbot:localhost", "password": "x"},
            "storage": {"database": str(work / "db.sqlite3"), "e2ee_store": str(work / "e2ee")},
            "livekit": {"url": sfu.url, "api_key": sfu.api_key, "api_secret": sfu.api_secret},
            "bodies": [BodyConfig(**body_config(ROOM, video="element-call")).model_dump()],
        }
    )
    bot = Shell(config, await open_store(config.storage.database), content.encode)
    bot.media.server = Reader(sfu.url, sfu.api_key, sfu.api_secret)  # as bot.py gives it
    await bot.load()
    body = bot.bodies["ks"]
    body.room_id, bot.by_room[ROOM] = ROOM, body
    (follow,) = bot.media.follows()
    task = asyncio.create_task(follow.run())
    try:
        now = datetime.now(UTC)
        at = (now + timedelta(minutes=2)).astimezone(body.engine.roster.tz).strftime("%Y-%m-%d %H:%M")
        for n, text in enumerate([f"!kalla {at} distans\nMotivering: smittspridning\n1. Budget", "!öppna"]):
            await bot.handle(body, f"$chair{n}", Message(text), "@anna:localhost", datetime.now(UTC))
        for who in MEMBERS:
            user, device = f"@{who}:localhost", f"{who.upper()}DEV"
            now = datetime.now(UTC)
            devices = (Device(device, now + timedelta(hours=4)),)
            await bot.call_changed(CallChanged(ROOM, f"$cm-{who}", f"_{user}_{device}", user, devices, now))
            caller = await lk.Caller(sfu, room_names(ROOM)[0], f"{user}:{device}").connect()
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
        task.cancel()
        for caller in callers:
            await caller.disconnect()
        await bot.media.close()
        await bot.store.close()
        sfu.stop()


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
        ]
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mutes", type=int, default=20)
    parser.add_argument("--out", default=str(Path(__file__).with_name("MEDIA.md")))
    args = parser.parse_args()
    r = {"commit": commit(), "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load_before": load_average()}
    with tempfile.TemporaryDirectory(prefix="distansbot-media-") as work:
        r |= await measure(args.mutes, Path(work))
    r["load_after"] = load_average()
    text = report(r, " ".join(["python", "bench/media.py", *sys.argv[1:]]))
    await asyncio.to_thread(Path(args.out).write_text, text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
