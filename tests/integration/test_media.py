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
from datetime import timedelta

import pytest
import pytest_asyncio

from media.identity import identities, room_names
from media.livekit import Follow, LiveKitServer
from shell.ports import CallMember, Camera, Microphone, Seen, Unavailable
from testing import livekit as lk
from testing.actors import call_membership, set_call, text_of
from testing.meeting import check_passes, protocol_offline
from testing.stage import Stage

KALLA = "!kalla {} distans\nMotivering: smittspridning i kommunen\n1. Budget 2027"

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

    async def state(
        self, user: str, camera: Camera, microphone: Microphone, connected: bool = True, timeout: float = 15
    ) -> Seen:
        return await self.until(
            lambda c: (
                isinstance(c, Seen)
                and (c.user, c.camera, c.microphone, c.connected) == (user, camera, microphone, connected)
            ),
            timeout,
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


async def test_p5_a_participant_cut_off_without_leaving_is_connection_lost_when_the_server_drops_it(sfu):
    """The server's API carries no connection quality (livekit/protocol: ConnectionQuality is
    only sent to participants over their signal connection). What stands for a lost connection
    is the server closing the participant once its transport has failed (livekit-server v1.13.5:
    ICE disconnected after 10 s, failed 5 s later, closed 5 s after that): it is then gone from
    the room, and the reader shows no connection."""
    async with Watch(sfu, [CallMember(ANNA, "DEV1")]) as watch:
        anna = await watch.join(f"{ANNA}:DEV1")
        await anna.publish("microphone")
        await watch.state(ANNA, Camera.NONE, Microphone.ON)
        await anna.kill()
        await watch.state(ANNA, Camera.NONE, Microphone.NONE, connected=False, timeout=45)  # here: 21 s


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


# --- a meeting through Synapse, the bot a process reading the real LiveKit server -------------------


@pytest_asyncio.fixture(loop_scope="session")
async def live_stage(tmp_path_factory):
    """A stage of its own on the real clock: LiveKit (a Go program, which libfaketime does not
    move) takes an API token only within a minute of its own clock, and the bot makes its tokens
    on the bot's clock, which the shared stage moves."""
    stage = await Stage.open(tmp_path_factory.mktemp("live"), movable_clock=False)
    yield stage
    await stage.close()


async def test_p3_p5_p12_the_bot_follows_camera_microphone_and_connection_through_a_meeting(sfu, live_stage):
    """Everything but the media through Synapse: commands, and the call memberships as Element
    Call writes them; the participants in LiveKit with the identities Element Call gives them
    (the legacy `@user:server:DEVICE`, and for Bo the hashed one of his membership's own id)."""
    stage = live_stage
    livekit = {"url": sfu.url, "api_key": sfu.api_key, "api_secret": sfu.api_secret}
    room = await stage.new_meeting_room(video="element-call", check_timeout=30, livekit=livekit)
    callers: list[lk.Caller] = []

    def since(mark: set[str]):
        return lambda ev: ev.get("event_id") not in mark and ev.get("sender") == "@distansbot:localhost"

    def mark() -> set[str]:
        assert stage.observer
        return {ev.get("event_id") for ev in stage.observer.events}

    async def told(before: set[str], text: str, timeout: float = 20) -> str:
        new = since(before)
        return text_of(await stage.wait_for(lambda ev: new(ev) and text in text_of(ev), timeout))

    async def until(who: str, command: str, wanted, timeout: float = 20) -> str:
        """The command's answer once it is what is wanted: the bot reads the server every second,
        and an answer before it has read what was done is refused and changes nothing."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not wanted(answer := await stage.ask(who, command)):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{who} {command}: {answer}")
            await asyncio.sleep(0.3)
        return answer

    async def shows(text: str) -> None:
        """Until !status shows this of the call, for serving members."""
        await until("sara", "!status", lambda status: text in status)

    async def join(who: str, identity: str | None = None, member_id: str | None = None) -> lk.Caller:
        device = f"{who.upper()}DEV"
        membership = call_membership(stage[who], device)
        if member_id is not None:  # a client that names its membership itself (step 1)
            membership["membershipID"] = member_id
        await set_call(stage[who], room, device, membership)
        caller = await lk.Caller(sfu, room_names(room)[0], identity or f"@{who}:localhost:{device}").connect()
        callers.append(caller)
        await caller.publish("camera")
        await caller.publish("microphone")
        return caller

    try:
        assert (await stage.ask("anna", KALLA.format(stage.kalla_for(timedelta(seconds=15))))).startswith("KALLELSE")
        assert "UPPROP" in await stage.ask("anna", "!öppna")
        # Erik's membership is on ERIKDEV, his participant on another device: it maps to nobody.
        # He joins first: a read that shows those after him has seen him too.
        await join("erik", identity="@erik:localhost:OTHER")
        people = {who: await join(who) for who in ("anna", "cecilia", "david", "eva")}
        people["david"].mute("camera")
        uuid = "0f5bd3a4-6a43-4c4e-9c1d-2b8f3c7e9a10"
        hashed = base64.b64encode(hashlib.sha256(f'["{BO}","BODEV","{uuid}"]'.encode()).digest()).decode()
        people["bo"] = await join("bo", identity=hashed.rstrip("="), member_id=uuid)
        await until("bo", "!närvarande", lambda answer: answer == "✅")

        # § 3: the camera off at the roll call is refused, and accepted once it is on
        refused = await until("david", "!närvarande", lambda answer: "kameran avstängd" in answer)
        assert refused.startswith("⛔ § 3") and "Samtalet visar för dig: kameran avstängd, mikrofonen på" in refused
        people["david"].mute("camera", False)
        await until("david", "!närvarande", lambda answer: answer == "✅")
        for who in ("anna", "cecilia", "eva"):
            assert await stage.ask(who, "!närvarande") == "✅"
        refused = await stage.ask("erik", "!närvarande")  # a participant that is nobody's
        assert refused.startswith("⛔ § 3") and "Samtalet visar för dig: ingen anslutning" in refused
        await shows("Bo Berg (M): kameran på, mikrofonen på; Cecilia Carlsson (S): kameran på, mikrofonen på")

        await stage.until_called()
        await stage.ask("anna", "!ärende 1")
        # § 5: a microphone muted by its owner is still sound: the check passes with it
        people["bo"].mute("microphone")
        await shows("Bo Berg (M): kameran på, mikrofonen tystad")
        await check_passes(stage)

        # §§ 5, 12: a camera turned off between the check and the decision spends the check and
        # blocks the decision
        before = mark()
        people["cecilia"].mute("camera")
        assert "teknikkontrollen gäller inte längre" in await told(before, "Cecilia Carlsson (S) har förlorat bilden")
        refused = await stage.ask("anna", "!beslut Bifall")
        assert refused.startswith("⛔ § 5") and "Cecilia Carlsson (S) (kameran avstängd sedan kl." in refused
        people["cecilia"].mute("camera", False)
        await shows("Cecilia Carlsson (S): kameran på, mikrofonen på")
        await check_passes(stage)

        # § 5: a microphone track unpublished is lost sound, and spends the check (§ 12)
        before = mark()
        await people["eva"].unpublish("microphone")
        assert "visar samtalet kameran på, ingen mikrofon för dig" in await told(before, "Eva Ek (V): från kl.")
        assert "teknikkontrollen gäller inte längre" in await told(before, "Eva Ek (V) har förlorat ljudet")
        assert (await stage.ask("eva", "!åter")).startswith("⛔ § 3")
        await people["eva"].publish("microphone")
        await shows("Eva Ek (V): kameran på, mikrofonen på")
        assert await stage.ask("eva", "!åter") == "✅"
        await check_passes(stage)
        assert not (await stage.ask("anna", "!beslut Bifall")).startswith("⛔")

        # the server stopped mid-meeting is noticed and said in the room, and its return too
        before = mark()
        sfu.stop()
        try:
            assert "(servern svarar inte)" in await told(before, "samtalets ljud och bild kan inte läsas")
        finally:
            sfu.start()
        await told(before, "Samtalets ljud och bild kan läsas igen")

        md = protocol_offline(stage, "md")
        for who in ("Anna Andersson (S)", "Bo Berg (M)", "David Dahl (C)"):  # each member at the roll call
            (line,) = [x for x in md.splitlines() if f"{who} anmälde närvaro" in x]
            assert line.endswith("Samtalet visade kameran på, mikrofonen på."), line
        assert "Vid kontrollen hade samtliga tjänstgörande ljud och rörlig bild enligt samtalet." in md
        assert "Vid beslutet hade samtliga tjänstgörande ljud och rörlig bild enligt samtalet." in md
        assert "Cecilia Carlsson (S) förlorade bilden (enligt samtalet: kameran avstängd, mikrofonen på;" in md
        assert "Cecilia Carlsson (S) har rörlig bild igen enligt samtalet" in md
        assert "Eva Ek (V) förlorade ljudet (enligt samtalet: kameran på, ingen mikrofon;" in md
        assert "Samtalets ljud och bild kunde läsas igen; boten hade godtagit intyganden från kl." in md
        assert "Erik Eriksson (S) anmälde närvaro" not in md

        # `bot.py check` reports the media server after the homeserver and the room (which it
        # faults here, as the test's room is not encrypted)
        checked = stage.cli("check")
        said = checked.stdout + checked.stderr
        assert f"LiveKit-servern {sfu.url}: svarar och godtar nyckeln {sfu.api_key}: OK" in said, said
    finally:
        for caller in callers:
            await caller.disconnect()
        if stage.bot:
            stage.bot.stop()
