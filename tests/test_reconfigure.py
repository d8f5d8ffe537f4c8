"""A configuration reread while running (SIGHUP): a roster change is the next meeting's, never
the running one's, and never rewrites a protocol; a file that does not load changes nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import reread
from commands.text import Message
from config import Config
from matrix import content
from shell import Shell
from storage import open_store
from testing.driver import KALLA, started
from tests.test_shell import opened

NILS = {"user": "@nils:localhost", "name": "Nils Nyberg", "party": "L"}


def without_eva_with_nils(config: Config) -> Config:
    data = config.model_dump()
    body = data["bodies"][0]
    body["members"] = [p for p in body["members"] if p["user"] != "@eva:localhost"] + [NILS]
    return Config.model_validate(data)


async def answer_to(bot: Shell, source: str) -> str:
    texts = [
        o.content["body"]
        for o in await bot.store.unsent()
        if o.content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == source
    ]
    return texts[-1] if texts else "✅"


async def test_p2_a_roster_changed_mid_meeting_applies_from_the_next_kallelse_not_to_the_running_meeting(config):
    bot = await started(config)
    body, now = await opened(bot)
    before = await bot.protocol_text(None, "md")
    said = await bot.reconfigure(without_eva_with_nils(config))
    assert said == ["ks: den nya förteckningen gäller från nästa kallelse"]
    # The running meeting: the one added may not take part, the one removed still serves.
    await bot.handle(body, "$nils", Message("!närvarande"), "@nils:localhost", now)
    assert "finns inte i Kommunstyrelsens förteckning" in await answer_to(bot, "$nils")
    await bot.handle(body, "$eva", Message("!yrka Avslag"), "@eva:localhost", now)
    assert [x.text for x in body.engine.meeting.items[1].motions] == ["Avslag"]
    # A restart with the new file changes none of it: the meeting keeps the roster it was convened with.
    await bot.store.close()
    bot = Shell(without_eva_with_nils(config), await open_store(config.storage.database), content.encode)
    await bot.load()
    body = bot.bodies["ks"]
    body.room_id = "!room:localhost"
    assert "@eva:localhost" in {p.user for p in body.engine.roster.members}
    await bot.handle(body, "$nils2", Message("!närvarande"), "@nils:localhost", now)
    assert "finns inte i Kommunstyrelsens förteckning" in await answer_to(bot, "$nils2")
    first = body.engine.meeting.id
    # The protocol reads as it did (besides the motion made since): no name changed under it.
    after = await bot.protocol_text(first, "md")
    assert "Eva Ek" in after and "Nils Nyberg" not in after
    assert [line for line in before.splitlines() if "Eva" in line] == [
        line for line in after.splitlines() if "Eva" in line and "Avslag" not in line and "yrk" not in line
    ]
    # The next meeting is convened with the new roster.
    for n in (2, 3, 4):  # KL 6 kap. 35 §: every item taken up or struck before the close
        await bot.handle(body, f"$strike{n}", Message(f"!utgår {n}"), "@anna:localhost", now + timedelta(hours=1))
    await bot.handle(body, "$close", Message("!avsluta"), "@anna:localhost", now + timedelta(hours=1))
    later = KALLA.replace("2026-12-03", "2026-12-10")
    await bot.handle(body, "$kalla2", Message(later), "@anna:localhost", now + timedelta(hours=2))
    assert body.engine.meeting.id != first
    members = {p.user for p in body.engine.roster.members}
    assert "@nils:localhost" in members and "@eva:localhost" not in members
    assert "Nils Nyberg" in await bot.protocol_text(body.engine.meeting.id, "md")
    assert "Eva Ek" in await bot.protocol_text(first, "md")  # the first meeting's still has Eva
    await bot.store.close()


async def test_p2_a_reread_file_that_does_not_load_is_refused_and_the_old_configuration_kept(config, tmp_path, caplog):
    bot = await started(config)
    body, now = await opened(bot)
    path = tmp_path / "config.toml"
    path.write_text('[matrix]\nhomeserver = "http://x"\n[[bodies]]\nid = "ks"\n', encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="distansbot"):
        assert not await reread(str(path), bot)
    assert any("lästes inte om" in r.message and "bodies.0.name" in r.message for r in caplog.records)
    assert body.config == config.bodies[0] and body.engine.upcoming == body.engine.roster
    await bot.handle(body, "$status", Message("!status"), "@eva:localhost", now)
    assert "Uppe: ärende 1" in await answer_to(bot, "$status")
    await bot.store.close()


async def test_what_cannot_change_while_running_is_named_and_waits_for_a_restart(config):
    bot = await started(config)
    data = config.model_dump()
    data["timezone"] = "Europe/Helsinki"
    data["bodies"][0]["room"] = "!other:localhost"
    said = await bot.reconfigure(Config.model_validate(data))
    assert said == ["timezone ändras först vid omstart", "rummet för ks ändras först vid omstart"]
    assert bot.bodies["ks"].config.room == "!room:localhost"
    await bot.store.close()
