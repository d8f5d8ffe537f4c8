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
from shell.ports import CallMember, Camera, Microphone, Seen, Unavailable
from testing import livekit as lk

pytestmark = pytest.mark.asyncio(loop_scope="session")

ANNA = "@anna:localhost"
BO = "@bo:localhost"


@pytest.fixture(scope="session")
def sfu(tmp_path_factory):
    """The LiveKit server, on loopback. Built into the cache when missing (./test.sh has begun
    building it in the background: these tests run last and wait for it). Without it they fail
    in CI, saying what is missing, and skip elsewhere."""
    try:
        program = lk.install()
    except lk.Missing as e:
        if os.environ.get("CI"):
            pytest.fail(str(e))
        pytest.skip(str(e))
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


async def test_check_reports_the_media_server_answering_refusing_the_key_and_not_answering(sfu, capsys):
    from media.livekit import report

    assert await report(sfu.url, sfu.api_key, sfu.api_secret) == 0
    assert "svarar och godtar nyckeln" in capsys.readouterr().out
    assert await report(sfu.url, sfu.api_key, "fel-" + "x" * 40) == 1
    assert "godtar inte nyckeln" in capsys.readouterr().out
    started = asyncio.get_running_loop().time()
    assert await report("http://127.0.0.1:9", sfu.api_key, sfu.api_secret, timeout=2) == 1
    assert "svarade inte" in capsys.readouterr().out and asyncio.get_running_loop().time() - started < 10


# --- the shell following the media server through a meeting (real LiveKit, real SQLite) ----------


async def _eventually(check, timeout: float = 15) -> None:
    for _ in range(int(timeout / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("inte inom tiden")


async def test_p3_p5_p12_the_bot_follows_camera_microphone_and_connection_through_a_meeting(sfu, tmp_path):
    from datetime import UTC, datetime, timedelta

    from commands.text import Message
    from config import BodyConfig, Config
    from matrix import content
    from minutes import protocol
    from shell import Shell
    from shell.ports import CallChanged, Device
    from storage import open_store
    from testing.stage import body_config

    room = "!mediaroom:localhost"
    config = Config.model_validate(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@distansbot:localhost", "password": "x"},
            "storage": {"database": str(tmp_path / "db.sqlite3"), "e2ee_store": str(tmp_path / "e2ee")},
            "livekit": {"url": sfu.url, "api_key": sfu.api_key, "api_secret": sfu.api_secret},
            "bodies": [BodyConfig(**body_config(room, video="element-call", check_timeout=60)).model_dump()],
        }
    )
    bot = Shell(config, await open_store(config.storage.database), content.encode)
    bot.media.server = LiveKitServer(sfu.url, sfu.api_key, sfu.api_secret)  # as bot.py gives it with [livekit]
    await bot.load()
    body = bot.bodies["ks"]
    body.room_id, bot.by_room[room] = room, body
    (follow,) = bot.media.follows()
    follow.interval = 0.2
    task = asyncio.create_task(follow.run())
    callers: list[lk.Caller] = []
    said = 0

    async def owed() -> list[str]:
        nonlocal said
        out = [o.content.get("body", "") for o in await bot.store.unsent() if o.kind == "m.room.message"]
        new, said = out[said:], len(out)
        return new

    async def say(who: str, text: str) -> list[str]:
        await bot.handle(body, f"${who}-{secrets.token_hex(4)}", Message(text), f"@{who}:localhost", datetime.now(UTC))
        return await owed()

    async def join(who: str, device: str, identity: str | None = None, camera: bool = True) -> lk.Caller:
        # The room's call membership as the transport hands it over (matrix/rtc.py reads Element Call's)
        at = datetime.now(UTC)
        devices = (Device(device, at + timedelta(hours=4)),)
        await bot.call_changed(
            CallChanged(room, f"$cm-{who}-{device}", f"_@{who}:localhost_{device}", f"@{who}:localhost", devices, at)
        )
        caller = await lk.Caller(sfu, room_names(room)[0], identity or f"@{who}:localhost:{device}").connect()
        callers.append(caller)
        if camera:
            await caller.publish("camera")
        await caller.publish("microphone")
        return caller

    def shown(who: str, camera: str, microphone: str = "on") -> bool:
        s = body.engine.meeting.shown.get(f"@{who}:localhost")
        return s is not None and (s.camera, s.microphone) == (camera, microphone)

    try:
        start = (datetime.now(UTC) + timedelta(seconds=70)).replace(second=0, microsecond=0)
        at = start.astimezone(body.engine.roster.tz).strftime("%Y-%m-%d %H:%M")
        await say("anna", f"!kalla {at} distans\nMotivering: smittspridning\n1. Budget")
        await say("anna", "!öppna")
        people = {who: await join(who, who.upper()) for who in ("anna", "bo", "cecilia", "david", "eva")}
        await _eventually(lambda: all(shown(w, "on") for w in people))

        # § 3: the camera off at the roll call is refused, and accepted once it is on
        people["david"].mute("camera")
        await _eventually(lambda: shown("david", "off"))
        (refused,) = await say("david", "!närvarande")
        assert refused.startswith("⛔ § 3") and "kameran avstängd" in refused
        people["david"].mute("camera", False)
        await _eventually(lambda: shown("david", "on"))
        for who in people:
            await say(who, "!närvarande")
        assert all(body.engine.meeting.here(f"@{w}:localhost") for w in people)

        # A participant that maps to nobody: Erik's membership is on ERIK, the participant on OTHER
        await join("erik", "ERIK", identity="@erik:localhost:OTHER")
        await asyncio.sleep(1)
        (refused,) = await say("erik", "!närvarande")
        assert refused.startswith("⛔ § 3") and "ingen anslutning" in refused

        await asyncio.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()))
        await say("anna", "!ärende 1")
        await say("anna", "!teknikkontroll")
        for who in people:
            await say(who, "!ok")
        assert body.engine.meeting.check.passed

        # § 5: a microphone muted by its owner is not lost sound
        people["bo"].mute("microphone")
        await _eventually(lambda: shown("bo", "on", "muted"))
        assert "@bo:localhost" not in body.engine.meeting.drops

        # §§ 5, 12: a camera turned off after the passed check spends it and blocks the decision
        people["cecilia"].mute("camera")
        await _eventually(lambda: "@cecilia:localhost" in body.engine.meeting.drops)
        told = await owed()
        assert any("gäller inte längre" in t for t in told)
        (refused,) = await say("anna", "!beslut Bifall")
        assert refused.startswith("⛔ § 5") and "kameran avstängd sedan kl." in refused
        people["cecilia"].mute("camera", False)
        await _eventually(lambda: "@cecilia:localhost" not in body.engine.meeting.drops)
        await say("anna", "!teknikkontroll")  # a new check, passed with everyone shown again
        for who in people:
            await say(who, "!ok")
        assert body.engine.meeting.check.passed and not body.engine.meeting.check.spent_by

        # a microphone track unpublished is lost sound: the person and the chair are told
        await people["eva"].unpublish("microphone")
        await _eventually(lambda: "ljud" in body.engine.meeting.drops.get("@eva:localhost", set()))
        spent = body.engine.meeting.check.spent_by  # § 12: the passed check no longer holds
        assert spent is not None and (spent.user, spent.kind) == ("@eva:localhost", "ljud")
        told = await owed()
        assert any(t.startswith("Eva Ek (V): från kl.") and "ingen mikrofon" in t for t in told)
        assert (await say("eva", "!åter"))[0].startswith("⛔ § 3")
        await people["eva"].publish("microphone")
        await _eventually(lambda: shown("eva", "on"))
        await say("eva", "!åter")

        # the server stopped mid-meeting is noticed and said, and its return too
        sfu.stop()
        try:
            await _eventually(lambda: body.engine.meeting.media_down is not None, timeout=20)
            assert any("kan inte läsas" in t for t in await owed())
        finally:
            sfu.start()
        await _eventually(lambda: body.engine.meeting.media_down is None, timeout=20)
        assert any("kan läsas igen" in t for t in await owed())
        md = protocol.render(
            body.engine.meeting.id, "ks", await bot.store.events(body.engine.meeting.id), body.engine.roster, "md"
        )
        assert "Samtalet visade kameran på, mikrofonen på" in md and "kunde läsas igen" in md
        assert "Vid kontrollen hade samtliga tjänstgörande ljud och rörlig bild enligt samtalet." in md
    finally:
        task.cancel()
        for caller in callers:
            await caller.disconnect()
        await bot.media.close()
        await bot.store.close()
