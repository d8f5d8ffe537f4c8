"""The protocol reads as Swedish protocols read (issue 20, cases 3, 5, 7, 8, 9, 11): what the
nämndsekreterare who files it, and the member who appeals against a decision, read in it."""

from __future__ import annotations

import io
import json
import re
from functools import cache
from typing import Any

from pypdf import PdfReader

from config import BodyConfig, Config
from minutes import layout, protocol
from rules.citations import Rule
from testing.driver import CHAIR, SUB1, SUB2, VICE, Driver
from tests.test_golden import play


@cache
def _demo() -> tuple[str, dict[str, Any], str]:
    d, _ = play()
    return d.protocol("md"), json.loads(d.protocol("json")), d.protocol("html")


def _section(md: str, start: str, end: str) -> str:
    return md[md.index(start) : md.index(end, md.index(start))]


def _head(md: str) -> str:
    return md[: md.index("\n## ")]


# --- case 3: who served in which paragraphs --------------------------------------------------------


def test_kl_5_66_the_head_says_who_served_in_which_paragraphs_and_for_whom():
    head = _head(_demo()[0])
    # Erik served in § 2 only (for Cecilia, jävig there); Frida from § 2 on (David a teknikfelsledamot).
    assert "  - Erik Eriksson (S), ersättare för Cecilia Carlsson (S), § 2, delad överföring" in head
    assert "  - Frida Fors (M), ersättare för David Dahl (C), §§ 2–4, delad överföring" in head
    # members replaced in some paragraphs stand with the paragraphs they did not serve in
    assert "  - Cecilia Carlsson (S), ledamot, ej § 2, på distans" in head
    assert "  - David Dahl (C), ledamot, ej §§ 2–4, på distans" in head
    assert "  - Bo Berg (M), ledamot, på distans" in head  # served throughout: no limit
    # the substitutes present did not serve in the other paragraphs: never "–" while they were there
    assert "Ej tjänstgörande ersättare: –" not in head
    assert "  - Erik Eriksson (S), §§ 1, 3–4, delad överföring med Frida Fors" in head
    assert "  - Frida Fors (M), § 1, delad överföring med Erik Eriksson" in head
    assert "- Sekreterare: Sara Sekreterare (nämndsekreterare), på distans" in head


def test_kl_5_66_substitutes_present_who_never_served_stand_without_paragraphs():
    d = Driver().opened()  # Erik and Frida reported present, nobody is replaced
    d.checked(1)
    d.ok(CHAIR, "!beslut Bifall")
    head = _head(d.protocol("md"))
    assert "- Ej tjänstgörande ersättare:\n  - Erik Ek (S), på distans\n  - Frida Fors (M), på distans" in head
    doc = json.loads(d.protocol("json"))
    assert [(x["user"], x["ej_paragrafer"]) for x in doc["ej_tjänstgörande_ersättare"]] == [(SUB1, None), (SUB2, None)]


# --- case 5: one decision text after a rättelse --------------------------------------------------


def test_kl_5_69_after_a_rattelse_every_place_that_states_the_decision_reads_the_corrected_text():
    md, doc, _ = _demo()
    old, new = "Valet bordläggs till ett fysiskt sammanträde.", "Valet av ombud bordläggs till ett fysiskt sammanträde."
    assert md.count(old) == 1  # the rättelse noted once, with the earlier wording
    assert f"tidigare lydelse: ”{old}”" in _section(md, "## § 4", "## Underskrifter")
    paragraph = _section(md, "## § 4", "## Underskrifter")
    assert f"- {new}" in paragraph and f"proposition på ”{new}”" in paragraph  # box and beslutsgång
    assert f"Beslut: {new}" in _section(md, "§ 4  Val av ombud till kommunförbundet:", "Sammanträdets avslutning")
    item = next(i for i in doc["ärenden"] if i["paragraf"] == 4)
    assert item["beslut"][0]["beslut"] == new and item["beslut"][0]["rättelser"][0]["tidigare"] == old


def test_kl_5_69_a_justerat_protocol_has_no_blank_signature_line():
    md, doc, _ = _demo()
    assert doc["status"] == "avslutat" and doc["justering"] is not None
    foot = _section(md, "## Underskrifter", "Protokollets fingeravtryck")
    assert "____" not in foot  # the secretary attended but did not sign (optional): not a blank line
    assert [x["roll"] for x in doc["underskrifter"]] == ["Ordförande", "Justerare"]
    assert all(x["signerat"] for x in doc["underskrifter"])


# --- case 7: citations that no one reads as the protocol's own paragraphs ---------------------------


def test_p12_kl_6_27_the_protocol_cites_12_paragraf_arbetsordningen_and_the_law_by_its_name():
    md, doc, page = _demo()
    bot_text = md.replace(doc["motivering"], "")  # the chair wrote the motivation: theirs, as written
    assert "Teknikfunktionskontroll enligt 12 § arbetsordningen" in bot_text
    assert "(6 kap. 28 § kommunallagen)" in bot_text and "(8 kap. 12 § kommunallagen)" in bot_text
    assert not re.search(r"KL \d+ kap\.", bot_text)
    # every "§ N" left is one of the protocol's own paragraphs, §§ 1–4
    for found in re.finditer(r"(?<![\d–] )§§? (\d+)(?:–(\d+))?", bot_text):
        assert all(1 <= int(n) <= 4 for n in found.groups() if n), found[0]
    assert "(12 § arbetsordningen)" in page and "(§ 12)" not in page.replace(doc["motivering"], "")
    from rules.citations import cite  # the one place that words a citation for the protocol

    assert cite(Rule.P5, Rule.P10) == "5 och 10 §§ arbetsordningen"
    assert cite(Rule.KL_6_27) == "6 kap. 27 § kommunallagen"


def test_p12_kl_6_27_what_people_wrote_and_the_chat_keep_their_own_citations():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(VICE, "!yrka Avslag enligt (§ 12) och KL 6 kap. 27 §")
    refusal = d.refused(CHAIR, "!beslut Bifall")  # no technical check yet: refused in the chat's form
    assert refusal.rule is Rule.P12 and refusal.text.endswith("(§ 12).")
    md = d.protocol("md")
    assert "Bo Berg (M): Avslag enligt (§ 12) och KL 6 kap. 27 §" in md  # the motion, as written
    from rules.citations import protocol_text

    assert protocol_text("signerade § 2 (§§ 2–3)") == "signerade § 2 (2 och 3 §§ arbetsordningen)"


# --- case 8: the protokollsutdrag ----------------------------------------------------------------


def test_kl_5_69_the_protokollsutdrag_names_who_justerade_its_beslutande_and_has_the_utdragsbestyrkande():
    _, doc, _ = _demo()
    item = next(i for i in doc["ärenden"] if i["omedelbart_justerad"])
    blocks = layout.extract(doc, item["nummer"])
    head = dict(next(lines for kind, _, lines in blocks if kind == "head"))
    assert head["Justerad av"] == ["Anna Andersson (S)", "Bo Berg (M)"]
    assert head["Beslutande"] == [
        "Anna Andersson (S)",
        "Bo Berg (M)",
        "Erik Eriksson (S)",
        "Frida Fors (M)",
        "Eva Ek (V)",
    ]
    signatures = next(lines for kind, _, lines in blocks if kind == "signatures")
    assert [role for role, _, _ in signatures] == ["Utdragsbestyrkande", "Namnförtydligande"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(protocol.extract_pdf(doc, item["nummer"]))).pages)
    assert "Utdragsbestyrkande" in text and "Justerad av" in text and "Exempelby kommun" in text
    assert "(8 kap. 12 § kommunallagen)" in text and "KL 8 kap." not in text


def test_kl_5_69_the_fingerprint_stands_whole_in_md_and_html():
    md, doc, page = _demo()
    fp = doc["fingeravtryck"]
    assert f"Protokollets fingeravtryck (SHA-256): {fp}" in md and f"Protokollets fingeravtryck (SHA-256): {fp}" in page


# --- case 9: it reads as a Swedish protocol -------------------------------------------------------


def test_kl_6_35_the_head_names_the_kommun_the_body_and_plats_och_tid():
    md, doc, page = _demo()
    assert md.startswith("# Protokoll – Exempelby kommun, Kommunstyrelsen\n")
    assert (
        "- Plats och tid: Distanssammanträde, Kommunhuset, sammanträdesrum Tingshuset (ordförandens lokal) "
        "och på distans, 2026-12-03 kl. 18.00–18.02" in md
    )
    assert "Exempelby kommun · Kommunstyrelsen" in page
    assert (doc["organisation"], doc["plats"]) == ("Exempelby kommun", "Kommunhuset, sammanträdesrum Tingshuset")
    # without a place the meeting is held at a distance only; the kommun comes from the top-level key
    assert "- Plats och tid: Distanssammanträde, på distans, " in Driver().opened().protocol("md")
    body = {
        "id": "ks",
        "name": "KS",
        "room": "!r:x.se",
        "chair": "@a:x.se",
        "members": [{"user": "@a:x.se", "name": "A"}],
    }
    config = Config(
        matrix={"homeserver": "http://x", "user_id": "@b:x.se", "password": "p"}, organisation="Ö kommun", bodies=[body]
    )
    assert config.bodies[0].roster().organisation == "Ö kommun"
    assert BodyConfig(**body, place="Rådhuset").roster().chair_room == "Rådhuset"


def test_kl_5_53_the_beslutsgang_is_written_with_propositions_and_a_voteringslista_table():
    md, _, page = _demo()
    one = _section(md, "## § 1", "## § 2")
    assert "- Ordföranden ställer proposition på ”Bifall till kommunstyrelsens förslag” och ”Avslag”." in one
    assert "Votering begärs och verkställs." in one
    assert (
        "Voteringslista, votering 1:\n\n| Ledamot | Ja | Nej | Avstår |\n| --- | --- | --- | --- |\n"
        "| Anna Andersson (S) | X |  |  |\n| Bo Berg (M) |  | X |  |\n" in one
    )
    assert "| Summa | 3 | 2 | 0 |" in one
    assert "har Kommunstyrelsen beslutat enligt ”Bifall till kommunstyrelsens förslag” (enkel majoritet)" in one
    # who was given the floor (§ 9), in order, once each: Bo, Cecilia's reply to him, David; Eva
    # asked after the streck and did not take part
    assert "I överläggningen deltar Bo Berg (M), Cecilia Carlsson (S) och David Dahl (C)." in one
    three = _section(md, "## § 3", "## § 4")
    assert (
        "- Ordföranden ställer proposition på ”Åtgärderna genomförs enligt säkerhetsskyddschefens bedömning.”" in three
    )
    assert '<table class="votes">' in page and "<th>Ledamot</th>" in page


def test_p12_the_technical_check_is_one_line_and_the_course_of_events_is_a_bilaga():
    md, _, _ = _demo()
    paragraphs = _section(md, "## § 1", "## Underskrifter")
    assert "bekräftade godtagbar överföring" not in paragraphs and "anslöt till videosamtalet" not in paragraphs
    assert "Förlopp" not in paragraphs
    line = (
        "Teknikfunktionskontroll enligt 12 § arbetsordningen genomfördes kl. 18.00; "
        "samtliga tjänstgörande ledamöter deltog med godtagbar överföring."
    )
    assert _section(md, "## § 1", "## § 2").count(line) == 1
    assert md.index("## Underskrifter") < md.index("## Bilaga: Sammanträdets förlopp")
    bilaga = md[md.index("## Bilaga: Sammanträdets förlopp") :]
    assert "Anna Andersson (S) bekräftade godtagbar överföring i teknikkontroll 1." in bilaga
    assert "\n§ 1  Budget 2027:\n" in bilaga


def test_kl_6_35_no_chat_commands_swedish_quotation_marks_and_dates_aaaa_mm_dd():
    md, doc, page = _demo()
    assert not re.search(r"(?<!\\)!\w", md) and not re.search(r"\(!\w", page)
    assert "«" not in md and "»" not in md
    assert "”Bifall till kommunstyrelsens förslag”" in md
    dates = re.findall(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}\b", md)
    assert dates and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", x) for x in dates), dates


# --- case 11: the json is data ---------------------------------------------------------------------


def test_kl_6_35_the_json_is_data_people_in_fields_and_times_iso_8601_with_offset():
    _, doc, _ = _demo()
    chair = doc["beslutande"][0]
    assert {k: chair[k] for k in ("namn", "parti", "roll", "user")} == {
        "namn": "Anna Andersson",
        "parti": "S",
        "roll": "ordförande",
        "user": "@anna:localhost",
    }
    tina = next(x for x in doc["övriga_närvarande"] if x["user"] == "@tina:localhost")
    assert (tina["namn"], tina["titel"], tina["parti"]) == ("Tina Tjänsteperson", "kommundirektör", None)
    assert doc["öppnat"].startswith("2026-12-03T18:00:") and doc["öppnat"].endswith("+01:00")
    assert doc["kallelse"].startswith("2026-12-01T09:00:") and doc["kallelse"].endswith("+01:00")
    assert doc["ärenden"][0]["teknikkontroller"][0]["tid"].endswith("+01:00")
    assert doc["underskrifter"][0]["signerat"].startswith("2026-12-03T18:02")
    assert [x["röst"] for x in doc["ärenden"][0]["voteringar"][0]["röster"]] == ["ja", "nej", "ja", "nej", "ja"]

    def values(x: Any) -> list[str]:
        if isinstance(x, dict):
            return [
                v for k, y in x.items() if k not in ("förlopp", "inledning", "avslutning", "anslag") for v in values(y)
            ]
        if isinstance(x, list):
            return [v for y in x for v in values(y)]
        return [x] if isinstance(x, str) else []

    data = values(doc)
    assert not [v for v in data if re.search(r"\bkl\. \d|\b\d{2}\.\d{2}\b", v)]  # no display times
    assert not [v for v in data if re.search(r"\w \((S|M|C|V|kommundirektör)\)", v)]  # no baked-in labels
