"""A real LiveKit server on loopback for the tests, and real participants that publish, mute and
unpublish synthetic camera and microphone tracks through LiveKit's Python SDK (`livekit`).

The server is `livekit-server`, a Go program, built once from the Go module proxy at VERSION into
the user's cache (`python -m testing.livekit` does it, and ./test.sh calls that): v1.13.6 and
later replace pion's WebRTC modules with LiveKit's forks, which the module proxy does not serve,
so v1.13.5 is the newest that `go install` builds. It runs in development mode (`--dev`), bound
to 127.0.0.1, with ports and a key of its own per test session.
"""

from __future__ import annotations

import asyncio
import contextlib
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
MODULE = "github.com/livekit/livekit-server/cmd/server"


def cached() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "distansbot" / f"livekit-server-{VERSION}"


def binary() -> Path | None:
    """The server to run: $DISTANSBOT_LIVEKIT_SERVER, the one built into the cache, or None."""
    named = os.environ.get("DISTANSBOT_LIVEKIT_SERVER")
    if named:
        return Path(named)
    return cached() if cached().is_file() else None


def install() -> Path:
    """Builds the server into the cache with `go install` (minutes, once per machine)."""
    if binary():
        return binary()
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        raise RuntimeError("Go saknas: LiveKit-servern byggs med go install (https://go.dev/doc/install)")
    target = cached()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as gobin:
        started = time.monotonic()
        subprocess.run([go, "install", f"{MODULE}@{VERSION}"], check=True, env={**os.environ, "GOBIN": gobin})
        shutil.move(Path(gobin) / "server", target)
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
        from testing.homeserver import stop_process

        stop_process(self.proc, timeout=10)
        self.proc = None

    def token(self, identity: str, room: str) -> str:
        from livekit import api

        grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=False)
        return api.AccessToken(self.api_key, self.api_secret).with_identity(identity).with_grants(grants).to_jwt()


class Caller:
    """A participant as Element Call would be one: connects with an identity, publishes a camera
    and a microphone fed with generated frames, mutes, unmutes, unpublishes, disconnects."""

    WIDTH, HEIGHT, RATE = 64, 48, 48_000

    def __init__(self, server: LiveKitServer, room: str, identity: str) -> None:
        from livekit import rtc

        self.server, self.room_name, self.identity = server, room, identity
        self.room = rtc.Room()
        self.published: dict[str, object] = {}  # "camera" / "microphone" -> LocalTrackPublication
        self._feeds: dict[str, asyncio.Task] = {}

    async def connect(self) -> Caller:
        await self.room.connect(self.server.ws_url, self.server.token(self.identity, self.room_name))
        return self

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
            source = rtc.AudioSource(self.RATE, 1)
            track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            samples = self.RATE // 100
            frame = rtc.AudioFrame(bytes(samples * 2), self.RATE, 1, samples)
            feed = lambda: source.capture_frame(frame)  # noqa: E731
        self._feeds[what] = asyncio.create_task(self._feed(feed))
        self.published[what] = await self.room.local_participant.publish_track(track, options)

    @staticmethod
    async def _feed(feed) -> None:
        while True:
            result = feed()
            if asyncio.iscoroutine(result):
                await result
            await asyncio.sleep(0.01)

    def mute(self, what: str, muted: bool = True) -> None:
        track = self.published[what].track
        track.mute() if muted else track.unmute()

    async def unpublish(self, what: str) -> None:
        publication = self.published.pop(what)
        await self.room.local_participant.unpublish_track(publication.sid)
        self._stop_feed(what)

    def _stop_feed(self, what: str) -> None:
        task = self._feeds.pop(what, None)
        if task:
            task.cancel()

    async def disconnect(self) -> None:
        for what in list(self._feeds):
            self._stop_feed(what)
        with contextlib.suppress(Exception):
            await self.room.disconnect()


if __name__ == "__main__":
    print(install())
