"""The shell over a real SQLite store, without Matrix: what is stored is what is in memory, a
fault is loud and changes nothing, and what is owed to the room fits a Matrix event."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest

from commands.text import Message
from matrix.content import MAX_CONTENT_BYTES, size
from shell import NOT_RECORDED, TOO_BIG
from shell.ports import Told
from shell.words import APPLIED_AFTER_ALL
from testing.driver import KALLA, started
from tests.test_schedule import STOCKHOLM_18

ROOT = Path(__file__).resolve().parent.parent
ROOM = "!room:localhost"
EVERYONE = ("anna", "bo", "cecilia", "david", "eva")


async def opened(bot, kalla: str = KALLA):
    body = bot.bodies["ks"]
    now = STOCKHOLM_18 - timedelta(minutes=5)
    await bot.handle(body, "$kalla", Message(kalla), "@anna:localhost", now)
    await bot.handle(body, "$open", Message("!öppna"), "@anna:localhost", now)
    for who in EVERYONE:
        await bot.handle(body, f"$here-{who}", Message("!närvarande"), f"@{who}:localhost", now)
    now = STOCKHOLM_18  # the time in the kallelse: items may be taken up (§ 1)
    await bot.handle(body, "$item", Message("!ärende 1"), "@anna:localhost", now)
    return body, now


async def test_kl_6_35_a_command_that_cannot_be_stored_is_refused_loudly_and_changes_nothing(config, caplog):
    bot = await started(config)
    body, now = await opened(bot)
    # The storage itself fails (as a full disk would): SQLite aborts the write of a motion.
    await bot.store.db.execute(
        "CREATE TRIGGER disk_full BEFORE INSERT ON events WHEN NEW.kind = 'motion' "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    with caplog.at_level(logging.ERROR, logger="distansbot"):
        await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
    assert any("kunde inte sparas" in r.message for r in caplog.records)
    assert body.engine.meeting.items[1].motions == []  # memory is not ahead of the log
    owed = [o for o in await bot.store.unsent() if o.content.get("body") == NOT_RECORDED]
    assert len(owed) == 1 and owed[0].content["m.relates_to"]["m.in_reply_to"]["event_id"] == "$motion"
    # The fault clears. "Not applied" was the answer, so the same event read again (sync after a
    # restart) is not applied behind the person's back; the command sent anew is, once.
    await bot.store.db.execute("DROP TRIGGER disk_full")
    await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
    assert body.engine.meeting.items[1].motions == []
    await bot.handle(body, "$motion-again", Message("!yrka Avslag"), "@bo:localhost", now)
    await bot.handle(body, "$motion-again", Message("!yrka Avslag"), "@bo:localhost", now)
    assert [x.text for x in body.engine.meeting.items[1].motions] == ["Avslag"]
    stored = await bot.store.events(body.engine.meeting.id)
    assert [e.kind for e in stored].count("motion") == 1
    await bot.store.close()


async def test_kl_6_35_a_locked_database_is_a_fault_not_a_command_already_handled(config, caplog):
    bot = await started(config)
    body, now = await opened(bot)
    other = await aiosqlite.connect(config.storage.database, timeout=0)
    await other.execute("BEGIN EXCLUSIVE")  # another process holds the file
    await bot.store.db.execute("PRAGMA busy_timeout = 0")
    with caplog.at_level(logging.ERROR, logger="distansbot"):
        await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
    # the store cannot even queue the answer: the person is told all the same, unstored
    assert [o.content["m.relates_to"]["m.in_reply_to"]["event_id"] for o in bot.unstored] == ["$motion"]
    sent = []

    class Transport:
        async def send(self, out, event_of_tag):
            sent.append(out)
            return f"$sent{len(sent)}"

    # the unstored answer goes first; storing its handled mark then meets the lock
    with pytest.raises(sqlite3.OperationalError):
        await bot.send_outbox(Transport())
    await other.rollback()
    await other.close()
    assert sent[0].content["body"] == NOT_RECORDED and bot.unstored == []
    assert body.engine.meeting.items[1].motions == []
    # Read again while its mark is still owed, the command is not applied behind the person's back.
    await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
    assert body.engine.meeting.items[1].motions == [] and "$motion" in bot.unmarked
    await bot.send_outbox(Transport())  # the store is back: the mark is stored, nothing is sent twice
    assert await bot.store.is_handled("$motion") and bot.unmarked == {}
    stored_ids = [o.id for o in sent if o.id]
    assert stored_ids and len(stored_ids) == len(set(stored_ids)) and await bot.store.unsent() == []
    assert any("kunde inte sparas" in r.message for r in caplog.records)
    await bot.handle(body, "$motion2", Message("!yrka Avslag"), "@bo:localhost", now)
    assert len(body.engine.meeting.items[1].motions) == 1
    await bot.store.close()


async def test_kl_6_35_a_protocol_larger_than_a_matrix_event_is_still_posted(config):
    bot = await started(config)
    agenda = "\n".join(
        f"{n}. Ärende nummer {n} med en lång rubrik om detaljplan och exploatering" for n in range(1, 61)
    )
    kalla = KALLA.split("\n1.")[0] + "\n" + agenda
    body, now = await opened(bot, kalla)
    for n in range(1, 61):
        now += timedelta(seconds=3)  # no faster than one person may go (commands_per_minute)
        if n > 1:
            await bot.handle(body, f"$i{n}", Message(f"!ärende {n}"), "@anna:localhost", now)
        for who in EVERYONE:
            text = f"!yrka Yrkande från {who} i ärende {n}: " + "bifall med tillägg om uppföljning " * 4
            await bot.handle(body, f"$y{n}{who}", Message(text), f"@{who}:localhost", now)
    await bot.handle(body, "$proto", Message("!protokoll"), "@anna:localhost", now)
    owed = await bot.store.unsent()
    message = next((o for o in owed if "Protokollet hittills" in o.content.get("body", "")), None)
    assert message, [o.content.get("body", "")[:200] for o in owed[-3:]]
    file = next(o for o in owed if o.kind == "file" and o.attachment_name.startswith("protokoll"))
    assert size(message.content) <= MAX_CONTENT_BYTES < len(file.attachment.encode())
    assert TOO_BIG in message.content["body"] and TOO_BIG in message.content["formatted_body"]
    assert "## § 60  Ärende nummer 60" in file.attachment  # the whole protocol is in the file
    # the file is a row of its own, so it is sent even if the homeserver refuses the message
    assert file.id > message.id and file.content["m.relates_to"]["m.in_reply_to"]["event_id"] == "$proto"
    await bot.store.close()


async def test_p12_a_check_ended_by_its_deadline_reacts_to_no_pseudo_event(config):
    bot = await started(config)
    body, now = await opened(bot)
    await bot.handle(body, "$check", Message("!teknikkontroll"), "@anna:localhost", now)
    deadline = body.engine.meeting.check.deadline
    await bot.on_timer("ks|check|1", now=deadline + timedelta(seconds=3))
    check = body.engine.meeting.check
    assert check.passed is False
    owed = await bot.store.unsent()
    reactions = [o.content["m.relates_to"]["event_id"] for o in owed if o.kind == "m.reaction"]
    assert reactions and all(event_id.startswith("$") for event_id in reactions)
    assert any("är inte godkänd" in o.content.get("body", "") for o in owed)
    # the check ended at its deadline, whenever the bot noticed: the stamp the engine gives everywhere
    ended = [e for e in await bot.store.events(body.engine.meeting.id) if e.kind == "check_ended"]
    assert ended[0].at == deadline
    await bot.store.close()


async def test_kl_6_35_an_answer_sent_while_its_sent_mark_cannot_be_stored_is_not_sent_again(config):
    bot = await started(config)
    await opened(bot)
    sent = []

    class Transport:
        async def send(self, out, event_of_tag):
            sent.append(out.id)
            return f"$sent{len(sent)}"

    await bot.store.db.execute(
        "CREATE TRIGGER disk_full BEFORE UPDATE ON outbox BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    owed = [o.id for o in await bot.store.unsent()]
    for _ in range(3):  # the outbox loop tries again and again while the fault lasts
        with pytest.raises(sqlite3.IntegrityError):
            await bot.send_outbox(Transport())
    assert sent == owed and set(bot.sent) == set(owed)
    await bot.store.db.execute("DROP TRIGGER disk_full")
    await bot.send_outbox(Transport())
    assert sent == owed and bot.sent == {} and await bot.store.unsent() == []
    assert await bot.store.tag_of("$sent1") is not None
    await bot.store.close()


async def test_kl_6_35_a_read_only_database_answers_not_recorded_and_recovers_when_writable(config):
    bot = await started(config)
    body, now = await opened(bot)
    await bot.store.db.execute("PRAGMA query_only = ON")  # SQLite refuses every write: a read-only file
    await bot.handle(body, "$motion", Message("!yrka Avslag"), "@bo:localhost", now)
    assert [o.content["body"] for o in bot.unstored] == [NOT_RECORDED] and "$motion" in bot.unmarked
    assert body.engine.meeting.items[1].motions == []
    sent = []

    class Transport:
        async def send(self, out, event_of_tag):
            sent.append(out)
            return f"$sent{len(sent)}"

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await bot.send_outbox(Transport())  # the answer goes out; its mark waits for the store
    assert sent[0].content["body"] == NOT_RECORDED
    await bot.store.db.execute("PRAGMA query_only = OFF")
    await bot.send_outbox(Transport())
    assert await bot.store.is_handled("$motion") and bot.unmarked == {}
    await bot.handle(body, "$motion2", Message("!yrka Avslag"), "@bo:localhost", now)
    assert [x.text for x in body.engine.meeting.items[1].motions] == ["Avslag"]
    await bot.store.close()


SECRET = "Norrfors"  # in the rubrik of a § 8 item, its kallelse's motivation, a motion and a decision


async def test_p7_p8_the_log_has_one_line_per_command_who_word_outcome_and_no_free_text(config, caplog):
    bot = await started(config)
    body = bot.bodies["ks"]
    before, later = STOCKHOLM_18 - timedelta(minutes=5), STOCKHOLM_18 + timedelta(minutes=1)
    kalla = KALLA.replace("smittspridning i kommunen", f"hot mot kraftverket {SECRET}").replace(
        "3. Skyddsobjekt [säkerhetsskydd]", f"3. Skyddsobjekt {SECRET} [säkerhetsskydd]"
    )
    said = [
        ("$kalla", kalla, "anna", before),
        ("$open", "!öppna", "anna", before),
        *[(f"$here-{who}", "!närvarande", who, before) for who in EVERYONE],
        ("$allow", "!godkänn 3", "sven", later),
        ("$item", "!ärende 3", "anna", later),
        ("$motion", f"!yrka {SECRET} stängs", "bo", later),
        ("$early", f"!beslut {SECRET} stängs", "anna", later),  # no technical check yet
        ("$outsider", f"!yrka {SECRET} öppnas", "mallory", later),  # not on the roster
        ("$unknown", f"!{SECRET}", "bo", later),  # what was typed is free text too
        ("$help", "!hjälp", "bo", later),
    ]
    try:
        with caplog.at_level(logging.INFO):
            for source, text, who, now in said:
                await bot.handle(body, source, Message(text), f"@{who}:localhost", now)
    finally:
        await bot.store.close()  # also when a command fails: an open store keeps pytest from exiting
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Kommando ")]
    assert len(lines) == len(said), lines
    assert "Kommando !kalla från @anna:localhost ($kalla): godtaget" in lines
    assert "Kommando !närvarande från @eva:localhost ($here-eva): godtaget" in lines
    assert "Kommando !godkänn 3 från @sven:localhost ($allow): godtaget" in lines
    assert "Kommando !ärende 3 från @anna:localhost ($item): godtaget" in lines
    assert "Kommando !yrka från @bo:localhost ($motion): godtaget" in lines
    assert "Kommando !beslut från @anna:localhost ($early): avvisat (§ 12)" in lines
    assert any(x.startswith("Kommando !yrka från @mallory:localhost ($outsider): avvisat (") for x in lines)
    assert "Kommando !? från @bo:localhost ($unknown): okänt kommando" in lines
    assert "Kommando !hjälp från @bo:localhost ($help): godtaget" in lines
    assert body.engine.meeting.items[3].motions  # the motion was taken: the log just does not say it
    leaked = [r.getMessage() for r in caplog.records if SECRET in r.getMessage() or "stängs" in r.getMessage()]
    assert leaked == []


async def test_libraries_stay_quiet_a_pdf_protocol_logs_no_font_subsetting(tmp_path):
    from config import load_config
    from testing.actors import write_config
    from testing.stage import body_config

    path = write_config(tmp_path / "config.toml", "http://127.0.0.1:1", "x", tmp_path, [body_config(ROOM)])
    bot = await started(load_config(path))
    await opened(bot)
    await bot.store.close()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(ROOT / "bot.py"), "protokoll", "--config", str(path), "--format", "pdf"],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith(b"%PDF"), done.stderr.decode()
    # fontTools says INFO for every glyph table it subsets: 272 of 321 lines of one meeting's log
    assert done.stderr.decode() == ""


async def test_kl_6_35_a_not_recorded_answer_read_back_from_the_room_keeps_its_command_from_ever_being_applied(config):
    """What the room shows the bot told (`Told`, read back at a start): its "not recorded" answer
    to a command the store never heard of marks that command handled, unapplied; any other reply
    of the bot's changes nothing; and one to a command the store shows applied after all (its
    commit's answer lost) is corrected in the room, once however often it is read back."""
    bot = await started(config)
    body, now = await opened(bot)
    room = body.room_id
    await bot.send_outbox(Room())
    await bot.told(Told(room, "$avslag", NOT_RECORDED, now))
    await bot.told(Told(room, "$bifall", "Yrkande 1 i ärende 1 av Bo (S): Bifall", now))  # not that answer
    await bot.told(Told("!another:localhost", "$återremiss", NOT_RECORDED, now))  # not a body's room
    for _ in range(2):  # read back at two starts
        await bot.told(Told(room, "$item", NOT_RECORDED, now))  # applied: it stays applied, and is corrected
    assert await bot.store.is_handled("$avslag") and not await bot.store.is_handled("$bifall")
    assert not await bot.store.is_handled("$återremiss")
    assert [(reply_of(o), o.content["body"]) for o in await bot.store.unsent()] == [("$item", APPLIED_AFTER_ALL)]
    for source, text in [("$avslag", "Avslag"), ("$bifall", "Bifall"), ("$återremiss", "Återremiss")]:
        await bot.handle(body, source, Message(f"!yrka {text}"), "@bo:localhost", now)
    assert [m.text for m in body.engine.meeting.items[1].motions] == ["Bifall", "Återremiss"]
    await bot.store.close()


def reply_of(out) -> str:
    return out.content["m.relates_to"]["m.in_reply_to"]["event_id"]


class Room:
    """What the shell sends, kept (a transport without a homeserver)."""

    def __init__(self) -> None:
        self.sent: list = []

    async def send(self, out, event_of_tag) -> str:
        self.sent.append(out)
        return f"$sent{len(self.sent)}"
