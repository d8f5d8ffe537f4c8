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

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from minutes import layout, page
from minutes.journal import AFTER, BEFORE, Entry, replay, stamp
from minutes.words import anslag_lines, paragraphs_text, signer_roles, vote_how
from rules.actions import Accepted, Command
from rules.anslag import last_day_to_justera
from rules.citations import Rule, cite, protocol_text
from rules.engine import Engine
from rules.roster import Roster
from rules.signers import justering_plan
from rules.state import Event, Item, Meeting, Phase, Vote, apply
from rules.words import short_fingerprint

FORMATS = ("md", "html", "json", "pdf")


def _participation(
    m: Meeting, r: Roster, user: str, comings: dict[str, list[dict[str, Any]]], moved: set[str]
) -> dict[str, Any]:
    """How a person took part, and when they left and came back (KL 6 kap. 27 §); one who moved
    to the chair's room took part at a distance first, and the move is among the comings (§ 2)."""
    where = m.location.get(user)
    if user in moved:
        how = "på distans"
    else:
        how = "i ordförandens lokal" if where == "lokal" else "delad överföring" if where else "på distans"
    shared = person(r, where) if where and where != "lokal" else None
    return {"deltagande": how, "delad_med": shared, "kom_och_gick": comings.get(user, [])}


def _other_role(r: Roster, user: str) -> str:
    # A member who came while a substitute served and never took over is here, not absent.
    if r.is_member(user):
        return "ledamot, tjänstgjorde inte"
    return "" if r.office(user) in r.label(user) else r.office(user)


def _comings_and_goings(events: list[Event], m: Meeting, r: Roster) -> dict[str, list[dict[str, Any]]]:
    """Who left the meeting and came back, when and during which paragraph (KL 6 kap. 27 §), and
    who moved to the chair's room, when (§ 2)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e.kind == "located" and e.data.get("moved"):
            out.setdefault(e.data["users"][0], []).append({"till_ordförandens_lokal": _iso(e.at, r)})
        elif e.kind == "left":
            n = e.data.get("n")
            paragraph = m.items[n].paragraph if n is not None else None
            out.setdefault(e.data["user"], []).append({"lämnade": _iso(e.at, r), "under_paragraf": paragraph})
        elif e.kind == "present" and e.data.get("returned"):
            out.setdefault(e.data["user"], []).append({"återkom": _iso(e.at, r)})
    return out


def _places_at_decisions(events: list[Event]) -> tuple[set[str], dict[int, list[dict[str, str]]]]:
    """Who moved to the chair's room during the meeting, and for each item's decisions in order,
    where each of them who took part was at that decision (§ 2): the protocol must not read as
    if they sat there all along."""
    moved: set[str] = set()
    out: dict[int, list[dict[str, str]]] = {}
    for e in events:
        if e.kind == "located" and e.data.get("moved"):
            moved.add(e.data["users"][0])
        elif e.kind == "decided":
            out.setdefault(e.data["n"], []).append({u: "i ordförandens lokal" for u in moved})
    return moved, out


def _by_section(entries: list[Entry], m: Meeting, r: Roster) -> dict[int | str, list[str]]:
    """Lines by section; what concerns an item never taken up (a § 7 permission given ahead)
    has no section of its own and stands with the opening."""
    out: dict[int | str, list[str]] = {}
    for e in entries:
        if not e.text:  # kept in the log, told by its consequences (what the call's server shows)
            continue
        section = e.section if isinstance(e.section, str) or m.items[e.section].taken_up else BEFORE
        out.setdefault(section, []).append(f"{stamp(e.at, m, r)} {e.text}")
    return out


def canonical(content: Any) -> bytes:
    """The canonical form of protocol content: its json with sorted keys and no spaces."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _sha256(content: Any) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


# What a signature covers: the meeting's events themselves, never a sentence or a layout that a
# later version may word or arrange differently, so that a protocol justerat in 2026 verifies in
# 2036 whatever the renderer says by then. The signed bytes are one line of canonical json for
# the meeting (this form's name, its id, the item for a paragraph, and the roster facts the
# protocol names people by), then one line per event (kind, time, actor, data) as stored.
# These functions are frozen for this form: a change in what is signed is a new form with
# functions of its own, and `signed_form` keeps recognising every earlier one.
SIGNED_FORM = "distansbot-händelser-1"
# What signs, and what is recorded of the signed protocol, is not what is signed (this form's
# set): the signatures and the justering, each showing of the protocol in the room (which names
# the fingerprint it showed) and the day the anslag was put up.
NOT_SIGNED = frozenset({"signed", "justerad", "posted", "anslag"})


def _roster_facts(r: Roster) -> dict[str, Any]:
    def people(group: tuple) -> list[list[str]]:
        return [[p.user, p.name, p.party, p.title] for p in group]

    return {
        "organ": [r.body_id, r.name],
        "ledamöter": people(r.members),
        "ersättare": people(r.substitutes),
        "övriga": people(r.attendees),
        "ordförande": r.chair,
        "vice_ordförande": list(r.vice_chairs),
        "sekreterare": list(r.secretaries),
        "säkerhetsskyddschef": r.security_chief,
        "tidszon": str(r.tz),
        "plats": r.place,
        "förvaras": r.protocol_kept_at,
    }


def signed_bytes(meeting_id: str, events: Iterable[Event], r: Roster, n: int | None = None) -> bytes:
    """What a signature on the protocol (`n` None) or on item n's paragraph covers, of the log as
    it stands in `events`: the events up to the justering, if there was one (what comes after it
    is not what was signed); for a paragraph, up to the last event of its item."""
    ends = "justerad" if n is None else "paragraph_justerad"
    content = []
    for e in events:
        if e.kind == ends and (n is None or e.data.get("n") == n):
            break
        if e.kind not in NOT_SIGNED:
            content.append(e)
    if n is not None:
        last = max((i for i, e in enumerate(content) if e.data.get("n") == n), default=-1)
        content = content[: last + 1]
    head = {"form": SIGNED_FORM, "sammanträde": meeting_id, "ärende": n, "förteckning": _roster_facts(r)}
    lines = [canonical(head), *(canonical([e.kind, e.at.isoformat(), e.actor, e.data]) for e in content)]
    return b"\n".join(lines)


def fingerprint(meeting_id: str, events: Iterable[Event], r: Roster, n: int | None = None) -> str:
    """The SHA-256 of `signed_bytes`: the protocol's fingerprint, or item n's paragraph's."""
    return hashlib.sha256(signed_bytes(meeting_id, events, r, n)).hexdigest()


def signed_form(meeting_id: str, body_id: str, before: list[Event], r: Roster, n: int | None, fp: str) -> str | None:
    """Which form a signature given after the events `before` is on, if it is on them: the
    events ("händelser"), or the text as the versions before the events were signed rendered it
    ("text", rebuilt with today's renderer, so such a signature still depends on its wording)."""
    if fp == fingerprint(meeting_id, before, r, n):
        return "händelser"
    doc = _doc(meeting_id, body_id, [e for e in before if e.kind not in NOT_SIGNED], r, "")
    if n is None:
        return "text" if fp == _sha256(doc) else None
    item = next((i for i in doc["ärenden"] if i["nummer"] == n), None)
    return "text" if item is not None and fp == _text_paragraph_fingerprint(doc, item) else None


def build(meeting_id: str, body_id: str, events: Iterable[Event], r: Roster) -> dict[str, Any]:
    """The protocol as data. Its `fingeravtryck` is that of what is signed (`signed_bytes`):
    the events up to the justering without the signatures, so the same log always gives the
    same fingerprint, a signature never changes what it signs, and no wording does either.
    Each item carries the fingerprint of its paragraph (for omedelbar justering)."""
    events = list(events)
    fp = fingerprint(meeting_id, events, r)
    doc = _doc(meeting_id, body_id, events, r, fp)
    doc["fingeravtryck"] = fp
    for item in doc["ärenden"]:
        item["fingeravtryck"] = fingerprint(meeting_id, events, r, item["nummer"])
    return doc


def unverified(doc: dict[str, Any], faults: list[str]) -> dict[str, Any]:
    """The protocol of a log that does not verify (`faults`, in words): what the log gives now,
    with the faults at its top (`varning`) and never as justerat: no justering, no signature or
    omedelbar justering shown as given, no anslag, since what was signed is not what the log
    holds now."""
    return {
        **doc,
        "varning": faults,
        "justering": None,
        "anslag": None,
        "underskrifter": [{**x, "signerat": None, "händelse": None} for x in doc["underskrifter"]],
        "ärenden": [
            {**item, "omedelbart_justerad": None, "justerad_av": [], "anslag": None} for item in doc["ärenden"]
        ],
    }


def fingerprint_for(m: Meeting, events: Iterable[Event], r: Roster) -> str:
    """What a !justera now signs: the protocol, or while the meeting is open the paragraph up."""
    if m.phase is Phase.OPEN:
        return fingerprint(m.id, events, r, m.current) if m.current is not None else ""
    return fingerprint(m.id, events, r)


# The commands the shell gives a fingerprint (`Command.fingerprint`): what a !justera signs, and
# for those that show the protocol in the room after the close, what it reads after them.
FINGERPRINTED = frozenset({"justera", "avsluta", "protokoll", "rättelse"})


def fingerprint_of(engine: Engine, events: list[Event], cmd: Command, now: datetime) -> str:
    """The fingerprint a command is given: for !justera what it signs now; for a command that
    posts the protocol, the protocol as it reads after the command (decided once without folding,
    which is pure: the step that follows decides the same)."""
    m = engine.meeting
    if m is None:
        return ""
    if cmd.name == "justera":
        return fingerprint_for(m, events, engine.roster)
    if cmd.name == "protokoll" and m.phase is not Phase.CLOSED:
        return ""
    outcome = engine.decide(cmd, now)
    if not isinstance(outcome, Accepted):
        return ""
    after = [*events, *(Event(kind, now, cmd.actor, data) for kind, data in outcome.events)]
    return fingerprint(m.id, after, engine.roster)


def _text_paragraph_fingerprint(doc: dict[str, Any], item: dict[str, Any]) -> str:
    """What an omedelbar justering signed before the events were: the paragraph as its extract
    showed it (rubrik, decision, beslutsgång), with the body and the meeting; not the course of
    events, nor what the justering itself adds (who justerade, when, the anslag)."""
    left_out = ("förlopp", "omedelbart_justerad", "fingeravtryck", "justerad_av", "anslag")
    paragraph = {k: v for k, v in item.items() if k not in left_out}
    return _sha256(
        {"organ": doc["organ"], "sammanträde": doc["sammanträde"], "datum": doc["datum"], "ärende": paragraph}
    )


def person(r: Roster, user: str) -> dict[str, Any]:
    """A person as data: name, party or title, and Matrix id, each in a field of its own."""
    p = r.person(user)
    return {
        "namn": p.name if p else user,
        "parti": (p.party or None) if p else None,
        "titel": (p.title or None) if p else None,
        "user": user,
    }


def _seats(meeting_id: str, body_id: str, events: list[Event], r: Roster) -> dict[tuple[int, int], dict[str, str]]:
    """For each decision (item, index): whose seat each one serving filled (KL 5 kap. 66 §)."""
    m = Meeting(meeting_id, body_id)
    out: dict[tuple[int, int], dict[str, str]] = {}
    for e in events:
        apply(m, r, e)
        if e.kind == "decided":
            item = m.items[e.data["n"]]
            out[(item.n, len(item.decisions) - 1)] = {u: m.serving_for(u, r) or u for u in item.decisions[-1].serving}
    return out


def _who_served(m: Meeting, r: Roster, seats: dict[tuple[int, int], dict[str, str]]) -> dict[str, dict[int, str]]:
    """Who served in which paragraph and in whose seat: user -> paragraph -> member, from the
    decisions that stand."""
    out: dict[str, dict[int, str]] = {}
    for item in m.items.values():
        if item.paragraph is None:
            continue
        for i, d in enumerate(item.decisions):
            if d.retaken:
                continue
            for user, member in seats.get((item.n, i), {}).items():
                out.setdefault(user, {})[item.paragraph] = member
    return out


def _doc(meeting_id: str, body_id: str, events: list[Event], r: Roster, fp: str) -> dict[str, Any]:
    m, entries = replay(meeting_id, body_id, events, r)
    by_item = _by_section(entries, m, r)
    comings = _comings_and_goings(events, m, r)
    moved, places = _places_at_decisions(events)
    served = m.ever_served
    paragraphs = sorted(i.paragraph for i in m.items.values() if i.paragraph is not None and i.valid_decisions)
    where = _who_served(m, r, _seats(meeting_id, body_id, events, r))
    deciders = []
    for user, for_members in served.items():
        seats = where.get(user, {})
        entry = person(r, user) | _participation(m, r, user, comings, moved)
        if for_members:
            by_member: dict[str, list[int]] = {}
            for n, member in sorted(seats.items()):
                by_member.setdefault(member, []).append(n)
            entry |= {
                "roll": "ersättare",
                # a substitute who entered and never served in a decision still served (for the member)
                "ersättare_för": [person(r, u) | {"paragrafer": by_member.get(u, [])} for u in for_members],
            }
        else:
            entry |= {
                "roll": "ordförande" if user == r.chair else "ledamot",
                "ej_paragrafer": [n for n in paragraphs if n not in seats],
            }
        deciders.append(entry)
    others = [
        person(r, u) | {"roll": _other_role(r, u)} | _participation(m, r, u, comings, moved)
        for u in m.present
        if not r.is_substitute(u) and u not in served and u not in r.secretaries
    ]
    items = []
    # Paragraphs stand in § order, whatever order the agenda items were taken up in.
    for item in sorted(m.items.values(), key=lambda i: (i.paragraph is None, i.paragraph or 0, i.n)):
        if not item.taken_up:
            continue
        if item.justerad:
            # KL 5 kap. 69 §: an omedelbart justerad paragraph reads as signed, from the log up to
            # its justering; what came after it (a move to the chair's room, a request for the
            # floor) stands in its course of events and in the head, with its time.
            signed = _up_to_justering(events, item.n)
            then = _state(meeting_id, body_id, signed, r)
            entry = _paragraph(then, r, then.items[item.n], signed, *_places_at_decisions(signed))
        else:
            entry = _paragraph(m, r, item, events, moved, places)
        items.append(
            entry
            | {
                "förlopp": by_item.get(item.n, []),
                # KL 5 kap. 69 §, 8 kap. 12 §: an omedelbart justerad paragraph's signers and anslag
                "justerad_av": [person(r, s.user) for s in item.signatures if item.justerad],
                "anslag": _anslag(m, r, item.justerad, item.anslag, [item.paragraph], True) if item.justerad else None,
            }
        )
    start = m.opened_at or m.start
    numbers = [i.paragraph for i in m.items.values() if i.taken_up and i.paragraph is not None]
    return {
        "organisation": r.organisation or None,
        "organ": r.name,
        "plats": r.chair_room or None,
        "sammanträde": m.id,
        "status": m.phase.value,
        "datum": start.astimezone(r.tz).strftime("%Y-%m-%d") if start else None,
        "kallat_till": _iso(m.start, r) if m.start else None,
        "öppnat": _iso(m.opened_at, r) if m.opened_at else None,
        "avslutat": _iso(m.closed_at, r) if m.closed_at else None,
        "kallelse": _iso(m.convened_at, r) if m.convened_at else None,
        "form": m.form,
        "motivering": m.motivation,
        "beslutande": deciders,
        # Every substitute present who did not serve throughout: with the paragraphs not served in
        # when they served in others (None: not in any).
        "ej_tjänstgörande_ersättare": [
            person(r, p.user)
            | {
                "ej_paragrafer": [n for n in paragraphs if n not in where.get(p.user, {})]
                if p.user in served
                else None,
            }
            | _participation(m, r, p.user, comings, moved)
            for p in r.substitutes
            if p.user in m.present and (p.user not in served or any(n not in where.get(p.user, {}) for n in paragraphs))
        ],
        "sekreterare": [
            person(r, u) | _participation(m, r, u, comings, moved) for u in r.secretaries if u in m.present
        ],
        "övriga_närvarande": others,
        "frånvarande": [
            person(r, p.user) | {"förhinder": p.user in m.forhinder}
            for p in (*r.members, *r.substitutes)
            if p.user not in m.present
        ],
        "teknikfelsledamöter": [
            person(r, u) | {"från": _iso(at, r), "ersatt_av": person(r, m.replaced_by.get(u) or m.substituted[u])}
            for u, at in m.teknikfel.items()
        ],
        "inledning": by_item.get(BEFORE, []),
        "ärenden": items,
        "avslutning": by_item.get(AFTER, []),
        # Items struck from the agenda (!utgår): accounted for, without a paragraph number.
        "utgångna_ärenden": [
            {"nummer": i.n, "rubrik": i.title, "dnr": i.dnr or None, "skäl": i.struck or None}
            for i in m.items.values()
            if i.struck is not None
        ],
        "justerare": [person(r, u) for u in m.justerare],
        "paragrafer": sorted(numbers),
        "justering": _justering(m, r),
        "underskrifter": _signatures(m, r, fp),
        "anslag": (
            _anslag(m, r, m.justerad_at, m.anslag, [p.number for p in justering_plan(m, r)]) if m.justerad_at else None
        ),
    }


def _paragraph(
    m: Meeting, r: Roster, item: Item, events: list[Event], moved: set[str], places: dict[int, list[dict[str, str]]]
) -> dict[str, Any]:
    """A paragraph as it reads: rubrik, debate, decisions and beslutsgång (not its course of events
    or its justering)."""
    permission = None
    if item.approved_by:
        permission = f"Säkerhetsskyddschefen bedömde att ärendet kan behandlas på distans ({cite(Rule.P8)})."
    elif item.allowed_by:
        permission = f"Ordföranden tillät att ärendet med {item.klass} behandlas ({cite(Rule.P7)})."
    presided = [d.presiding for d in item.valid_decisions if d.presiding and d.presiding != r.chair]
    return {
        "nummer": item.n,
        "paragraf": item.paragraph,
        "omedelbart_justerad": _iso(item.justerad, r) if item.justerad else None,
        "rubrik": item.title,
        "dnr": item.dnr or None,
        "klass": item.klass or None,
        "tillstånd": permission,
        # KL 6 kap. 33 §: who led the item when it was not the ordförande
        "ordförande": [person(r, u) for u in dict.fromkeys(presided)],
        # who took part in the debate: who was given the floor (§ 9), in order, once each;
        # one who asked and never got it did not take part
        "i_överläggningen": [
            person(r, u)
            for u in dict.fromkeys(
                e.data["user"]
                for e in events
                if e.kind == "floor_given" and e.data["n"] == item.n and e.data["user"] is not None
            )
        ],
        "yrkanden": [
            {
                "nr": x.id,
                "av": person(r, x.user),
                "yrkande": x.text,
                "återtaget": x.withdrawn,
                "förfallet_jäv": x.fallen,
            }
            for x in item.motions
        ],
        "teknikkontroller": [
            {
                "nr": c.id,
                "tid": _iso(c.started, r),
                "resultat": "pågår" if c.running else ("godkänd" if c.passed else "ej godkänd"),
                "svarade_inte": [person(r, u) for u in c.missing] if c.passed is False else [],
            }
            # §§ 3, 12: what the call's media server showed (only where it is read: a protocol
            # without it reads, and is fingerprinted, as before)
            | ({"samtalet": c.media} if c.media else {})
            for c in m.checks_of(item.n)
        ],
        "jäv": [person(r, u) for u in item.jav],
        "voteringar": [_vote(r, v) for v in m.votes_of(item.n)],
        "beslut": [
            {
                "tid": _iso(d.at, r),
                "beslut": d.text,  # as it reads now: after a rättelse, the corrected text
                "enligt_förslag": d.proposal,  # after a vote: the proposal that won
                "deltog": [person(r, u) for u in d.participants],
                "avstod": [person(r, u) for u in d.abstained],  # KL 4 kap. 25 §: took no part
                "teknikkontroll": d.check_id,
                "votering": d.vote_id,
                "taget_om": d.retaken,
                "jäv_efter_beslutet": [person(r, u) for u in d.involved if u in item.jav],
                "rättelser": [{"tidigare": c.old, "av": person(r, c.by), "tid": _iso(c.at, r)} for c in d.corrections],
                "reservationer": [{"av": person(r, u), "motivering": t} for u, t in d.reservations],
            }
            | ({"samtalet": d.media} if d.media else {})
            # § 2: where those who changed place during the meeting were at it (only
            # then: a protocol without a move reads, and is fingerprinted, as before)
            | (
                {"plats": [person(r, u) | {"plats": at.get(u, "på distans")} for u in d.participants if u in moved]}
                if moved
                else {}
            )
            for d, at in zip(item.decisions, places.get(item.n, []), strict=True)
        ],
        # KL 5 kap. 66 §: who served, from the decisions that stand
        "tjänstgörande": [person(r, u) for u in dict.fromkeys(u for d in item.valid_decisions for u in d.serving)],
    }


def _up_to_justering(events: list[Event], n: int) -> list[Event]:
    """The log up to and with item n's omedelbar justering (KL 5 kap. 69 §)."""
    k = next(i for i, e in enumerate(events) if e.kind == "paragraph_justerad" and e.data["n"] == n)
    return events[: k + 1]


def _state(meeting_id: str, body_id: str, events: list[Event], r: Roster) -> Meeting:
    m = Meeting(meeting_id, body_id)
    for e in events:
        apply(m, r, e)
    return m


def _iso(at: datetime, r: Roster) -> str:
    """A time as data: ISO 8601 on the body's clock, with its offset."""
    return at.astimezone(r.tz).replace(microsecond=0).isoformat()


def _meeting_day(m: Meeting, r: Roster) -> date | None:
    start = m.opened_at or m.start
    return start.astimezone(r.tz).date() if start else None


def _justering(m: Meeting, r: Roster) -> dict[str, Any] | None:
    """Where and when the protocol was justerat; a justering later than the fourteen days is
    noted (KL 6 kap. 35 §, 5 kap. 69 §)."""
    if m.justerad_at is None:
        return None
    day = _meeting_day(m, r)
    deadline = last_day_to_justera(day) if day else None
    late = deadline is not None and m.justerad_at.astimezone(r.tz).date() > deadline
    return {
        "plats": f"digitalt i {r.name}s sammanträdesrum",
        "tid": _iso(m.justerad_at, r),
        "senast": deadline.isoformat() if deadline else None,
        "för_sent": late,
    }


def _anslag(
    m: Meeting, r: Roster, justerad: datetime, posted: str | None, numbers: list, at_once: bool = False
) -> list[str]:
    day = _meeting_day(m, r) or justerad.astimezone(r.tz).date()
    justerad_day = justerad.astimezone(r.tz).date().isoformat()
    listed = paragraphs_text([n for n in numbers if n is not None])
    return anslag_lines(r, day.isoformat(), justerad_day, posted, listed, at_once)


def _signatures(m: Meeting, r: Roster, fp: str) -> list[dict[str, Any]]:
    """The signature block: the secretary who attended, each paragraph's ordförande, the
    justerare (with their §§ when not all), each with the digital signature on the protocol as it
    reads now (one on an earlier wording, before a rättelse, does not count); one who led the
    meeting and signed though no paragraph needed it, as ordförande."""
    roles = signer_roles(justering_plan(m, r))
    rows = [("Sekreterare", u) for u in r.secretaries if u in m.present]
    rows += [(role[0].upper() + role[1:], u) for u, role in roles.items()]
    listed = {u for _, u in rows}
    signed = dict.fromkeys(s.user for s in m.signatures if s.fingerprint == fp)
    rows += [("Ordförande", u) for u in signed if u not in listed]
    if m.justerad_at is not None:  # justerat: those who signed, never a blank line (the secretary's is optional)
        rows = [(role, u) for role, u in rows if u in signed]
    out = []
    for role, user in rows:
        signature = next((s for s in reversed(m.signatures) if s.user == user and s.fingerprint == fp), None)
        out.append(
            person(r, user)
            | {
                "roll": role,
                "signerat": _iso(signature.at, r) if signature else None,
                "händelse": signature.event_id if signature else None,
            }
        )
    return out


def _vote(r: Roster, v: Vote) -> dict[str, Any]:
    # One who gave no vote took no part in the decision (KL 4 kap. 27 §): never an abstention.
    return {
        "nr": v.id,
        "sluten": v.closed,
        "ja_förslag": v.a,
        "nej_förslag": v.b,
        "röster": [] if v.closed else [person(r, u) | {"röst": v.ballots.get(u)} for u in v.voters],
        "antal": v.counts,
        "resultat": "pågår" if v.running else ("ogiltig" if v.winner is None else (v.a if v.winner == "a" else v.b)),
        "hur": protocol_text(vote_how(v.how, v.cause, v.lot, r, v.presiding)) if v.ended else "",
    }


def render(meeting_id: str, body_id: str, events: Iterable[Event], r: Roster, fmt: str = "md") -> str | bytes:
    return render_doc(build(meeting_id, body_id, events, r), fmt)


def render_doc(doc: dict[str, Any], fmt: str = "md") -> str | bytes:
    """A built protocol in one format (build once, render several); pdf gives bytes."""
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "pdf":
        from minutes import pdf  # fpdf and its fonts take a quarter second to import: only when asked

        return pdf.render(
            layout.blocks(doc), doc, f"Protokoll – {doc['organ']} {doc['datum'] or ''}", doc["fingeravtryck"]
        )
    if fmt == "html":
        return page.render(layout.blocks(doc), f"Protokoll – {doc['organ']}")
    return _markdown(layout.blocks(doc))


def extract_pdf(doc: dict[str, Any], n: int) -> bytes:
    """The protokollsutdrag of an omedelbart justerad paragraph, as PDF/A."""
    item = next(i for i in doc["ärenden"] if i["nummer"] == n)
    title = f"Protokollsutdrag – {doc['organ']} § {item['paragraf']}"
    from minutes import pdf

    return pdf.render(layout.extract(doc, n), doc, title, item["fingeravtryck"])


def html_body(doc: dict[str, Any]) -> str:
    """A built protocol as HTML without a page around it (for a Matrix message's formatted_body)."""
    return page.render(layout.blocks(doc), "", whole=False)


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


def _markdown(blocks: list[layout.Block]) -> str:
    out = []
    for kind, title, lines in blocks:
        if kind == "title":  # the document, then the kommun and the body
            out.append(f"# {md_text(title)} – {md_text(', '.join(lines))}\n")
        elif kind == "head":  # a value per line; several values as a list under their label
            rows = []
            for label, values in lines:
                if len(values) == 1:
                    rows.append(f"- {md_text(label)}: {md_text(values[0])}")
                else:
                    rows.append(f"- {md_text(label)}:" + "".join(f"\n  - {md_text(v)}" for v in values))
            out.append("\n".join(rows) + "\n")
        elif kind in ("h2", "appendix", "paragraph"):
            out.append(f"## {md_text(title)}\n" + "".join(f"\n{md_text(x)}\n" for x in lines))
        elif kind in ("note", "p"):
            out.append(f"{md_text(title)}\n")
        elif kind == "decision":  # no emphasis of the bot's own: md carries only escaped text
            out.append(f"{md_text(title)}\n\n" + "\n".join(f"- {md_text(x)}" for x in lines) + ("\n" if lines else ""))
        elif kind == "signatures":  # the bot's own lines to sign on, not text
            out.append(
                "\n".join(
                    f"- {role}: " + " ".join(x for x in (md_text(name), signed or "____________________") if x)
                    for role, name, signed in lines
                )
                + "\n"
            )
        elif kind == "table":  # the first row heads the columns
            cells = ["| " + " | ".join(md_text(c) for c in row) + " |" for row in lines]
            cells.insert(1, "|" + " --- |" * len(lines[0]))
            out.append(f"{md_text(title)}:\n\n" + "\n".join(cells) + "\n")
        else:  # list, small, box: a titled list
            rows = "\n".join(f"- {md_text(x)}" for x in lines) if lines else "–"
            out.append(f"{md_text(title)}:\n\n{rows}\n" if title else f"{rows}\n")
    return "\n".join(out)


def anchor_text(r: Roster, length: int, head: str) -> str:
    return (
        f"Förankring av protokollskedjan för {r.name}: {length} händelser, kedjans huvud {short_fingerprint(head)}. "
        "Med den prövar bot.py verify att databasen inte skrivits om i efterhand."
    )
