"""Standby through Synapse: two bot processes with the same configuration on one PostgreSQL
database, as on two machines (each its own key store directory). One serves; when it is killed
(SIGKILL) the other takes over within 15 s and answers what was said meanwhile, once; one frozen
(SIGSTOP) while the other takes over wakes unable to answer, and steps down (§ 10: a meeting
does not go on without the bot; KL 5 kap. 69 §: nothing in the protocol twice).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import asyncpg

from testing.actors import ROOT, BotProcess, text_of
from testing.postgres import PostgresServer
from testing.stage import Stage
from tests.integration.test_meeting import open_meeting

KILLS = 6


async def two_bots(stage: Stage, server: PostgresServer, encrypted: bool = False) -> tuple[list[BotProcess], str]:
    """A new room, and two bot processes on a new database: the first serving, the second standing by."""
    await stage.new_meeting_room(start_bot=False, encrypted=encrypted)
    assert stage.config_path and stage.bot
    url = await server.database()
    text = stage.config_path.read_text(encoding="utf-8")
    sqlite = json.dumps(str(stage.config_path.parent / "distansbot.sqlite3"))
    assert sqlite in text
    bots = []
    for n in (1, 2):
        machine = stage.config_path.parent / f"machine-{n}"
        machine.mkdir()
        keys = json.dumps(str(stage.config_path.parent / "e2ee"))
        config = machine / "config.toml"
        config.write_text(text.replace(sqlite, json.dumps(url)).replace(keys, json.dumps(str(machine / "e2ee"))))
        config.chmod(0o600)
        env = {**(stage.clock.env() if stage.clock else os.environ), "DISTANSBOT_STORAGE__PASSWORD": server.password}
        bots.append(BotProcess(config, machine / "bot.log", env=env))
    stage.bot = bots[0]
    stage.config_path = bots[0].config
    await stage.start_bot()
    bots[1].start()
    url = url.replace("distansbot@", f"distansbot:{server.password}@")
    await standing_by(url, 2)
    return bots, url


async def processes(url: str) -> list[tuple[int, bool]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT p.pid, p.holder = l.holder AND l.expires_at > clock_timestamp() FROM processes p, lease l "
            "WHERE l.name = 'serving' AND p.seen_at > clock_timestamp() - interval '5 seconds'"
        )
    finally:
        await conn.close()
    return [(r[0], r[1]) for r in rows]


async def standing_by(url: str, count: int, timeout: float = 60) -> None:
    """Until `count` processes are heard from, one of them serving."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await processes(url)
        if len(found) == count and sum(s for _, s in found) == 1:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"not {count} processes, one serving: {found}")


async def server_of(url: str, bots: list[BotProcess]) -> BotProcess:
    pid = next(pid for pid, serving in await processes(url) if serving)
    return next(b for b in bots if b.proc and b.proc.pid == pid)


def handled_lines(bot: BotProcess) -> int:
    return bot.log.read_text(errors="replace").count("Kommando ")


async def test_par_10_a_standby_takes_over_within_15_s_of_a_kill_and_a_frozen_server_steps_down(stage, postgres_server):
    bots, url = await two_bots(stage, postgres_server)
    assert stage.observer
    try:
        await open_meeting(stage)
        sent: list[str] = []
        took: list[float] = []
        for i in range(KILLS):
            serving = await server_of(url, bots)
            serving.kill()
            killed = time.monotonic()
            # said while nobody serves: answered once by the one that takes over
            sent.append(await stage.say(("bo", "cecilia", "david")[i % 3], "!status"))
            await stage.observer.answer(sent[-1], timeout=30)
            took.append(time.monotonic() - killed)
            serving.start()  # back, and standing by
            await standing_by(url, 2)
        # the server frozen (a VM paused): the other takes over; woken, the frozen one answers nothing
        serving = await server_of(url, bots)
        assert serving.proc
        before = handled_lines(serving)
        serving.proc.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        sent.append(await stage.say("eva", "!status"))
        await stage.observer.answer(sent[-1], timeout=30)
        took.append(time.monotonic() - frozen)
        serving.proc.send_signal(signal.SIGCONT)
        sent.append(await stage.say("bo", "!status"))  # said as the frozen one wakes
        await stage.observer.answer(sent[-1], timeout=30)
        await asyncio.sleep(4)  # anything the woken one would send, it would have sent by now
        log = serving.log.read_text(errors="replace")
        assert "går i beredskap" in log, log[-3000:]
        assert handled_lines(serving) == before  # it handled nothing after it woke
        assert serving.running  # and stands by again
        await standing_by(url, 2)
        for event_id in sent:
            answers = stage.observer.answers_to(event_id)
            assert len(answers) == 1, [text_of(a) for a in answers]
        assert max(took) <= 15, took
        print(f"takeover after kill/freeze, s: {[round(t, 1) for t in took]}")
        # `bot.py check` names the one that serves and the one that stands by
        server = await server_of(url, bots)
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(ROOT / "bot.py"), "check", "--config", str(bots[0].config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=bots[0].env,
        )
        lines = done.stdout.splitlines()
        assert any(line.startswith("  tjänar: ") and f"process {server.proc.pid}," in line for line in lines), lines
        standby = next(b for b in bots if b is not server)
        assert any(line.startswith("  i beredskap: ") and f"process {standby.proc.pid}," in line for line in lines)
        assert len([line for line in lines if line.startswith(("  tjänar: ", "  i beredskap: "))]) == 2, lines
    finally:
        for bot in bots:
            if bot.proc and bot.proc.poll() is None:
                bot.proc.send_signal(signal.SIGCONT)
            bot.stop()


async def test_par_2_in_an_encrypted_room_the_standby_answers_as_the_same_device(stage, postgres_server):
    """The key store goes over through the database: the standby, with a key store directory of
    its own (another machine), decrypts the members' commands and answers as the same device."""
    bots, url = await two_bots(stage, postgres_server, encrypted=True)
    assert stage.observer
    try:
        first = await stage.ask("cecilia", "!status")
        devices_before = await bot_devices(stage)
        serving = await server_of(url, bots)
        serving.kill()
        event_id = await stage.say("bo", "!status")
        answer = await stage.observer.answer(event_id, timeout=40)
        assert text_of(answer) and text_of(answer).split("\n")[0] == first.split("\n")[0]
        assert await bot_devices(stage) == devices_before  # no new device for members to see
        other = next(b for b in bots if b is not serving)
        assert "Botens nyckellager" not in other.log.read_text(errors="replace")  # no lost keys
    finally:
        for bot in bots:
            bot.stop()


async def bot_devices(stage: Stage) -> dict[str, str]:
    """The bot's devices as a member's client sees them (keys/query): id -> its identity key."""
    client = stage["anna"].client
    assert client
    body = json.dumps({"device_keys": {"@distansbot:localhost": []}}).encode()
    request = urllib.request.Request(
        f"{stage.hs.url}/_matrix/client/v3/keys/query",
        body,
        {"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"},
    )
    with await asyncio.to_thread(urllib.request.urlopen, request, timeout=10) as resp:
        devices = json.load(resp)["device_keys"]["@distansbot:localhost"]
    return {d: keys["keys"][f"curve25519:{d}"] for d, keys in devices.items()}
