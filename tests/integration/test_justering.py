"""The protocol taken to justering and anslag through Synapse: justerare chosen in the room, a
paragraph justerad at once with its extract posted, the close, a rättelse, the signatures, the
anslag, the PDF/A downloaded from the room and read back, and `bot.py verify` passing and then
failing after a decision is changed by hand in the database; and `bot.py verify` holding the
database against the anchors the bot posted in the room, so that a cut tail, a deleted meeting
and a rewrite with the chain recomputed show (KL 5 kap. 69 §, 8 kap. 12 §)."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

from pypdf import PdfReader

from matrix.content import ANCHOR
from minutes.layout import label
from rules.words import short_fingerprint
from storage import chain
from testing.actors import text_of
from testing.meeting import MEMBERS, check_passes, open_meeting, protocol_offline


async def _pdf_answering(stage, event_id: str) -> tuple[str, PdfReader]:
    """The PDF the bot attached in reply to a command, downloaded from the homeserver."""
    ev = await stage.wait_for(
        lambda ev: (
            ev.get("content", {}).get("msgtype") == "m.file"
            and (ev["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == event_id
        )
    )
    content = ev["content"]
    assert content["info"]["mimetype"] == "application/pdf"
    got = await stage.observer.person.client.download(mxc=content["url"])
    return content["filename"], PdfReader(io.BytesIO(got.body))


def _text(reader: PdfReader) -> str:
    return "".join(page.extract_text() for page in reader.pages)


async def test_kl_5_69_kl_8_12_justering_omedelbar_rattelse_anslag_pdf_and_verify(room):
    stage = room
    await open_meeting(stage)
    assert "Utses att justera protokollet: Bo Berg (M)" in await stage.ask("anna", "!justerare {}", "bo")
    assert "(§ 1)" in await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    await stage.ask("anna", "!beslut Budgeten för 2027 fastställs.")

    # § 1 is justerad at once: the chair asks, the justerare signs, the extract is posted
    first = await stage.ask("anna", "!justera omedelbart")
    assert "Återstår att signera: Bo Berg (M)" in first
    signing = await stage.say("bo", "!justera omedelbart")
    assert "omedelbart justerad" in text_of(await stage.observer.answer(signing))
    name, extract = await _pdf_answering(stage, signing)
    assert name.endswith(".pdf") and "Protokollsutdrag" in _text(extract)
    assert "Budgeten för 2027 fastställs." in _text(extract)
    # KL 8 kap. 12 §: the paragraph's own anslag, posted with the extract
    own = await stage.wait_for(lambda ev: "Paragrafer: § 1 (omedelbart justerad)" in text_of(ev))
    assert text_of(own).startswith("ANSLAG – BEVIS OM JUSTERING") and "ännu inte uppsatt" in text_of(own)
    assert "Anslaget är uppsatt" in await stage.ask("sara", "!anslag § 1")

    assert "Ordföranden tillåter" in await stage.ask("anna", "!tillåt 2")
    assert "(§ 2)" in await stage.ask("anna", "!ärende 2")
    await check_passes(stage)
    await stage.ask("anna", "!beslut Sara Svensson anställs.")
    assert "utgår" in await stage.ask("anna", "!utgår 3 Ärendet är inte berett")
    assert "Sammanträdet är avslutat" in await stage.ask("anna", "!avsluta")

    refused = await stage.ask("anna", "!rättelse 2 Sara Svensson anställs från 2027-01-01.")
    assert refused.startswith("⛔ KL 5 kap. 69 §")  # the secretary corrects, not the chair
    corrected = await stage.ask("sara", "!rättelse 2 Sara Svensson anställs från 2027-01-01.")
    assert "är rättat av Sara" in corrected

    fingerprint = json.loads(protocol_offline(stage))["fingeravtryck"]
    closing = await _anchored(stage)
    signed = await stage.ask("anna", f"!justera {fingerprint[:16]}")  # the version the rättelse showed
    assert short_fingerprint(fingerprint) in signed and "Återstår att signera: Bo Berg (M)" in signed
    last = await stage.say("bo", "!justera")
    answer = text_of(await stage.observer.answer(last))
    assert "PROTOKOLLET ÄR JUSTERAT" in answer and short_fingerprint(fingerprint) in answer
    anslag = await stage.wait_for(lambda ev: "Paragrafer: § 2\n" in text_of(ev))
    assert text_of(anslag).startswith("ANSLAG – BEVIS OM JUSTERING")
    assert "Förvaringsplats för protokollet: Kommunkansliet" in text_of(anslag)
    assert "ännu inte uppsatt på kommunens anslagstavla" in text_of(anslag)

    # KL 8 kap. 12 §, 13 kap. 5 §: the secretary records the day it was put up; the appeal runs from it
    assert (await stage.ask("anna", "!anslag")).startswith("⛔ KL 8 kap. 12 §")
    put_up = await stage.ask("sara", "!anslag")
    assert "Anslaget är uppsatt" in put_up and "Sista dag att överklaga (KL 13 kap. 5 §), och sista dag" in put_up

    name, pdf = await _pdf_answering(stage, last)
    assert name.endswith(".pdf")
    text = "".join(_text(pdf).split())
    for expected in ("Protokoll", "Kommunstyrelsenbeslutar", "SaraSvenssonanställsfrån2027-01-01.", "ANSLAG"):
        assert expected in text, expected
    assert fingerprint in text
    assert "<pdfaid:part>2</pdfaid:part>" in pdf.xmp_metadata.stream.get_data().decode()

    log = stage.bot.log.read_text()
    assert "fontTools" not in log  # two PDFs made, and not one line of their fonts' subsetting
    assert re.search(r"Kommando !rättelse 2 från @anna:localhost \(\$\S+\): avvisat \(KL 5 kap\. 69 §\)", log)
    assert re.search(r"Kommando !justera från @bo:localhost \(\$\S+\): godtaget", log)
    assert "Sara Svensson" not in log  # the decision in the item with personal data (§ 7)

    doc = json.loads(protocol_offline(stage))
    assert doc["justering"] and doc["paragrafer"] == [1, 2] and [label(p) for p in doc["justerare"]] == ["Bo Berg (M)"]
    assert any(line.startswith("Datum då anslaget sattes upp på kommunens anslagstavla") for line in doc["anslag"])
    assert any(line.startswith("Datum då anslaget sattes upp") for line in doc["ärenden"][0]["anslag"])
    assert [s["roll"] for s in doc["underskrifter"] if s["signerat"]] == ["Ordförande", "Justerare"]
    assert all(s["händelse"].startswith("$") for s in doc["underskrifter"] if s["signerat"])

    await _anchored(stage, after=closing)
    ok = stage.cli("verify")  # the anslag is recorded after the justering: not part of what was signed
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "kedjan är hel" in ok.stdout and fingerprint in ok.stdout
    assert "OK ks: organets kedja" in ok.stdout and "3 förankringar" in ok.stdout  # § 1, the close, the justering

    # someone changes the stored decision by hand: verify names it and fails
    stage.bot.stop()
    db = sqlite3.connect(stage.config_path.parent / "distansbot.sqlite3")
    with db:
        changed = db.execute(
            "UPDATE events SET data = json_set(data, '$.text', 'Budgeten avslås.') "
            "WHERE kind = 'decided' AND json_extract(data, '$.text') = 'Budgeten för 2027 fastställs.'"
        )
        assert changed.rowcount == 1
    db.close()
    tampered = stage.cli("verify")
    assert tampered.returncode == 1
    assert "(decided)" in tampered.stdout and "ändrat i efterhand" in tampered.stdout


async def _anchored(stage, after: int = 0) -> int:
    """The length of the first anchor the bot posted in the room beyond `after` events."""
    ev = await stage.wait_for(lambda ev: (ev.get("content", {}).get(ANCHOR) or {}).get("händelser", 0) > after)
    assert text_of(ev).startswith("Förankring av protokollskedjan för Kommunstyrelsen")
    return ev["content"][ANCHOR]["händelser"]


async def _justerat(stage, anchored: int) -> int:
    """A meeting held, closed and justerat in the room; the length of its last anchor."""
    await open_meeting(stage, present=MEMBERS)
    await stage.ask("anna", "!justerare {}", "bo")
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    await stage.ask("anna", "!beslut Budgeten för 2027 fastställs.")
    for n in (2, 3):
        await stage.ask("anna", f"!utgår {n} inte berett")
    assert "Sammanträdet är avslutat" in await stage.ask("anna", "!avsluta")
    anchored = await _anchored(stage, after=anchored)
    await stage.ask("anna", "!justera")
    last = await stage.say("bo", "!justera")
    assert "PROTOKOLLET ÄR JUSTERAT" in text_of(await stage.observer.answer(last))
    return await _anchored(stage, after=anchored)


def _rechain(db: sqlite3.Connection) -> None:
    """As one with the database in hand would: every link and position recomputed."""
    rows = db.execute("SELECT meeting_id, seq, kind, at, actor, source, data FROM events ORDER BY pos").fetchall()
    head = ""
    for pos, row in enumerate(rows):
        head = chain(head, *row)
        db.execute("UPDATE events SET pos = ?, link = ? WHERE meeting_id = ? AND seq = ?", (pos, head, *row[:2]))


def _restore(saved: Path, path: Path) -> None:
    src, dst = sqlite3.connect(saved), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()


async def test_kl_5_69_verify_finds_a_cut_tail_a_deleted_meeting_and_a_rewrite_against_the_rooms_anchors(room):
    stage = room
    anchored = await _justerat(stage, 0)
    await _justerat(stage, anchored)
    ok = stage.cli("verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK ks: organets kedja" in ok.stdout and "4 förankringar" in ok.stdout

    stage.bot.stop()
    path = stage.config_path.parent / "distansbot.sqlite3"
    saved = stage.config_path.parent / "saved.sqlite3"
    _restore(path, saved)
    db = sqlite3.connect(path)
    first, second = (row[0] for row in db.execute("SELECT id FROM meetings ORDER BY rowid"))
    db.close()

    # The signatures cut off the end: the database is whole as far as it goes, the room has more.
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events WHERE meeting_id = ? AND kind IN ('signed', 'justerad')", (second,))
    cut = stage.cli("verify")
    assert cut.returncode == 1, cut.stdout
    assert f"OK {second}" in cut.stdout and "databasen har bara" in cut.stdout

    # The earlier meeting deleted whole and the chain recomputed: only the room can tell.
    _restore(saved, path)
    with sqlite3.connect(path) as db:
        for table in ("events", "snapshots", "meetings"):
            db.execute(f"DELETE FROM {table} WHERE {'id' if table == 'meetings' else 'meeting_id'} = ?", (first,))
        _rechain(db)
    deleted = stage.cli("verify")
    assert deleted.returncode == 1, deleted.stdout
    assert f"OK {second}" in deleted.stdout and "den har skrivits om i efterhand" in deleted.stdout

    # A justerat decision rewritten, with the chain recomputed.
    _restore(saved, path)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE events SET data = json_set(data, '$.text', 'Budgeten avslås.') "
            "WHERE meeting_id = ? AND kind = 'decided'",
            (first,),
        )
        _rechain(db)
    rewritten = stage.cli("verify")
    assert rewritten.returncode == 1, rewritten.stdout
    assert "ändrats efter justeringen" in rewritten.stdout and "den har skrivits om i efterhand" in rewritten.stdout

    # The homeserver out of reach: verify says it checked the database alone.
    _restore(saved, path)
    config = stage.config_path.read_text()
    stage.config_path.write_text(config.replace(stage.hs.url, "http://127.0.0.1:9"))
    try:
        alone = stage.cli("verify")
    finally:
        stage.config_path.write_text(config)
    assert alone.returncode == 1, alone.stdout
    assert f"OK {first}" in alone.stdout and "Endast databasen är kontrollerad" in alone.stdout

    # Without the bot's own login (a copy of the database elsewhere), verify logs in on a device
    # of its own, as `check` does, and reads the same anchors.
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM settings WHERE key = 'session'")
    fresh = stage.cli("verify")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "4 förankringar" in fresh.stdout


async def test_kl_5_69_a_vice_chair_presiding_at_the_close_does_not_justera_alone(room):
    """Bo, vice chair and the justerare, presides after Anna leaves and closes: his signature alone
    is no justering; Anna signs the paragraph she presided over, and justerar his (KL 5 kap. 69 §)."""
    stage = room
    await open_meeting(stage)
    await stage.ask("anna", "!justerare {}", "bo")
    await stage.ask("anna", "!ärende 1")
    await check_passes(stage)
    await stage.ask("anna", "!beslut Budgeten för 2027 fastställs.")
    await stage.ask("anna", "!lämnar")
    assert "Ordföranden tillåter" in await stage.ask("bo", "!tillåt 2")
    await stage.ask("bo", "!ärende 2")
    await stage.say("bo", "!teknikkontroll")
    for who in ("bo", "cecilia", "david", "eva"):
        assert await stage.ask(who, "!ok") == "✅"
    await stage.wait_for(lambda ev: "är godkänd" in text_of(ev) and ev.get("room_id") == stage.room_id)
    await stage.ask("bo", "!beslut Sara Svensson anställs.")
    assert "utgår" in await stage.ask("bo", "!utgår 3 Ärendet är inte berett")
    closed = await stage.ask("bo", "!avsluta")
    assert "ingen justerare kan justera § 2: Bo Berg (M) ledde ärendet" in closed

    alone = await stage.ask("bo", "!justera")
    assert "PROTOKOLLET ÄR JUSTERAT" not in alone and "Återstår att signera: Anna Andersson (S)" in alone
    assert "Signerat" not in json.dumps(json.loads(protocol_offline(stage))["justering"])
    assert "Utses att justera protokollet: Bo Berg (M), Anna Andersson (S)" in await stage.ask(
        "bo", "!justerare {} {}", "bo", "anna"
    )
    assert "PROTOKOLLET ÄR JUSTERAT" not in await stage.ask("anna", "!justera")
    last = await stage.say("bo", "!justera")
    assert "PROTOKOLLET ÄR JUSTERAT" in text_of(await stage.observer.answer(last))
    rows = {label(s): s["roll"] for s in json.loads(protocol_offline(stage))["underskrifter"] if s["signerat"]}
    assert rows == {
        "Anna Andersson (S)": "Ordförande § 1, justerare § 2",
        "Bo Berg (M)": "Ordförande § 2, justerare § 1",
    }
