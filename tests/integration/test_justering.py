"""The protocol taken to justering and anslag through Synapse: justerare chosen in the room, a
paragraph justerad at once with its extract posted, the close, a rättelse, the signatures, the
anslag, the PDF/A downloaded from the room and read back, and `bot.py verify` passing and then
failing after a decision is changed by hand in the database (KL 5 kap. 69 §, 8 kap. 12 §)."""

from __future__ import annotations

import io
import json
import re
import sqlite3

from pypdf import PdfReader

from testing.actors import text_of
from tests.integration.test_meeting import check_passes, open_meeting, protocol_offline


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

    assert "Ordföranden tillåter" in await stage.ask("anna", "!tillåt 2")
    assert "(§ 2)" in await stage.ask("anna", "!ärende 2")
    await check_passes(stage)
    await stage.ask("anna", "!beslut Sara Svensson anställs.")
    assert "Sammanträdet är avslutat" in await stage.ask("anna", "!avsluta")

    refused = await stage.ask("anna", "!rättelse 2 Sara Svensson anställs från 2027-01-01.")
    assert refused.startswith("⛔ KL 5 kap. 69 §")  # the secretary corrects, not the chair
    corrected = await stage.ask("sara", "!rättelse 2 Sara Svensson anställs från 2027-01-01.")
    assert "är rättat av Sara" in corrected

    fingerprint = json.loads(protocol_offline(stage))["fingeravtryck"]
    signed = await stage.ask("anna", "!justera")
    assert fingerprint in signed and "Återstår att signera: Bo Berg (M)" in signed
    last = await stage.say("bo", "!justera")
    answer = text_of(await stage.observer.answer(last))
    assert "PROTOKOLLET ÄR JUSTERAT" in answer and fingerprint in answer
    anslag = await stage.wait_for(lambda ev: text_of(ev).startswith("ANSLAG – BEVIS OM JUSTERING"))
    assert "Förvaringsplats för protokollet: Kommunkansliet" in text_of(anslag)
    assert "Sista dag att överklaga (KL 13 kap. 5 §)" in text_of(anslag)

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
    assert doc["justering"] and doc["paragrafer"] == "§§ 1–2" and doc["justerare"] == ["Bo Berg (M)"]
    assert [s["roll"] for s in doc["underskrifter"] if s["signerat"]] == ["Ordförande", "Justerare"]
    assert all(s["händelse"].startswith("$") for s in doc["underskrifter"] if s["signerat"])

    ok = stage.cli("verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "kedjan är hel" in ok.stdout and fingerprint in ok.stdout

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
