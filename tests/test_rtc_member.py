"""Element Call's Matrix 2.0 call membership: sticky timeline events (MSC4354) of type
`org.matrix.msc4143.rtc.member`, as matrix-js-sdk's `StickyEventMembershipManager` writes them
(matrix/rtc.py names the sources). Who is in the call decides who may report present (§ 3) and
whose leaving is a drop (§ 5); any member may write these events, so each hostile one counts for
nobody, never for someone else, and nothing in one raises."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.text import Message
from matrix import rtc
from media import identity
from media.record import Participant
from shell.media import call_members
from shell.ports import CallMember, Camera, Device, Microphone
from testing.driver import KALLA, started
from tests import test_hostile_events as hostile
from tests.test_hostile_events import JSON, ROOM, _batch, _Recorder, _transport
from tests.test_schedule import STOCKHOLM_18

call_config = hostile.call_config  # the Element Call body without a homeserver

T0 = int(STOCKHOLM_18.timestamp() * 1000) - 600_000  # ten minutes before the meeting
HOUR = 3_600_000
ANNA = "@anna:localhost"
UUID = "5f3b2c1a-0d4e-4b6f-8a9c-7e1d2f3a4b5c"


def _content(who: str = ANNA, device: str = "DEV", member_id: str = UUID, **more) -> dict:
    """A membership as matrix-js-sdk's StickyEventMembershipManager sends it (makeMyMembership,
    with the sticky key it adds in clientSendMembership)."""
    return {
        "application": {"type": "m.call", "m.call.intent": "video"},
        "slot_id": "m.call#ROOM",
        "rtc_transports": [{"type": "livekit", "livekit_service_url": "https://lk.example"}],
        "member": {"device_id": device, "user_id": who, "id": member_id},
        "versions": [],
        "msc4354_sticky_key": member_id,
        **more,
    }


def _event(content: object, sender: str = ANNA, event_id: str = "$join", ts: int = T0, **more) -> dict:
    return {
        "type": rtc.STICKY_MEMBER,
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": ts,
        "content": content,
        "msc4354_sticky": {"duration_ms": HOUR},
        **more,
    }


def _key(sender: str, sticky_key: str = UUID) -> str:
    return json.dumps([sender, sticky_key])


# --- reading one event ------------------------------------------------------------------------------


def test_par_3_a_sticky_membership_is_its_senders_device_until_its_stickiness_ends():
    found = rtc.sticky_change(ROOM, _event(_content()), T0 + 2000, rtc._at(T0))
    assert found.key == _key(ANNA) and found.rank == (T0 + HOUR, "$join")
    assert found.change.owner == ANNA and found.change.event_id == "$join" and found.change.at == rtc._at(T0)
    assert found.change.devices == (Device("DEV", rtc._at(T0 + HOUR), UUID),)
    # the homeserver's remaining time counts from when the event came (js-sdk prefers it)
    ttl = rtc.sticky_change(ROOM, _event(_content(), unsigned={"msc4354_sticky_duration_ttl_ms": 5000}), T0, None)
    assert ttl.change.devices[0].expires == rtc._at(T0 + 5000)
    # no longer than an hour, and a time from the future counts from when the event came (MSC4354)
    long = rtc.sticky_change(ROOM, _event(_content(), msc4354_sticky={"duration_ms": 10 * HOUR}), T0, None)
    assert long.change.devices[0].expires == rtc._at(T0 + HOUR)
    future = rtc.sticky_change(ROOM, _event(_content(), ts=T0 + 10 * HOUR), T0, None)
    assert future.change.devices[0].expires == rtc._at(T0 + HOUR)
    # the stable sticky key (MSC4143) files it as well
    stable = {k: v for k, v in _content().items() if k != "msc4354_sticky_key"} | {"sticky_key": UUID}
    assert rtc.sticky_change(ROOM, _event(stable), T0, None).change.devices == found.change.devices


def test_par_3_the_identity_lk_jwt_service_gives_a_matrix_2_0_member_is_that_member():
    """`/get_token` names the participant by the unpadded base64 of SHA-256 of the JSON array
    [user, claimed device, member.id] (lk-jwt-service `LiveKitIdentityFor`; Element Call sends
    the membership's own `member.id`, a uuid per join)."""
    found = rtc.sticky_change(ROOM, _event(_content()), T0, None)
    members = [CallMember(found.change.owner, d.device, d.member_id) for d in found.change.devices]
    digest = hashlib.sha256(json.dumps([ANNA, "DEV", UUID], separators=(",", ":")).encode()).digest()
    hashed = base64.b64encode(digest).decode().rstrip("=")
    assert identity.directory(members)[hashed] == ANNA
    # a participant named for another join's id (a rejoin, or someone else's) is nobody
    other = base64.b64encode(hashlib.sha256(b'["@anna:localhost","DEV","other"]').digest()).decode().rstrip("=")
    assert identity.people([Participant(other, True, Camera.ON, Microphone.ON)], members) == ({}, 1)


def test_par_3_a_leave_holds_no_device_under_the_key():
    """Element Call leaves (also by the delayed event the server sends when the client vanishes)
    with the sticky key alone; MSC4143's text leaves with `member.membership` "leave"."""
    for content in (
        {"msc4354_sticky_key": UUID},
        {"sticky_key": UUID},
        {"slot_id": "m.call#ROOM", "member": {"id": UUID, "membership": "leave"}, "sticky_key": UUID},
    ):
        left = rtc.sticky_change(ROOM, _event(content, event_id="$leave"), T0, None)
        assert left.key == _key(ANNA) and left.change.devices == ()


def test_par_3_another_application_or_slot_is_not_the_rooms_call():
    for more in ({"slot_id": "m.call#OTHER"}, {"application": {"type": "io.example"}, "slot_id": "io.example#ROOM"}):
        assert rtc.sticky_change(ROOM, _event(_content(**more)), T0, None).change.devices == ()


def test_par_3_an_event_not_sticky_ended_or_without_a_key_files_nothing():
    """Not sticky, js-sdk reads no membership in it (MatrixRTCSessionManager: "Not sticky, not
    interested"); ended, it is as if never sent; without a sticky key there is nothing to file it
    under. Each leaves every key as it was."""
    content = _content()
    for event in (
        {k: v for k, v in _event(content).items() if k != "msc4354_sticky"},
        _event(content, msc4354_sticky={"duration_ms": 0}),
        _event(content, msc4354_sticky={"duration_ms": "3600000"}),
        _event(content, msc4354_sticky={"duration_ms": -1}),
        _event(content, msc4354_sticky=[HOUR]),
        _event(content, ts=T0 - HOUR - 1),  # its hour is over
        _event({k: v for k, v in content.items() if k != "msc4354_sticky_key"}),
        _event({**content, "msc4354_sticky_key": 7}),
        _event({**content, "msc4354_sticky_key": "k" * 100_000}),
        _event(content, sender=None),
        _event(content, sender="anna"),
        _event(content, event_id=None),
        _event(["not", "an", "object"]),
        "not an event",
    ):
        assert rtc.sticky_change(ROOM, event, T0, None) is None


UNREADABLE = {
    "someone else's user claimed": _content(who="@bo:localhost"),
    "user_id missing": _content() | {"member": {"device_id": "DEV", "id": UUID}},
    "member a list": _content() | {"member": [ANNA, "DEV", UUID]},
    "device_id a number": _content(device=7),
    "device_id empty": _content(device=""),
    "device_id 100 000 characters": _content(device="D" * 100_000),
    "device_id with a newline": _content(device="D\nE"),
    "member.id missing": _content() | {"member": {"device_id": "DEV", "user_id": ANNA}},
    "member.id an object": _content(member_id={"id": UUID}) | {"msc4354_sticky_key": UUID},
    "application missing": {k: v for k, v in _content().items() if k != "application"},
    "application.type with #": _content(application={"type": "m.call#x"}),
    "slot_id with two #": _content(slot_id="m.call#ROOM#x"),
    "slot_id of another application": _content(slot_id="io.example#ROOM"),
    "rtc_transports missing": {k: v for k, v in _content().items() if k != "rtc_transports"},
    "rtc_transports 10 000 entries": _content(rtc_transports=[{"type": "livekit"}] * 10_000),
    "a transport without type": _content(rtc_transports=[{"livekit_service_url": "x"}]),
    "versions not texts": _content(versions=[1]),
    "m.relates_to no reference": _content(**{"m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}),
    "m.relates_to null": _content(**{"m.relates_to": None}),
    "two different sticky keys": _content(sticky_key="other"),
    "the stable sticky key a number": _content(sticky_key=7),
}


def test_par_3_a_hostile_sticky_membership_is_ignored_and_the_call_stands(caplog):
    """Refused whole and logged, as the contract has it for any membership the bot cannot read:
    it files nothing, so it neither puts anyone in the call nor takes anyone out."""
    for why, content in UNREADABLE.items():
        with caplog.at_level(logging.WARNING, logger="distansbot"):
            assert rtc.sticky_change(ROOM, _event(content), T0, None) is None, why
        assert "räknas inte" in caplog.text, why
        caplog.clear()


FIELDS = ["application", "slot_id", "rtc_transports", "member", "versions", "msc4354_sticky_key", "sticky_key"]
FIELDS += ["m.relates_to"]


@settings(max_examples=300, deadline=None)
@given(
    changed=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=2),
    member=st.dictionaries(st.sampled_from(["user_id", "device_id", "id", "membership"]), JSON, max_size=2),
    dropped=st.sets(st.sampled_from(FIELDS), max_size=2),
    whole=st.one_of(st.none(), st.none(), st.none(), JSON),  # now and then not the membership at all
    times=st.fixed_dictionaries(
        {"duration": st.integers(1, 2 * HOUR), "ttl": st.integers(0, 2 * HOUR), "ts": st.integers(T0 - HOUR, T0 + HOUR)}
    ),
    bad_times=st.dictionaries(st.sampled_from(["duration", "ttl", "ts"]), JSON, max_size=1),
)
def test_par_3_no_sticky_membership_makes_its_reader_raise_or_take_anything_ill_formed(
    changed, member, dropped, whole, times, bad_times
):
    content = _content() | changed
    if isinstance(content.get("member"), dict):
        content["member"] = content["member"] | member
    content = whole if whole is not None else {k: v for k, v in content.items() if k not in dropped}
    times |= bad_times
    sticky, unsigned = {"duration_ms": times["duration"]}, {"msc4354_sticky_duration_ttl_ms": times["ttl"]}
    event = _event(content, ts=times["ts"], msc4354_sticky=sticky, unsigned=unsigned)
    found = rtc.sticky_change(ROOM, event, T0, None)
    if found is None:
        return
    assert found.change.owner == ANNA and json.loads(found.key)[0] == ANNA
    for d in found.change.devices:  # short text ids, counted no longer than an hour from now
        assert isinstance(d.device, str) and 0 < len(d.device) <= rtc.MAX_ID and d.device.isprintable()
        assert isinstance(d.member_id, str) and 0 < len(d.member_id) <= rtc.MAX_ID
        assert rtc._at(T0) < d.expires <= rtc._at(T0 + HOUR)


# --- the map, as the transport keeps it --------------------------------------------------------------


async def test_par_3_under_one_key_the_event_that_ends_last_counts_in_whatever_order_they_come(call_config):
    """MSC4354's ephemeral map: a renewal replaces the join; an older event arriving late (a
    backfilled page, another server's) changes nothing, nor does the same event twice; each
    key is its own (two joins of one device)."""
    bot = await started(call_config)
    transport = await _transport(call_config, bot)
    now = int(datetime.now(UTC).timestamp() * 1000)  # the reader counts stickiness from its clock
    join = _event(_content(), event_id="$join", ts=now - 60_000)
    renewal = _event(_content(), event_id="$renewal", ts=now - 1000)
    rejoin = _event(_content(member_id="second"), event_id="$rejoin", ts=now - 500)
    recorder = _Recorder()
    await transport.reader.on_sync(_batch([join, renewal, join, renewal, rejoin]), recorder)
    assert recorder.got == ["$join", "$renewal", "$rejoin"]
    late = _event({"msc4354_sticky_key": UUID}, event_id="$old-leave", ts=now - 30_000)
    await transport.reader.on_sync(_batch([late]), recorder)
    assert recorder.got[-1] == "$rejoin"  # ends before the renewal: it does not take Anna out
    await transport.close()
    await bot.store.close()


# --- through the shell ----------------------------------------------------------------------------


async def test_par_3_par_5_a_sticky_member_may_report_present_and_leaving_is_a_drop(call_config):
    """In the call by sticky memberships alone: each may report present (§ 3), the participant
    lk-jwt-service names for the membership is that member, and a leave is a drop (§ 5)."""
    bot = await started(call_config)
    body = bot.bodies["ks"]
    people = ("anna", "bo", "cecilia", "david", "eva")
    for who in people:
        event = _event(_content(f"@{who}:localhost", member_id=f"id-{who}"), f"@{who}:localhost", f"$j-{who}")
        await bot.call_changed(rtc.sticky_change(ROOM, event, T0, rtc._at(T0)).change)
    now = STOCKHOLM_18 - timedelta(minutes=5)
    await bot.handle(body, "$kalla", Message(KALLA), ANNA, now)
    await bot.handle(body, "$open", Message("!öppna"), ANNA, now)
    for who in people:
        await bot.handle(body, f"$here-{who}", Message("!närvarande"), f"@{who}:localhost", now)
    m = body.engine.meeting
    assert all(m.here(f"@{who}:localhost") for who in people) and set(m.in_call) >= {ANNA, "@eva:localhost"}
    hashed = identity._hash(json.dumps(["@eva:localhost", "DEV", "id-eva"], separators=(",", ":")).encode())
    assert identity.directory(call_members(body))[hashed] == "@eva:localhost"
    left = _event({"msc4354_sticky_key": "id-eva"}, "@eva:localhost", "$leave-eva", ts=T0 + 60_000)
    await bot.call_changed(rtc.sticky_change(ROOM, left, T0 + 60_000, rtc._at(T0 + 60_000)).change)
    assert "@eva:localhost" not in m.in_call and m.drops["@eva:localhost"] == {"ljud", "bild"}
    # a member's hostile event (Anna claiming Bo's membership) is ignored: both still in the call
    forged = _event(_content("@bo:localhost", member_id="id-bo"), ANNA, "$forged", ts=T0 + 61_000)
    assert rtc.sticky_change(ROOM, forged, T0 + 61_000, rtc._at(T0 + 61_000)) is None
    assert {ANNA, "@bo:localhost"} <= set(m.in_call) and "@bo:localhost" not in m.drops
    await bot.store.close()
