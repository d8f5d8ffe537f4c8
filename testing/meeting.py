"""Steps of a whole meeting through a real Synapse, as the integration tests and the benchmarks
play them: a kallelse, an opened meeting, a passed check, the protocol read offline."""

from __future__ import annotations

from datetime import timedelta

from testing.actors import react, text_of
from testing.stage import Stage


def kalla(stage: Stage) -> str:
    """A kallelse to a meeting a few minutes from now on the stage's clock: never in the past when
    it is sent, and inside the 15 minutes before its start in which the chair may open it; items
    are taken up after `stage.until_called()`."""
    start = stage.kalla_for(timedelta(minutes=10))
    return (
        f"!kalla {start} distans\nMotivering: smittspridning i kommunen\n1. Budget 2027\n"
        "2. Anställning av förvaltningschef [personuppgifter]\n3. Skyddsobjekt [säkerhetsskydd]"
    )


MEMBERS = ("anna", "bo", "cecilia", "david", "eva")


def protocol_offline(stage: Stage, fmt: str = "json") -> str:
    return stage.cli("protokoll", "--format", fmt, check=True).stdout


async def open_meeting(stage: Stage, present=MEMBERS + ("erik", "frida", "sara", "tina")) -> None:
    assert (await stage.ask("anna", kalla(stage))).startswith("KALLELSE")
    assert "UPPROP" in await stage.ask("anna", "!öppna")
    for who in present:
        assert await stage.ask(who, "!närvarande") == "✅"
    await stage.until_called()


async def check_passes(stage: Stage, serving=MEMBERS) -> None:
    assert stage.observer
    start_id = await stage.say("anna", "!teknikkontroll")
    check_msg = await stage.observer.answer(start_id)
    assert "TEKNIKKONTROLL (§ 12)" in text_of(check_msg)
    assert set(check_msg["content"]["m.mentions"]["user_ids"]) == {stage[w].user_id for w in serving}
    # one answers with a ✅ reaction on the bot's check message, the others with !ok
    await react(stage[serving[0]], stage.room_id, check_msg["event_id"])
    for who in serving[1:]:
        assert await stage.ask(who, "!ok") == "✅"
    await stage.wait_for(lambda ev: "är godkänd" in text_of(ev) and ev.get("room_id") == stage.room_id)
