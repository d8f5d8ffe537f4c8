"""The protocol's layout: what stands where, as blocks that the md, html and PDF renderers all
read, so the three never differ in content or order.

A block is (kind, title, lines):
- title (the document: Protokoll, Protokollsutdrag; [kommun, organ]), head [(label, [values])],
- h2 (a section), appendix (a bilaga's heading: it begins a new page),
- paragraph ("§ 101 Rubrik", [dnr]), note (a remark on a paragraph),
- decision (lead, [decision texts]), list (title, [rows]), table (title, [header, *rows]: cells),
- small (title, [rows] in small type: the course of events), signatures [(roll, namn, signerat)],
- box (title, [lines]: the anslag; first, a log that does not verify), p (text).
Swedish protocols put the head block first, each paragraph under its number and rubrik with the
decision set apart, then the beslutsgång, and the signatures at the foot; the course of events
minute by minute is a bilaga at the end.

Every citation the bot writes here is in the protocol's form (`rules.citations.cite`); the texts
people wrote (motions, decisions, reservations) are theirs and are never rewritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minutes.words import paragraphs_text
from rules.citations import Rule, cite, protocol_text

Block = tuple[str, str, list[Any]]

WARNING = "VARNING – protokollets händelselogg håller inte vid kontrollen"
WARNING_WHAT = (
    "Loggen har ändrats efter att händelserna registrerades. Protokollet nedan är vad den ger nu: det är "
    "därför inte justerat, och ingen underskrift i det gäller. Pröva loggen, också mot rummets "
    "förankringar, med bot.py verify."
)


def blocks(doc: dict[str, Any]) -> list[Block]:
    b: list[Block] = [("title", "Protokoll", _names(doc)), ("head", "", _head(doc))]
    if doc.get("varning"):  # a log that does not verify: said before anything the log gives
        b.insert(0, ("box", WARNING, [*doc["varning"], WARNING_WHAT]))
    for item in doc["ärenden"]:
        b += paragraph(doc, item)
    if doc["utgångna_ärenden"]:
        rows = [
            f"Ärende {x['nummer']} {x['rubrik']}"
            + (f" ({x['dnr']})" if x["dnr"] else "")
            + (f": {x['skäl']}" if x["skäl"] else "")
            for x in doc["utgångna_ärenden"]
        ]
        b.append(("list", "Utgångna ärenden", rows))
    served = {tuple(p["user"] for p in item["tjänstgörande"]) for item in doc["ärenden"] if item["tjänstgörande"]}
    if len(served) > 1:  # KL 5 kap. 66 §: who served in which items, when it changed
        rows = [
            f"{_number(item)}: {', '.join(map(label, item['tjänstgörande']))}"
            for item in doc["ärenden"]
            if item["tjänstgörande"]
        ]
        b.append(("list", "Tjänstgörande per paragraf", rows))
    b += _foot(doc)
    # The minute-by-minute course of events, every event of the log under the item it concerns:
    # a bilaga, not the paragraphs' body.
    b.append(("appendix", "Bilaga: Sammanträdets förlopp", []))
    b.append(("small", "Före första paragrafen", doc["inledning"]))
    for item in doc["ärenden"]:
        b.append(("small", f"{_number(item)}  {item['rubrik']}", item["förlopp"]))
    b.append(("small", "Sammanträdets avslutning och därefter", doc["avslutning"]))
    return b


def _names(doc: dict[str, Any]) -> list[str]:
    """The kommun and the body, as the head of the first page names them."""
    return [x for x in (doc["organisation"], doc["organ"]) if x]


def extract(doc: dict[str, Any], n: int) -> list[Block]:
    """A protokollsutdrag: the head that says which meeting and who took part in the paragraph,
    paragraph n, who justerade it, and the line for the utdragsbestyrkande."""
    item = next(i for i in doc["ärenden"] if i["nummer"] == n)
    justerad = item["omedelbart_justerad"]
    head = [
        ("Sammanträdesdatum", [doc["datum"] or "–"]),
        ("Paragraf", [_number(item)]),
        ("Beslutande", [label(p) for p in item["tjänstgörande"]] or ["–"]),
        ("Justerad", [f"omedelbart, {day_and_clock(justerad)}" if justerad else "–"]),
        ("Justerad av", [label(p) for p in item["justerad_av"]] or ["–"]),
        ("Fingeravtryck (SHA-256)", [item["fingeravtryck"]]),
    ]
    blocks_ = [("title", "Protokollsutdrag", _names(doc)), ("head", "", head)]
    blocks_ += paragraph(doc, item)
    blocks_ += [_anslag_box(item["anslag"])] if item["anslag"] else []
    # Utdragsbestyrkande: the one who certifies that the extract agrees with the protocol.
    return [*blocks_, ("signatures", "", [("Utdragsbestyrkande", "", ""), ("Namnförtydligande", "", "")])]


def label(p: dict[str, Any]) -> str:
    """A person as the protocol names them: with party for politicians, title for officials."""
    extra = p.get("parti") or p.get("titel")
    return f"{p['namn']} ({extra})" if extra else p["namn"]


def _place_and_time(doc: dict[str, Any]) -> str:
    form = "Distanssammanträde" if doc["form"] == "distans" else "Hybridsammanträde"
    where = f"{doc['plats']} (ordförandens lokal) och på distans" if doc["plats"] else "på distans"
    when = doc["datum"] or "–"
    if doc["öppnat"]:
        when += f" kl. {clock(doc['öppnat'])}–" + (clock(doc["avslutat"]) if doc["avslutat"] else "")
    return f"{form}, {where}, {when}"


def _with_comings(x: dict[str, Any]) -> str:
    """How one took part, with when they left and came back (6 kap. 27 § kommunallagen)."""
    out = [f"{x['deltagande']} med {x['delad_med']['namn']}" if x["delad_med"] else x["deltagande"]]
    for c in x["kom_och_gick"]:
        if "lämnade" in c:
            during = f" under § {c['under_paragraf']}" if c["under_paragraf"] is not None else ""
            out.append(f"lämnade sammanträdet kl. {clock(c['lämnade'])}{during}")
        elif "till_ordförandens_lokal" in c:
            out.append(f"i ordförandens lokal från kl. {clock(c['till_ordförandens_lokal'])}")
        else:
            out.append(f"återkom kl. {clock(c['återkom'])}")
    return "; ".join(out)


def _decider(x: dict[str, Any]) -> str:
    """A decision-maker and the paragraphs served in (KL 5 kap. 66 §): a substitute with the
    paragraphs served and for whom, a member with those not served in."""
    if x["roll"] == "ersättare":
        seats = [
            f"ersättare för {label(m)}" + (f", {paragraphs_text(m['paragrafer'])}" if m["paragrafer"] else "")
            for m in x["ersättare_för"]
        ]
        return ", ".join([label(x), *seats, _with_comings(x)])
    off = f"ej {paragraphs_text(x['ej_paragrafer'])}" if x["ej_paragrafer"] else ""
    return ", ".join(v for v in (label(x), x["roll"], off, _with_comings(x)) if v)


def _head(doc: dict[str, Any]) -> list[tuple[str, list[str]]]:
    rows = [
        ("Plats och tid", [_place_and_time(doc)]),
        ("Kallelse utfärdad", [day_and_clock(doc["kallelse"]) if doc["kallelse"] else "–"]),
        ("Motivering för distanssammanträde (1 § arbetsordningen)", [doc["motivering"]]),
        ("Beslutande", [_decider(x) for x in doc["beslutande"]]),
        (
            "Ej tjänstgörande ersättare",
            [
                ", ".join(v for v in (label(x), _span_of(x["ej_paragrafer"]), _with_comings(x)) if v)
                for x in doc["ej_tjänstgörande_ersättare"]
            ],
        ),
        ("Sekreterare", [f"{label(x)}, {_with_comings(x)}" for x in doc["sekreterare"]]),
        (
            "Övriga närvarande",
            [", ".join(v for v in (label(x), x["roll"], _with_comings(x)) if v) for x in doc["övriga_närvarande"]],
        ),
        ("Frånvarande", [label(x) + (" (anmält förhinder)" if x["förhinder"] else "") for x in doc["frånvarande"]]),
        (
            "Teknikfelsledamöter (11 § arbetsordningen)",
            [
                f"{label(x)}, från kl. {clock(x['från'])}, ersatt av {label(x['ersatt_av'])}"
                for x in doc["teknikfelsledamöter"]
            ],
        ),
        ("Utses att justera", [label(p) for p in doc["justerare"]]),
        ("Justeringens plats och tid", [_justering(doc["justering"])]),
        ("Paragrafer", [_span(doc["paragrafer"])]),
    ]
    if doc["status"] != "avslutat":
        rows.append(("Status", [f"sammanträdet {doc['status']} (protokollet är inte slutligt)"]))
    return [(label_, values or ["–"]) for label_, values in rows]


def _justering(j: dict[str, Any] | None) -> str:
    if j is None:
        return "–"
    text = f"{j['plats'][0].upper()}{j['plats'][1:]}, {day_and_clock(j['tid'])}"
    if j["för_sent"]:
        text += f", senare än fjorton dagar efter sammanträdet (senast {j['senast']}, {cite(Rule.KL_6_35)})"
    return text


def day_and_clock(iso: str) -> str:
    """A time of the data with its day: 2026-12-03 kl. 18.05."""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d kl. %H.%M")


def _span(numbers: list[int]) -> str:
    """The paragraphs of the protocol, first–last: § 3, §§ 1–4."""
    if not numbers:
        return "–"
    low, high = min(numbers), max(numbers)
    return f"§ {low}" if low == high else f"§§ {low}–{high}"


def _span_of(numbers: list[int] | None) -> str:
    return paragraphs_text(numbers) if numbers else ""


def clock(iso: str) -> str:
    """A time of the data as the protocol writes it: 18.05."""
    return datetime.fromisoformat(iso).strftime("%H.%M")


def _number(item: dict[str, Any]) -> str:
    return f"§ {item['paragraf']}" if item["paragraf"] is not None else f"Ärende {item['nummer']}"


def paragraph(doc: dict[str, Any], item: dict[str, Any]) -> list[Block]:
    """A paragraph as Swedish protocols write it: number, rubrik and Dnr; the decision set apart;
    who took part in the debate; the yrkanden; the beslutsgång with each voteringslista; the
    technical checks, one line each."""
    out: list[Block] = [("paragraph", f"{_number(item)}  {item['rubrik']}", [item["dnr"]] if item["dnr"] else [])]
    if item["omedelbart_justerad"]:
        out.append(
            (
                "note",
                f"Paragrafen justerades omedelbart {day_and_clock(item['omedelbart_justerad'])} "
                f"({cite(Rule.KL_5_69)}).",
                [],
            )
        )
    standing = [d for d in item["beslut"] if not d["taget_om"]]
    lead = f"{doc['organ']} beslutar" if standing else "Inget beslut fattades i ärendet."
    out.append(("decision", lead, [_decision_text(d) for d in standing]))
    if item["i_överläggningen"]:
        out.append(("p", f"I överläggningen deltar {_people(item['i_överläggningen'])}.", []))
    if item["yrkanden"]:
        out.append(("list", "Yrkanden", [_motion(x) for x in item["yrkanden"]]))
    out.append(("list", "Beslutsgång", _course(doc, item)))
    for v in item["voteringar"]:
        if not v["sluten"]:
            out.append(("table", f"Voteringslista, votering {v['nr']}", _vote_table(v)))
    out += [("p", _check_line(c), []) for c in item["teknikkontroller"]]
    return out


def _people(people: Any) -> str:
    return _and([label(p) for p in people])


def _and(names: list[str]) -> str:
    return " och ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _motion(x: dict[str, Any]) -> str:
    state = " (återtaget)" if x["återtaget"] else " (förfallet på grund av jäv)" if x["förfallet_jäv"] else ""
    return f"{label(x['av'])}: {x['yrkande']}{state}"


def _decision_text(d: dict[str, Any]) -> str:
    """A decision as the box shows it: after a vote, with the proposal that won (a yrkande is
    not a decision's wording: the chair words it with !beslut, or it reads as the proposal won)."""
    proposal = d["enligt_förslag"]
    if proposal is None:
        return d["beslut"]
    if d["beslut"] == proposal:
        return f"i enlighet med förslaget ”{proposal}” (efter votering)"
    return f"{d['beslut']} (efter votering, i enlighet med förslaget ”{proposal}”)"


def media_evidence(d: dict[str, Any], when: str) -> str:
    """What a check or a decision records of the call's media server (§§ 3, 5, 12), as a sentence."""
    if d.get("samtalet") == "shown":
        return f" {when} hade samtliga tjänstgörande ljud och rörlig bild enligt samtalet."
    if d.get("samtalet") == "shown_remote":
        return f" {when} hade samtliga tjänstgörande på distans ljud och rörlig bild enligt samtalet."
    if d.get("samtalet") == "lacking":
        return f" {when} visade samtalet inte ljud och rörlig bild för alla tjänstgörande ({cite(Rule.P3)})."
    if d.get("samtalet") == "attested":
        return f" {when} kunde samtalets ljud och bild inte läsas; ledamöternas intyganden godtogs ({cite(Rule.P3)})."
    return ""


def _check_line(c: dict[str, Any]) -> str:
    """A technical check's outcome, in one line (the answers are in the bilaga)."""
    lead = f"Teknikfunktionskontroll enligt {cite(Rule.P12)}"
    if c["resultat"] == "godkänd":
        everyone = "samtliga tjänstgörande ledamöter deltog med godtagbar överföring"
        return f"{lead} genomfördes kl. {clock(c['tid'])}; {everyone}." + media_evidence(c, "Vid kontrollen")
    if c["resultat"] == "pågår":
        return f"{lead} påbörjades kl. {clock(c['tid'])} och pågår."
    missing = f"; svarade inte: {_people(c['svarade_inte'])}" if c["svarade_inte"] else ""
    return f"{lead} kl. {clock(c['tid'])} godkändes inte{missing}."


def _course(doc: dict[str, Any], item: dict[str, Any]) -> list[str]:
    """The beslutsgång as it is written: who led, permissions, jäv, then for each decision the
    chair's proposition and what the chair found, or the vote and its result; retaken decisions,
    rättelser (once, with the earlier wording) and reservations."""
    organ = doc["organ"]
    rows = []
    if item["ordförande"]:
        rows.append(f"Ordförande i ärendet ({cite(Rule.KL_6_33)}): {_people(item['ordförande'])}.")
    if item["klass"]:
        rows.append(f"Uppgifter: {item['klass']}. {item['tillstånd'] or ''}".strip())
    if item["jäv"]:
        rows.append(f"{_people(item['jäv'])} anmäler jäv och deltar inte i handläggningen ({cite(Rule.KL_6_28)}).")
    votes = {v["nr"]: v for v in item["voteringar"]}
    shown = set()
    for d in item["beslut"]:
        vote = votes.get(d["votering"]) if d["votering"] is not None else None
        if vote is not None:
            shown.add(vote["nr"])
            rows += _vote_course(organ, vote)
        if d["taget_om"]:  # its proposition is put again for the decision that stands: stated once
            fell = _people(res["av"] for res in d["reservationer"])
            rows.append(
                f"Beslutet kl. {clock(d['tid'])}, ”{d['beslut']}”, tas om och gäller inte ({cite(Rule.P12)})."
                + (f" Reservationerna mot det faller: {fell}." if fell else "")
            )
            continue
        if vote is None:
            rows.append(f"Ordföranden ställer proposition på ”{d['beslut']}” och finner att {organ} bifaller det.")
        if d.get("samtalet"):
            rows.append(media_evidence(d, "Vid beslutet").strip())
        if d["avstod"]:
            rows.append(f"{_people(d['avstod'])} avstår från att delta i beslutet ({cite(Rule.KL_4_25)}).")
        if d.get("plats"):
            places = "; ".join(f"{label(x)} {x['plats']}" for x in d["plats"])
            rows.append(f"Plats vid beslutet ({cite(Rule.P2)}): {places}.")
        for c in d["rättelser"]:
            rows.append(
                f"Beslutets lydelse rättades {day_and_clock(c['tid'])} av {label(c['av'])} ({cite(Rule.KL_5_69)}); "
                f"tidigare lydelse: ”{c['tidigare']}”"
            )
        if d["jäv_efter_beslutet"]:
            rows.append(
                f"Jäv anmäldes efter beslutet för {_people(d['jäv_efter_beslutet'])}, som deltog i det: "
                f"beslutet ska tas om ({cite(Rule.KL_6_28)})."
            )
        for res in d["reservationer"]:
            why = f": {res['motivering']}" if res["motivering"] else "."
            rows.append(f"{label(res['av'])} reserverar sig mot beslutet ({cite(Rule.KL_4_27)}){why}")
    for v in item["voteringar"]:  # a vote that decided nothing (running, void)
        if v["nr"] not in shown:
            rows += _vote_course(organ, v)
    return rows


def _vote_course(organ: str, v: dict[str, Any]) -> list[str]:
    a, b = v["ja_förslag"], v["nej_förslag"]
    rows = [f"Ordföranden ställer proposition på ”{a}” och ”{b}”."]
    c = v["antal"]
    if v["sluten"]:
        rows.append(f"Sluten omröstning med valsedlar i ordförandens lokal förrättas ({cite(Rule.P13)}).")
        counted = f"”{a}” {c.get('a', 0)} röster, ”{b}” {c.get('b', 0)} röster, blanka {c.get('blanka', 0)}"
    else:
        rows.append(
            f"Votering begärs och verkställs. Den som vill bifalla ”{a}” röstar ja; "
            f"den som vill bifalla ”{b}” röstar nej."
        )
        counted = f"{c.get('ja', 0)} ja-röster, {c.get('nej', 0)} nej-röster, {c.get('avstår', 0)} avstår"
    if v["resultat"] == "pågår":
        rows.append("Voteringen pågår.")
    elif v["resultat"] == "ogiltig":
        rows.append(f"Voteringen är ogiltig: {v['hur']}.")
    else:
        rows.append(f"Med {counted} har {organ} beslutat enligt ”{v['resultat']}” ({v['hur']}).")
    return rows


_VOTE = {"ja": "Ja", "nej": "Nej", "avstår": "Avstår", None: "Röstade inte"}


def _vote_table(v: dict[str, Any]) -> list[tuple[str, ...]]:
    """The voteringslista: a row per member voting, a column per answer, and the sums."""
    columns = [k for k in _VOTE if k is not None or any(x["röst"] is None for x in v["röster"])]
    rows: list[tuple[str, ...]] = [("Ledamot", *(_VOTE[k] for k in columns))]
    for x in v["röster"]:
        rows.append((label(x), *("X" if x["röst"] == k else "" for k in columns)))
    rows.append(("Summa", *(str(sum(1 for x in v["röster"] if x["röst"] == k)) for k in columns)))
    return rows


def _foot(doc: dict[str, Any]) -> list[Block]:
    rows = [
        (x["roll"], label(x), f"Signerat digitalt {day_and_clock(x['signerat'])}" if x["signerat"] else "")
        for x in doc["underskrifter"]
    ]
    out: list[Block] = [("h2", "Underskrifter", [])]
    if not doc["justering"] and not doc.get("varning"):
        out.append(("p", f"Protokollet justeras inom fjorton dagar av dem som anges nedan ({cite(Rule.KL_6_35)}).", []))
    out.append(("signatures", "", rows))
    out.append(("p", f"Protokollets fingeravtryck (SHA-256): {doc['fingeravtryck']}", []))
    # KL 8 kap. 12 §: each omedelbart justerad paragraph has its own anslag, then the protocol's
    for lines in [item["anslag"] for item in doc["ärenden"] if item["anslag"]] + [doc["anslag"]]:
        if lines:
            out.append(_anslag_box(lines))
    return out


def _anslag_box(lines: list[str]) -> Block:
    """The anslag, as the room shows it, with its citations as the protocol writes them."""
    return ("box", protocol_text(lines[0]), [protocol_text(x) for x in lines[1:]])
