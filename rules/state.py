"""A meeting's state: a fold over its event log.

Theory of operation: `rules.meeting.decide` turns a command into events (or a refusal) without
touching the state; `apply` folds one event into the state. Replaying a meeting's log through
`apply` rebuilds it exactly, which is how the bot restarts and how the protocol is written
offline. Every event also leaves one line in the journal, so the protocol accounts for every
accepted command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from rules.citations import Rule
from rules.roster import Roster


class Phase(StrEnum):
    CONVENED = "kallat"
    OPEN = "pågår"
    CLOSED = "avslutat"
    CANCELLED = "inställt"


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    actor: str
    data: dict[str, Any]


@dataclass
class Motion:
    id: int
    user: str
    text: str
    withdrawn: bool = False


@dataclass
class Decision:
    text: str
    at: datetime
    participants: list[str]
    check_id: int
    vote_id: int | None = None
    retaken: bool = False
    reservations: list[tuple[str, str]] = field(default_factory=list)  # (user, motivation)


@dataclass
class Vote:
    """A votering: open (Ja = a, Nej = b) or closed on paper in the chair's room (§ 13)."""

    id: int
    item: int
    a: str
    b: str
    voters: list[str]
    closed: bool = False
    ballots: dict[str, str] = field(default_factory=dict)  # user -> ja | nej | avstår
    counts: dict[str, int] = field(default_factory=dict)  # ja, nej, avstår (closed: blanka)
    winner: str | None = None  # "a" | "b"; None while running or when void
    how: str = ""  # majoritet, utslagsröst, lottning …, or why it is void
    ended: bool = False

    @property
    def running(self) -> bool:
        return not self.ended


@dataclass
class Check:
    """A teknikfunktionskontroll (§ 12)."""

    id: int
    item: int | None
    started: datetime
    deadline: datetime
    expected: list[str]
    answered: list[str] = field(default_factory=list)
    passed: bool | None = None  # None while running
    # Set when something happens after a passed check that the check no longer covers.
    spent_by: str | None = None

    @property
    def running(self) -> bool:
        return self.passed is None

    @property
    def missing(self) -> list[str]:
        return [u for u in self.expected if u not in self.answered]


@dataclass
class Item:
    n: int
    title: str
    klass: str
    allowed_by: str | None = None  # § 7, the chair
    approved_by: str | None = None  # § 8, the security chief
    taken_up: bool = False
    motions: list[Motion] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    silenced: set[str] = field(default_factory=set)  # § 9, for the rest of the item
    speakers: list[str] = field(default_factory=list)
    jav: dict[str, str] = field(default_factory=dict)  # person -> who reported it (KL 6 kap. 28 §)
    jav_subs: dict[str, str] = field(default_factory=dict)  # member -> substitute, this item only
    votes: list[Vote] = field(default_factory=list)
    propositions: list[str] = field(default_factory=list)  # in the order the chair put them

    @property
    def valid_decisions(self) -> list[Decision]:
        return [d for d in self.decisions if not d.retaken]

    @property
    def permitted(self) -> bool:
        if self.klass == "säkerhetsskydd":
            return self.approved_by is not None
        if self.klass in ("personuppgifter", "sekretess"):
            return self.allowed_by is not None
        return True

    @property
    def permission_rule(self) -> Rule:
        return Rule.P8 if self.klass == "säkerhetsskydd" else Rule.P7


@dataclass
class JournalLine:
    at: datetime
    item: int | None
    text: str


@dataclass
class Meeting:
    id: str
    body_id: str
    phase: Phase = Phase.CONVENED
    start: datetime | None = None  # as convened, aware
    form: str = "distans"
    motivation: str = ""
    convened_at: datetime | None = None
    kallelser: int = 0  # how many times convened: the calendar event's SEQUENCE follows it
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    cancel_reason: str = ""
    items: dict[int, Item] = field(default_factory=dict)
    present: dict[str, datetime] = field(default_factory=dict)
    location: dict[str, str] = field(default_factory=dict)  # user -> "lokal" | partner id
    substituted: dict[str, str] = field(default_factory=dict)  # member -> serving substitute
    teknikfel: dict[str, datetime] = field(default_factory=dict)  # § 11
    ever_served: dict[str, str | None] = field(default_factory=dict)  # user -> for whom
    drops: dict[str, set[str]] = field(default_factory=dict)  # user -> {"ljud", "bild"}
    muted: set[str] = field(default_factory=set)
    adjourned: bool = False
    current: int | None = None
    checks: list[Check] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    journal: list[JournalLine] = field(default_factory=list)
    event_count: int = 0

    # --- derived views -------------------------------------------------------------------

    @property
    def item(self) -> Item | None:
        return self.items.get(self.current) if self.current is not None else None

    @property
    def check(self) -> Check | None:
        return self.checks[-1] if self.checks else None

    @property
    def vote(self) -> Vote | None:
        """The running vote, if any."""
        return self.votes[-1] if self.votes and self.votes[-1].running else None

    def seat(self, member: str) -> str | None:
        """Who serves in a member's seat now: the member if present, a substitute, or nobody.

        A substitute entered for the member serves until the member is reinstated; one entered
        because the person serving has jäv serves for the current item only (KL 6 kap. 28 §)."""
        server = self.substituted.get(member) or (member if member in self.present else None)
        item = self.item
        if item is not None and (server in item.jav or (server is None and member in item.jav_subs)):
            server = item.jav_subs.get(member)
        return server

    def serving(self, roster: Roster) -> list[str]:
        """The decision-makers now, one per member's seat that is filled."""
        return [u for u in (self.seat(p.user) for p in roster.members) if u is not None]

    def serving_for(self, user: str, roster: Roster) -> str | None:
        """The member whose seat a serving substitute fills."""
        return next((p.user for p in roster.members if self.seat(p.user) == user and p.user != user), None)

    def lacking(self, roster: Roster) -> dict[str, set[str]]:
        """Serving members whose transmission is down (§§ 3, 5, 10)."""
        return {u: self.drops[u] for u in self.serving(roster) if self.drops.get(u)}

    def has_quorum(self, roster: Roster) -> bool:
        # KL 6 kap. 27 §: more than half of the members; one whose link is down does not count.
        counted = [u for u in self.serving(roster) if "ljud" not in self.drops.get(u, set())]
        return len(counted) * 2 > len(roster.members)


# --- the fold --------------------------------------------------------------------------------


def hm(at: datetime, tz: tzinfo) -> str:
    """A time the Swedish way: kl. 18.05, on the body's clock."""
    return at.astimezone(tz).strftime("%H.%M")


def hms(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%H.%M.%S")


def date_time(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d kl. %H.%M")


def apply(m: Meeting, roster: Roster, e: Event) -> None:
    """Fold one event into the meeting, and journal it."""
    line = _APPLY[e.kind](m, roster, e.data, e.at)
    m.event_count += 1
    m.journal.append(JournalLine(e.at, m.current, line))


def _convened(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.start = datetime.fromisoformat(d["start"])
    m.form = d["form"]
    m.motivation = d["motivation"]
    m.items = {i["n"]: Item(i["n"], i["title"], i.get("klass", "")) for i in d["agenda"]}
    m.kallelser += 1
    m.convened_at = at
    verb = "Ny kallelse" if m.kallelser > 1 else "Kallelse"
    return f"{verb} till {m.form}sammanträde {date_time(m.start, r.tz)} (§ 1)."


def _cancelled(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.phase = Phase.CANCELLED
    m.cancel_reason = d.get("reason", "")
    return "Sammanträdet ställdes in." + (f" Skäl: {m.cancel_reason}" if m.cancel_reason else "")


def _opened(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.phase = Phase.OPEN
    m.opened_at = at
    return "Ordföranden öppnade sammanträdet och förrättade upprop."


def _present(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    user = d["user"]
    m.present[user] = at
    if r.is_member(user) and user not in m.substituted:
        m.ever_served.setdefault(user, None)
    return f"{r.label(user)} anmälde närvaro ({d['attests']})."


def _located(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    users = d["users"]
    if len(users) == 1:
        m.location[users[0]] = "lokal"
        return f"{r.label(users[0])} deltar i ordförandens lokal (§ 2)."
    a, b = users
    m.location[a], m.location[b] = b, a
    return f"{r.label(a)} och {r.label(b)} delar ljud- och bildöverföring (§ 2)."


def _item_taken(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.current = d["n"]
    item = m.items[d["n"]]
    item.taken_up = True
    return f"Ärende {item.n} togs upp: {item.title}."


def _allowed(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    item = m.items[d["n"]]
    if d["rule"] == Rule.P8:
        item.approved_by = d["by"]
        return f"Säkerhetsskyddschefen bedömde att ärende {item.n} kan behandlas på distans (§ 8)."
    item.allowed_by = d["by"]
    return f"Ordföranden tillät att ärende {item.n} med {item.klass} behandlas (§ 7)."


def _motion(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    item = m.items[d["n"]]
    item.motions.append(Motion(len(item.motions) + 1, d["user"], d["text"]))
    return f"{r.label(d['user'])} yrkade: {d['text']}"


def _motion_withdrawn(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    motion = m.items[d["n"]].motions[d["id"] - 1]
    motion.withdrawn = True
    return f"{r.label(motion.user)} återtog sitt yrkande: {motion.text}"


def _floor(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    if m.item:
        m.item.speakers.append(d["user"])
    return f"{r.label(d['user'])} begärde ordet."


def _muted(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.muted.add(d["user"])
    return f"Ljudet för {r.label(d['user'])} stängdes av av {r.label(d['by'])} (§ 3)."


def _floor_taken(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    item = m.items[d["n"]]
    item.silenced.add(d["user"])
    item.speakers = [u for u in item.speakers if u != d["user"]]
    return f"Ordföranden fråntog {r.label(d['user'])} ordet för resten av ärendet (§ 9)."


def _spend_check(m: Meeting, reason: str) -> None:
    check = m.check
    if check and check.passed and check.spent_by is None:
        check.spent_by = reason


def _dropped(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    user, kind = d["user"], d["kind"]
    m.drops.setdefault(user, set()).add(kind)
    if user in m.serving(r):
        _spend_check(m, f"{r.name_of(user)} förlorade {kind} kl. {hm(at, r.tz)}")
    what = "ljudet" if kind == "ljud" else "bilden"
    return f"{r.label(user)} förlorade {what} (§§ 5, 10)."


def _restored(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.drops.pop(d["user"], None)
    m.muted.discard(d["user"])
    return f"{r.label(d['user'])} har åter fungerande överföring (§ 10)."


def _adjourned(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.adjourned = True
    return "Sammanträdet ajournerades (§ 10)."


def _resumed(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.adjourned = False
    return "Sammanträdet återupptogs (§ 10)."


def _replaced(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    member, sub = d["member"], d["substitute"]
    m.ever_served.setdefault(sub, member)
    if d.get("for_item"):
        m.items[d["for_item"]].jav_subs[member] = sub
        return f"{r.label(sub)} tjänstgör under ärendet i stället för {r.label(member)} på grund av jäv."
    m.substituted[member] = sub
    if d["teknikfel"]:
        m.teknikfel[member] = at
        return (
            f"{r.label(sub)} trädde in som tjänstgörande ersättare för {r.label(member)}, "
            f"som är teknikfelsledamot (§ 11)."
        )
    return f"{r.label(sub)} trädde in som tjänstgörande ersättare för {r.label(member)}."


def _reinstated(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    member = d["member"]
    sub = m.substituted.pop(member)
    m.teknikfel.pop(member, None)
    m.ever_served.setdefault(member, None)
    if d.get("late"):
        return f"{r.label(member)} har anlänt och tjänstgör från detta ärende i stället för {r.label(sub)}."
    return f"{r.label(member)} tjänstgör åter i stället för {r.label(sub)} (§ 11)."


def _jav(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    item = m.items[d["n"]]
    item.jav[d["user"]] = d["by"]
    item.speakers = [u for u in item.speakers if u != d["user"]]
    return f"{r.label(d['user'])} anmälde jäv och deltar inte i ärendet (KL 6 kap. 28 §)."


def _vote_started(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    item = m.items[d["n"]]
    vote = Vote(len(m.votes) + 1, d["n"], d["a"], d["b"], list(d["voters"]), closed=d.get("closed", False))
    m.votes.append(vote)
    item.votes.append(vote)
    if vote.closed:
        item.propositions.append(f"{vote.a} mot {vote.b} (sluten omröstning)")
        return f"Sluten omröstning {vote.id} på papper i ordförandens lokal: {vote.a} mot {vote.b} (§ 13)."
    item.propositions.append(f"Ja = {vote.a}, Nej = {vote.b} (votering)")
    return f"Votering {vote.id}: Ja = {vote.a}, Nej = {vote.b}."


def _ballot(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    vote = m.votes[d["id"] - 1]
    changed = d["user"] in vote.ballots
    vote.ballots[d["user"]] = d["choice"]
    return (
        f"{r.label(d['user'])} {'ändrade sin röst till' if changed else 'röstade'} {d['choice']} i votering {vote.id}."
    )


def _vote_ended(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    vote = m.votes[d["id"] - 1]
    vote.ended = True
    vote.winner = d.get("winner")
    vote.how = d["how"]
    vote.counts = dict(d.get("counts", {}))
    if vote.winner is None:
        return f"Votering {vote.id} är ogiltig: {vote.how}."
    won = vote.a if vote.winner == "a" else vote.b
    return f"Votering {vote.id} avslutad: {_counts(vote)}; {won} bifölls ({vote.how})."


def _counts(vote: Vote) -> str:
    c = vote.counts
    if vote.closed:
        return f"{vote.a} {c.get('a', 0)}, {vote.b} {c.get('b', 0)}, blanka {c.get('blanka', 0)}"
    return f"{c.get('ja', 0)} ja, {c.get('nej', 0)} nej, {c.get('avstår', 0)} avstod"


def _reservation(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    decision = m.items[d["n"]].decisions[d["index"]]
    decision.reservations.append((d["user"], d.get("text", "")))
    why = f": {d['text']}" if d.get("text") else ""
    return f"{r.label(d['user'])} reserverade sig mot beslutet i ärende {d['n']} (KL 4 kap. 27 §){why}"


def _check_started(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    check = Check(
        id=len(m.checks) + 1,
        item=m.current,
        started=at,
        deadline=datetime.fromisoformat(d["deadline"]),
        expected=list(d["expected"]),
    )
    m.checks.append(check)
    if m.item:
        m.item.checks.append(check)
    return f"Ordföranden begärde teknikkontroll {check.id} (§ 12)."


def _check_answered(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.checks[d["id"] - 1].answered.append(d["user"])
    return f"{r.label(d['user'])} bekräftade godtagbar överföring i teknikkontroll {d['id']}."


def _check_ended(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    check = m.checks[d["id"] - 1]
    check.passed = d["passed"]
    if check.passed:
        return f"Teknikkontroll {check.id} godkänd: alla tjänstgörande ledamöter svarade (§ 12)."
    names = ", ".join(r.label(u) for u in check.missing)
    why = d.get("reason") or f"svarade inte: {names}"
    return f"Teknikkontroll {check.id} ej godkänd; {why} (§ 12)."


def _decided(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    item = m.items[d["n"]]
    item.decisions.append(Decision(d["text"], at, list(d["participants"]), d["check_id"], d.get("vote")))
    if d.get("vote") is None:
        item.propositions.append(f"{d['text']} (bifallet utan votering)")
    _spend_check(m, f"beslut fattat kl. {hm(at, r.tz)}")
    return f"Beslut: {d['text']}"


def _retaken(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    decision = m.items[d["n"]].decisions[d["index"]]
    decision.retaken = True
    return f"Ordföranden förklarade att beslutet tas om (§ 12): {decision.text}"


def _closed(m: Meeting, r: Roster, d: dict, at: datetime) -> str:
    m.phase = Phase.CLOSED
    m.closed_at = at
    m.current = None
    return "Ordföranden avslutade sammanträdet."


_APPLY = {
    "convened": _convened,
    "cancelled": _cancelled,
    "opened": _opened,
    "present": _present,
    "located": _located,
    "item_taken": _item_taken,
    "allowed": _allowed,
    "motion": _motion,
    "motion_withdrawn": _motion_withdrawn,
    "floor": _floor,
    "muted": _muted,
    "floor_taken": _floor_taken,
    "dropped": _dropped,
    "restored": _restored,
    "adjourned": _adjourned,
    "resumed": _resumed,
    "replaced": _replaced,
    "reinstated": _reinstated,
    "check_started": _check_started,
    "check_answered": _check_answered,
    "check_ended": _check_ended,
    "decided": _decided,
    "jav": _jav,
    "vote_started": _vote_started,
    "ballot": _ballot,
    "vote_ended": _vote_ended,
    "reservation": _reservation,
    "retaken": _retaken,
    "closed": _closed,
}

EVENT_KINDS = frozenset(_APPLY)
