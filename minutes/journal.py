"""The journal: one line per event, filed under the item the event concerns.

An event names its item (`"n"`), or a check or vote that belongs to one; an event about the
meeting as a whole (presence, transmission, ajournering) is filed under the item that was up
when it happened. `entries` replays the log to know, for each event, the state it happened in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from minutes.layout import media_evidence
from minutes.words import ABORTED, MEDIA_DOWN, shown_words, vote_how
from rules.citations import Rule, cite, protocol_text
from rules.events import covers
from rules.roster import Roster
from rules.state import Event, Meeting, apply, date_time, hm
from rules.words import short_fingerprint

BEFORE, AFTER = "före", "efter"


@dataclass(frozen=True)
class Entry:
    at: datetime
    section: int | str  # an item's number, BEFORE the first item, or AFTER the closing
    text: str


def replay(meeting_id: str, body_id: str, events: Iterable[Event], r: Roster) -> tuple[Meeting, list[Entry]]:
    """The meeting the events make, and the journal of it."""
    events = list(events)
    m = Meeting(meeting_id, body_id)
    out: list[Entry] = []
    taken = {e.data["n"] for e in events if e.kind == "item_taken"}
    # A decision reads as it stands after any rättelse, wherever the protocol states it; the
    # paragraph notes the rättelse once, with the earlier wording.
    worded = {(e.data["n"], e.data["index"]): e.data["text"] for e in events if e.kind == "corrected"}
    for e in events:
        section = _section(m, e)
        # Rendered against the state the event happened in; a permission given ahead names the
        # item only when it is never taken up (and so stands in the opening, without a §).
        if e.kind == "allowed":
            text = _allowed(m, r, e.data, taken)
        elif e.kind == "decided":
            n = e.data["n"]
            text = _LINE["decided"](
                m, r, {**e.data, "text": worded.get((n, len(m.items[n].decisions)), e.data["text"])}
            )
        else:
            text = _LINE[e.kind](m, r, e.data)
        apply(m, r, e)
        out.append(Entry(e.at, section, text))
    return m, out


def _section(m: Meeting, e: Event) -> int | str:
    d = e.data
    if e.kind in ("check_answered", "check_ended"):
        n = m.checks[d["id"] - 1].item
    elif e.kind in ("ballot", "vote_ended"):
        n = m.votes[d["id"] - 1].item
    else:
        n = d.get("for_item") or d.get("n")
    if n is None:
        n = m.current
    if e.kind == "closed" or m.closed_at is not None:  # after the close: justering, rättelse
        return AFTER
    return BEFORE if n is None else n


def stamp(at: datetime, m: Meeting, r: Roster) -> str:
    """A line's time: the clock alone within the meeting, date and clock outside it."""
    inside = m.opened_at is not None and m.opened_at <= at and (m.closed_at is None or at <= m.closed_at)
    return at.astimezone(r.tz).strftime("%H.%M") if inside else date_time(at, r.tz)


def _convened(m: Meeting, r: Roster, d: dict) -> str:
    verb = "Ny kallelse" if m.kallelser else "Kallelse"
    start = datetime.fromisoformat(d["start"])
    return f"{verb} till {d['form']}sammanträde {date_time(start, r.tz)} ({cite(Rule.P1)})."


def _cancelled(m: Meeting, r: Roster, d: dict) -> str:
    reason = d.get("reason", "")
    return "Sammanträdet ställdes in." + (f" Skäl: {reason}" if reason else "")


def _presiding_named(m: Meeting, r: Roster, d: dict) -> str:
    user = r.label(d["user"])
    why = f"då varken ordföranden eller en vice ordförande kunde ({cite(Rule.KL_6_33)})."
    if "by" not in d:  # logged before who recorded the choice was kept
        return f"{user} utsågs att vara ordförande, {why}"
    return f"{r.label(d['by'])} antecknade att organet valde {user} att vara ordförande, {why}"


def _located(m: Meeting, r: Roster, d: dict) -> str:
    users = d["users"]
    if d.get("moved"):
        return (
            f"{r.label(users[0])} flyttade till ordförandens lokal och deltar därifrån; dessförinnan på distans (§ 2)."
        )
    if len(users) == 1:
        return f"{r.label(users[0])} deltar i ordförandens lokal ({cite(Rule.P2)})."
    return f"{r.label(users[0])} och {r.label(users[1])} delar ljud- och bildöverföring ({cite(Rule.P2)})."


def _allowed(m: Meeting, r: Roster, d: dict, taken: set[int]) -> str:
    """A permission stands in its item's own paragraph, which the protocol refers to by its
    § number alone; one for an item never taken up stands in the opening, by its agenda number."""
    item = m.items[d["n"]]
    which = "ärendet" if item.n in taken else f"ärende {item.n}"
    if d["rule"] == Rule.P8.name:
        text = f"Säkerhetsskyddschefen bedömde att {which} kan behandlas på distans ({cite(Rule.P8)})."
    else:
        text = f"Ordföranden tillät att {which} med {item.klass} behandlas ({cite(Rule.P7)})."
    if d.get("unencrypted"):
        text += f" Tillståndet gavs i ett rum som inte var end-to-end-krypterat ({cite(Rule.P2)})."
    return text


def paragraph_of(m: Meeting, n: int) -> str:
    """How the protocol names item n: by its § number (every item referred to has been taken up)."""
    paragraph = m.items[n].paragraph
    return f"§ {paragraph}" if paragraph is not None else f"ärende {n}"  # logs from before numbering


def _item_taken(m: Meeting, r: Roster, d: dict) -> str:
    title = m.items[d["n"]].title
    if d.get("paragraph") is None:
        return f"Ärende {d['n']} togs upp: {title}."
    return f"Ärendet togs upp som § {d['paragraph']}: {title}."


def _motion_withdrawn(m: Meeting, r: Roster, d: dict) -> str:
    motion = m.items[d["n"]].motions[d["id"] - 1]
    return f"{r.label(motion.user)} återtog sitt yrkande: {motion.text}"


def _dropped(m: Meeting, r: Roster, d: dict) -> str:
    what = "ljudet" if d["kind"] == "ljud" else "bilden"
    via = {"call": "registrerat från videosamtalet; ", "media": "enligt samtalet: "}.get(d.get("via", ""), "")
    if d.get("via") == "media":
        s = m.shown.get(d["user"])
        via += (shown_words(s.camera, s.microphone, s.connected) if s else shown_words("none", "none", False)) + "; "
    return f"{r.label(d['user'])} förlorade {what} ({via}{cite(Rule.P5, Rule.P10)})."


def _media_available(m: Meeting, r: Roster, d: dict) -> str:
    since = f" från kl. {hm(m.media_down, r.tz)}" if m.media_down else ""
    return (
        f"Samtalets ljud och bild kunde läsas igen; boten hade godtagit intyganden{since} ({cite(Rule.P3, Rule.P12)})."
    )


def _evidence(d: dict, when: str) -> str:
    return media_evidence({"samtalet": d.get("media", "")}, when)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "”")) else f"{text}."


def _call(m: Meeting, r: Roster, d: dict) -> str:
    """The room's call state: joined, left (or expired), or renewed."""
    before, now = m.in_call.get(d["user"], {}), d["devices"]
    if not now:
        return f"{r.label(d['user'])} är inte längre med i videosamtalet."
    if not before:
        return f"{r.label(d['user'])} anslöt till videosamtalet."
    return f"{r.label(d['user'])} är med i videosamtalet med {len(now)} enhet{'er' if len(now) > 1 else ''}."


def _replaced(m: Meeting, r: Roster, d: dict) -> str:
    member, sub = r.label(d["member"]), r.label(d["substitute"])
    if d.get("for_item"):
        return f"{sub} tjänstgör under ärendet i stället för {member} på grund av jäv."
    if d.get("replaces"):
        out = r.label(d["replaces"])
        return (
            f"{sub} trädde in som tjänstgörande ersättare för {member} i stället för {out}, "
            f"som är teknikfelsledamot ({cite(Rule.P11)})."
        )
    if d["teknikfel"]:
        return f"{sub} trädde in som tjänstgörande ersättare för {member}, som är teknikfelsledamot ({cite(Rule.P11)})."
    return f"{sub} trädde in som tjänstgörande ersättare för {member}."


def _attests(d: dict) -> str:
    """What one attested at the roll call, in the bot's words: its citations as the protocol's."""
    return protocol_text(f"({d['attests']})")


def _present(m: Meeting, r: Roster, d: dict) -> str:
    shown = d.get("shown")
    seen = f" Samtalet visade {shown_words(shown['camera'], shown['microphone'])}." if shown else ""
    if d.get("returned"):
        return f"{r.label(d['user'])} återkom till sammanträdet {_attests(d)}.{seen}"
    return f"{r.label(d['user'])} anmälde närvaro {_attests(d)}.{seen}"


def _jav(m: Meeting, r: Roster, d: dict) -> str:
    item = m.items[d["n"]]
    line = f"{r.label(d['user'])} anmälde jäv och deltar inte i ärendet ({cite(Rule.KL_6_28)})."
    if d["by"] != d["user"]:
        line = f"Ordföranden antecknade jäv för {r.label(d['user'])}, som inte deltar i ärendet ({cite(Rule.KL_6_28)})."
    if any(d["user"] in x.involved for x in item.valid_decisions):
        line += " Jävet anmäldes efter beslutet, som hen deltog i: beslutet ska tas om."
    return line


def _reinstated(m: Meeting, r: Roster, d: dict) -> str:
    member, sub = r.label(d["member"]), r.label(m.substituted[d["member"]])
    if d.get("late"):
        return f"{member} har anlänt och tjänstgör från detta ärende i stället för {sub}."
    return f"{member} tjänstgör åter i stället för {sub} ({cite(Rule.P11)})."


def _vote_started(m: Meeting, r: Roster, d: dict) -> str:
    n = len(m.votes) + 1
    if d.get("closed"):
        return f"Sluten omröstning {n} på papper i ordförandens lokal: {d['a']} mot {d['b']} ({cite(Rule.P13)})."
    line = f"Votering {n}: Ja = {d['a']}, Nej = {d['b']}."
    if d.get("abstaining"):
        line += f" Avstår enligt sin anmälan: {', '.join(r.label(u) for u in d['abstaining'])}."
    return line


def _ballot(m: Meeting, r: Roster, d: dict) -> str:
    verb = "ändrade sin röst till" if d["user"] in m.votes[d["id"] - 1].ballots else "röstade"
    return f"{r.label(d['user'])} {verb} {d['choice']} i votering {d['id']}."


def _vote_ended(m: Meeting, r: Roster, d: dict) -> str:
    vote = m.votes[d["id"] - 1]
    how = protocol_text(vote_how(d["how"], d.get("cause", {}), d.get("lot"), r, d.get("presiding")))
    if d.get("winner") is None:
        return f"Votering {vote.id} är ogiltig: {how}."
    c = d.get("counts", {})
    if vote.closed:
        counted = f"{vote.a} {c.get('a', 0)}, {vote.b} {c.get('b', 0)}, blanka {c.get('blanka', 0)}"
    else:
        counted = f"{c.get('ja', 0)} ja, {c.get('nej', 0)} nej, {c.get('avstår', 0)} avstod"
    won = vote.a if d["winner"] == "a" else vote.b
    return f"Votering {vote.id} avslutad: {counted}; {won} bifölls ({how})."


def _reservation(m: Meeting, r: Roster, d: dict) -> str:
    why = f": {d['text']}" if d.get("text") else ""
    return f"{r.label(d['user'])} reserverade sig mot beslutet i {paragraph_of(m, d['n'])} ({cite(Rule.KL_4_27)}){why}"


def _check_ended(m: Meeting, r: Roster, d: dict) -> str:
    check = m.checks[d["id"] - 1]
    if d["passed"]:
        return (
            f"Teknikkontroll {check.id} godkänd: alla tjänstgörande ledamöter svarade ({cite(Rule.P12)})."
            + _evidence(d, "Vid kontrollen")
        )
    why = ABORTED.get(d.get("reason", "")) or "svarade inte: " + ", ".join(r.label(u) for u in check.missing)
    return f"Teknikkontroll {check.id} ej godkänd; {why} ({cite(Rule.P12)})."


def _anslag(m: Meeting, r: Roster, d: dict) -> str:
    what = f"§ {m.items[d['n']].paragraph}" if d.get("n") is not None else "protokollet"
    return f"Anslaget om justeringen av {what} sattes upp på kommunens anslagstavla {d['date']} ({cite(Rule.KL_8_12)})."


def _retaken(m: Meeting, r: Roster, d: dict) -> str:
    decision = m.items[d["n"]].decisions[d["index"]]
    line = f"Ordföranden förklarade att beslutet tas om ({cite(Rule.P12)}): {decision.text}"
    if decision.reservations:
        line += f" Reservationerna mot det föll: {', '.join(r.label(u) for u, _ in decision.reservations)}."
    return line


def _floor_given(m: Meeting, r: Roster, d: dict) -> str:
    if d["user"] is None:
        return "Talarlistan var slut."
    if not d.get("reply"):
        return f"{r.label(d['user'])} fick ordet."
    to = f" på {r.label(d['reply_to'])}" if d.get("reply_to") else ""
    return f"{r.label(d['user'])} fick ordet för replik{to}."


_LINE = {
    "convened": _convened,
    "cancelled": _cancelled,
    "opened": lambda m, r, d: "Ordföranden öppnade sammanträdet och förrättade upprop.",
    "present": _present,
    "left": lambda m, r, d: f"{r.label(d['user'])} lämnade sammanträdet ({cite(Rule.KL_6_27)}).",
    "presiding_named": _presiding_named,
    "located": _located,
    "item_taken": _item_taken,
    "struck": lambda m, r, d: (
        f"Ärende {d['n']} utgick från föredragningslistan" + (f": {d['reason']}" if d.get("reason") else ".")
    ),
    "allowed": _allowed,  # with the items taken up: see `replay`
    "motion": lambda m, r, d: f"{r.label(d['user'])} yrkade: {d['text']}",
    "motion_withdrawn": _motion_withdrawn,
    "floor": lambda m, r, d: (
        f"Ordföranden satte {r.label(d['user'])} på talarlistan."
        if d.get("by")
        else f"{r.label(d['user'])} begärde ordet" + (" (räckte upp handen i videosamtalet)." if d.get("hand") else ".")
    ),
    "floor_withdrawn": lambda m, r, d: (
        f"{r.label(d['user'])} tog ned handen i videosamtalet och ströks från talarlistan."
        if d.get("via") == "call"
        else f"{r.label(d['user'])} ströks från talarlistan på egen begäran."
    ),
    "reply_asked": lambda m, r, d: f"{r.label(d['user'])} begärde replik på {r.label(d['to'])}.",
    "floor_given": _floor_given,
    "streck": lambda m, r, d: "Ordföranden satte streck i debatten.",
    "streck_withdrawn": lambda m, r, d: "Ordföranden tog bort strecket i debatten.",
    "muted": lambda m, r, d: f"Ljudet för {r.label(d['user'])} stängdes av av {r.label(d['by'])} ({cite(Rule.P3)}).",
    "floor_taken": lambda m, r, d: (
        f"Ordföranden fråntog {r.label(d['user'])} ordet för resten av ärendet ({cite(Rule.P9)})."
    ),
    "dropped": _dropped,
    "restored": lambda m, r, d: f"{r.label(d['user'])} har åter fungerande överföring ({cite(Rule.P10)}).",
    "adjourned": lambda m, r, d: f"Sammanträdet ajournerades ({cite(Rule.P10)}).",
    "resumed": lambda m, r, d: f"Sammanträdet återupptogs ({cite(Rule.P10)}).",
    "replaced": _replaced,
    "reinstated": _reinstated,
    "jav": _jav,
    "jav_withdrawn": lambda m, r, d: f"{r.label(d['user'])} återtog sin jävsanmälan och deltar i ärendet.",
    "vote_started": _vote_started,
    "ballot": _ballot,
    "vote_ended": _vote_ended,
    "reservation": _reservation,
    "abstained": lambda m, r, d: (
        f"{r.label(d['user'])} anmälde att hen avstår från att delta i beslutet ({cite(Rule.KL_4_25)})."
    ),
    "abstention_withdrawn": lambda m, r, d: (
        f"{r.label(d['user'])} återtog sin anmälan om att avstå och deltar i beslutet."
    ),
    "check_started": lambda m, r, d: f"Ordföranden begärde teknikkontroll {len(m.checks) + 1} ({cite(Rule.P12)}).",
    "check_answered": lambda m, r, d: (
        f"{r.label(d['user'])} bekräftade godtagbar överföring i teknikkontroll {d['id']}."
    ),
    "check_ended": _check_ended,
    # As it reads after any rättelse: see `replay`.
    "decided": lambda m, r, d: (
        f"Beslut: {_sentence(d['text']) if d.get('media') else d['text']}" + _evidence(d, "Vid beslutet")
    ),
    "worded": lambda m, r, d: f"Ordföranden formulerade beslutet efter voteringen: {d['text']}",
    "retaken": _retaken,
    "closed": lambda m, r, d: "Ordföranden avslutade sammanträdet.",
    "call": _call,
    # What the call's media server shows is kept in the log; the protocol tells its consequences.
    "shown": lambda m, r, d: "",
    "regained": lambda m, r, d: f"{r.label(d['user'])} har rörlig bild igen enligt samtalet ({cite(Rule.P5)}).",
    "grace_passed": lambda m, r, d: (
        f"Ordföranden underrättades om att {r.label(d['user'])} varit utan rörlig bild längre än "
        f"{r.video_grace_seconds} sekunder ({cite(Rule.P5)})."
    ),
    "media_unavailable": lambda m, r, d: (
        f"Samtalets ljud och bild kunde inte läsas ({MEDIA_DOWN.get(d.get('reason', ''), 'fel')}); "
        f"boten godtog intyganden ({cite(Rule.P3, Rule.P12)})."
    ),
    "media_available": _media_available,
    "forhinder": lambda m, r, d: (
        f"{r.label(d['user'])} anmälde förhinder ({cite(Rule.KL_6_17)})."
        if d["by"] == d["user"]
        else f"{r.label(d['by'])} anmälde förhinder för {r.label(d['user'])} ({cite(Rule.KL_6_17)})."
    ),
    "forhinder_withdrawn": lambda m, r, d: (
        f"{r.label(d['user'])} kom trots anmält förhinder, som därmed inte gäller längre ({cite(Rule.KL_6_17)})."
        if d.get("present")
        else f"{r.label(d['user'])} återtog sitt förhinder."
    ),
    "called_in": lambda m, r, d: f"{r.label(d['substitute'])} kallades in att tjänstgöra för {r.label(d['member'])}.",
    "confirmed": lambda m, r, d: f"{r.label(d['substitute'])} bekräftade att hen tjänstgör för {r.label(d['member'])}.",
    "justerare": lambda m, r, d: (
        "Utsågs att justera protokollet: " + ", ".join(r.label(u) for u in d["users"]) + f" ({cite(Rule.KL_5_69)})."
    ),
    "signed": lambda m, r, d: (
        f"{r.label(d['user'])} signerade "
        + (f"§ {m.items[d['n']].paragraph} för omedelbar justering" if d.get("n") else "protokollet")
        + f" (fingeravtryck {short_fingerprint(d['fingerprint'])})."
    ),
    "paragraph_justerad": lambda m, r, d: (
        f"§ {m.items[d['n']].paragraph} justerades omedelbart ({cite(Rule.KL_5_69)})."
    ),
    "corrected": lambda m, r, d: (
        f"{r.label(d['by'])} rättade lydelsen av beslutet i § {m.items[d['n']].paragraph} ({cite(Rule.KL_5_69)})."
    ),
    "justerad": lambda m, r, d: f"Protokollet justerades (fingeravtryck {short_fingerprint(d['fingerprint'])}).",
    "posted": lambda m, r, d: f"Protokollet visades i rummet (fingeravtryck {short_fingerprint(d['fingerprint'])}).",
    "anslag": _anslag,
}

covers("the journal (minutes.journal._LINE)", _LINE)
