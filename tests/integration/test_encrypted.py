"""An end-to-end encrypted room, as Element makes private rooms: a meeting, the protocol file
(uploaded encrypted), a restart of the bot on the same device, `bot.py verify` reading the
encrypted anchor, and a message it cannot read."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import stat
import urllib.request
import uuid
from urllib.parse import quote

from testing.actors import Observer, Person, catch_up, connect, text_of
from testing.meeting import MEMBERS, check_passes, kalla, protocol_offline
from testing.stage import BOT_PASSWORD, PASSWORD


async def test_p1_p12_meeting_in_an_encrypted_room_survives_a_restart(stage):
    await stage.new_meeting_room(encrypted=True)
    try:
        assert stage.observer
        kalla_id = await stage.say("anna", kalla(stage))
        kallelse = await stage.observer.answer(kalla_id)
        assert kallelse["type"] == "m.room.message" and text_of(kallelse).startswith("KALLELSE")
        ics = await stage.wait_for(
            lambda ev: ev.get("content", {}).get("msgtype") == "m.file" and ev.get("room_id") == stage.room_id
        )
        assert "file" in ics["content"] and "url" not in ics["content"]  # an encrypted upload
        assert "UPPROP" in await stage.ask("anna", "!öppna")
        for who in MEMBERS:
            assert await stage.ask(who, "!närvarande") == "✅"
        await stage.until_called()
        # the room is end-to-end encrypted, as the bot knows from its state: no warning (§ 2)
        assert (await stage.ask("anna", "!tillåt 2")).startswith("Ordföranden tillåter att ärende 2")
        await stage.ask("anna", "!ärende 1")

        stage.bot.stop()
        await stage.start_bot()  # same device, keys from its store: it can still read and write

        await check_passes(stage)
        assert (await stage.ask("anna", "!beslut Budgeten fastställs.")).startswith("BESLUT i ärende 1")
        for n in (2, 3):  # KL 6 kap. 35 §: the items not taken up are struck before the close
            assert "utgår" in await stage.ask("anna", f"!utgår {n}")
        closing_id = await stage.say("anna", "!avsluta")
        protocol_file = await stage.wait_for(
            lambda ev: (
                ev.get("content", {}).get("msgtype") == "m.file"
                and (ev["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == closing_id
            )
        )
        assert protocol_file["content"]["file"]["url"].startswith("mxc://")
        doc = json.loads(protocol_offline(stage))
        assert doc["status"] == "avslutat" and doc["ärenden"][0]["beslut"][0]["beslut"] == "Budgeten fastställs."
        log = stage.bot.log.read_text()
        assert log.count("distansbot är igång") == 2 and len(set(_devices(log))) == 1

        # The close anchored the chain in the room, encrypted like everything else the bot says;
        # verify reads it with the bot's own keys, while the bot runs (KL 5 kap. 69 §).
        anchor = await stage.wait_for(lambda ev: "se.distansbot.anchor" in ev.get("content", {}))
        assert text_of(anchor).startswith("Förankring av protokollskedjan")
        verified = stage.cli("verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "stämmer med rummets 1 förankring" in verified.stdout
    finally:
        stage.bot.stop()


async def test_undecryptable_message_is_answered_not_ignored(stage):
    await stage.new_meeting_room(encrypted=True)
    try:
        bo = stage["bo"].client
        garbage = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": base64.b64encode(b"not a megolm message " * 8).decode(),
            "device_id": "NOSUCHDEVICE",
            "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
            "session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ",
        }
        event_id = await asyncio.to_thread(_raw_send, stage.hs.url, bo.access_token, stage.room_id, garbage)
        assert stage.observer
        answer = await stage.observer.answer(event_id)
        assert text_of(answer).startswith("⚠️ Jag kunde inte dekryptera ditt meddelande")
        assert "Kunde inte dekryptera" in stage.bot.log.read_text()
    finally:
        stage.bot.stop()


def _raw_send(url: str, token: str, room_id: str, content: dict) -> str:
    """An encrypted event the bot has no key for, sent past the client library."""
    path = f"{url}/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.encrypted/{uuid.uuid4()}"
    request = urllib.request.Request(
        path,
        data=json.dumps(content).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)["event_id"]


def _devices(log: str) -> list[str]:
    return [line.split("(enhet ")[1].rstrip(")") for line in log.splitlines() if "(enhet " in line]


async def test_check_reports_rooms_and_secrets_stay_out_of_logs(stage):
    await stage.new_meeting_room(encrypted=True)
    stage.bot.stop()
    assert stage.config_path
    stage.config_path.chmod(0o644)
    exposed = await asyncio.to_thread(stage.cli, "check")
    stage.config_path.chmod(0o600)
    assert exposed.returncode == 1, exposed.stdout + exposed.stderr  # a password anyone can read: fix it
    assert "VARNING: Konfigurationsfilen" in exposed.stdout and "kan läsas av alla" in exposed.stdout
    done = await asyncio.to_thread(stage.cli, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Inloggning som @distansbot:localhost: OK" in done.stdout
    assert "med i rummet, krypterat, behörighetsnivå 0, kan skriva och reagera" in done.stdout
    assert "VARNING" not in done.stdout  # the database and the key store the bot made are its own
    assert done.stdout.rstrip().endswith("Allt i ordning.")
    data = stage.config_path.parent
    assert stat.S_IMODE((data / "distansbot.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "e2ee").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in (data / "e2ee").rglob("*"))
    for output in (exposed.stdout, exposed.stderr, done.stdout, done.stderr, stage.bot.log.read_text()):
        assert BOT_PASSWORD not in output


async def test_p2_check_exits_non_zero_for_an_unencrypted_meeting_room_and_names_it(stage):
    await stage.new_meeting_room(encrypted=False)
    stage.bot.stop()
    done = await asyncio.to_thread(stage.cli, "check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Kommunstyrelsen ({stage.room_id}): med i rummet, INTE KRYPTERAT" in done.stdout
    assert "§ 2" in done.stdout


async def test_a_member_on_a_new_device_mid_meeting_can_read_the_bots_next_messages(stage):
    await stage.new_meeting_room(encrypted=True)
    laptop = Observer(await connect(stage.hs.url, Person("bo", "Bo Berg"), PASSWORD, stage.workdir / "keys" / "bo-2"))
    try:
        assert stage.observer
        assert (await stage.ask("anna", kalla(stage))).startswith("KALLELSE")
        assert "UPPROP" in await stage.ask("anna", "!öppna")
        await laptop.start()  # Bo logs in on a new device in the middle of the meeting
        await catch_up(laptop.person.client)
        await asyncio.sleep(2)  # the bot hears of the new device at its next sync
        status_id = await stage.say("cecilia", "!status")
        answer = await laptop.answer(status_id, timeout=30)  # only a decrypted reply relates to it
        assert answer["type"] == "m.room.message" and text_of(answer).startswith("Kommunstyrelsen")
    finally:
        await laptop.stop()
        if laptop.person.client:
            await laptop.person.client.close()
        stage.bot.stop()


async def test_the_bots_key_store_lost_stops_it_at_start_with_what_to_do(stage):
    await stage.new_meeting_room(encrypted=True)
    assert stage.bot and stage.config_path
    stage.bot.stop()
    store = stage.config_path.parent / "e2ee"
    shutil.rmtree(store)  # a disk restored without it, or the wrong directory configured
    stage.bot.start()
    code = await asyncio.to_thread(stage.bot.proc.wait, 60)
    log = stage.bot.log.read_text(errors="replace")
    assert code != 0 and "nyckellager" in log and "bot.py ny-enhet" in log, log[-2000:]
    # Following it: the bot logs in as a new device and is in the room again, readable.
    done = await asyncio.to_thread(stage.cli, "ny-enhet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "är utloggad" in done.stdout
    stage.bot.start()
    for _ in range(300):  # up on its new device, its keys uploaded
        if stage.bot.log.read_text(errors="replace").count("distansbot är igång") == 2:
            break
        await asyncio.sleep(0.1)
    assert (await stage.ask("anna", kalla(stage))).startswith("KALLELSE")
    devices = _devices(stage.bot.log.read_text(errors="replace"))
    assert len(set(devices)) == 2, devices
    stage.bot.stop()
