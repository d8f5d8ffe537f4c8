"""The speakers' list through Synapse (§ 9): a debate with a reply, a streck, a hand raised and
lowered in the room's Element Call (an m.reaction 🖐️ on one's own call membership event, lowered
by redacting it, as Element Call does) and a name withdrawn; checked in the room and in the
protocol, where "I överläggningen deltar …" names who was given the floor."""

from __future__ import annotations

import json

from matrix import rtc
from minutes.layout import label
from testing.actors import call_membership, react, set_call, text_of
from tests.integration.test_call import PRESENT, call_room  # noqa: F401  (a fixture)
from tests.integration.test_meeting import open_meeting, protocol_offline


async def _floor(stage, text: str) -> dict:
    """The chair's !nästa and its answer."""
    return await stage.observer.answer(await stage.say("anna", text))


async def test_p9_a_debate_with_a_reply_a_streck_a_raised_hand_and_a_withdrawn_name(call_room):  # noqa: F811
    stage = call_room
    membership = {}
    for who in PRESENT:
        device = f"{who.upper()}DEV"
        membership[who] = await set_call(stage[who], stage.room_id, device, call_membership(stage[who], device))
    await open_meeting(stage, present=PRESENT)
    await stage.ask("anna", "!ärende 1")
    assert await stage.ask("bo", "!ordet") == "✅"
    # David raises his hand in the call: on the list, answered in reply to the hand
    hand = await react(stage["david"], stage.room_id, membership["david"], rtc.RAISED_HAND)
    assert text_of(await stage.observer.answer(hand)) == "David Dahl (C) står på talarlistan som nummer 2."
    # a hand on someone else's membership is no hand of hers: nothing changes
    await react(stage["eva"], stage.room_id, membership["cecilia"], rtc.RAISED_HAND)
    assert await stage.ask("eva", "!ordet") == "✅"
    assert await stage.ask("eva", "!ordet återta") == "✅"  # a name withdrawn
    status = await stage.ask("sara", "!status")
    assert "Talarlista: Bo Berg (M), David Dahl (C)\n" in status

    given = await _floor(stage, "!nästa")
    assert text_of(given) == "Bo Berg (M) har ordet (§ 9). Näst på tur: David Dahl (C)."
    assert given["content"]["m.mentions"]["user_ids"] == [stage["bo"].user_id]
    assert "begär replik på Bo Berg (M)" in await stage.ask("cecilia", "!replik")
    assert (await stage.ask("eva", "!replik")).startswith("⛔ § 9")  # one at a time
    given = await _floor(stage, "!nästa")
    assert text_of(given).startswith("Cecilia Carlsson (S) har ordet för en replik på Bo Berg (M)")
    assert (await stage.ask("bo", "!replik")).startswith("⛔ § 9")  # never a reply to a reply
    assert "Streck i debatten" in await stage.ask("anna", "!streck")
    refused = await stage.ask("eva", "!ordet")
    assert refused.startswith("⛔ § 9") and "!streck återta" in refused
    status = await stage.ask("sara", "!status")
    assert "Har ordet: Cecilia Carlsson (S) (replik på Bo Berg (M))" in status
    assert "Talarlista: David Dahl (C) (streck i debatten" in status

    # David lowers his hand: off the list (the room's order: before the !status after it)
    await stage["david"].client.room_redact(stage.room_id, hand)
    status = await stage.ask("sara", "!status")
    assert "Talarlista: ingen (streck i debatten" in status and "David Dahl" not in status.split("Har ordet")[1]
    assert "ingen har ordet nu" in text_of(await _floor(stage, "!nästa"))

    doc = json.loads(protocol_offline(stage))
    debate = [label(p) for p in doc["ärenden"][0]["i_överläggningen"]]
    assert debate == ["Bo Berg (M)", "Cecilia Carlsson (S)"]  # David and Eva asked, and never spoke
    md = protocol_offline(stage, "md")
    assert "I överläggningen deltar Bo Berg (M) och Cecilia Carlsson (S)." in md
    assert "David Dahl (C) begärde ordet (räckte upp handen i videosamtalet)." in md
    assert "David Dahl (C) tog ned handen i videosamtalet och ströks från talarlistan." in md
    assert "Eva Ek (V) ströks från talarlistan på egen begäran." in md
