"""A real LiveKit server on loopback for the tests, and real participants that publish, mute and
unpublish synthetic camera and microphone tracks through LiveKit's Python SDK (`livekit`).

The server is `livekit-server`, a Go program, built once from the Go module proxy at VERSION into
the user's cache (`install`; ./test.sh starts it in the background as the tests begin, and the
tests that need it run last and wait for it): v1.13.6 and
later replace pion's WebRTC modules with LiveKit's forks, which the module proxy does not serve,
so v1.13.5 is the newest that `go install` builds. It runs in development mode (`--dev`), bound
to 127.0.0.1, with ports and a key of its own per test session.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

VERSION = "v1.13.5"
ROOT = Path(__file__).resolve().parent.parent  # where `python -m testing.livekit` runs
MODULE = "github.com/livekit/livekit-server/cmd/server"


def cached() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "distansbot" / f"livekit-server-{VERSION}"


class Missing(RuntimeError):
    """The server cannot be had here; the message says what is missing."""


def install() -> Path:
    """The server to run: $DISTANSBOT_LIVEKIT_SERVER, or the one in the cache, built there with
    `go install` when it is not (minutes, once per machine). A build under way (./test.sh starts
    one in the background as the tests begin) is waited for, not begun twice: the cache's lock
    file is held while building. Raises `Missing` saying what is missing."""
    named = os.environ.get("DISTANSBOT_LIVEKIT_SERVER")
    if named:
        if not Path(named).is_file():
            raise Missing(f"DISTANSBOT_LIVEKIT_SERVER={named}: ingen sådan fil")
        return Path(named)
    target = cached()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        go = shutil.which("go") or "/usr/local/go/bin/go"
        if not Path(go).exists():
            raise Missing(
                f"livekit-server {VERSION} saknas och Go saknas för att bygga det: installera Go 1.21 eller nyare "
                f"(servern kräver Go 1.26, som go hämtar själv från modulproxyn; Debians golang-go 1.19 räcker "
                f"inte), eller peka ut en byggd server med DISTANSBOT_LIVEKIT_SERVER"
            )
        log_path = target.with_name(target.name + ".log")
        with tempfile.TemporaryDirectory(dir=target.parent) as gobin, open(log_path, "w") as log:
            started = time.monotonic()
            built = subprocess.run(
                [go, "install", f"{MODULE}@{VERSION}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "GOBIN": gobin},
            )
            if built.returncode != 0:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
                raise Missing(
                    f"livekit-server {VERSION} saknas och kunde inte byggas (go install {MODULE}@{VERSION}, "
                    f"slutkod {built.returncode}; hela utskriften i {log_path}): " + " | ".join(tail)
                )
            os.replace(Path(gobin) / "server", target)  # whole, or not there: a build cut off leaves none
        print(f"livekit-server {VERSION} byggd på {time.monotonic() - started:.0f} s: {target}", file=sys.stderr)
    return target


def _free_port(kind: int) -> int:
    import socket

    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveKitServer:
    """One livekit-server process; `stop()` and `start()` again keep its address and key (the
    server going away and coming back)."""

    def __init__(self, workdir: Path, program: Path) -> None:
        import socket

        self.dir = Path(workdir)
        self.program = program
        self.port = _free_port(socket.SOCK_STREAM)
        self.rtc_tcp = _free_port(socket.SOCK_STREAM)
        self.rtc_udp = _free_port(socket.SOCK_DGRAM)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.api_key = "distansbot-test"
        self.api_secret = secrets.token_hex(24)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        config = {  # YAML is a superset of JSON
            "port": self.port,
            "rtc": {"tcp_port": self.rtc_tcp, "udp_port": self.rtc_udp, "use_external_ip": False},
            "keys": {self.api_key: self.api_secret},
            "logging": {"level": "warn"},
        }
        out = open(self.dir / "livekit.log", "ab")  # noqa: SIM115  (the process keeps it)
        self.proc = subprocess.Popen(
            [str(self.program), "--dev", "--bind", "127.0.0.1", "--node-ip", "127.0.0.1"]
            + ["--config-body", json.dumps(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"livekit-server stannade vid start; se {self.dir / 'livekit.log'}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError(f"livekit-server svarade inte inom {timeout} s")

    def stop(self) -> None:
        """Ends the server at once, as a server that goes away: its first SIGTERM only drains (it
        waits for every participant to leave), a second forces the stop (cmd/server/main.go at
        VERSION); the two apart, since the server's signal channel holds one at a time."""
        from testing.homeserver import stop_process

        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            time.sleep(0.3)
            self.proc.terminate()
        stop_process(self.proc, timeout=10)
        self.proc = None

    def token(self, identity: str, room: str) -> str:
        from livekit import api

        grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=False)
        return api.AccessToken(self.api_key, self.api_secret).with_identity(identity).with_grants(grants).to_jwt()


class Caller:
    """A participant as Element Call would be one: connects with an identity, publishes a camera
    and a microphone fed with generated frames, mutes, unmutes, unpublishes, disconnects. It runs
    in a process of its own (`_Participant`, `python -m testing.livekit caller`): LiveKit's native
    library may abort the process it is in as that process exits, which must not be the tests'."""

    def __init__(self, server: LiveKitServer, room: str, identity: str) -> None:
        self.server, self.room_name, self.identity = server, room, identity
        self.proc: asyncio.subprocess.Process | None = None

    async def connect(self) -> Caller:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "testing.livekit",
            "caller",
            self.server.ws_url,
            self.server.token(self.identity, self.room_name),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        await self._done()
        return self

    def _send(self, *words: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((" ".join(words) + "\n").encode())

    async def _done(self, timeout: float = 30) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if line.strip() != b"ok":
            raise RuntimeError(f"deltagaren {self.identity} svarade {line!r}")

    async def publish(self, what: str) -> None:
        self._send("publish", what)
        await self._done()

    def mute(self, what: str, muted: bool = True) -> None:
        self._send("mute", what, "1" if muted else "0")  # done in order; the server shows when

    async def unpublish(self, what: str) -> None:
        self._send("unpublish", what)
        await self._done()

    async def kill(self) -> None:
        """The participant's device gone at once (crashed, or off the network): no leave is said,
        its connections are simply cut."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()

    async def disconnect(self, timeout: float = 10) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            self._send("disconnect")
            await self._done(timeout)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()


class Crowd(Caller):
    """Many participants in one process (`python -m testing.livekit crowd`), for the benchmark's
    meetings of many: each joins its room with its identity, subscribes to nothing, publishes a
    camera and a microphone as Element Call does and sends no frames (a reader of the room API
    reads track states, not media). `seats` are (room, identity); `disconnect` ends them all."""

    def __init__(self, server: LiveKitServer, seats: list[tuple[str, str]]) -> None:
        super().__init__(server, "", f"{len(seats)} deltagare")
        self.seats = seats

    async def connect(self, timeout: float = 900) -> Crowd:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "testing.livekit",
            "crowd",
            self.server.ws_url,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        self._send("\n".join(self.server.token(identity, room) for room, identity in self.seats) + "\n")
        await self._done(timeout)
        return self


class _Participant:
    """The participant itself, in its own process: LiveKit's Python SDK (`livekit`)."""

    WIDTH, HEIGHT, RATE = 64, 48, 48_000

    def __init__(self, frames: bool = True) -> None:
        from livekit import rtc

        self.frames = frames
        self.room = rtc.Room()
        self.published: dict[str, object] = {}  # "camera" / "microphone" -> LocalTrackPublication
        self._feeds: dict[str, asyncio.Task] = {}

    async def publish(self, what: str) -> None:
        from livekit import rtc

        if what == "camera":
            source = rtc.VideoSource(self.WIDTH, self.HEIGHT)
            track = rtc.LocalVideoTrack.create_video_track("camera", source)
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
            frame = rtc.VideoFrame(
                self.WIDTH, self.HEIGHT, rtc.VideoBufferType.RGBA, bytes(self.WIDTH * self.HEIGHT * 4)
            )
            feed = lambda: source.capture_frame(frame)  # noqa: E731
        else:
            # Without frames, no queue: a queued source sends silence every 10 ms when it has none,
            # which costs a participant 4 % of a core (Opus encoding it); an unqueued one sends nothing.
            source = rtc.AudioSource(self.RATE, 1, queue_size_ms=1000 if self.frames else 0)
            track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            samples = self.RATE // 100
            frame = rtc.AudioFrame(bytes(samples * 2), self.RATE, 1, samples)
            feed = lambda: source.capture_frame(frame)  # noqa: E731
        if self.frames:
            self._feeds[what] = asyncio.create_task(self._feed(feed))
        self.published[what] = await self.room.local_participant.publish_track(track, options)

    @staticmethod
    async def _feed(feed) -> None:
        while True:
            result = feed()
            if asyncio.iscoroutine(result):
                await result
            await asyncio.sleep(0.01)

    def mute(self, what: str, muted: bool) -> None:
        track = self.published[what].track
        track.mute() if muted else track.unmute()

    async def unpublish(self, what: str) -> None:
        publication = self.published.pop(what)
        await self.room.local_participant.unpublish_track(publication.sid)
        if what in self._feeds:
            self._feeds.pop(what).cancel()

    async def serve(self, url: str, token: str) -> None:
        """Connects, then does what each line of its standard input says, saying "ok" when done
        (a mute says nothing: the server shows it)."""
        await self.room.connect(url, token)
        print("ok", flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            word, *args = line.split()
            if word == "publish":
                await self.publish(args[0])
            elif word == "mute":
                self.mute(args[0], args[1] == "1")
                continue
            elif word == "unpublish":
                await self.unpublish(args[0])
            elif word == "disconnect":
                await self.room.disconnect()
                print("ok", flush=True)
                break
            print("ok", flush=True)


async def _crowd(url: str, joining: int = 5) -> None:
    """`Crowd`'s process: a token a line on standard input up to an empty line, each joined (a few
    at a time, as people come into a meeting) and publishing; "ok" when all are; then on
    "disconnect", all leave and "ok"."""
    from livekit import rtc

    # Below the server and the reader it stands in for: a participant of the SDK costs 1-2 % of a
    # core even without frames, and the benchmark's hundreds need more than a small machine has.
    os.nice(19)
    loop = asyncio.get_running_loop()
    tokens = []
    while (line := (await loop.run_in_executor(None, sys.stdin.readline)).strip()) != "":
        tokens.append(line)
    crowd = [_Participant(frames=False) for _ in tokens]
    gate = asyncio.Semaphore(joining)

    async def join(one: _Participant, token: str) -> None:
        async with gate:
            await one.room.connect(url, token, rtc.RoomOptions(auto_subscribe=False))
            await one.publish("camera")
            await one.publish("microphone")

    await asyncio.gather(*(join(one, token) for one, token in zip(crowd, tokens, strict=True)))
    print("ok", flush=True)
    while (line := await loop.run_in_executor(None, sys.stdin.readline)) and line.strip() != "disconnect":
        pass
    await asyncio.gather(*(one.room.disconnect() for one in crowd), return_exceptions=True)
    print("ok", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["caller"]:

        async def _caller(url: str, token: str) -> None:
            await _Participant().serve(url, token)  # made in the running loop, which the room keeps

        asyncio.run(_caller(sys.argv[2], sys.argv[3]))
        os._exit(0)  # past the native library's teardown, which may abort the process
    if sys.argv[1:2] == ["crowd"]:
        asyncio.run(_crowd(sys.argv[2]))
        os._exit(0)
    print(install())
