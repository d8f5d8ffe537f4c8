"""The protocol's layout: what stands where, as blocks that the md, html and PDF renderers all
read, so the three never differ in content or order.

A block is (kind, title, lines):
- title (organ), head [(label, [values])], h2 (a section), paragraph ("§ 101 Rubrik", [dnr]),
- note (a remark on a paragraph), decision (lead, [decision texts]), list (title, [rows]),
- small (title, [rows] in small type: the course of events), signatures [(roll, namn, signerat)],
- box (title, [lines]: the anslag; first, a log that does not verify), p (text).
Swedish protocols put the head block first, each paragraph under its number and rubrik with the
decision set apart, then the beslutsgång and the course of events, and the signatures at the foot.
"""

from __future__ import annotations

from typing import Any

Block = tuple[str, str, list[Any]]

WARNING = "VARNING – protokollets händelselogg håller inte vid kontrollen"
WARNING_WHAT = (
    "Loggen har ändrats efter att händelserna registrerades. Protokollet nedan är vad den ger nu: det är "
    "därför inte justerat, och ingen underskrift i det gäller. Pröva loggen, också mot rummets "
    "förankringar, med bot.py verify."
)


def blocks(doc: dict[str, Any]) -> list[Block]:
    b: list[Block] = [("title", doc["organ"], []), ("head", "", _head(doc))]
    if doc.get("varning"):  # a log that does not verify: said before anything the log gives
        b.insert(0, ("box", WARNING, [*doc["varning"], WARNING_WHAT]))
    b.append(("small", "Sammanträdets öppnande", doc["inledning"]))
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
    b.append(("small", "Sammanträdets avslutning", doc["avslutning"]))
    served = {tuple(item["tjänstgörande"]) for item in doc["ärenden"] if item["tjänstgörande"]}
    if len(served) > 1:  # KL 5 kap. 66 §: who served in which items, when it changed
        rows = [
            f"{_number(item)}: {', '.join(item['tjänstgörande'])}" for item in doc["ärenden"] if item["tjänstgörande"]
        ]
        b.append(("list", "Tjänstgörande per paragraf", rows))
    b += _foot(doc)
    return b


def extract(doc: dict[str, Any], n: int) -> list[Block]:
    """A protokollsutdrag: the head that says which meeting, and paragraph n."""
    item = next(i for i in doc["ärenden"] if i["nummer"] == n)
    head = [
        ("Organ", [doc["organ"]]),
        ("Sammanträdesdatum", [doc["datum"] or "–"]),
        ("Paragraf", [_number(item)]),
        ("Justerad", [f"omedelbart, {item['omedelbart_justerad']}" if item["omedelbart_justerad"] else "–"]),
        ("Justerad av", item["justerad_av"] or ["–"]),
        ("Fingeravtryck (SHA-256)", [item["fingeravtryck"]]),
    ]
    blocks_ = [("title", doc["organ"], ["Protokollsutdrag"]), ("head", "", head)]
    blocks_ += [b for b in paragraph(doc, item) if b[0] != "small"]
    return blocks_ + ([("box", item["anslag"][0], item["anslag"][1:])] if item["anslag"] else [])


def _head(doc: dict[str, Any]) -> list[tuple[str, list[str]]]:
    form = "Distanssammanträde" if doc["form"] == "distans" else "Hybridsammanträde"
    when = f"{doc['datum'] or '–'}" + (f" kl. {doc['tid']}" if doc["tid"] else "")
    rows = [
        ("Plats och tid", [f"{form}, {when}"]),
        ("Kallelse utfärdad", [doc["kallelse"] or "–"]),
        ("Motivering för distanssammanträde (§ 1)", [doc["motivering"]]),
        ("Beslutande", [f"{x['namn']}, {x['roll']}, {x['deltagande']}" for x in doc["beslutande"]]),
        ("Ej tjänstgörande ersättare", [f"{x['namn']}, {x['deltagande']}" for x in doc["ej_tjänstgörande_ersättare"]]),
        (
            "Övriga närvarande",
            [", ".join(v for v in (x["namn"], x["roll"], x["deltagande"]) if v) for x in doc["övriga_närvarande"]],
        ),
        ("Frånvarande", doc["frånvarande"]),
        (
            "Teknikfelsledamöter (§ 11)",
            [f"{x['namn']}, från kl. {x['från']}, ersatt av {x['ersatt_av']}" for x in doc["teknikfelsledamöter"]],
        ),
        ("Utses att justera", doc["justerare"]),
        ("Justeringens plats och tid", [doc["justering"] or "–"]),
        ("Paragrafer", [doc["paragrafer"] or "–"]),
    ]
    if doc["status"] != "avslutat":
        rows.append(("Status", [f"sammanträdet {doc['status']} (protokollet är inte slutligt)"]))
    return [(label, values or ["–"]) for label, values in rows]


def _number(item: dict[str, Any]) -> str:
    return f"§ {item['paragraf']}" if item["paragraf"] is not None else f"Ärende {item['nummer']}"


def paragraph(doc: dict[str, Any], item: dict[str, Any]) -> list[Block]:
    out: list[Block] = [("paragraph", f"{_number(item)}  {item['rubrik']}", [item["dnr"]] if item["dnr"] else [])]
    if item["omedelbart_justerad"]:
        out.append(("note", f"Paragrafen justerades omedelbart {item['omedelbart_justerad']} (KL 5 kap. 69 §).", []))
    standing = [d for d in item["beslut"] if not d["taget_om"]]
    lead = f"{doc['organ']} beslutar" if standing else "Inget beslut fattades i ärendet."
    out.append(("decision", lead, [_decision_text(d) for d in standing]))
    out.append(("list", "Beslutsgång", _course(item)))
    out.append(("small", "Förlopp", item["förlopp"]))
    return out


def _decision_text(d: dict[str, Any]) -> str:
    """A decision as the box shows it: after a vote, with the proposal that won (a yrkande is
    not a decision's wording: the chair words it with !beslut, or it reads as the proposal won)."""
    proposal = d["enligt_förslag"]
    if proposal is None:
        return d["beslut"]
    if d["beslut"] == proposal:
        return f"i enlighet med förslaget ”{proposal}” (efter votering)"
    return f"{d['beslut']} (efter votering, i enlighet med förslaget ”{proposal}”)"


def _course(item: dict[str, Any]) -> list[str]:
    """The beslutsgång: permissions, who led, jäv, motions, propositions, checks, votes, who took
    part, retaken decisions, rättelser and reservations."""
    rows = []
    if item["ordförande"]:
        rows.append(f"Ordförande i ärendet (KL 6 kap. 33 §): {', '.join(item['ordförande'])}")
    if item["klass"]:
        rows.append(f"Uppgifter: {item['klass']}. {item['tillstånd'] or ''}".strip())
    if item["jäv"]:
        rows.append(f"Jäv (KL 6 kap. 28 §): {', '.join(item['jäv'])} deltog inte i handläggningen.")
    for x in item["yrkanden"]:
        state = " (återtaget)" if x["återtaget"] else " (förfallet, jäv)" if x["förfallet_jäv"] else ""
        rows.append(f"Yrkande {x['nr']} ({x['av']}): {x['yrkande']}{state}")
    for n, prop in enumerate(item["propositionsordning"], 1):
        rows.append(f"Proposition {n}: {prop}")
    for c in item["teknikkontroller"]:
        missing = f"; svarade inte: {', '.join(c['svarade_inte'])}" if c["svarade_inte"] else ""
        rows.append(f"Teknikkontroll {c['nr']} (§ 12) kl. {c['kl']}: {c['resultat']}{missing}")
    for v in item["voteringar"]:
        rows.append(_vote_row(v))
    for d in item["beslut"]:
        if d["taget_om"]:
            fell = ", ".join(res["av"] for res in d["reservationer"])
            rows.append(
                f"Beslut kl. {d['kl']} togs om och gäller inte (§ 12): {d['beslut']}"
                + (f"; reservationerna mot det föll: {fell}" if fell else "")
            )
            continue
        rows.append(
            f"Beslut kl. {d['kl']}. Deltog i beslutet: {', '.join(d['deltog'])} "
            f"(efter godkänd teknikkontroll {d['teknikkontroll']}, § 12)."
        )
        if d["avstod"]:
            rows.append(f"Avstod från att delta i beslutet (KL 4 kap. 25 §): {', '.join(d['avstod'])}.")
        if d.get("plats"):
            rows.append(f"Plats vid beslutet (2 § arbetsordningen): {'; '.join(d['plats'])}.")
        for c in d["rättelser"]:
            rows.append(f"Rättelse {c['kl']} av {c['av']}; tidigare lydelse: {c['tidigare']}")
        if d["jäv_efter_beslutet"]:
            rows.append(
                f"Jäv anmäldes efter beslutet för {', '.join(d['jäv_efter_beslutet'])}, som deltog i det: "
                "beslutet ska tas om (KL 6 kap. 28 §)."
            )
        for res in d["reservationer"]:
            why = f": {res['motivering']}" if res["motivering"] else ""
            rows.append(f"Reservation (KL 4 kap. 27 §): {res['av']}{why}")
    return rows


def _vote_row(v: dict[str, Any]) -> str:
    if v["sluten"]:
        c = v["antal"]
        counted = f"{v['ja_förslag']} {c.get('a', 0)}, {v['nej_förslag']} {c.get('b', 0)}, blanka {c.get('blanka', 0)}"
        head = f"Sluten omröstning {v['nr']} med valsedlar i ordförandens lokal (§ 13): {counted}"
    else:
        votes = "; ".join(f"{k}: {', '.join(names) or '–'}" for k, names in v["röster"].items())
        head = f"Votering {v['nr']} (Ja = {v['ja_förslag']}, Nej = {v['nej_förslag']}): {votes}"
    if v["resultat"] in ("pågår", "ogiltig"):
        return f"{head}. Resultat: {v['resultat']}" + (f" ({v['hur']})." if v["hur"] else ".")
    return f"{head}. Resultat: {v['resultat']} ({v['hur']})."


def _foot(doc: dict[str, Any]) -> list[Block]:
    rows = [
        (x["roll"], x["namn"], f"Signerat digitalt {x['signerat']}" if x["signerat"] else "")
        for x in doc["underskrifter"]
    ]
    out: list[Block] = [("h2", "Underskrifter", [])]
    if not doc["justering"] and not doc.get("varning"):
        out.append(
            ("p", "Protokollet justeras inom fjorton dagar av dem som anges nedan (6 kap. 35 § kommunallagen).", [])
        )
    out.append(("signatures", "", rows))
    out.append(("p", f"Protokollets fingeravtryck (SHA-256): {doc['fingeravtryck']}", []))
    # KL 8 kap. 12 §: each omedelbart justerad paragraph has its own anslag, then the protocol's
    for lines in [item["anslag"] for item in doc["ärenden"] if item["anslag"]] + [doc["anslag"]]:
        if lines:
            out.append(("box", lines[0], lines[1:]))
    return out
