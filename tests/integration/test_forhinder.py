"""Förhinder through Synapse: members and the secretary report it in the room, the bot calls in
the substitute whose turn it is with a mention, one declines and the next confirms, a withdrawal,
and at the upprop the confirmed substitute serves from the first item (KL 6 kap. 17 §)."""

from __future__ import annotations

import json

from minutes.layout import label
from testing.actors import text_of
from testing.meeting import check_passes, kalla, protocol_offline


async def test_kl_6_17_forhinder_call_in_decline_confirm_withdraw_and_serve_from_the_upprop(room):
    stage = room
    assert (await stage.ask("anna", kalla(stage))).startswith("KALLELSE")

    asked = await stage.say("eva", "!förhinder")
    call = await stage.observer.answer(asked)
    assert "Erik Eriksson (S): du kallas in att tjänstgöra för Eva Ek (V)" in text_of(call)
    assert call["content"]["m.mentions"]["user_ids"] == [stage["erik"].user_id]
    declined = await stage.ask("erik", "!förhinder")  # Erik cannot: the call passes to Frida
    assert "Frida Fors (M): du kallas in att tjänstgöra för Eva Ek (V)" in declined
    assert "tjänstgör för Eva Ek (V)" in await stage.ask("frida", "!tjänstgör")

    # the secretary reports for David, who phoned in; nobody is left to call in for him
    nobody = await stage.ask("sara", "!förhinder {}", "david")
    assert "Ingen ersättare finns kvar" in nobody
    # Cecilia reported förhinder but comes after all
    await stage.ask("cecilia", "!förhinder")
    assert "återtagit" in await stage.ask("cecilia", "!förhinder återta")
    status = await stage.ask("bo", "!status")
    assert "Förhinder: Eva Ek (V), David Dahl (C)" in status and "Frida Fors (M) tjänstgör för Eva Ek (V)" in status

    assert "UPPROP" in await stage.ask("anna", "!öppna")
    for who in ("anna", "bo", "cecilia", "sara"):
        assert await stage.ask(who, "!närvarande") == "✅"
    assert "tjänstgör för Eva Ek (V)" in await stage.ask("frida", "!närvarande")
    await stage.until_called()
    assert "Ärende 1" in await stage.ask("anna", "!ärende 1")  # four of five serve: a quorum
    await check_passes(stage, serving=("anna", "bo", "cecilia", "frida"))
    decision = await stage.ask("anna", "!beslut Bifall")
    assert "Frida Fors (M)" in decision
    doc = json.loads(protocol_offline(stage))
    absent = {label(x): x["förhinder"] for x in doc["frånvarande"]}  # both anmält förhinder
    assert absent["Eva Ek (V)"] and absent["David Dahl (C)"]
    frida = next(x for x in doc["beslutande"] if label(x) == "Frida Fors (M)")
    assert frida["roll"] == "ersättare" and [label(x) for x in frida["ersättare_för"]] == ["Eva Ek (V)"]
