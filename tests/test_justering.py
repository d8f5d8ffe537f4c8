"""The protocol to its legal end: paragraph numbers, justerare, digital justering on a
fingerprint, rättelse, omedelbar justering, the anslag and the time to appeal, PDF/A, and a log
whose tampering shows (KL 5 kap. 69 §, 8 kap. 12 §, 13 kap. 5 §, lag (1930:173))."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from minutes import protocol
from rules.anslag import anslag_dates, last_day_to_appeal
from rules.citations import Rule
from rules.state import SIGNING_KINDS
from storage import Store
from tests.driver import CHAIR, KALLA, M3, M4, M5, ROSTER, SECR, SUB1, TJP, VICE, Driver


def meeting(d: Driver, items: tuple[int, ...] = (1,), justerare: tuple[str, ...] = (VICE,)) -> Driver:
    """A meeting (KALLA's date, or one convened with `d`'s clock moved) with items decided."""
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in (CHAIR, VICE, M3, M4, M5, SUB1, SECR, TJP):
        d.ok(user, "!närvarande")
    if justerare:
        d.ok(CHAIR, "!justerare " + " ".join(justerare))
    for n in items:
        if n in (2, 4):
            d.ok(CHAIR, f"!tillåt {n}")
        d.checked(item=n)
        d.ok(CHAIR, "!beslut Bifall")
    return d


def closed() -> Driver:
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1, 2))
    d.close()
    return d


def _doc(d: Driver) -> dict:
    return protocol.build(d.m.id, d.m.body_id, d.log, d.roster)


# --- paragraphs ------------------------------------------------------------------------------------


def _next_meeting(d: Driver, day: str) -> None:
    d.now = datetime.fromisoformat(f"{day}T16:50:00+00:00")
    d.ok(CHAIR, KALLA.replace("2026-12-03", day))


def test_kl_5_65_paragraphs_run_per_body_and_year_across_meetings_and_start_again_at_1():
    roster = dataclasses.replace(ROSTER, first_paragraph=101)
    d = Driver(roster)
    d.ok(CHAIR, KALLA)
    meeting(d, items=(2, 1))  # taken up in this order: § 101, § 102
    d.ok(CHAIR, "!ärende 2")  # taken up again: keeps its number
    d.close()
    assert (d.m.items[2].paragraph, d.m.items[1].paragraph, d.m.items[3].paragraph) == (101, 102, None)
    doc = _doc(d)
    assert doc["paragrafer"] == "§§ 101–102"
    assert [(i["paragraf"], i["nummer"]) for i in doc["ärenden"]] == [(102, 1), (101, 2)]
    _next_meeting(d, "2026-12-17")
    meeting(d, items=(1,))
    assert d.m.items[1].paragraph == 103
    d.close()
    _next_meeting(d, "2027-01-14")  # a new year
    meeting(d, items=(1,))
    assert d.m.items[1].paragraph == 1


def test_kl_5_65_a_cancelled_meeting_uses_no_numbers_and_a_new_kallelse_keeps_them():
    d = Driver(dataclasses.replace(ROSTER, first_paragraph=7))
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, KALLA.replace("18:00", "18:30"))  # a new kallelse for the same meeting
    assert d.m.first_paragraph == 7
    d.ok(CHAIR, "!inställ storm")
    _next_meeting(d, "2026-12-10")
    assert d.m.first_paragraph == 7


# --- justerare ---------------------------------------------------------------------------------------


def test_kl_5_69_justerare_are_serving_members_or_substitutes_never_the_chair_or_an_official():
    d = Driver().opened()
    assert d.refused(CHAIR, f"!justerare {CHAIR}").rule is Rule.KL_5_69
    assert d.refused(CHAIR, f"!justerare {TJP}").rule is Rule.KL_5_69
    assert d.refused(CHAIR, f"!justerare {SECR}").rule is Rule.KL_5_69
    assert d.refused(CHAIR, f"!justerare {SUB1}").rule is Rule.KL_5_69  # not serving
    assert d.refused(M3, f"!justerare {M4}").rule is Rule.KL_5_69  # only the chair chooses
    d.ok(CHAIR, f"!justerare {VICE} {M4}")
    assert d.m.justerare == [VICE, M4]
    d.ok(CHAIR, f"!justerare {M5}")  # given again, it replaces the choice
    assert d.m.justerare == [M5]


# --- digital justering ------------------------------------------------------------------------------


def test_kl_5_69_the_chair_and_the_justerare_sign_and_the_protocol_is_justerat_with_its_anslag():
    d = closed()
    assert d.refused(M3, "!justera").rule is Rule.KL_5_69  # not a justerare
    fp = _doc(d)["fingeravtryck"]
    out = d.ok(CHAIR, "!justera")
    assert fp in out.replies[0].text and VICE in out.replies[0].mentions
    assert d.m.justerad_at is None
    assert d.refused(CHAIR, "!justera").rule is Rule.KL_5_69  # signed already
    out = d.ok(VICE, "!justera")
    assert "PROTOKOLLET ÄR JUSTERAT" in out.replies[0].text and out.replies[0].attach == "pdf"
    assert "Sista dag att överklaga (KL 13 kap. 5 §), och sista dag anslaget sitter uppe: 2026-12-28" in (
        out.replies[1].text
    )
    assert d.m.fingerprint == fp
    doc = _doc(d)
    assert doc["fingeravtryck"] == fp  # the signatures did not change what they sign
    signatures = {s["roll"]: s for s in doc["underskrifter"]}
    assert signatures["Ordförande"]["signerat"] and signatures["Justerare"]["signerat"]
    assert signatures["Ordförande"]["händelse"].startswith("$event")
    assert doc["anslag"][0].startswith("ANSLAG") and "Förvaringsplats för protokollet: Kommunkansliet" in doc["anslag"]
    assert d.refused(SECR, "!rättelse 1 Avslag").rule is Rule.KL_5_69  # justerat: no more changes


def test_kl_5_69_a_rattelse_voids_the_signatures_given_before_it():
    d = closed()
    d.ok(CHAIR, "!justera")
    assert d.refused(CHAIR, "!rättelse 1 Avslag").rule is Rule.KL_5_69  # the secretary's
    out = d.ok(SECR, "!rättelse 1 Bifall med den ändringen att beloppet är 2 mnkr.")
    assert "gäller inte längre" in out.replies[0].text and CHAIR in out.replies[0].mentions
    d.ok(VICE, "!justera")
    assert d.m.justerad_at is None  # the chair's signature was on the earlier wording
    d.ok(CHAIR, "!justera")
    assert d.m.justerad_at is not None
    decision = _doc(d)["ärenden"][0]["beslut"][0]
    assert decision["beslut"] == "Bifall med den ändringen att beloppet är 2 mnkr."
    assert decision["rättelser"][0]["tidigare"] == "Bifall"


def test_kl_5_69_the_fingerprint_is_stable_for_the_same_log_and_changes_with_the_content():
    d = closed()
    first = _doc(d)["fingeravtryck"]
    assert _doc(d)["fingeravtryck"] == first
    assert protocol.build(d.m.id, d.m.body_id, list(d.log), d.roster)["fingeravtryck"] == first
    d.ok(CHAIR, "!justera")
    assert _doc(d)["fingeravtryck"] == first  # a signature is not part of what is signed
    changed = [dataclasses.replace(e, data={**e.data, "text": "Avslag"}) if e.kind == "decided" else e for e in d.log]
    assert protocol.build(d.m.id, d.m.body_id, changed, d.roster)["fingeravtryck"] != first
    assert d.log[-1].kind in SIGNING_KINDS


# --- omedelbar justering --------------------------------------------------------------------------------


def test_kl_5_69_omedelbar_justering_chair_first_then_the_justerare_and_the_paragraph_is_final():
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1,))
    assert d.refused(VICE, "!justera omedelbart").rule is Rule.KL_5_69  # the chair asks first
    d.ok(CHAIR, "!justera omedelbart")
    out = d.ok(VICE, "!justera omedelbart")
    assert out.replies[0].attach == "extract:1" and d.m.items[1].justerad is not None
    assert d.refused(CHAIR, "!omtag").rule is Rule.KL_5_69
    assert d.refused(M3, "!reservation").rule is Rule.KL_5_69
    assert d.refused(CHAIR, "!beslut Avslag").rule is Rule.KL_5_69
    doc = _doc(d)
    assert doc["ärenden"][0]["omedelbart_justerad"]
    pdf = PdfReader(io.BytesIO(protocol.extract_pdf(doc, 1)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Protokollsutdrag" in text and "§ 1" in text and "Kommunstyrelsen beslutar" in text
    assert doc["ärenden"][0]["fingeravtryck"] in "".join(text.split())  # the paragraph's, not the whole's
    assert doc["fingeravtryck"] not in "".join(text.split())


def test_kl_5_69_omedelbar_justering_only_after_the_items_decision():
    d = Driver().opened()
    d.ok(CHAIR, f"!justerare {VICE}")
    d.ok(CHAIR, "!ärende 1")
    assert d.refused(CHAIR, "!justera omedelbart").rule is Rule.KL_5_69
    assert d.refused(CHAIR, "!justera").rule is Rule.KL_5_69  # the whole protocol: after !avsluta


# --- the time to appeal ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "last"),
    [
        (date(2026, 12, 7), date(2026, 12, 28)),  # a Monday three weeks on
        (date(2026, 12, 3), date(2026, 12, 28)),  # julafton, juldagen, annandagen (a Saturday), Sunday
        (date(2026, 12, 10), date(2027, 1, 4)),  # nyårsafton, nyårsdagen, a weekend
        (date(2026, 5, 29), date(2026, 6, 22)),  # midsommarafton, midsommardagen, Sunday
        (date(2027, 3, 5), date(2027, 3, 30)),  # långfredag, a weekend with påskdagen, annandag påsk
        (date(2026, 10, 10), date(2026, 11, 2)),  # a Saturday three weeks on (alla helgons dag)
    ],
)
def test_kl_13_5_the_last_day_to_appeal_moves_past_weekends_and_holidays(posted, last):
    assert last_day_to_appeal(posted) == last
    assert anslag_dates(posted)["får_tas_ned"] == (last + timedelta(days=1)).isoformat()


# --- PDF/A ----------------------------------------------------------------------------------------------------


def test_kl_5_69_the_protocol_as_pdf_a_reads_back_with_its_text_and_fingerprint():
    d = closed()
    d.ok(CHAIR, "!justera")
    d.ok(VICE, "!justera")
    doc = _doc(d)
    data = protocol.render_doc(doc, "pdf")
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    for expected in ("Protokoll", "Kommunstyrelsen beslutar", "§ 1", "ANSLAG", "2026-12-28", doc["fingeravtryck"]):
        assert expected in text, expected
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    fonts = {str(f) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts  # every font is embedded (fpdf2 refuses the unembedded base fonts under PDF/A)


# --- the hash chain -----------------------------------------------------------------------------------------


async def test_kl_5_69_the_stored_log_shows_an_event_changed_removed_or_added(tmp_path):
    d = closed()
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        await store.record("$1", "!r", d.now, d.log[:10], [], meeting=(d.m.id, "ks", None), meeting_id=d.m.id)
        await store.record("$2", "!r", d.now, d.log[10:], [], meeting_id=d.m.id, next_seq=10)
        assert await store.breaks(d.m.id) == []
        decided = next(i for i, e in enumerate(d.log) if e.kind == "decided")
        data = json.dumps({**d.log[decided].data, "text": "Avslag"})
        await store.db.execute("UPDATE events SET data = ? WHERE seq = ?", (data, decided))
        await store.db.commit()
        (found,) = await store.breaks(d.m.id)
        assert found.seq == decided and found.kind == "decided" and "ändrat" in found.why
        await store.db.execute("DELETE FROM events WHERE seq = 3")
        await store.db.commit()
        assert [b.seq for b in await store.breaks(d.m.id)] == [4, 4, decided]
    finally:
        await store.close()


async def test_kl_5_69_a_database_from_before_the_chain_is_chained_when_opened(tmp_path):
    path = tmp_path / "old.sqlite3"
    store = await Store.open(path)
    d = closed()
    await store.record("$1", "!r", d.now, d.log, [], meeting=(d.m.id, "ks", None), meeting_id=d.m.id)
    await store.db.execute("UPDATE events SET hash = NULL")  # as a database of the previous version has them
    await store.db.commit()
    await store.close()
    store = await Store.open(path)
    try:
        assert await store.breaks(d.m.id) == []
        async with store.db.execute("SELECT COUNT(*) FROM events WHERE hash IS NULL") as cur:
            assert (await cur.fetchone())[0] == 0
    finally:
        await store.close()
