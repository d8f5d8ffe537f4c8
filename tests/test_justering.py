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
from minutes.layout import label
from minutes.protocol import NOT_SIGNED
from rules.anslag import anslag_dates, last_day_to_appeal
from rules.citations import Rule
from rules.words import short_fingerprint
from storage import open_store
from testing.driver import CHAIR, KALLA, M3, M4, M5, MEMBERS, ROSTER, SECR, SUB1, TJP, VICE, Driver
from testing.invariants import assert_protocol_invariants


def meeting(d: Driver, items: tuple[int, ...] = (1,), justerare: tuple[str, ...] = (VICE,)) -> Driver:
    """A meeting (KALLA's date, or one convened with `d`'s clock moved) with items decided."""
    d.ok(CHAIR, "!öppna")
    d.until_called()
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
    assert doc["paragrafer"] == [101, 102] and "- Paragrafer: §§ 101–102" in d.protocol("md")
    assert [(i["paragraf"], i["nummer"]) for i in doc["ärenden"]] == [(101, 2), (102, 1)]  # in § order
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
    assert short_fingerprint(fp) in out.replies[0].text and VICE in out.replies[0].mentions
    assert d.m.justerad_at is None
    assert d.refused(CHAIR, "!justera").rule is Rule.KL_5_69  # signed already
    out = d.ok(VICE, "!justera")
    assert "PROTOKOLLET ÄR JUSTERAT" in out.replies[0].text and out.replies[0].attach == "pdf"
    assert "det ska sättas upp senast 2026-12-07" in out.replies[1].text  # Thursday: the Monday after
    out = d.ok(SECR, "!anslag")
    assert "Sista dag att överklaga (KL 13 kap. 5 §), och sista dag anslaget sitter uppe: 2026-12-28" in (
        out.replies[0].text
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
    assert d.log[-1].kind in NOT_SIGNED


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
    d.ok(SECR, "!anslag")
    doc = _doc(d)
    data = protocol.render_doc(doc, "pdf")
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    for expected in ("Protokoll", "Kommunstyrelsen beslutar", "§ 1", "ANSLAG", "2026-12-28"):
        assert expected in text, expected
    assert doc["fingeravtryck"] in "".join(text.split())  # printed in groups of sixteen (tests/test_pdf.py)
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    fonts = {str(f) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts  # every font is embedded (fpdf2 refuses the unembedded base fonts under PDF/A)


# --- the hash chain -----------------------------------------------------------------------------------------


async def test_kl_5_69_the_stored_log_shows_an_event_changed_removed_or_added(tmp_path):
    d = closed()
    store = await open_store(tmp_path / "db.sqlite3")
    try:
        await store.record("$1", "!r", d.now, d.log[:10], [], meeting=(d.m.id, "ks", None), meeting_id=d.m.id)
        await store.record("$2", "!r", d.now, d.log[10:], [], meeting_id=d.m.id, next_seq=10)
        assert (await store.check("ks")).breaks == []
        decided = next(i for i, e in enumerate(d.log) if e.kind == "decided")
        data = json.dumps({**d.log[decided].data, "text": "Avslag"})
        await store.db.execute("UPDATE events SET data = ? WHERE seq = ?", (data, decided))
        await store.db.commit()
        (found,) = (await store.check("ks")).breaks
        assert found.seq == decided and found.kind == "decided" and "ändrat" in found.why
        await store.db.execute("DELETE FROM events WHERE seq = 3")
        await store.db.commit()
        # event 4 is out of the body's chain, out of the meeting's numbering and off its link
        assert [b.seq for b in (await store.check("ks")).breaks] == [4, 4, 4, decided]
    finally:
        await store.close()


# --- issue 19: who justerar, jäv, fingerprints, rättelse, anslag ------------------------------------------


def _presided_by_other(d: Driver, how: str) -> str:
    """The ordförande leads item 1, then leaves: item 2 is led by the vice chair ("vice"), or,
    with the vice chair gone too, by a member the secretary names ("named"). Returns who leads it."""
    d.opened(present=(*MEMBERS, SECR))
    lead = VICE if how == "vice" else M3
    d.ok(CHAIR, f"!justerare {lead}")
    d.checked(item=1)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!lämnar")
    if how == "named":
        d.ok(VICE, "!lämnar")
        d.ok(SECR, f"!ordförande {M3}")
    d.ok(lead, "!tillåt 2")
    d.ok(lead, "!ärende 2")
    d.ok(lead, "!teknikkontroll")
    for user in d.m.serving(d.roster):
        d.ok(user, "!ok")
    d.ok(lead, "!beslut Bifall")
    return lead


@pytest.mark.parametrize("how", ["vice", "named"])
def test_kl_5_69_one_who_presided_at_the_close_and_is_justerare_does_not_justera_alone(how):
    d = Driver()
    lead = _presided_by_other(d, how)
    out = d.close(lead)
    assert "§ 2" in out.replies[0].text and "ingen justerare kan justera" in out.replies[0].text
    out = d.ok(lead, "!justera")
    assert d.m.justerad_at is None  # one person is never a justering
    assert "ledde ärendet" in out.replies[0].text and "Anna Andersson (S)" in out.replies[0].text
    d.ok(CHAIR, "!justera")  # the ordförande who led the meeting signs what she presided over
    assert d.m.justerad_at is None
    d.ok(lead, f"!justerare {lead} {CHAIR}")  # the ordförande justerar the paragraph she did not lead
    d.ok(lead, "!justera")
    assert d.m.justerad_at is None  # the change of justerare is a new version: Anna signs it too
    d.ok(CHAIR, "!justera")
    assert d.m.justerad_at is not None
    rows = {label(s): s["roll"] for s in _doc(d)["underskrifter"] if s["signerat"]}
    name = d.roster.label(lead)
    assert rows == {"Anna Andersson (S)": "Ordförande § 1, justerare § 2", name: "Ordförande § 2, justerare § 1"}


@pytest.mark.parametrize("how", ["vice", "named"])
def test_kl_5_69_omedelbar_justering_by_one_who_presides_and_is_justerare_needs_another_justerare(how):
    d = Driver()
    lead = _presided_by_other(d, how)
    refused = d.refused(lead, "!justera omedelbart")
    assert refused.rule is Rule.KL_5_69 and "ytterligare en justerare" in refused.text
    assert d.m.items[2].justerad is None and not d.log[-1].kind == "signed"
    d.ok(lead, f"!justerare {lead} {M4}")  # the one presiding may be one of two
    assert d.refused(lead, f"!justerare {lead}").rule is Rule.KL_5_69  # but never the only one
    d.ok(lead, "!justera omedelbart")
    assert d.m.items[2].justerad is None
    d.ok(M4, "!justera omedelbart")
    assert d.m.items[2].justerad is not None


def test_kl_6_28_kl_5_69_a_justerare_javig_in_an_item_does_not_justera_its_paragraph():
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1,))
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    d.ok(VICE, "!jäv")  # the justerare
    d.checked(item=2)
    d.ok(CHAIR, "!beslut Bifall")
    d.close()
    d.ok(CHAIR, "!justera")
    out = d.ok(VICE, "!justera")
    assert d.m.justerad_at is None
    assert "§ 2: Bo Berg (M) har jäv i ärendet" in out.replies[0].text
    d.ok(CHAIR, f"!justerare {VICE} {M3}")
    for user in (CHAIR, VICE, M3):
        d.ok(user, "!justera")
    assert d.m.justerad_at is not None
    rows = {label(s): s["roll"] for s in _doc(d)["underskrifter"]}
    assert rows["Bo Berg (M)"] == "Justerare § 1" and rows["Cecilia Carlsson (S)"] == "Justerare"


def test_kl_6_28_kl_5_69_an_ordforande_javig_in_an_item_does_not_sign_it_as_its_ordforande():
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1,), justerare=(M3,))
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    d.ok(CHAIR, "!jäv")  # the vice chair leads item 2
    d.ok(VICE, "!teknikkontroll")
    for user in d.m.serving(d.roster):
        d.ok(user, "!ok")
    d.ok(VICE, "!beslut Bifall")
    d.ok(VICE, "!tillåt 4")
    d.ok(VICE, "!ärende 4")  # the ordförande leads again
    d.close()
    d.ok(CHAIR, "!justera")
    d.ok(M3, "!justera")
    assert d.m.justerad_at is None  # § 2 is the vice chair's to sign as its ordförande
    d.ok(VICE, "!justera")
    assert d.m.justerad_at is not None
    rows = {label(s): s["roll"] for s in _doc(d)["underskrifter"]}
    assert rows["Anna Andersson (S)"] == "Ordförande §§ 1, 3" and rows["Bo Berg (M)"] == "Ordförande § 2"


def test_kl_6_28_p12_omedelbar_justering_is_refused_while_the_decision_must_be_retaken():
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1,))
    d.ok(M3, "!jäv")  # after the decision, which she took part in
    assert d.refused(CHAIR, "!justera omedelbart").rule is Rule.KL_6_28
    d.ok(CHAIR, "!omtag")  # still possible: the decision stands retaken
    d.checked(item=1)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!justera omedelbart")  # the decision taken anew may be justerad at once

    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1,))
    d.ok(CHAIR, "!teknikkontroll")
    d.now += timedelta(seconds=61)  # nobody answers: the chair cannot see that all take part
    refused = d.refused(CHAIR, "!justera omedelbart")
    assert refused.rule is Rule.P12 and "!omtag" in refused.text


def test_kl_5_69_a_signature_with_a_stale_fingerprint_is_refused_and_shows_what_changed():
    d = closed()
    shown = _doc(d)["fingeravtryck"]
    assert [e.data["fingerprint"] for e in d.log if e.kind == "posted"] == [shown]  # posted at the close
    d.ok(SECR, "!rättelse 1 Bifall med ändringen att beloppet är 2 mnkr.")
    now = _doc(d)["fingeravtryck"]
    assert now != shown and d.log[-1].kind == "posted" and d.log[-1].data["fingerprint"] == now
    refused = d.refused(CHAIR, f"!justera {shown[:16]}")  # what she read at the close
    assert refused.rule is Rule.KL_5_69
    assert "rättelse av beslutet i § 1" in refused.text and "beloppet är 2 mnkr" in refused.text
    assert short_fingerprint(now) in refused.text and not any(e.kind == "signed" for e in d.log)
    assert d.refused(CHAIR, "!justera 1234abcd").rule is Rule.KL_5_69  # no version shown
    assert d.refused(CHAIR, "!justera 1234").rule is Rule.KL_5_69  # fewer than 8 digits: not read
    d.ok(CHAIR, f"!justera {short_fingerprint(now)}")  # as the room shows it, in groups
    d.ok(VICE, f"!justera {now[:8]}")
    assert d.m.justerad_at is not None and d.m.fingerprint == now
    # while the meeting is open, a paragraph's fingerprint the same way
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1,))
    assert d.refused(CHAIR, "!justera omedelbart 00000000").rule is Rule.KL_5_69
    paragraph = _doc(d)["ärenden"][0]["fingeravtryck"]
    d.ok(CHAIR, f"!justera omedelbart {paragraph[:12]}")


def test_kl_5_69_a_rattelse_cannot_change_a_decision_taken_by_vote_or_a_paragraph_justerad_at_once():
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(), justerare=(VICE,))
    d.checked(item=1)
    d.ok(CHAIR, "!votering Bifall / Avslag")
    for user, choice in zip(MEMBERS, ("ja", "ja", "ja", "nej", "nej"), strict=True):
        d.ok(user, f"!{choice}")
    d.ok(CHAIR, "!tillåt 2")
    d.checked(item=2)
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!justera omedelbart")
    d.ok(VICE, "!justera omedelbart")
    d.close()
    refused = d.refused(SECR, "!rättelse 1 Avslag")
    assert refused.rule is Rule.KL_5_69 and "votering" in refused.text
    assert d.refused(SECR, "!rättelse 2 Avslag").rule is Rule.KL_5_69
    assert not any(e.kind == "corrected" for e in d.log)


def test_kl_8_12_kl_13_5_an_omedelbart_justerad_paragraph_has_its_own_anslag():
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(1,))
    d.ok(CHAIR, "!justera omedelbart")
    out = d.ok(VICE, "!justera omedelbart")
    notice = out.replies[1].text
    assert notice.startswith("ANSLAG") and "Paragrafer: § 1" in notice and "Datum för justering: 2026-12-03" in notice
    d.ok(SECR, "!anslag § 1")  # put up the same day, during the meeting
    d.ok(CHAIR, "!tillåt 2")
    d.checked(item=2)
    d.ok(CHAIR, "!beslut Bifall")
    d.close()
    d.now += timedelta(days=7)
    d.ok(CHAIR, "!justera")
    out = d.ok(VICE, "!justera")
    assert "Paragrafer: § 2\n" in out.replies[1].text and "Datum för justering: 2026-12-10" in out.replies[1].text
    doc = _doc(d)
    first, second = doc["ärenden"]
    assert "Datum för justering: 2026-12-03" in first["anslag"]
    assert "Sista dag att överklaga (KL 13 kap. 5 §), och sista dag anslaget sitter uppe: 2026-12-28" in first["anslag"]
    assert second["anslag"] is None and "Paragrafer: § 2" in doc["anslag"]  # not § 1, with its later date
    pdf = PdfReader(io.BytesIO(protocol.extract_pdf(doc, 1)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "ANSLAG" in text and "2026-12-28" in text and "Bo Berg" in text  # who justerade it, its anslag


def test_kl_8_12_kl_13_5_the_secretary_records_the_day_the_anslag_was_put_up_and_the_appeal_runs_from_it():
    d = closed()
    assert d.refused(SECR, "!anslag").rule is Rule.KL_8_12  # not justerat yet
    d.ok(CHAIR, "!justera")
    d.ok(VICE, "!justera")
    doc = _doc(d)
    assert (
        "Anslaget är ännu inte uppsatt på kommunens anslagstavla; det ska sättas upp senast 2026-12-07."
        in (doc["anslag"])
    )
    assert not any("2026-12-28" in line for line in doc["anslag"])  # no appeal time before it is up
    assert d.refused(CHAIR, "!anslag").rule is Rule.KL_8_12  # the secretary's
    assert d.refused(SECR, "!anslag 2026-12-02").rule is Rule.KL_8_12  # before the justering
    assert d.refused(SECR, "!anslag 2026-12-04").rule is Rule.KL_8_12  # a day to come
    assert d.refused(SECR, "!anslag § 1").rule is Rule.KL_8_12  # not omedelbart justerad
    assert d.refused(SECR, "!anslag i morgon").rule is Rule.KL_8_12
    d.now += timedelta(days=5)  # Tuesday 2026-12-08: one day late
    out = d.ok(SECR, "!anslag 2026-12-08")
    assert "⚠ KL 8 kap. 12 §" in out.replies[0].text and "2026-12-07" in out.replies[0].text
    doc = _doc(d)
    assert "Datum då anslaget sattes upp på kommunens anslagstavla: 2026-12-08" in doc["anslag"]
    assert "Sista dag att överklaga (KL 13 kap. 5 §), och sista dag anslaget sitter uppe: 2026-12-29" in doc["anslag"]
    assert doc["fingeravtryck"] == d.m.fingerprint  # the anslag is not part of what was signed
    import commands

    assert "!anslag [§ N] [ÅÅÅÅ-MM-DD]" in commands.help_text(d.m, d.roster, SECR)
    assert "!anslag" not in commands.help_text(d.m, d.roster, CHAIR)


def test_kl_5_69_an_omedelbart_justerad_paragraph_never_changes_afterwards():
    d = Driver()
    d.ok(CHAIR, KALLA)
    meeting(d, items=(), justerare=(VICE,))
    d.checked(item=1)
    d.ok(M3, "!yrka Avslag")
    d.ok(CHAIR, "!beslut Bifall")
    d.ok(CHAIR, "!justera omedelbart")
    d.ok(VICE, "!justera omedelbart")
    signed = _doc(d)["ärenden"][0]["fingeravtryck"]
    for user, command in [
        (M4, "!yrka Återremiss"),
        (M3, "!yrka återta"),
        (M4, "!jäv"),
        (CHAIR, f"!jäv {M5}"),
        (M3, "!reservation Fel beslut."),
        (CHAIR, "!teknikkontroll"),
        (CHAIR, "!beslut Avslag"),
        (CHAIR, "!omtag"),
        (CHAIR, "!votering A / B"),
    ]:
        refused = d.refused(user, command)
        assert refused.rule is Rule.KL_5_69, (command, refused)
    assert "före justeringen (KL 4 kap. 27 §)" in d.refused(M3, "!reservation ärende 1").text
    d.ok(CHAIR, "!tillåt 4")
    d.ok(CHAIR, "!ärende 4")
    assert d.refused(M3, "!reservation ärende 1").rule is Rule.KL_5_69  # from another item too
    assert _doc(d)["ärenden"][0]["fingeravtryck"] == signed
    assert_protocol_invariants(d)  # and it reads as it did when justerad


def test_kl_5_69_the_signature_block_names_who_signed_or_is_to_and_only_a_secretary_who_attended():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in MEMBERS:
        d.ok(user, "!närvarande")
    d.ok(CHAIR, f"!justerare {VICE}")
    d.checked(item=1)
    d.ok(CHAIR, "!beslut Bifall")
    d.close()
    rows = [(s["roll"], label(s), s["signerat"]) for s in _doc(d)["underskrifter"]]
    assert rows == [("Ordförande", "Anna Andersson (S)", None), ("Justerare", "Bo Berg (M)", None)]
    assert d.refused(SECR, "!justera").rule is Rule.KL_5_69  # Sara was not there
    d.ok(VICE, "!justera")
    rows = [(s["roll"], label(s), bool(s["signerat"])) for s in _doc(d)["underskrifter"]]
    assert rows == [("Ordförande", "Anna Andersson (S)", False), ("Justerare", "Bo Berg (M)", True)]
    d = closed()  # the secretary attended: she is named, and may sign
    assert [s["roll"] for s in _doc(d)["underskrifter"]] == ["Sekreterare", "Ordförande", "Justerare"]
    d.ok(SECR, "!justera")


def test_kl_6_35_kl_5_69_a_justering_later_than_fourteen_days_is_warned_and_noted():
    d = closed()
    d.now += timedelta(days=14)  # 2026-12-17: the last day
    out = d.ok(CHAIR, "!justera")
    assert "⚠" not in out.replies[0].text
    d.now += timedelta(days=1)
    out = d.ok(VICE, "!justera")
    assert "⚠ KL 6 kap. 35 §: protokollet skulle ha justerats senast 2026-12-17" in out.replies[0].text
    assert "senare än fjorton dagar efter sammanträdet (senast 2026-12-17, 6 kap. 35 § kommunallagen)" in d.protocol(
        "md"
    )
    assert _doc(d)["justering"]["för_sent"] and _doc(d)["justering"]["senast"] == "2026-12-17"


def test_kl_5_69_a_change_of_place_or_the_floor_after_omedelbar_justering_leaves_the_paragraph_as_signed():
    """The shrunk examples of the property tests: one present moves to the chair's room (§ 2), or
    asks for the floor, after the paragraph is justerad. The move is recorded with its time in the
    head; the paragraph reads as signed: no "plats" at its decision, nobody added to its debate."""
    d = Driver(dataclasses.replace(ROSTER, call_name="Element Call"))
    d.ok(CHAIR, KALLA)
    for user in (CHAIR, VICE, M3, M4, M5, SUB1, SECR, TJP):  # the call shows them at a distance
        d.call(user, {"dev": None})
    meeting(d, items=(1,), justerare=(VICE,))
    d.ok(CHAIR, "!justera omedelbart")
    d.ok(VICE, "!justera omedelbart")

    def paragraph() -> dict:
        item = _doc(d)["ärenden"][0]
        return {k: v for k, v in item.items() if k not in ("förlopp", "justerad_av", "anslag", "fingeravtryck")}

    signed = paragraph()
    d.ok(M3, "!ordet")
    d.ok(CHAIR, f"!lokal {M4}")
    d.ok(CHAIR, f"!delad {M5} {SUB1}")
    d.ok(CHAIR, f"!lämnar {TJP}")
    d.ok(TJP, "!närvarande")
    d.ok(CHAIR, "!tillåt 2")  # a move while another item is up does not reach back into § 1 either
    d.ok(CHAIR, "!ärende 2")
    d.ok(CHAIR, f"!lokal {M3}")
    assert paragraph() == signed
    doc = _doc(d)
    moved = next(p for p in doc["beslutande"] if p["user"] == M4)
    assert any("till_ordförandens_lokal" in c for c in moved["kom_och_gick"])  # still recorded, with its time
    assert any("flyttade till ordförandens lokal" in line for line in doc["ärenden"][0]["förlopp"])
    assert_protocol_invariants(d)
