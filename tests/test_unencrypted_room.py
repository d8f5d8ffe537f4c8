"""A room that is not end-to-end encrypted (§ 2: nobody unauthorised may take part of documents,
picture or sound). Whether an item with personal data, secrecy (§ 7) or säkerhetsskydd (§ 8) is
handled is the chair's and the security chief's judgment, so the bot does not refuse; it warns,
and the protocol records where the permission was given."""

from __future__ import annotations

import json

from commands.text import Message
from testing.driver import CHAIR, SSC, VICE, Driver
from tests.test_shell import ROOM, opened

RECORDED = "Tillståndet gavs i ett rum som inte var end-to-end-krypterat (2 § arbetsordningen)."


def _unencrypted() -> Driver:
    d = Driver()
    d.room_encrypted = False
    return d.opened()


def test_p2_p7_tillat_in_an_unencrypted_room_warns_and_the_protocol_records_it():
    d = _unencrypted()
    (reply,) = d.ok(CHAIR, "!tillåt 2").replies
    assert reply.text.startswith("⚠ § 2: Rummet är inte end-to-end-krypterat.")
    assert "Ordföranden tillåter att ärende 2 med personuppgifter behandlas" in reply.text
    assert d.m.items[2].allowed_by == CHAIR  # the chair's judgment stands: allowed, not refused
    d.ok(CHAIR, "!ärende 2")
    assert RECORDED in d.protocol("md")
    assert RECORDED in json.dumps(json.loads(d.protocol("json")), ensure_ascii=False)


def test_p2_p8_godkann_in_an_unencrypted_room_warns_and_the_protocol_records_it():
    d = _unencrypted()
    (reply,) = d.ok(SSC, "!godkänn 3").replies
    assert reply.text.startswith("⚠ § 2:") and "Säkerhetsskyddschefen bedömer att ärende 3" in reply.text
    d.ok(CHAIR, "!ärende 3")
    assert (
        "Säkerhetsskyddschefen bedömde att ärendet kan behandlas på distans (8 § arbetsordningen). " + RECORDED
        in d.protocol()
    )


def test_p2_p7_an_unencrypted_room_gives_no_one_else_the_permission():
    # the warning is no way around §§ 7–8: who may give the permission is unchanged
    d = _unencrypted()
    assert str(d.refused(VICE, "!tillåt 2").rule) == "§ 7"
    assert str(d.refused(CHAIR, "!tillåt 3").rule) == "§ 8"
    assert d.m.items[2].allowed_by is None and d.m.items[3].approved_by is None


def test_p7_p8_in_an_encrypted_room_the_permission_has_no_warning():
    d = Driver().opened()
    assert d.ok(CHAIR, "!tillåt 2").replies[0].text.startswith("Ordföranden tillåter")
    assert d.ok(SSC, "!godkänn 3").replies[0].text.startswith("Säkerhetsskyddschefen bedömer")
    d.ok(CHAIR, "!ärende 2")
    assert "end-to-end" not in d.protocol()


async def test_p2_the_shell_gives_the_rules_the_rooms_encryption(config):
    from testing.driver import started

    bot = await started(config)
    try:
        body, now = await opened(bot)
        bot.loop.room_encrypted = lambda room_id: room_id != ROOM  # as the transport knows it
        await bot.handle(body, "$allow", Message("!tillåt 2"), "@anna:localhost", now)
        owed = await bot.store.unsent()
        (answer,) = [
            o for o in owed if o.content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == "$allow"
        ]
        assert answer.content["body"].startswith("⚠ § 2:")
        assert body.engine.meeting.items[2].allowed_by == "@anna:localhost"
    finally:
        await bot.store.close()
