"""Crashes and outages: nothing the bot has seen is lost, nothing is applied or answered twice.

The demo meeting's whole command sequence is played against the bot while it is killed with
SIGKILL at many points (right after a command is sent, or a little later, while it handles it
or sends its answers), with commands sent while it is down (`testing.crash`). The final protocol
must equal the one the rules alone give for the same commands, times aside.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import signal

from shell import NOT_RECORDED
from testing.actors import text_of
from testing.crash import no_duplicate_answers, play_with_kills
from testing.meeting import check_passes, kalla, open_meeting, protocol_offline


async def test_sigkill_at_many_points_loses_and_doubles_nothing(stage):
    result = await play_with_kills(stage, random.Random(2026), every=7)
    assert result["kills"] >= 12
    assert result["lost"] == 0 and result["doubled"] == 0, result
    assert result["same_protocol"], result["difference"]


async def test_homeserver_outage_mid_meeting_loses_nothing(stage):
    await stage.new_meeting_room()
    assert stage.observer and stage.bot
    await open_meeting(stage)
    await stage.ask("anna", "!ärende 1")
    item_status = await stage.say("cecilia", "!status")
    stage.hs.stop()  # the answer may or may not have gone out: it must arrive after the outage
    await asyncio.sleep(8)
    stage.hs.start()
    answer = await stage.observer.answer(item_status, timeout=90)
    assert "Uppe: ärende 1" in text_of(answer)
    await check_passes(stage)
    assert (await stage.ask("anna", "!beslut Bifall", timeout=60)).startswith("BESLUT")
    assert stage.bot.running
    doc = json.loads(protocol_offline(stage))
    assert doc["ärenden"][0]["beslut"][0]["beslut"] == "Bifall"
    assert kalla(stage).split("\n")[1].split(": ")[1] == doc["motivering"]
    stage.bot.stop()


async def test_sigterm_finishes_sends_what_is_owed_and_exits_0_within_10_seconds(stage):
    await stage.new_meeting_room()
    assert stage.observer and stage.bot and stage.bot.proc
    await open_meeting(stage)
    sent = [await stage.say(who, "!status") for who in ("bo", "cecilia", "david")]
    started = asyncio.get_running_loop().time()
    stage.bot.proc.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(stage.bot.proc.wait, 20)
    assert code == 0 and asyncio.get_running_loop().time() - started < 10
    await stage.start_bot()  # what it had not read is read now; nothing is answered twice
    for event_id in sent:
        await stage.observer.answer(event_id, timeout=60)
    await asyncio.sleep(1)
    for event_id in sent:
        assert no_duplicate_answers(stage.observer.answers_to(event_id)), event_id
    stage.bot.stop()


async def test_started_while_the_homeserver_is_down_it_waits_says_so_once_and_then_answers(stage):
    await stage.new_meeting_room()
    assert stage.observer and stage.bot
    stage.bot.stop()
    stage.hs.stop()
    before = stage.bot.log.read_text(errors="replace").count("svarar inte")
    stage.bot.start()
    await asyncio.sleep(8)  # retried with backoff several times meanwhile
    assert stage.bot.running  # neither exits nor gives up
    said = stage.bot.log.read_text(errors="replace").count("svarar inte") - before
    assert said == 1, said  # one clear line, not a flood
    stage.hs.start()
    await open_meeting(stage)  # it logged in, joined and answers
    stage.bot.stop()


async def test_sighup_rereads_the_file_refuses_a_bad_one_and_keeps_the_running_meetings_roster(stage):
    await stage.new_meeting_room()
    assert stage.observer and stage.bot and stage.bot.proc and stage.config_path
    await open_meeting(stage)
    good = stage.config_path.read_text(encoding="utf-8")

    async def hup(text: str, said: str) -> None:
        before = stage.bot.log.read_text(errors="replace").count(said)
        stage.config_path.write_text(text, encoding="utf-8")
        stage.bot.proc.send_signal(signal.SIGHUP)
        for _ in range(100):
            if stage.bot.log.read_text(errors="replace").count(said) > before:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {said!r} in {stage.bot.log}")

    await hup(good.replace("[matrix]", "[matrix\n"), "lästes inte om")  # broken TOML: refused
    assert stage.bot.running
    assert "Eva Ek (V)" in await stage.ask("cecilia", "!status")
    # Mallory made a member in Eva's place: not in this meeting, which keeps the roster it had.
    swapped = good.replace('"@eva:localhost"', '"@mallory:localhost"')
    await hup(swapped, "den nya förteckningen gäller från nästa kallelse")
    assert "finns inte i Kommunstyrelsens förteckning" in await stage.ask("mallory", "!närvarande")
    status = await stage.ask("eva", "!status")
    assert "Eva Ek (V)" in status and "Mallory" not in status
    stage.bot.stop()


async def test_kl_6_35_a_full_disk_answers_not_recorded_changes_nothing_and_recovers_by_itself(stage):
    """The kernel refuses the bot every write to a file (RLIMIT_FSIZE lowered on the running
    process, as a full disk or a read-only file would): its database and nio's key store alike."""
    await stage.new_meeting_room()
    assert stage.observer and stage.bot and stage.bot.proc
    await open_meeting(stage)
    await stage.ask("anna", "!ärende 1")
    pid, limit = stage.bot.proc.pid, resource.prlimit(stage.bot.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, limit[1]))
    try:
        during = [await stage.say("bo", "!yrka Avslag"), await stage.say("cecilia", "!status")]
        for event_id in during:
            assert text_of(await stage.observer.answer(event_id, timeout=60)) == NOT_RECORDED
        assert stage.bot.running
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)
    # The fault has cleared: nothing of what was refused is in the meeting; a new command is.
    status = await stage.ask("cecilia", "!status", timeout=60)
    assert "Uppe: ärende 1" in status and "Yrkanden" not in status
    assert (await stage.ask("bo", "!yrka Avslag")).startswith("Yrkande 1 i ärende 1")
    assert "Yrkanden: 1) Bo Berg (M): Avslag" in await stage.ask("cecilia", "!status")
    stage.bot.stop()  # and restarted: what was refused stays refused, each answer came once
    await stage.start_bot()
    assert (await stage.ask("cecilia", "!status")).count("Avslag") == 1
    for event_id in during:
        assert no_duplicate_answers(stage.observer.answers_to(event_id)), event_id
    doc = json.loads(protocol_offline(stage))
    assert [y["yrkande"] for y in doc["ärenden"][0]["yrkanden"]] == ["Avslag"]
    stage.bot.stop()
