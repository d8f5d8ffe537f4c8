"""Standby through Synapse: bot processes with the same configuration on one PostgreSQL
database, as on several machines (each its own key store directory). One serves; when it is
killed (SIGKILL) another takes over and answers what was said meanwhile, once; one frozen
(SIGSTOP) while another takes over wakes unable to answer, and steps down; the database away
mid-meeting is answered "not recorded", loses nothing and is got over by itself (§ 10: a meeting
does not go on without the bot; KL 5 kap. 69 §: nothing stands twice in the protocol).

What is checked is what the room and the logs show, never the bot's own word: each command has
exactly one answer; each motion gets the number its place in the room gives it (a command lost
or applied twice would shift every later number); each command is logged as handled by one
process at most, under the newest lease (epoch) begun by then (never two serving).

The fifty kills run the bot with a lease of 1 s (`QUICK`), the same rules in less time, so that
they cost about two minutes; the other tests run the bot's own lease, and so measure the
takeover as it is in service.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from shell import NOT_RECORDED
from testing.actors import ROOT, BotProcess, text_of
from testing.homeserver import free_port
from testing.meeting import open_meeting
from testing.postgres import PostgresServer
from testing.stage import Stage, wait_until

KILLS = 50
# bot.py with a lease of 1 s renewed four times a second (storage.lease's constants, set before
# the bot starts; nothing of the bot's code changes).
QUICK = [
    sys.executable,
    "-c",
    "import sys; from storage import lease; "
    "lease.LEASE_SECONDS, lease.RENEW_SECONDS, lease.MARGIN_SECONDS, lease.POLL_SECONDS = 1.0, 0.25, 0.3, 0.1; "
    "import bot; sys.exit(bot.main(sys.argv[1:]))",
]
MOVERS = ("bo", "cecilia", "david", "eva")


async def machines(
    stage: Stage,
    server: PostgresServer,
    count: int,
    program: list[str] | None = None,
    encrypted: bool = False,
    homeserver: str | None = None,
    start: bool = True,
) -> tuple[list[BotProcess], str]:
    """A new room and `count` bot processes on a new database, each with a key store directory
    of its own (another machine): the first serving, the others standing by (with `start`; else
    none started). `homeserver`: the address they reach the homeserver by."""
    await stage.new_meeting_room(start_bot=False, encrypted=encrypted)
    assert stage.config_path and stage.bot
    url = await server.database()
    text = stage.config_path.read_text(encoding="utf-8")
    sqlite = json.dumps(str(stage.config_path.parent / "distansbot.sqlite3"))
    keys = json.dumps(str(stage.config_path.parent / "e2ee"))
    assert sqlite in text and keys in text
    if homeserver:
        assert json.dumps(stage.hs.url) in text
        text = text.replace(json.dumps(stage.hs.url), json.dumps(homeserver))
    bots = []
    for n in range(1, count + 1):
        machine = stage.config_path.parent / f"machine-{n}"
        machine.mkdir()
        config = machine / "config.toml"
        config.write_text(text.replace(sqlite, json.dumps(url)).replace(keys, json.dumps(str(machine / "e2ee"))))
        config.chmod(0o600)
        env = {**(stage.clock.env() if stage.clock else os.environ), "DISTANSBOT_STORAGE__PASSWORD": server.password}
        bots.append(BotProcess(config, machine / "bot.log", env=env, program=program))
    stage.bot, stage.config_path = bots[0], bots[0].config
    url = url.replace("distansbot@", f"distansbot:{server.password}@")
    if not start:
        return bots, url
    await stage.start_bot()
    for bot in bots[1:]:
        bot.start()
    await standing_by(url, count)
    return bots, url


async def processes(url: str) -> list[tuple[int, bool]]:
    """(pid, serving) of each process heard from in the last 5 s, as the lease has it."""
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
    found: list = []
    while time.monotonic() < deadline:
        found = await processes(url)
        if len(found) == count and sum(s for _, s in found) == 1:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"not {count} processes, one serving: {found}")


async def server_of(url: str, bots: list[BotProcess], timeout: float = 30) -> BotProcess:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [pid for pid, serving in await processes(url) if serving]
        found = [b for b in bots if b.proc and b.proc.pid in pids and b.running]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise TimeoutError("no process serves")


_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ distansbot: (.*)$")
_SERVES = re.compile(r"Den här processen \((\S+)\) tjänar nu \(epok (\d+)\)")
_HANDLED = re.compile(r"Kommando .+ från \S+ \((\$\S+)\): ")


def read_logs(bots: list[BotProcess]) -> tuple[list[tuple[str, int]], list[tuple[str, int, str]]]:
    """From the processes' logs: each lease begun (time, epoch), and each command logged as
    handled (time, the epoch its process served under, the command's event id)."""
    begun, handled = [], []
    for bot in bots:
        epoch = None
        for line in bot.log.read_text(errors="replace").splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            at, message = m.groups()
            if serves := _SERVES.search(message):
                epoch = int(serves.group(2))
                begun.append((at, epoch))
            elif (command := _HANDLED.search(message)) and epoch is not None:
                handled.append((at, epoch, command.group(1)))
    return begun, handled


def assert_never_two_serving(bots: list[BotProcess], sent: list[str]) -> None:
    """Each lease's epoch begun once; each command handled by one process at most, and under the
    newest epoch begun by then: nothing was handled by a process another had taken over from."""
    begun, handled = read_logs(bots)
    epochs = [e for _, e in begun]
    assert len(epochs) == len(set(epochs)), sorted(epochs)
    for at, epoch, source in handled:
        newer = [(t, e) for t, e in begun if e > epoch and t < at]
        assert not newer, f"{source} handled at {at} under epoch {epoch}, after epoch {newer[0][1]} began {newer[0][0]}"
    ours = [source for _, _, source in handled if source in set(sent)]
    assert len(ours) == len(set(ours)), [s for s in ours if ours.count(s) > 1]


async def assert_answered_once(stage: Stage, sent: list[str]) -> None:
    assert stage.observer
    for event_id in sent:
        await stage.observer.answer(event_id, timeout=60)
    await asyncio.sleep(2)  # anything sent twice would have arrived by now
    twice = {e: [text_of(a) for a in stage.observer.answers_to(e)] for e in sent}
    assert all(len(a) == 1 for a in twice.values()), {e: a for e, a in twice.items() if len(a) != 1}


def figures(took: list[float]) -> str:
    return f"p50 {statistics.median(took):.1f} s, max {max(took):.1f} s over {len(took)}"


@pytest.mark.timeout(600)  # about two minutes on an idle machine; the homeserver slows under load
async def test_par_10_kl_5_69_fifty_kills_of_the_serving_process_lose_nothing_double_nothing_and_never_overlap(
    stage, postgres_server
):
    """Three processes (a lease of 1 s): the serving one SIGKILLed at a random point after a
    motion is sent (at once, or while it handles it or sends its answer), restarted at once to
    stand by, and one or two motions sent while nobody serves."""
    bots, url = await machines(stage, postgres_server, 3, program=QUICK)
    assert stage.observer
    rng = random.Random(2024)
    sent: list[str] = []
    took: list[float] = []

    async def move() -> str:
        n = len(sent) + 1
        sent.append(await stage.say(MOVERS[n % len(MOVERS)], f"!yrka Förslag {n}"))
        return sent[-1]

    try:
        await open_meeting(stage)
        await stage.ask("anna", "!ärende 1")
        for _ in range(KILLS):
            serving = await server_of(url, bots)
            await move()
            await asyncio.sleep(rng.choice([0, 0.005, 0.02, 0.05, 0.1, 0.25]))
            serving.kill()
            killed = time.monotonic()
            serving.start()  # back at once, as systemd restarts it, to stand by
            after = [await move() for _ in range(rng.choice([1, 2]))]
            await stage.observer.answer(after[0], timeout=30)
            took.append(time.monotonic() - killed)
            for event_id in after[1:]:
                await stage.observer.answer(event_id, timeout=30)
        await assert_answered_once(stage, sent)
        for n, event_id in enumerate(sent, start=1):  # lost or applied twice would shift the numbers
            (answer,) = stage.observer.answers_to(event_id)
            assert text_of(answer).startswith(f"Yrkande {n} i ärende 1 av ") and f": Förslag {n}" in text_of(answer)
        assert_never_two_serving(bots, sent)
        print(f"\n{KILLS} kills, {len(sent)} motions; takeover after a kill (lease 1 s): {figures(took)}")
    finally:
        for bot in bots:
            bot.stop()


async def test_par_10_a_frozen_server_wakes_unable_to_answer_and_check_names_who_serves(stage, postgres_server):
    """Two processes on the bot's own lease: the serving one killed twice (the takeover as in
    service), then frozen with SIGSTOP while the other takes over, and woken: it handles and
    sends nothing, and stands by again. `bot.py check` then names who serves and who stands by."""
    bots, url = await machines(stage, postgres_server, 2)
    assert stage.observer
    sent: list[str] = []
    took: list[float] = []
    try:
        await open_meeting(stage)
        for i in range(2):
            serving = await server_of(url, bots)
            serving.kill()
            killed = time.monotonic()
            sent.append(await stage.say(MOVERS[i], "!status"))  # said while nobody serves
            await stage.observer.answer(sent[-1], timeout=30)
            took.append(time.monotonic() - killed)
            serving.start()
            await standing_by(url, 2)
        serving = await server_of(url, bots)
        assert serving.proc
        serving.proc.send_signal(signal.SIGSTOP)  # a VM paused
        frozen = time.monotonic()
        handled_before = len(read_logs([serving])[1])
        sent.append(await stage.say("eva", "!status"))
        await stage.observer.answer(sent[-1], timeout=30)
        took.append(time.monotonic() - frozen)
        serving.proc.send_signal(signal.SIGCONT)
        sent.append(await stage.say("bo", "!status"))  # said as the frozen one wakes
        await assert_answered_once(stage, sent)
        await asyncio.sleep(2)  # what the woken one would send, it would have sent by now
        log = serving.log.read_text(errors="replace")
        assert "går i beredskap" in log, log[-3000:]
        assert len(read_logs([serving])[1]) == handled_before  # it handled nothing after it woke
        assert serving.running  # and stands by again
        await standing_by(url, 2)
        assert_never_two_serving(bots, sent)
        print(f"\ntakeover after a kill or a freeze (the bot's own lease, 4 s): {figures(took)}")
        server = await server_of(url, bots)
        standby = next(b for b in bots if b is not server)
        assert server.proc and standby.proc
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
        assert any(line.startswith("  i beredskap: ") and f"process {standby.proc.pid}," in line for line in lines)
        assert len([line for line in lines if line.startswith(("  tjänar: ", "  i beredskap: "))]) == 2, lines
    finally:
        for bot in bots:
            if bot.proc and bot.proc.poll() is None:
                bot.proc.send_signal(signal.SIGCONT)
            bot.stop()


async def test_par_2_in_an_encrypted_room_the_standby_answers_as_the_same_device(stage, postgres_server):
    """The key store goes over through the database: the standby, with a key store directory of
    its own (another machine), decrypts the members' commands and answers as the same device,
    and the members' clients see the bot's devices and keys as before."""
    bots, url = await machines(stage, postgres_server, 2, encrypted=True)
    assert stage.observer
    try:
        first = await stage.ask("cecilia", "!status")
        devices_before = await bot_devices(stage)
        serving = await server_of(url, bots)
        serving.kill()
        killed = time.monotonic()
        event_id = await stage.say("bo", "!status")
        answer = await stage.observer.answer(event_id, timeout=40)
        print(f"\ntakeover in an encrypted room: {time.monotonic() - killed:.1f} s")
        assert text_of(answer) and text_of(answer).split("\n")[0] == first.split("\n")[0]
        assert await bot_devices(stage) == devices_before  # no new device for members to see
        other = next(b for b in bots if b is not serving)
        log = other.log.read_text(errors="replace")
        assert "Botens nyckellager" not in log  # no lost keys
        # and it read back, decrypted, what the killed one had told people (a "not recorded" among them would count)
        read = re.search(r"Botens egna meddelanden sedan den sparade positionen: (\d+) lästa, (\d+) olästa", log)
        assert read and int(read[1]) >= 1 and read[2] == "0", log[-3000:]
        assert await stage.ask("david", "!status")  # and it goes on answering, decrypting
    finally:
        for bot in bots:
            bot.stop()


# How soon what the killed process owed must reach a quiet room after the next one serves.
OWED_SECONDS = 15


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_par_10_what_the_killed_process_owed_reaches_a_quiet_room_at_once_and_once(
    stage, postgres_server, encrypted
):
    """An answer owed by the process that was taken over, in a room where nobody writes after:
    the next holder syncs from the stored token, so no sync tells nio of the room, yet the answer
    goes out within seconds (encrypted in an encrypted room, by the same device), once. The kill's
    state is set up as it leaves it: the standby frozen meanwhile, the server stopped (its token
    stored past the command), then the command's answer owed again under an id of its own (a
    transaction id the homeserver has not seen), as when the process dies between the command's
    transaction and the send."""
    bots, url = await machines(stage, postgres_server, 2, encrypted=encrypted)
    assert stage.observer
    serving = await server_of(url, bots)
    standby = next(b for b in bots if b is not serving)
    assert standby.proc
    try:
        standby.proc.send_signal(signal.SIGSTOP)  # out of it until the kill's state is set up
        command = await stage.say("cecilia", "!status")
        answered = await stage.observer.answer(command, timeout=30)
        serving.stop()  # its sync token stored past the command; the lease free
        conn = await asyncpg.connect(url)
        try:
            owed = await conn.fetchval(
                "INSERT INTO outbox (room_id, kind, content, tag) SELECT room_id, kind, content, tag FROM outbox "
                "WHERE sent_event_id = $1 RETURNING id",
                answered["event_id"],
            )
        finally:
            await conn.close()
        assert owed
        devices_before = await bot_devices(stage)
        standby.proc.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        await wait_until(lambda: len(stage.observer.answers_to(command)) == 2, timeout=OWED_SECONDS)
        took = time.monotonic() - resumed
        await asyncio.sleep(2)  # sent twice would show by now
        first, again = stage.observer.answers_to(command)
        assert text_of(again) == text_of(first) and len(stage.observer.answers_to(command)) == 2
        raw = await raw_event(stage, again["event_id"])
        assert raw["type"] == ("m.room.encrypted" if encrypted else "m.room.message"), raw
        assert await bot_devices(stage) == devices_before  # sent as the same device
        print(f"\nthe owed answer in a quiet room ({'encrypted' if encrypted else 'plain'}): {took:.1f} s after")
    finally:
        if standby.proc.poll() is None:
            standby.proc.send_signal(signal.SIGCONT)
        for bot in bots:
            bot.stop()


class Withholding:
    """The homeserver's address as the bots have it, in front of Synapse (the test's, no part of
    the bot): every request is passed on and answered, except that once armed, the next request
    to a path is passed on and done by Synapse, and its answer withheld, as from a process that
    is killed before it reads it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.armed: str | None = None
        self.withheld = asyncio.Event()
        self.released = asyncio.Event()

    async def start(self) -> str:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=1)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}"

    def arm(self, path: str) -> None:
        self.armed = path
        self.withheld.clear()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        skip = {"host", "content-length", "transfer-encoding", "accept-encoding"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        async with self.session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as r:
            answer, status, kind = await r.read(), r.status, r.headers.get("Content-Type", "application/json")
        if self.armed and request.path.endswith(self.armed):
            self.armed = None
            self.withheld.set()
            await self.released.wait()
        return web.Response(body=answer, status=status, headers={"Content-Type": kind})

    async def close(self) -> None:
        self.released.set()
        await self.runner.cleanup()
        await self.session.close()


BOT = "@distansbot:localhost"


async def bot_session(url: str) -> tuple[str, str]:
    """The bot's device id and access token, as the database keeps them."""
    conn = await asyncpg.connect(url)
    try:
        _, device, token = (await conn.fetchval("SELECT value FROM settings WHERE key = 'session'")).split("\n")
    finally:
        await conn.close()
    return device, token


async def one_time_keys(stage: Stage, token: str) -> int:
    """How many one-time keys the homeserver holds for the bot's device (its own question)."""
    return (await _client_api(stage, "/keys/upload", {}, token))["one_time_key_counts"].get("signed_curve25519", 0)


async def claim(stage: Stage, device: str, n: int) -> None:
    """`n` of the bot's one-time keys claimed, as members' new devices do to reach it."""
    for _ in range(n):
        await _client_api(stage, "/keys/claim", {"one_time_keys": {BOT: {device: "signed_curve25519"}}})


async def test_par_2_a_kill_before_the_key_upload_is_answered_leaves_the_device_whole(stage, postgres_server):
    """The key store's kill window: the homeserver has taken the bot's keys (device keys and
    one-time keys) but the process is killed before it reads the answer, so it never saved what
    it uploaded. First at the bot's very first upload: the other process takes over as the same
    device (not refused as one whose keys are lost), its identity key the one uploaded. Then at
    a later upload of one-time keys: the next holder's keys must not clash with those the
    homeserver took (Synapse refuses for good a key id it has with other contents), so when
    members' devices have used some, it makes new ones, and the homeserver takes them."""
    proxy = Withholding(stage.hs.url)
    bots, url = await machines(stage, postgres_server, 2, homeserver=await proxy.start(), start=False)
    assert stage.observer
    first, second = bots
    try:
        proxy.arm("/keys/upload")
        first.start()
        await asyncio.wait_for(proxy.withheld.wait(), 60)  # its first upload, done by Synapse
        first.kill()
        device, token = await bot_session(url)
        uploaded = (await bot_devices(stage))[device]  # its identity key, as the homeserver took it
        stage.bot = second
        await stage.start_bot()  # it takes over, and joins: what is said from then on counts
        assert await stage.ask("cecilia", "!status")
        assert (await bot_devices(stage)).get(device) == uploaded  # the same device, the same keys
        first.start()  # back, to stand by
        await standing_by(url, 2)
        full = await one_time_keys(stage, token)
        proxy.arm("/keys/upload")  # before the claims: the next upload is the one after them
        await claim(stage, device, 3)
        assert await stage.ask("david", "!status")  # its sync says 3 keys are gone: it makes 3 more
        await asyncio.wait_for(proxy.withheld.wait(), 30)
        second.kill()
        await claim(stage, device, 3)  # the oldest: the 3 just uploaded stay on the homeserver
        assert await stage.ask("eva", "!status", timeout=30)  # answered by the first, which took over
        counts = []
        for _ in range(50):  # ten seconds at most
            counts.append(await one_time_keys(stage, token))
            if counts[-1] == full:
                break
            await asyncio.sleep(0.2)
        assert counts[-1] == full, f"{counts[-1]} one-time keys on the homeserver, not {full}: new ones refused"
    finally:
        await proxy.close()
        for bot in bots:
            bot.stop()


async def raw_event(stage: Stage, event_id: str) -> dict:
    """An event in the stage's room as the homeserver keeps it (encrypted or not)."""
    return await _client_api(stage, f"/rooms/{stage.room_id}/event/{event_id}")


async def _client_api(stage: Stage, path: str, body: dict | None = None, token: str | None = None) -> dict:
    """A client-server API request as a member (anna), or as the holder of `token`."""
    client = stage["anna"].client
    assert client
    request = urllib.request.Request(
        f"{stage.hs.url}/_matrix/client/v3{path}",
        None if body is None else json.dumps(body).encode(),
        {"Authorization": f"Bearer {token or client.access_token}", "Content-Type": "application/json"},
    )
    with await asyncio.to_thread(urllib.request.urlopen, request, timeout=10) as resp:
        return json.load(resp)


async def bot_devices(stage: Stage) -> dict[str, str]:
    """The bot's devices as a member's client sees them (keys/query): id -> its identity key."""
    query = {"device_keys": {"@distansbot:localhost": []}}
    devices = (await _client_api(stage, "/keys/query", query))["device_keys"]["@distansbot:localhost"]
    return {d: keys["keys"][f"curve25519:{d}"] for d, keys in devices.items()}


# How long the database is away, and what is said in it: at once, then past the lease (4 s), in
# the middle, and just before it is back. Past the lease nothing changes until it is back (nothing
# is read or sent, the renewals fail, said once), so the suite runs it for 15 s to keep CI within
# its time; DISTANSBOT_PG_AWAY_SECONDS=60 runs the minute (measured: passed).
AWAY_SECONDS = float(os.environ.get("DISTANSBOT_PG_AWAY_SECONDS", "15"))
SAID_AWAY = [
    (8, "cecilia", "Bifall"),
    ((8 + AWAY_SECONDS) / 2, "david", "Återremiss"),
    (AWAY_SECONDS - 2, "eva", "Bordläggning"),
]


async def test_kl_6_35_postgresql_away_mid_meeting_answers_not_recorded_loses_nothing_and_recovers(
    stage, postgres_server
):
    """The database server stopped for a minute mid-meeting (two processes): what is said at once
    is answered "not recorded" and never applied; what is said later waits, and is handled once,
    in the order said, when the server is back, by the same process (the standby leaves it the
    time to renew)."""
    bots, url = await machines(stage, postgres_server, 2)
    assert stage.observer
    try:
        await open_meeting(stage)
        await stage.ask("anna", "!ärende 1")
        serving = await server_of(url, bots)
        halted = time.monotonic()
        postgres_server.halt()
        try:
            early = await stage.say("bo", "!yrka Avslag")
            assert text_of(await stage.observer.answer(early, timeout=10)) == NOT_RECORDED
            late = []
            for after, who, text in SAID_AWAY:  # the lease has run out: not read now
                await asyncio.sleep(max(0.0, halted + after - time.monotonic()))
                late.append(await stage.say(who, f"!yrka {text}"))
            await asyncio.sleep(max(0.0, halted + AWAY_SECONDS - time.monotonic()))
            assert [stage.observer.answers_to(x) for x in late] == [[]] * len(late)
        finally:
            postgres_server.resume()
        back = time.monotonic()
        answers = [text_of(await stage.observer.answer(x, timeout=30)) for x in late]
        print(f"\nPostgreSQL away {AWAY_SECONDS} s: what was said in it answered {time.monotonic() - back:.1f} s after")
        for n, (answer, (_, _, text)) in enumerate(zip(answers, SAID_AWAY, strict=True), 1):
            assert answer.startswith(f"Yrkande {n} i ärende 1 av ") and answer.endswith(f": {text}")  # Avslag: never
        status = await stage.ask("david", "!status")
        assert all(text in status for _, _, text in SAID_AWAY) and "Avslag" not in status
        await assert_answered_once(stage, [early, *late])
        assert await server_of(url, bots) is serving  # no takeover: the same process went on
        assert_never_two_serving(bots, [early, *late])
        assert serving.log.read_text(errors="replace").count("Tjänsten kunde inte förnyas") == 1  # said once
    finally:
        if not postgres_server.started:
            postgres_server.resume()
        for bot in bots:
            bot.stop()


class Cuttable:
    """One machine's network path to the database (the test's, no part of the bot): bytes passed
    both ways until cut; cut, every connection through it is reset and new ones are refused, as
    when a firewall or a lost route stands between that machine and the server. The other
    machines reach the server as before."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port, self.port = upstream_port, free_port()
        self.server: asyncio.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()

    async def mend(self) -> None:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server
        self.server.close()  # refused from now on
        for writer in list(self.open):
            writer.transport.abort()  # reset, not closed politely
        self.open.clear()
        await self.server.wait_closed()
        self.server = None

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self.open |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self.open.discard(writer)
            writer.transport.abort()


async def test_kl_6_35_a_server_cut_off_from_the_database_alone_says_not_recorded_and_the_standby_never_applies_it(
    stage, postgres_server
):
    """The serving machine's network to the database cut, the standby's not. What the serving
    process is told at once it answers "not recorded", and it cannot store that it did; the
    standby that takes over reads that answer back from the room and never applies the command
    (the person has been told it was not, and may send it anew), while it answers what is said
    after. Mended, the cut-off process finds it no longer serves, and stands by."""
    bots, url = await machines(stage, postgres_server, 2, start=False)
    assert stage.observer
    path = Cuttable(postgres_server.port)
    await path.mend()
    first = bots[0].config  # the first machine reaches the database through the path
    text = first.read_text(encoding="utf-8")
    direct = f"@{postgres_server.host}:{postgres_server.port}/"
    assert direct in text
    first.write_text(text.replace(direct, f"@127.0.0.1:{path.port}/"), encoding="utf-8")
    try:
        await stage.start_bot()
        bots[1].start()
        await standing_by(url, 2)
        await open_meeting(stage)
        await stage.ask("anna", "!ärende 1")
        assert await server_of(url, bots) is bots[0]
        await path.cut()
        early = await stage.say("bo", "!yrka Avslag")
        assert text_of(await stage.observer.answer(early, timeout=10)) == NOT_RECORDED
        for _ in range(300):  # taken over once the lease, not renewed, has run out
            if await server_of(url, bots) is bots[1]:
                break
            await asyncio.sleep(0.1)
        assert await server_of(url, bots) is bots[1]
        late = await stage.say("cecilia", "!yrka Bifall")
        answer = text_of(await stage.observer.answer(late, timeout=30))
        assert answer.startswith("Yrkande 1 i ärende 1 av ") and answer.endswith(": Bifall")  # the early one: never
        status = await stage.ask("david", "!status")
        assert "Bifall" in status and "Avslag" not in status
        await assert_answered_once(stage, [early, late])
        assert 'fick svaret "inte sparat"' in bots[1].log.read_text(errors="replace")
        await path.mend()
        await wait_until(lambda: "går i beredskap" in bots[0].log.read_text(errors="replace"), 30)
        await standing_by(url, 2)
        assert await server_of(url, bots) is bots[1]
        assert_never_two_serving(bots, [early, late])
    finally:
        for bot in bots:
            bot.stop()
        if path.server:
            await path.cut()
