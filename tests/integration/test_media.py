"""What the call's media server shows, read from a real LiveKit server (testing/livekit.py, in
development mode on loopback) while real participants publish, mute and unpublish synthetic
camera and microphone tracks with LiveKit's Python SDK. The bot's reader (media/livekit.py) only
reads the server's room API.

§ 3: members take part with moving picture and sound; § 4: secretaries and attendees with sound;
§ 5: a microphone muted by its owner is still sound, a microphone track gone or a lost connection
is not; a camera off or gone is lost picture. A participant the bot cannot tie to a call member
of the room counts for nobody. The server going away is one span of "cannot be read".
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets

import pytest

from media.identity import identities, room_names
from media.livekit import Follow, LiveKitServer
from media.record import CallMember, Camera, Microphone, Seen, Unavailable
from testing import livekit as lk

pytestmark = pytest.mark.asyncio(loop_scope="session")

ANNA = "@anna:localhost"
BO = "@bo:localhost"


@pytest.fixture(scope="session")
def sfu(tmp_path_factory):
    program = lk.binary()
    if program is None:
        if os.environ.get("CI"):
            pytest.fail("livekit-server saknas: ./test.sh bygger det (python -m testing.livekit)")
        pytest.skip("livekit-server saknas: bygg det med python -m testing.livekit")
    server = lk.LiveKitServer(tmp_path_factory.mktemp("livekit"), program)
    server.start()
    yield server
    server.stop()


class Watch:
    """A running `Follow` of one Matrix room, with what it reported, and people in its call."""

    def __init__(self, sfu, members: list[CallMember], secret: str | None = None) -> None:
        self.sfu = sfu
        self.room_id = f"!{secrets.token_hex(6)}:localhost"
        self.members = members
        self.reports: list = []
        self._new = asyncio.Event()
        self.server = LiveKitServer(sfu.url, sfu.api_key, secret or sfu.api_secret, timeout=1.0)
        self.follow = Follow(self.server, self.room_id, lambda: self.members, self._report, interval=0.2)
        self.callers: list[lk.Caller] = []

    def _report(self, changes) -> None:
        self.reports += changes
        self._new.set()

    async def __aenter__(self) -> Watch:
        self.task = asyncio.create_task(self.follow.run())
        return self

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()
        for caller in self.callers:
            await caller.disconnect()
        await self.server.close()

    async def join(self, identity: str, room: str | None = None) -> lk.Caller:
        caller = await lk.Caller(self.sfu, room or room_names(self.room_id)[0], identity).connect()
        self.callers.append(caller)
        return caller

    async def until(self, check, timeout: float = 15):
        """The first report (from now on, or already in) that `check` accepts."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = 0
        while True:
            for change in self.reports[seen:]:
                if check(change):
                    return change
            seen = len(self.reports)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"inget sådant inom {timeout} s; rapporterat: {self.reports}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except TimeoutError:
                pass

    async def state(self, user: str, camera: Camera, microphone: Microphone, connected: bool = True) -> Seen:
        return await self.until(
            lambda c: (
                isinstance(c, Seen)
                and (c.user, c.camera, c.microphone, c.connected) == (user, camera, microphone, connected)
            )
        )


async def test_p3_reader_sees_camera_on_off_and_none_and_microphone_on_muted_and_none(sfu):
    async with Watch(sfu, [CallMember(ANNA, "DEV1")]) as watch:
        anna = await watch.join(f"{ANNA}:DEV1")  # the legacy identity (/sfu/get)
        joined = await watch.state(ANNA, Camera.NONE, Microphone.NONE)
        assert not joined.picture and not joined.sound
        await anna.publish("camera")
        on = await watch.state(ANNA, Camera.ON, Microphone.NONE)
        assert on.picture and not on.sound and on.since >= joined.since
        anna.mute("camera")  # Element Call turns a camera off so
        assert not (await watch.state(ANNA, Camera.OFF, Microphone.NONE)).picture
        anna.mute("camera", False)
        await watch.state(ANNA, Camera.ON, Microphone.NONE)
        await anna.publish("microphone")
        assert (await watch.state(ANNA, Camera.ON, Microphone.ON)).sound
        anna.mute("microphone")
        muted = await watch.state(ANNA, Camera.ON, Microphone.MUTED)
        assert muted.sound and muted.picture  # § 5: muted by its owner is not lost sound
        await anna.unpublish("microphone")
        assert not (await watch.state(ANNA, Camera.ON, Microphone.NONE)).sound  # § 5: the track gone is
        await anna.unpublish("camera")
        await watch.state(ANNA, Camera.NONE, Microphone.NONE)


async def test_p3_hashed_identity_and_newest_room_name_map_to_the_member(sfu):
    # lk-jwt-service's /get_token: base64(sha256(JSON [user, device, member id])), unpadded
    member = CallMember(BO, "BOPHONE", "m3mb3r-1d")
    hashed = base64.b64encode(hashlib.sha256(f'["{BO}","BOPHONE","m3mb3r-1d"]'.encode()).digest()).decode()
    assert hashed.rstrip("=") in identities(member)
    async with Watch(sfu, [member]) as watch:
        bo = await watch.join(hashed.rstrip("="))
        await bo.publish("microphone")
        await watch.state(BO, Camera.NONE, Microphone.ON)


async def test_p3_older_room_name_the_room_id_itself_is_read_too(sfu):
    async with Watch(sfu, [CallMember(ANNA, "OLD")]) as watch:
        anna = await watch.join(f"{ANNA}:OLD", room=watch.room_id)  # lk-jwt-service up to v0.3
        await anna.publish("camera")
        await watch.state(ANNA, Camera.ON, Microphone.NONE)


async def test_p5_participant_leaving_is_connection_lost(sfu):
    async with Watch(sfu, [CallMember(ANNA, "DEV1")]) as watch:
        anna = await watch.join(f"{ANNA}:DEV1")
        await anna.publish("camera")
        await anna.publish("microphone")
        await watch.state(ANNA, Camera.ON, Microphone.ON)
        await anna.disconnect()
        gone = await watch.state(ANNA, Camera.NONE, Microphone.NONE, connected=False)
        assert not gone.sound and not gone.picture


async def test_p3_unmappable_identity_makes_nobody_present(sfu):
    # Anna is in the call on DEV1; a participant claiming her on another device, and one named
    # for someone not in the call at all, are nobody: nothing is reported for them.
    async with Watch(sfu, [CallMember(ANNA, "DEV1")]) as watch:
        for identity in (f"{ANNA}:OTHER", "@mallory:localhost:M", "anna"):
            caller = await watch.join(identity)
            await caller.publish("camera")
            await caller.publish("microphone")
        for _ in range(50):  # the reads that find all three
            if watch.follow.unmapped == 3:
                break
            await asyncio.sleep(0.2)
        assert watch.follow.unmapped == 3
        await asyncio.sleep(1)  # several reads more
        assert watch.reports == [] and watch.follow.seen == {}


async def test_p5_members_call_membership_gone_makes_the_participant_nobody(sfu):
    async with Watch(sfu, [CallMember(ANNA, "DEV1")]) as watch:
        anna = await watch.join(f"{ANNA}:DEV1")
        await anna.publish("microphone")
        await watch.state(ANNA, Camera.NONE, Microphone.ON)
        watch.members = []  # her call membership left (or expired): the server's word proves nothing
        await watch.state(ANNA, Camera.NONE, Microphone.NONE, connected=False)


async def test_p3_wrong_key_is_media_unavailable_refused_and_stops_nothing(sfu):
    async with Watch(sfu, [CallMember(ANNA, "DEV1")], secret="fel-hemlighet-" + "x" * 32) as watch:
        down = await watch.until(lambda c: isinstance(c, Unavailable))
        assert down.reason == "refused" and down.until is None
        await asyncio.sleep(1)
        assert [c for c in watch.reports if isinstance(c, Unavailable)] == [down]  # said once
        assert not watch.task.done()


async def test_p3_server_gone_and_back_is_one_span_of_media_unavailable(sfu):
    async with Watch(sfu, [CallMember(ANNA, "DEV1")]) as watch:
        anna = await watch.join(f"{ANNA}:DEV1")
        await anna.publish("microphone")
        await watch.state(ANNA, Camera.NONE, Microphone.ON)
        sfu.stop()
        try:
            down = await watch.until(lambda c: isinstance(c, Unavailable))
            assert down.reason == "unreachable" and down.until is None
            assert watch.follow.down == down
            await asyncio.sleep(1)
            assert not watch.task.done()
        finally:
            sfu.start()
        back = await watch.until(lambda c: isinstance(c, Unavailable) and c.until is not None)
        assert back.since == down.since and back.until > down.since and watch.follow.down is None
        # The restarted server has no room: Anna's connection is gone until she joins again.
        await watch.state(ANNA, Camera.NONE, Microphone.NONE, connected=False)
