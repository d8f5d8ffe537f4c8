"""Hostile input that is not a command: what other people's clients write into the room and the
bot reads (call membership state, poll responses, edits, mentions). Any member may write them
with anything inside; none of it may raise, stop the sync or hold anything else up. A call
membership the bot cannot read is ignored and logged (contract, "Element Call"), and call
changes and messages are applied in the room's order."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nio import SyncResponse

from commands.text import Message
from config import BodyConfig, Config
from matrix import content as shapes
from matrix import rtc
from matrix.client import Transport
from media import identity
from media.record import Participant
from shell import calls
from shell.media import call_members
from shell.ports import Camera, Microphone
from testing.driver import KALLA, started
from testing.stage import body_config
from tests.test_schedule import STOCKHOLM_18

ROOM = "!room:localhost"
PRESENT = ("anna", "bo", "cecilia", "david", "eva")
T0 = int(STOCKHOLM_18.timestamp() * 1000)


def _entry(device: object, **more) -> dict:
    return {"application": "m.call", "call_id": "", "scope": "m.room", "device_id": device, **more}


# What the review found and what lies next to it: each stopped, or could stop, the bot.
UNREADABLE = {
    "expires 10**15": _entry("D", expires=10**15),
    "negative created_ts": _entry("D", created_ts=-(10**15), expires=1000),
    "created_ts -1": _entry("D", created_ts=-1, expires=1000),
    "negative expires": _entry("D", expires=-5),
    "expires_ts 10**20": _entry("D", expires_ts=10**20),
    "expires NaN": _entry("D", expires=math.nan),
    "expires infinite": _entry("D", expires=math.inf),
    "expires true": _entry("D", expires=True),
    "expires as text": _entry("D", expires="14400000"),
    "created_ts as object": _entry("D", created_ts={"ms": 1}, expires=1000),
    "device_id a number": _entry(42),
    "device_id a list": _entry(["D"]),
    "device_id empty": _entry(""),
    "device_id 100 000 characters": _entry("D" * 100_000),
    "device_id with a newline": _entry("D\nE"),
    "memberships an object": {"memberships": {"a": _entry("D")}},
    "memberships 10 000 long": {"memberships": [_entry(f"D{i}") for i in range(10_000)]},
    "a membership a list": {"memberships": [[_entry("D")]]},
    "memberships not a list, beside an entry": _entry("D") | {"memberships": "D"},
    "device_id nested": {"memberships": [_entry({"id": "D"})]},
    "membershipID a number": _entry("D", membershipID=7),
    "membershipID an object": _entry("D", membershipID={"id": "m"}),
    "membershipID empty": _entry("D", membershipID=""),
    "membershipID 100 000 characters": _entry("D", membershipID="m" * 100_000),
    "membershipID in a list entry a list": {"memberships": [_entry("D", membershipID=["m"])]},
}


def test_p3_every_unreadable_call_membership_is_refused_as_unreadable_never_raising_else():
    for why, content in UNREADABLE.items():
        with pytest.raises(rtc.Unreadable):
            rtc.devices("_@anna:ex.se_D", content, "@anna:ex.se", T0)
            pytest.fail(why)
    for key, sender in (("_@anna:ex.se_D", "@mallory:ex.se"), (["_@anna:ex.se_D"], "@anna:ex.se"), ("x", 7)):
        with pytest.raises(rtc.Unreadable):
            rtc.devices(key, _entry("D"), sender, T0)
    with pytest.raises(rtc.Unreadable):  # the event's own time out of range, with nothing else to count from
        rtc.devices("_@anna:ex.se_D", _entry("D", expires=1000), "@anna:ex.se", 10**16)
    with pytest.raises(rtc.Unreadable):
        rtc.devices("_@anna:ex.se_D", ["not", "an", "object"], "@anna:ex.se", T0)


JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.sampled_from(["m.call", "m.room", "DEV", "@anna:ex.se", ""]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "application",
                    "scope",
                    "device_id",
                    "expires",
                    "expires_ts",
                    "created_ts",
                    "memberships",
                    "membershipID",
                    "x",
                ]
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=12,
)
TIME = st.one_of(st.integers(min_value=-(10**20), max_value=10**20), st.floats(), st.booleans(), st.none())
ENTRY = st.fixed_dictionaries(
    {"application": st.sampled_from(["m.call", "m.other"]), "device_id": JSON},
    optional={"scope": JSON, "expires": TIME, "expires_ts": TIME, "created_ts": TIME, "membershipID": JSON},
)
CONTENT = st.one_of(JSON, ENTRY, st.lists(ENTRY, max_size=3).map(lambda e: {"memberships": e}))


@settings(max_examples=3000, deadline=None)
@given(content=CONTENT, origin=TIME, key=st.sampled_from(["_@anna:ex.se_D", "@anna:ex.se_D", "@anna:ex.se"]))
def test_p3_no_call_membership_content_makes_the_parser_raise_anything_but_unreadable(content, origin, key):
    try:
        found = rtc.devices(key, content, "@anna:ex.se", origin)
    except rtc.Unreadable:
        return
    now = rtc._at(T0)
    for d in found:  # what is taken is well formed: short text ids, times a clock can show
        assert isinstance(d.device, str) and 0 < len(d.device) <= rtc.MAX_ID
        assert d.member_id is None or (isinstance(d.member_id, str) and 0 < len(d.member_id) <= rtc.MAX_ID)
        assert d.expires is None or (isinstance(d.expires, datetime) and d.expires.year < 3001)
    calls.current({key: ("@anna:ex.se", found)}, "@anna:ex.se", now)


@settings(max_examples=3000, deadline=None)
@given(
    kind=st.sampled_from([*shapes.POLL_RESPONSES, "m.room.message"]),
    content=st.one_of(
        JSON,
        st.fixed_dictionaries(
            {
                "m.relates_to": st.one_of(JSON, st.fixed_dictionaries({"rel_type": JSON, "event_id": JSON})),
                "org.matrix.msc3381.poll.response": st.one_of(JSON, st.fixed_dictionaries({"answers": JSON})),
                "m.poll.response": st.one_of(JSON, st.fixed_dictionaries({"answers": JSON})),
                "m.mentions": st.one_of(JSON, st.fixed_dictionaries({"user_ids": JSON})),
                "m.new_content": JSON,
            }
        ),
    ),
)
def test_p2_no_poll_response_edit_or_mention_content_makes_its_reader_raise(kind, content):
    answer = shapes.poll_answer(kind, content)
    if answer is not None:  # the poll is an event id, the choice one of the three votes
        assert answer[0].startswith("$") and answer[1] in ("ja", "nej", "avstår")
    replaced = shapes.edit_of(content)
    assert replaced is None or replaced == "" or replaced.startswith("$")
    ids = shapes.mentioned(content)
    assert all(isinstance(u, str) and u.startswith("@") for u in ids) and len(ids) <= shapes.MAX_MENTIONS
    Message("!status", None, ids)


def test_p2_a_reply_or_edit_whose_relation_is_no_object_is_read_as_none():
    assert shapes.edit_of({"m.relates_to": "x", "m.new_content": 1}) == ""
    assert shapes.edit_of({"m.relates_to": {"rel_type": "m.replace", "event_id": {"$": 1}}}) == ""
    assert shapes.edit_of({"m.relates_to": ["m.replace"]}) is None
    assert shapes.mentioned({"m.mentions": {"user_ids": "@anna:ex.se"}}) == ()
    assert shapes.mentioned({"m.mentions": {"user_ids": ["@anna:ex.se", 7, None, ["@bo:ex.se"]]}}) == ("@anna:ex.se",)
    assert shapes.poll_answer("m.poll.response", {"m.relates_to": []}) is None
    ref = {"rel_type": "m.reference", "event_id": "$p"}
    assert (
        shapes.poll_answer("m.poll.response", {"m.relates_to": ref, "m.poll.response": {"answers": [["ja"]]}}) is None
    )
    assert shapes.poll_answer("m.poll.response", {"m.relates_to": {**ref, "event_id": 5}}) is None


# --- through the shell: nothing is held up --------------------------------------------------------


@pytest.fixture
def call_config(tmp_path):
    body = body_config(ROOM, check_timeout=60, video="element-call")
    return Config.model_validate(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@distansbot:localhost", "password": "x"},
            "storage": {"database": str(tmp_path / "db.sqlite3"), "e2ee_store": str(tmp_path / "e2ee")},
            "bodies": [BodyConfig(**body).model_dump()],
        }
    )


async def on_call_member(bot, room, event_id, state_key, content, sender, origin_ts_ms, at=None) -> None:
    """A call membership state event as the Matrix transport hands it to the shell."""
    change = rtc.change(room, event_id, state_key, content, sender, origin_ts_ms, at)
    if change is not None:
        await bot.call_changed(change)


def _membership(device: str = "DEV") -> dict:
    return _entry(device, expires=14_400_000)


async def _in_call_meeting(bot, now: datetime):
    body = bot.bodies["ks"]
    for who in PRESENT:
        await on_call_member(
            bot, ROOM, f"$join-{who}", f"_@{who}:localhost_DEV", _membership(), f"@{who}:localhost", T0, now
        )
    await bot.handle(body, "$kalla", Message(KALLA), "@anna:localhost", now)
    await bot.handle(body, "$open", Message("!öppna"), "@anna:localhost", now)
    for who in PRESENT:
        await bot.handle(body, f"$here-{who}", Message("!närvarande"), f"@{who}:localhost", now)
    return body


async def test_p3_a_hostile_call_membership_is_ignored_and_logged_and_the_bot_answers_after_it(call_config, caplog):
    bot = await started(call_config)
    now = STOCKHOLM_18 - timedelta(minutes=5)
    body = await _in_call_meeting(bot, now)
    with caplog.at_level(logging.WARNING, logger="distansbot"):
        for n, content in enumerate(UNREADABLE.values()):
            # David's own key: what he had stands (he is still in the call), nothing raises
            await on_call_member(bot, ROOM, f"$bad{n}", "_@david:localhost_DEV", content, "@david:localhost", T0, now)
    assert sum("ignoreras" in r.getMessage() for r in caplog.records) == len(UNREADABLE)
    assert max(len(r.getMessage()) for r in caplog.records) < 1000  # a 100 000-letter id is not logged whole
    assert "@david:localhost" in body.engine.meeting.in_call and "@david:localhost" not in body.engine.meeting.drops
    await bot.handle(body, "$status", Message("!status"), "@bo:localhost", now)
    answer = [o for o in await bot.store.unsent() if (o.content.get("m.relates_to") or {}).get("m.in_reply_to")]
    assert answer[-1].content["m.relates_to"]["m.in_reply_to"]["event_id"] == "$status"
    await bot.store.close()
    # a start reads the same state again: it starts, and the meeting is what it was
    again = await started(call_config)
    for who in ("anna", "bo", "cecilia", "eva"):  # the room's state as the start reads it
        await on_call_member(
            again, ROOM, f"$join-{who}", f"_@{who}:localhost_DEV", _membership(), f"@{who}:localhost", T0
        )
    await on_call_member(
        again, ROOM, "$bad0", "_@david:localhost_DEV", UNREADABLE["expires 10**15"], "@david:localhost", T0
    )
    body = again.bodies["ks"]
    await again.handle(body, "$status-again", Message("!status"), "@bo:localhost", now)
    m = body.engine.meeting
    assert m.here("@david:localhost") and "@david:localhost" in m.in_call  # the call stands as the log had it
    assert m.drops == {}
    await again.store.close()


async def test_p3_a_participant_named_by_the_membership_id_is_that_member_and_a_hostile_id_makes_nobody_present(
    call_config,
):
    """lk-jwt-service's newer identity is the hash of [user, device, member id]; the member id is
    the membership's `membershipID`. A hostile one (not a string, huge, empty) makes nobody
    present and raises nothing."""
    bot = await started(call_config)
    body = bot.bodies["ks"]
    origin = int(datetime.now(UTC).timestamp() * 1000)  # the reader takes the call as it is now
    uuid = "0f5bd3a4-6a43-4c4e-9c1d-2b8f3c7e9a10"
    anna = {**_membership(), "membershipID": uuid}
    await on_call_member(bot, ROOM, "$anna", "_@anna:localhost_DEV_m.call", anna, "@anna:localhost", origin)
    hashed = identity._hash(b'["@anna:localhost","DEV","%s"]' % uuid.encode())
    participant = Participant(hashed, True, Camera.ON, Microphone.ON)
    assert identity.people([participant], call_members(body)) == (
        {"@anna:localhost": (Camera.ON, Microphone.ON, True)},
        0,
    )
    # Bo's participant is named for a membership id his membership does not carry: a hostile
    # value is unreadable (his device is not in the call), an absent one is `user:device`.
    bo = Participant(identity._hash(b'["@bo:localhost","DEV","%s"]' % uuid.encode()), True, Camera.ON, Microphone.ON)
    for n, bad in enumerate((7, {"id": uuid}, [uuid], "", uuid * 10_000, None)):
        content = {**_membership(), "membershipID": bad} if bad is not None else _membership()
        await on_call_member(bot, ROOM, f"$bo{n}", "_@bo:localhost_DEV_m.call", content, "@bo:localhost", origin)
        assert identity.people([participant, bo], call_members(body))[1] == 1
    assert {m.user for m in call_members(body)} == {"@anna:localhost", "@bo:localhost"}  # absent: the default
    await bot.store.close()


# --- the room's order (contract, "Element Call") -------------------------------------------------------


class _Recorder:
    """The shell's side of the transport, recording what it is handed, in order."""

    def __init__(self) -> None:
        self.got: list[str] = []

    async def said(self, said):
        self.got.append(said.event_id)

    async def call_changed(self, change):
        self.got.append(change.event_id)

    async def answered(self, answered):
        self.got.append(answered.event_id)

    async def noted(self, note):
        self.got.append(note.event_id)


def _text(event_id: str, sender: str, body: str, ts: int) -> dict:
    return {
        "type": "m.room.message",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": ts,
        "content": {"msgtype": "m.text", "body": body},
    }


def _call_event(event_id: str, who: str, content: dict, ts: int) -> dict:
    return {
        "type": rtc.CALL_MEMBER,
        "event_id": event_id,
        "sender": f"@{who}:localhost",
        "state_key": f"_@{who}:localhost_DEV",
        "origin_server_ts": ts,
        "content": content,
    }


def _batch(timeline: list[dict], state: list[dict] = ()) -> SyncResponse:
    return SyncResponse.from_dict(
        {
            "next_batch": "s2",
            "rooms": {
                "join": {
                    ROOM: {
                        "timeline": {"events": timeline, "limited": False, "prev_batch": "s1"},
                        "state": {"events": list(state)},
                    }
                }
            },
        }
    )


async def _transport(config, bot) -> Transport:
    transport = Transport(config, bot.store)
    transport.rooms.add(ROOM)
    transport.reader.joined_at[ROOM] = 0
    return transport


async def test_p5_call_changes_and_messages_of_one_batch_are_applied_in_the_rooms_order(call_config):
    bot = await started(call_config)
    body = await _in_call_meeting(bot, STOCKHOLM_18 - timedelta(minutes=5))
    now = STOCKHOLM_18 + timedelta(minutes=1)
    for n, (sender, text) in enumerate([("anna", "!ärende 1"), ("anna", "!teknikkontroll")]):
        await bot.handle(body, f"$c{n}", Message(text), f"@{sender}:localhost", now)
    for who in PRESENT:
        await bot.handle(body, f"$ok-{who}", Message("!ok"), f"@{who}:localhost", now)
    assert body.engine.meeting.check.passed
    transport = await _transport(call_config, bot)
    ts = int(now.timestamp() * 1000) + 10_000
    # one batch: the chair's decision, then David leaves the call, then a state event seen earlier
    batch = _batch(
        [
            _text("$before", "@eva:localhost", "!status", ts),
            _text("$beslut", "@anna:localhost", "!beslut Bifall", ts + 1000),
            _call_event("$leave", "david", {}, ts + 2000),
            _text("$after", "@anna:localhost", "!status", ts + 3000),
        ],
        state=[_call_event("$gap", "cecilia", _membership("NEW"), ts - 5000)],
    )
    recorder = _Recorder()
    await transport.reader.on_sync(batch, recorder)
    assert recorder.got == ["$gap", "$before", "$beslut", "$leave", "$after"]
    await transport.reader.on_sync(batch, bot)
    m = body.engine.meeting
    assert [d.text for d in m.items[1].decisions] == ["Bifall"]  # taken before David left
    assert m.drops["@david:localhost"] == {"ljud", "bild"}  # and his leaving is recorded after it
    kinds = [e.kind for e in await bot.store.events(m.id)]
    assert kinds.index("decided") < kinds.index("dropped")
    await transport.close()
    await bot.store.close()


async def test_p2_events_no_one_can_read_are_skipped_and_the_rest_of_the_batch_is_answered(call_config):
    bot = await started(call_config)
    body = await _in_call_meeting(bot, STOCKHOLM_18 - timedelta(minutes=5))
    transport = await _transport(call_config, bot)
    ts = T0 + 1000
    weird = [
        {
            "type": "m.room.message",
            "event_id": "$a",
            "content": {"body": 5},
            "sender": "@bo:localhost",
            "origin_server_ts": ts,
        },
        {"type": "m.room.message", "event_id": "$b", "content": {"body": "!öppna", "msgtype": "m.text"}},
        {
            "type": "m.poll.response",
            "event_id": "$c",
            "content": [1],
            "sender": "@bo:localhost",
            "origin_server_ts": ts,
        },
        {
            "type": "m.room.message",
            "event_id": "$d",
            "sender": "@bo:localhost",
            "origin_server_ts": ts,
            "content": {"msgtype": "m.text", "body": "!status", "m.relates_to": "x", "m.mentions": [1]},
        },
        {**_call_event("$e", "david", [], ts), "state_key": 5},
        _call_event("$f", "david", {}, 10**30),  # a time no clock shows: ignored
        _text("$edit", "@bo:localhost", "* !status", ts)
        | {"content": {"msgtype": "m.text", "body": "* x", "m.new_content": {}, "m.relates_to": {"event_id": 7}}},
        _text("$status", "@eva:localhost", "!status", ts + 1000),
    ]
    await transport.reader.on_sync(_batch(weird), bot)
    answered = {
        (o.content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") for o in await bot.store.unsent()
    }
    assert {"$d", "$status"} <= answered and not answered & {"$a", "$b", "$c", "$edit"}
    assert "@david:localhost" in body.engine.meeting.in_call  # neither call event moved him
    await transport.close()
    await bot.store.close()
