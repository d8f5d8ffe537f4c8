"""A LiveKit server (the SFU that Element Call carries sound and picture through), read through
its own room API with LiveKit's `livekit-api`: which participants are in a Matrix room's call,
and each one's camera and microphone tracks with their `muted`. Read only: the bot never joins a
call, never receives media, and needs only the API key of the kommun's own server.

Element Call turns a camera or microphone off by muting its track (`setCameraEnabled(false)`,
`setMicrophoneEnabled(false)` with `stopMicTrackOnMute: false`; Publisher.ts and
livekit/options.ts in element-hq/element-call at b51a33c), and unpublishes tracks only when it
leaves (`stopTracks`). So a camera off reads as a muted camera track, a camera never turned on as
none. There is no webhook for a mute, so the state is polled: `Follow` reads one room every
`interval` seconds (and at once when woken), and reports what changed as neutral records.

Connection quality is not in the room API or the webhooks (livekit/protocol at 28e604c, which
livekit-server v1.13.5 pins: `ConnectionQuality` travels only in `SignalResponse` to the
participants themselves; `ParticipantInfo` has no quality field). A connection lost reads as the
participant gone, once the server closes it: its transport failed (ICE disconnected after 10 s,
failed 5 s later, closed 5 s after that: pkg/rtc/transport.go, participant.go), about 20 s
after the cut. "Poor" cannot be read at all.

The server is input like any other: a failure to read it (no answer, a key it does not take, an
error) is reported once as `Unavailable` and closed when it reads again; it never stops anything.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from livekit import api

from media.identity import people, room_names
from media.record import Participant
from shell.ports import CallMember, Camera, Change, Microphone, Reason, Seen, Unavailable

log = logging.getLogger(__name__)

# Bounds on what one answer may hold (the server is the kommun's, but what it says is input):
# a room call of a body has tens of participants, each with a few tracks.
MAX_PARTICIPANTS = 500
MAX_TRACKS = 32
MAX_IDENTITY = 1024
TIMEOUT_SECONDS = 3.0  # one request; a poll that takes longer counts as no answer

_ACTIVE = {api.ParticipantInfo.State.JOINED, api.ParticipantInfo.State.ACTIVE}


class MediaError(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail


def _now() -> datetime:
    return datetime.now(UTC)


def _track_state(tracks: list[Any], source: int, kind: int) -> tuple[bool, bool]:
    """(any track of this source, any of them not muted)."""
    mine = [t for t in tracks if t.source == source and t.type == kind]
    return bool(mine), any(not t.muted for t in mine)


def participant(info: Any) -> Participant:
    """A LiveKit `ParticipantInfo` as the neutral record."""
    tracks = list(info.tracks)[:MAX_TRACKS]
    cam, cam_on = _track_state(tracks, api.TrackSource.CAMERA, api.TrackType.VIDEO)
    mic, mic_on = _track_state(tracks, api.TrackSource.MICROPHONE, api.TrackType.AUDIO)
    return Participant(
        identity=info.identity,
        connected=info.state in _ACTIVE,
        camera=Camera.ON if cam_on else Camera.OFF if cam else Camera.NONE,
        microphone=Microphone.ON if mic_on else Microphone.MUTED if mic else Microphone.NONE,
    )


class LiveKitServer:
    """One LiveKit server's room API. Its HTTP session is made in the running loop at first use."""

    def __init__(self, url: str, api_key: str, api_secret: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url
        self._key = api_key
        self._secret = api_secret
        self._timeout = timeout
        self._api: api.LiveKitAPI | None = None

    def _client(self) -> api.LiveKitAPI:
        if self._api is None:
            # No failover: a kommun's server has one address; a retry elsewhere would only delay
            # the answer that the server cannot be read.
            self._api = api.LiveKitAPI(
                self.url,
                self._key,
                self._secret,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                failover=False,
            )
        return self._api

    async def close(self) -> None:
        if self._api is not None:
            await self._api.aclose()
            self._api = None

    async def participants(self, names: list[str]) -> list[Participant]:
        """Every participant of the rooms of these names (those that exist). Raises MediaError."""
        try:
            room = self._client().room
            found = await room.list_rooms(api.ListRoomsRequest(names=names))
            out: list[Participant] = []
            for lk_room in found.rooms:
                if lk_room.name not in names:
                    continue
                try:
                    listed = await room.list_participants(api.ListParticipantsRequest(room=lk_room.name))
                except api.ServerError as e:
                    if e.status == 404:
                        continue  # the room closed between the two requests: nobody in it
                    raise
                out += [
                    participant(p) for p in listed.participants[:MAX_PARTICIPANTS] if len(p.identity) <= MAX_IDENTITY
                ]
            return out
        except api.ServerError as e:
            reason: Reason = "refused" if e.status in (401, 403) else "error"
            raise MediaError(reason, f"{e.status} {e.code}: {e.message}"[:300]) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise MediaError("unreachable", f"{type(e).__name__}: {e}"[:300]) from None
        except Exception as e:  # an answer it cannot read is no answer; never a crash
            raise MediaError("error", f"{type(e).__name__}: {e}"[:300]) from None

    def follow(
        self, room: str, members: Callable[[], Iterable[CallMember]], report: Callable[[list[Change]], Awaitable[None]]
    ) -> Follow:
        """A reader of this Matrix room's call (`shell.ports.MediaServer`)."""
        return Follow(self, room, members, report)

    async def check(self) -> MediaError | None:
        """For `bot.py check`: None when the server answers and takes the key."""
        try:
            await self.participants(room_names("!distansbot-check"))
        except MediaError as e:
            return e
        return None


class Follow:
    """Follows one Matrix room's call on the media server: reads it every `interval` seconds (at
    once after `wake()`), and hands `report` what changed since the last read: a `Seen` per
    person whose camera, microphone or connection changed, an `Unavailable` when the server
    could not be read (once, as it starts) and again with `until` when it could. `members` gives
    the room's call members at each read (the call membership, read by the transport); a
    participant that is none of theirs counts for nobody (`unmapped` counts them)."""

    def __init__(
        self,
        server: LiveKitServer,
        room_id: str,
        members: Callable[[], Iterable[CallMember]],
        report: Callable[[list[Change]], Any],
        *,
        interval: float = 1.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.server = server
        self.room_id = room_id
        self.names = room_names(room_id)
        self.members = members
        self.report = report
        self.interval = interval
        self.clock = clock
        self.seen: dict[str, Seen] = {}
        self.down: Unavailable | None = None
        self.unmapped = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def poll(self) -> list[Change]:
        """One read; what changed (also kept in `seen` and `down`)."""
        now = self.clock()
        try:
            participants = await self.server.participants(self.names)
        except MediaError as e:
            if self.down is not None:
                return []
            log.warning("Samtalets server (%s) kan inte läsas: %s", self.server.url, e.detail)
            self.down = Unavailable(now, None, e.reason, e.detail)
            return [self.down]
        changes: list[Change] = []
        if self.down is not None:
            changes.append(replace(self.down, until=now))
            self.down = None
        found, self.unmapped = people(participants, self.members())
        for user in sorted(set(self.seen) | set(found)):
            camera, microphone, connected = found.get(user, (Camera.NONE, Microphone.NONE, False))
            seen = Seen(user, camera, microphone, connected, now)
            before = self.seen.get(user) or Seen(user, Camera.NONE, Microphone.NONE, False, now)
            if not seen.same(before):
                self.seen[user] = seen
                changes.append(seen)
        return changes

    async def run(self) -> None:
        """Reads until cancelled; nothing the server or `report` does stops it."""
        while True:
            self._wake.clear()
            try:
                changes = await self.poll()
                if changes:
                    result = self.report(changes)
                    if inspect.isawaitable(result):
                        await result
            except Exception:
                log.exception("Fel när samtalets ljud och bild lästes")
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass


async def report(url: str, api_key: str, api_secret: str, timeout: float = TIMEOUT_SECONDS) -> int:
    """`bot.py check`: whether the server answers and takes the key, said; 1 when it must be fixed."""
    server = LiveKitServer(url, api_key, api_secret, timeout=timeout)
    try:
        fault = await server.check()
    finally:
        await server.close()
    if fault is None:
        print(f"LiveKit-servern {url}: svarar och godtar nyckeln {api_key}: OK")
        return 0
    what = {
        "unreachable": "svarade inte: kontrollera livekit.url, att servern är igång och att den nås härifrån",
        "refused": "godtar inte nyckeln: kontrollera livekit.api_key och api_secret (DISTANSBOT_LIVEKIT__API_SECRET)",
        "error": "svarade med fel",
    }[fault.reason]
    print(f"LiveKit-servern {url} {what} ({fault.detail})")
    return 1
