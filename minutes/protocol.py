"""The protocol: a projection of a meeting's event log, as data (json) and as md and html.

The structure follows a Swedish protocol: heading, who took part and how (KL 5 kap. 65–67 §§
via 6 kap. 35 §), then one paragraph per item taken up. Each item's "Förlopp" lists every
event of the log that concerns that item (`minutes.journal`), so the protocol accounts for
every accepted command, each under its own item.

What people wrote (motions, decisions, reservations, the motivation) is their text and nothing
else in every format: the Markdown renderer escapes every character that could open a heading,
a list, a link or emphasis, and keeps a multi-line text inside its own list item.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

from minutes.journal import AFTER, BEFORE, Entry, replay, stamp
from rules.roster import Roster
from rules.state import Event, Meeting, Vote, date_time, hm
from rules.words import vote_how

FORMATS = ("md", "html", "json")


def _participation(m: Meeting, r: Roster, user: str, comings: dict[str, list[str]]) -> str:
    where = m.location.get(user)
    if where == "lokal":
        how = "i ordförandens lokal"
    elif where:
        how = f"delad överföring med {r.name_of(where)}"
    else:
        how = "på distans"
    return "; ".join([how, *comings.get(user, [])])


def _other_role(r: Roster, user: str) -> str:
    # A member who came while a substitute served and never took over is here, not absent.
    if r.is_member(user):
        return "ledamot, tjänstgjorde inte"
    return "" if r.office(user) in r.label(user) else r.office(user)


def _comings_and_goings(events: list[Event], r: Roster) -> dict[str, list[str]]:
    """Who left the meeting and came back, when and during which item (KL 6 kap. 27 §)."""
    out: dict[str, list[str]] = {}
    for e in events:
        if e.kind == "left":
            during = f" under ärende {e.data['n']}" if e.data.get("n") is not None else ""
            out.setdefault(e.data["user"], []).append(f"lämnade sammanträdet kl. {hm(e.at, r.tz)}{during}")
        elif e.kind == "present" and e.data.get("returned"):
            out.setdefault(e.data["user"], []).append(f"återkom kl. {hm(e.at, r.tz)}")
    return out


def _by_section(entries: list[Entry], m: Meeting, r: Roster) -> dict[int | str, list[str]]:
    """Lines by section; what concerns an item never taken up (a § 7 permission given ahead)
    has no section of its own and stands with the opening."""
    out: dict[int | str, list[str]] = {}
    for e in entries:
        section = e.section if isinstance(e.section, str) or m.items[e.section].taken_up else BEFORE
        out.setdefault(section, []).append(f"{stamp(e.at, m, r)} {e.text}")
    return out


def _propositions(m: Meeting, n: int, events: list[Event]) -> list[str]:
    """The questions the chair put in item n, in order; one put again (a retaken decision) once."""
    out: list[str] = []
    for e in events:
        d = e.data
        if d.get("n") != n:
            continue
        if e.kind == "vote_started":
            prop = (
                f"{d['a']} mot {d['b']} (sluten omröstning)"
                if d.get("closed")
                else f"Ja = {d['a']}, Nej = {d['b']} (votering)"
            )
        elif e.kind == "decided" and d.get("vote") is None:
            prop = f"{d['text']} (bifallet utan votering)"
        else:
            continue
        if prop not in out:
            out.append(prop)
    return out


def build(meeting_id: str, body_id: str, events: Iterable[Event], r: Roster) -> dict[str, Any]:
    events = list(events)
    m, entries = replay(meeting_id, body_id, events, r)
    by_item = _by_section(entries, m, r)
    comings = _comings_and_goings(events, r)
    served = m.ever_served
    deciders = []
    for user, for_members in served.items():
        if for_members:
            role = "tjänstgörande ersättare för " + " och ".join(r.label(u) for u in for_members)
        else:
            role = "ordförande" if user == r.chair else "ledamot"
        deciders.append({"namn": r.label(user), "roll": role, "deltagande": _participation(m, r, user, comings)})
    others = [
        {
            "namn": r.label(u),
            "roll": _other_role(r, u),
            "deltagande": _participation(m, r, u, comings),
        }
        for u in m.present
        if not r.is_substitute(u) and u not in served
    ]
    items = []
    for item in m.items.values():
        if not item.taken_up:
            continue
        permission = None
        if item.approved_by:
            permission = "Säkerhetsskyddschefen bedömde att ärendet kan behandlas på distans (§ 8)."
        elif item.allowed_by:
            permission = f"Ordföranden tillät att ärendet med {item.klass} behandlas (§ 7)."
        presided = [d.presiding for d in item.valid_decisions if d.presiding and d.presiding != r.chair]
        items.append(
            {
                "nummer": item.n,
                "rubrik": item.title,
                "dnr": item.dnr or None,
                "klass": item.klass or None,
                "tillstånd": permission,
                # KL 6 kap. 33 §: who led the item when it was not the ordförande
                "ordförande": [r.label(u) for u in dict.fromkeys(presided)],
                "yrkanden": [
                    {
                        "nr": x.id,
                        "av": r.label(x.user),
                        "yrkande": x.text,
                        "återtaget": x.withdrawn,
                        "förfallet_jäv": x.fallen,
                    }
                    for x in item.motions
                ],
                "teknikkontroller": [
                    {
                        "nr": c.id,
                        "kl": hm(c.started, r.tz),
                        "resultat": "pågår" if c.running else ("godkänd" if c.passed else "ej godkänd"),
                        "svarade_inte": [r.label(u) for u in c.missing] if c.passed is False else [],
                    }
                    for c in m.checks_of(item.n)
                ],
                "jäv": [r.label(u) for u in item.jav],
                "propositionsordning": _propositions(m, item.n, events),
                "voteringar": [_vote(r, v) for v in m.votes_of(item.n)],
                "beslut": [
                    {
                        "kl": hm(d.at, r.tz),
                        "beslut": d.text,
                        "deltog": [r.label(u) for u in d.participants],
                        "teknikkontroll": d.check_id,
                        "votering": d.vote_id,
                        "taget_om": d.retaken,
                        "jäv_efter_beslutet": [r.label(u) for u in d.participants if u in item.jav],
                        "reservationer": [{"av": r.label(u), "motivering": t} for u, t in d.reservations],
                    }
                    for d in item.decisions
                ],
                # KL 5 kap. 66 §: who served, from the decisions that stand
                "tjänstgörande": [
                    r.label(u) for u in dict.fromkeys(u for d in item.valid_decisions for u in d.serving)
                ],
                "förlopp": by_item.get(item.n, []),
            }
        )
    start = m.opened_at or m.start
    return {
        "organ": r.name,
        "sammanträde": m.id,
        "status": m.phase.value,
        "datum": start.astimezone(r.tz).strftime("%Y-%m-%d") if start else None,
        "tid": (f"{hm(m.opened_at, r.tz)}–{hm(m.closed_at, r.tz)}" if m.closed_at else f"{hm(m.opened_at, r.tz)}–")
        if m.opened_at
        else None,
        "kallelse": date_time(m.convened_at, r.tz) if m.convened_at else None,
        "form": m.form,
        "motivering": m.motivation,
        "beslutande": deciders,
        "ej_tjänstgörande_ersättare": [
            {"namn": p.label, "deltagande": _participation(m, r, p.user, comings)}
            for p in r.substitutes
            if p.user in m.present and p.user not in served
        ],
        "övriga_närvarande": others,
        "frånvarande": [p.label for p in (*r.members, *r.substitutes) if p.user not in m.present],
        "teknikfelsledamöter": [
            {"namn": r.label(u), "från": hm(at, r.tz), "ersatt_av": r.label(m.replaced_by.get(u) or m.substituted[u])}
            for u, at in m.teknikfel.items()
        ],
        "inledning": by_item.get(BEFORE, []),
        "ärenden": items,
        "avslutning": by_item.get(AFTER, []),
    }


def _vote(r: Roster, v: Vote) -> dict[str, Any]:
    # One who gave no vote took no part in the decision (KL 4 kap. 27 §): never an abstention.
    ballots: dict[str, list[str]] = {"ja": [], "nej": [], "avstår": [], "röstade inte": []}
    for user in v.voters:
        ballots[v.ballots.get(user, "röstade inte")].append(r.label(user))
    if not ballots["röstade inte"]:
        del ballots["röstade inte"]
    return {
        "nr": v.id,
        "sluten": v.closed,
        "ja_förslag": v.a,
        "nej_förslag": v.b,
        "röster": {} if v.closed else ballots,
        "antal": v.counts,
        "resultat": "pågår" if v.running else ("ogiltig" if v.winner is None else (v.a if v.winner == "a" else v.b)),
        "hur": vote_how(v.how, v.cause, v.lot, r, v.presiding) if v.ended else "",
    }


def render(meeting_id: str, body_id: str, events: Iterable[Event], r: Roster, fmt: str = "md") -> str:
    return render_doc(build(meeting_id, body_id, events, r), fmt)


def render_doc(doc: dict[str, Any], fmt: str = "md") -> str:
    """A built protocol in one format (build once, render several)."""
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    blocks = _blocks(doc)
    return _markdown(blocks) if fmt == "md" else _html(doc["organ"], blocks)


# A protocol as blocks: ("h1"|"h2"|"p", text) or ("ul", [texts]); both renderers read them.


def _blocks(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    b: list[tuple[str, Any]] = [("h1", f"Protokoll – {doc['organ']}")]
    head = [
        f"Datum: {doc['datum'] or '–'}",
        f"Tid: {'kl. ' + doc['tid'] if doc['tid'] else '–'}",
        f"Kallelse utfärdad: {doc['kallelse'] or '–'}",
        f"Form: {doc['form']}sammanträde",
        f"Motivering för distanssammanträde (§ 1): {doc['motivering']}",
    ]
    if doc["status"] != "avslutat":
        head.append(f"Status: sammanträdet {doc['status']} (protokollet är inte slutligt)")
    b.append(("ul", head))

    def people(title: str, rows: list[str]) -> None:
        b.append(("h2", title))
        b.append(("ul", rows) if rows else ("p", "–"))

    people("Beslutande", [f"{x['namn']}, {x['roll']}, {x['deltagande']}" for x in doc["beslutande"]])
    people(
        "Ej tjänstgörande ersättare",
        [f"{x['namn']}, {x['deltagande']}" for x in doc["ej_tjänstgörande_ersättare"]],
    )
    people(
        "Övriga närvarande",
        [", ".join(v for v in (x["namn"], x["roll"], x["deltagande"]) if v) for x in doc["övriga_närvarande"]],
    )
    people("Frånvarande", doc["frånvarande"])
    people(
        "Teknikfelsledamöter (§ 11)",
        [f"{x['namn']}, från kl. {x['från']}, ersatt av {x['ersatt_av']}" for x in doc["teknikfelsledamöter"]],
    )
    people("Sammanträdets öppnande", doc["inledning"])
    for item in doc["ärenden"]:
        dnr = f" ({item['dnr']})" if item["dnr"] else ""
        b.append(("h2", f"Ärende {item['nummer']}. {item['rubrik']}{dnr}"))
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
                rows.append(f"Beslut kl. {d['kl']} togs om och gäller inte (§ 12): {d['beslut']}")
                continue
            rows.append(f"Beslut kl. {d['kl']}: {d['beslut']}")
            rows.append(
                f"Deltog i beslutet: {', '.join(d['deltog'])} "
                f"(efter godkänd teknikkontroll {d['teknikkontroll']}, § 12)."
            )
            if d["jäv_efter_beslutet"]:
                rows.append(
                    f"Jäv anmäldes efter beslutet för {', '.join(d['jäv_efter_beslutet'])}, som deltog i det: "
                    "beslutet ska tas om (KL 6 kap. 28 §)."
                )
            for res in d["reservationer"]:
                why = f": {res['motivering']}" if res["motivering"] else ""
                rows.append(f"Reservation (KL 4 kap. 27 §): {res['av']}{why}")
        if not any(not d["taget_om"] for d in item["beslut"]):
            rows.append("Inget beslut fattades i ärendet.")
        b.append(("ul", rows))
        b.append(("p", "Förlopp:"))
        b.append(("ul", item["förlopp"]))
    people("Sammanträdets avslutning", doc["avslutning"])
    served = {tuple(item["tjänstgörande"]) for item in doc["ärenden"] if item["tjänstgörande"]}
    if len(served) > 1:  # KL 5 kap. 66 §: who served in which items, when it changed
        people(
            "Tjänstgörande per ärende",
            [
                f"Ärende {item['nummer']}: {', '.join(item['tjänstgörande'])}"
                for item in doc["ärenden"]
                if item["tjänstgörande"]
            ],
        )
    b.append(("h2", "Justering"))
    b.append(("p", "Protokollet justeras inom fjorton dagar av ordföranden och justeraren."))
    b.append(("sign", ["Ordförande: ____________________", "Justerare: ____________________"]))
    return b


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


# Inline markup and headings: escaped wherever they stand (`_start` does what opens a line).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#!|~&])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])(?=\s|$)")


def _start(line: str) -> str:
    if _MD_ORDERED.match(line):
        return _MD_ORDERED.sub(r"\1\\\2", line)
    return re.sub(r"^([=+\-])", r"\\\1", line)


def md_text(text: str) -> str:
    """Text as Markdown that shows exactly that text: markup escaped, and each line of a
    multi-line text kept inside the same block (hard line breaks, no blank lines)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    escaped = [_start(_MD_SPECIAL.sub(r"\\\1", line)) for line in lines]
    return "\\\n  ".join(escaped)


def _markdown(blocks: list[tuple[str, Any]]) -> str:
    out = []
    for kind, value in blocks:
        if kind == "h1":
            out.append(f"# {md_text(value)}\n")
        elif kind == "h2":
            out.append(f"## {md_text(value)}\n")
        elif kind == "p":
            out.append(f"{md_text(value)}\n")
        elif kind == "sign":  # the bot's own signature lines: lines to write on, not text
            out.append("\n".join(f"- {v}" for v in value) + "\n")
        else:
            out.append("\n".join(f"- {md_text(v)}" for v in value) + "\n")
    return "\n".join(out)


def _html_text(text: str) -> str:
    return "<br>".join(html.escape(line.strip()) for line in text.splitlines() if line.strip())


def html_body(doc: dict[str, Any]) -> str:
    """A built protocol as HTML without a page around it (for a Matrix message's formatted_body)."""
    return _html_blocks(_blocks(doc))


def _html_blocks(blocks: list[tuple[str, Any]]) -> str:
    out = []
    for kind, value in blocks:
        if kind in ("ul", "sign"):
            out.append("<ul>" + "".join(f"<li>{_html_text(v)}</li>" for v in value) + "</ul>")
        else:
            out.append(f"<{kind}>{_html_text(value)}</{kind}>")
    return "\n".join(out)


def _html(title: str, blocks: list[tuple[str, Any]]) -> str:
    head = f'<meta charset="utf-8"><title>Protokoll – {html.escape(title)}</title>'
    return f'<!doctype html>\n<html lang="sv"><head>{head}</head><body>\n{_html_blocks(blocks)}\n</body></html>\n'
