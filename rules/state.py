"""A meeting's state: a fold over its event log.

Theory of operation: `rules.meeting.decide` turns a command into events (or a refusal) without
touching the state; `apply` folds one event into the state. Replaying a meeting's log through
`apply` rebuilds it exactly, which is how the bot restarts. The fold keeps state and no words:
events carry data (the item they concern, rule ids, codes), and `minutes/` renders the journal
and the protocol from the events themselves, so every event is filed under the item it concerns.
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
    fallen: bool = False  # the mover was found jävig in the item (KL 6 kap. 28 §)


@dataclass
class Signature:
    """A digital justering: the signer's !justera in the room (KL 5 kap. 69 §)."""

    user: str
    at: datetime
    event_id: str  # the Matrix event of the !justera
    fingerprint: str  # SHA-256 of the protocol content (or the paragraph's) that was signed


@dataclass
class Correction:
    """A rättelse of a decision's wording after the meeting, before justering."""

    old: str
    new: str
    by: str
    at: datetime


@dataclass
class Posting:
    """The protocol as shown in the room (at the close, on !protokoll, with a rättelse): what a
    signer may have read, by its fingerprint."""

    fingerprint: str
    at: datetime
    seq: int  # its place in the log: what changed after it is what the signer has not seen


@dataclass
class Amendment:
    """A change of the protocol after the close (a rättelse, justerare chosen anew)."""

    seq: int
    at: datetime
    kind: str  # the event's kind: corrected | justerare
    by: str
    data: dict[str, Any]


@dataclass
class Decision:
    text: str
    at: datetime
    participants: list[str]  # who took part: the serving, or in a vote those who gave a vote
    check_id: int
    vote_id: int | None = None
    retaken: bool = False
    serving: list[str] = field(default_factory=list)  # who served when it was taken
    presiding: str | None = None  # who led the item (KL 6 kap. 33 §)
    corrections: list[Correction] = field(default_factory=list)
    reservations: list[tuple[str, str]] = field(default_factory=list)  # (user, motivation)
    abstained: list[str] = field(default_factory=list)  # serving, took no part by abstaining (KL 4 kap. 25 §)

    @property
    def involved(self) -> list[str]:
        """Who took part in it or presided over it: jäv in any of them makes it attackable
        (KL 6 kap. 28 §; leading the item is taking part in it)."""
        return list(dict.fromkeys([*self.participants, *([self.presiding] if self.presiding else [])]))

    proposal: str | None = None  # after a vote: the winning proposal, which `text` may word
    media: str = ""  # of the call's media server at the decision: "shown" | "attested" ("": not read)


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
    how: str = ""  # a code: majority, casting, most, lot, void
    ended: bool = False
    cause: dict[str, str] = field(default_factory=dict)  # why a vote is void: {"code": ..., ...}
    lot: int | None = None  # the draw that settled a tied election
    # Who presided when it started, and so until it ends; whose casting vote settles a tie
    # (KL 5 kap. 56 §).
    presiding: str | None = None
    started: datetime | None = None

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
    presiding: str | None = None  # who presided when it started, and so until it ends
    media: str = ""  # at a passed check, of the call's media server: "shown" | "attested" ("": not read)

    @property
    def running(self) -> bool:
        return self.passed is None

    @property
    def missing(self) -> list[str]:
        return [u for u in self.expected if u not in self.answered]


@dataclass
class Shown:
    """What the call's media server showed for a person (all their devices), since when (§§ 3–5):
    camera "on" | "off" | "none", microphone "on" | "muted" | "none". A microphone muted by its
    owner is still sound; picture is a camera on."""

    camera: str
    microphone: str
    connected: bool
    since: datetime

    @property
    def picture(self) -> bool:
        return self.connected and self.camera == "on"

    @property
    def sound(self) -> bool:
        return self.connected and self.microphone != "none"


@dataclass
class Item:
    n: int
    title: str
    klass: str
    dnr: str = ""
    allowed_by: str | None = None  # § 7, the chair
    approved_by: str | None = None  # § 8, the security chief
    taken_up: bool = False
    motions: list[Motion] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    silenced: set[str] = field(default_factory=set)  # § 9, for the rest of the item
    speakers: list[str] = field(default_factory=list)
    jav: dict[str, str] = field(default_factory=dict)  # person -> who reported it (KL 6 kap. 28 §)
    jav_subs: dict[str, str] = field(default_factory=dict)  # member -> substitute, this item only
    abstaining: list[str] = field(default_factory=list)  # declared before the decision (KL 4 kap. 25 §)
    paragraph: int | None = None  # the protocol's § number, given when the item is taken up
    justerad: datetime | None = None  # omedelbart justerad (KL 5 kap. 69 §)
    signatures: list[Signature] = field(default_factory=list)  # for omedelbar justering
    anslag: str | None = None  # ÅÅÅÅ-MM-DD its own anslag was put up (KL 8 kap. 12 §), once recorded
    led_by: str | None = None  # who presided over the item last while it was up (KL 6 kap. 33 §)
    struck: str | None = None  # the reason given when the item was struck (!utgår); "" for none

    @property
    def handled(self) -> bool:
        """Taken up or struck: accounted for in the protocol (KL 6 kap. 35 §)."""
        return self.taken_up or self.struck is not None

    @property
    def valid_decisions(self) -> list[Decision]:
        return [d for d in self.decisions if not d.retaken]

    @property
    def last_standing(self) -> int | None:
        """The index of the latest decision that stands (what !omtag, a reservation or a
        rättelse concerns), or None."""
        return next((i for i in range(len(self.decisions) - 1, -1, -1) if not self.decisions[i].retaken), None)

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
    teknikfel: dict[str, datetime] = field(default_factory=dict)  # § 11: member or substitute
    replaced_by: dict[str, str] = field(default_factory=dict)  # teknikfelsledamot -> who took the seat
    ever_served: dict[str, list[str]] = field(default_factory=dict)  # user -> the members served for
    left: dict[str, datetime] = field(default_factory=dict)  # who has left the meeting (KL 6 kap. 27 §)
    named_chair: str | None = None  # named with !ordförande, while no one leads by office
    first_paragraph: int = 1  # this meeting's first § number (numbering runs per body and year)
    # The body's last paragraph number by calendar year, from its meetings held before this one
    # ("2026" -> 14): fixed at the kallelse, from the meeting before it; None in a log from before
    # it was kept.
    numbered: dict[str, int] | None = None
    justerare: list[str] = field(default_factory=list)
    closed_presiding: str | None = None  # who presided at the close: signs as the chair
    signatures: list[Signature] = field(default_factory=list)
    justerad_at: datetime | None = None
    fingerprint: str = ""  # of the justerat protocol
    anslag: str | None = None  # ÅÅÅÅ-MM-DD the anslag was put up (KL 8 kap. 12 §), once recorded
    postings: list[Posting] = field(default_factory=list)
    amendments: list[Amendment] = field(default_factory=list)
    # Who is in the room's followed call (`Roster.follows_call`): user -> device -> when its
    # membership expires (ISO time) or None; a user with no device is not in the call.
    in_call: dict[str, dict[str, str | None]] = field(default_factory=dict)
    # Before and during the meeting (KL 6 kap. 17 §): who reported förhinder (-> who reported it),
    # and the substitutes called in for a member: awaiting an answer, or confirmed (!tjänstgör).
    forhinder: dict[str, str] = field(default_factory=dict)
    called: dict[str, str] = field(default_factory=dict)  # substitute -> member
    confirmed: dict[str, str] = field(default_factory=dict)  # substitute -> member
    drops: dict[str, set[str]] = field(default_factory=dict)  # user -> {"ljud", "bild"}
    # What the call's media server shows (`Roster.reads_media`): per person; the drops it
    # registered (user -> kind -> since), which a camera on again ends for picture; the picture
    # losses the chair was told of after the grace (§ 5); since when it cannot be read, and the
    # spans it could not, when the bot relied on attestations.
    shown: dict[str, Shown] = field(default_factory=dict)
    media_drops: dict[str, dict[str, datetime]] = field(default_factory=dict)
    grace_told: dict[str, datetime] = field(default_factory=dict)
    media_down: datetime | None = None
    media_spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    muted: set[str] = field(default_factory=set)
    adjourned: bool = False
    current: int | None = None
    checks: list[Check] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
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

    @property
    def next_paragraph(self) -> int:
        return self.first_paragraph + sum(1 for i in self.items.values() if i.paragraph is not None)

    def checks_of(self, n: int) -> list[Check]:
        return [c for c in self.checks if c.item == n]

    def votes_of(self, n: int) -> list[Vote]:
        return [v for v in self.votes if v.item == n]

    def here(self, user: str) -> bool:
        """Present at the meeting now: reported present and not left since."""
        return user in self.present and user not in self.left

    def seat(self, member: str) -> str | None:
        """Who serves in a member's seat now: the member if here, a substitute, or nobody.

        A substitute entered for the member serves until the member is reinstated; one entered
        because the person serving has jäv serves for the current item only. Jäv is personal: a
        jävig substitute does not serve in the item either (KL 6 kap. 28 §)."""
        server = self.substituted.get(member) or (member if member in self.present else None)
        item = self.item
        if item is not None and (server in item.jav or (server is None and member in item.jav_subs)):
            server = item.jav_subs.get(member)
        if server in self.left or (item is not None and server in item.jav):
            return None
        return server

    def serving(self, roster: Roster) -> list[str]:
        """The decision-makers now, one per member's seat that is filled."""
        return [u for u in (self.seat(p.user) for p in roster.members) if u is not None]

    def serving_for(self, user: str, roster: Roster) -> str | None:
        """The member whose seat a serving substitute fills."""
        return next((p.user for p in roster.members if self.seat(p.user) == user and p.user != user), None)

    def presiding(self, roster: Roster, excluding: str | None = None) -> str | None:
        """Who leads the current item (KL 6 kap. 33 §): the ordförande while serving in it, else
        the first vice chair serving, else the member named with !ordförande for this item. One
        who is jävig, has left, is absent or is a teknikfelsledamot does not serve, so does not
        lead; `excluding` asks who would lead without that person. A naming lapses when an item
        is taken up that someone leads by office or that the named member does not serve in.
        While a check or a vote runs, whoever presided when it started goes on presiding: an
        ordförande who arrives or returns takes over after it."""
        serving = [u for u in self.serving(roster) if u != excluding]
        running = self.vote or (self.check if self.check and self.check.running else None)
        if running is not None and running.presiding in serving:
            return running.presiding
        by_office = next((u for u in (roster.chair, *roster.vice_chairs) if u in serving), None)
        if by_office is not None:
            return by_office
        return self.named_chair if self.named_chair in serving else None

    def lacking(self, roster: Roster) -> dict[str, set[str]]:
        """Serving members whose transmission is down (§§ 3, 5, 10). Audio cut by the chair or
        the secretary (§ 3) counts as lost audio: members' audio must work at a decision (§ 5)."""
        out = {u: set(self.drops.get(u, ())) | ({"ljud"} if u in self.muted else set()) for u in self.serving(roster)}
        return {u: kinds for u, kinds in out.items() if kinds}

    def counted(self, roster: Roster, excluding: str = "") -> list[str]:
        """Those counted for quorum (KL 6 kap. 27 §): serving, and with audio; `excluding` asks
        who would be counted without that person."""
        return [u for u in self.serving(roster) if u != excluding and "ljud" not in self.drops.get(u, set())]

    def has_quorum(self, roster: Roster) -> bool:
        # KL 6 kap. 27 §: more than half of the members; one whose link is down does not count.
        return len(self.counted(roster)) * 2 > len(roster.members)


# --- the fold --------------------------------------------------------------------------------


def hm(at: datetime, tz: tzinfo) -> str:
    """A time the Swedish way: kl. 18.05, on the body's clock."""
    return at.astimezone(tz).strftime("%H.%M")


def hms(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%H.%M.%S")


def date_time(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d kl. %H.%M")


def apply(m: Meeting, roster: Roster, e: Event) -> None:
    """Fold one event into the meeting."""
    _APPLY[e.kind](m, roster, e.data, e.at)
    m.phase = PHASE_AFTER.get(e.kind, m.phase)
    if e.kind in _PRESIDING_KINDS and m.phase is Phase.OPEN and m.item is not None:
        # Who justerar a paragraph without a decision as its ordförande (KL 5 kap. 69 §).
        m.item.led_by = m.presiding(roster) or m.item.led_by
    m.event_count += 1


def _convened(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.start = datetime.fromisoformat(d["start"])
    m.form = d["form"]
    m.motivation = d["motivation"]
    m.items = {i["n"]: Item(i["n"], i["title"], i.get("klass", ""), i.get("dnr", "")) for i in d["agenda"]}
    m.kallelser += 1
    m.convened_at = at
    m.first_paragraph = d.get("first_paragraph", 1)
    m.numbered = dict(d["numbered"]) if "numbered" in d else None


def _cancelled(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.cancel_reason = d.get("reason", "")


def _opened(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.opened_at = at
    m.first_paragraph = d.get("first_paragraph", m.first_paragraph)  # logs from before: as convened


def _present(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    user = d["user"]
    m.present.setdefault(user, at)
    m.left.pop(user, None)  # one who left and comes back
    if r.is_member(user) and user not in m.substituted:
        m.ever_served.setdefault(user, [])


def _left(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    user = d["user"]
    if user in m.serving(r):
        _spend_check(m, f"{r.name_of(user)} lämnade sammanträdet kl. {hm(at, r.tz)}")
    m.left[user] = at


def _presiding_named(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.named_chair = d["user"]


def _located(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    users = d["users"]
    if len(users) == 1:
        m.location[users[0]] = "lokal"
    else:
        a, b = users
        m.location[a], m.location[b] = b, a


def _item_taken(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    # A check is valid for the item it was taken in while that item stays up (§ 12).
    _spend_check(m, f"ärende {d['n']} togs upp kl. {hm(at, r.tz)}")
    m.current = d["n"]
    item = m.items[d["n"]]
    item.taken_up = True
    if item.paragraph is None:
        item.paragraph = d.get("paragraph")
    if m.named_chair is not None and m.presiding(r) != m.named_chair:
        m.named_chair = None


def _struck(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].struck = d.get("reason", "")


def _allowed(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    item = m.items[d["n"]]
    if d["rule"] == Rule.P8.name:
        item.approved_by = d["by"]
    else:
        item.allowed_by = d["by"]


def _motion(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    item = m.items[d["n"]]
    item.motions.append(Motion(len(item.motions) + 1, d["user"], d["text"]))


def _motion_withdrawn(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].motions[d["id"] - 1].withdrawn = True


def _floor(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    if d.get("n") is not None:
        m.items[d["n"]].speakers.append(d["user"])


def _muted(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.muted.add(d["user"])
    if d["user"] in m.serving(r):
        _spend_check(m, f"ljudet för {r.name_of(d['user'])} stängdes av kl. {hm(at, r.tz)}")


def _floor_taken(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    item = m.items[d["n"]]
    item.silenced.add(d["user"])
    item.speakers = [u for u in item.speakers if u != d["user"]]


def _spend_check(m: Meeting, reason: str) -> None:
    check = m.check
    if check and check.passed and check.spent_by is None:
        check.spent_by = reason


def _dropped(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    user, kind = d["user"], d["kind"]
    m.drops.setdefault(user, set()).add(kind)
    if d.get("via") == "media":
        m.media_drops.setdefault(user, {})[kind] = at
    if user in m.serving(r):
        _spend_check(m, f"{r.name_of(user)} förlorade {kind} kl. {hm(at, r.tz)}")


def _restored(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.drops.pop(d["user"], None)
    m.muted.discard(d["user"])
    m.media_drops.pop(d["user"], None)
    m.grace_told.pop(d["user"], None)


def _shown(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.shown[d["user"]] = Shown(d["camera"], d["microphone"], d["connected"], at)


def _regained(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    """A loss the media server registered ends as it shows the camera on again (picture only:
    sound lost is confirmed back with !åter, § 10)."""
    user, kind = d["user"], d["kind"]
    m.drops.get(user, set()).discard(kind)
    if not m.drops.get(user):
        m.drops.pop(user, None)
    m.media_drops.get(user, {}).pop(kind, None)
    if not m.media_drops.get(user):
        m.media_drops.pop(user, None)
    m.grace_told.pop(user, None)


def _grace_passed(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.grace_told[d["user"]] = at


def _media_unavailable(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.media_down = at
    m.media_spans.append((at, None))


def _media_available(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.media_down = None
    if m.media_spans and m.media_spans[-1][1] is None:
        m.media_spans[-1] = (m.media_spans[-1][0], at)


def _adjourned(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.adjourned = True


def _resumed(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.adjourned = False
    # Nobody knows who is still connected after a pause (§§ 10, 12).
    _spend_check(m, f"sammanträdet återupptogs kl. {hm(at, r.tz)}")


def _replaced(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    member, sub = d["member"], d["substitute"]
    served = m.ever_served.setdefault(sub, [])
    if member not in served:
        served.append(member)
    if d.get("for_item"):
        m.items[d["for_item"]].jav_subs[member] = sub
        return
    m.substituted[member] = sub
    if d["teknikfel"]:
        out = d.get("replaces") or member  # a serving substitute may be the one replaced
        m.teknikfel[out] = at
        m.replaced_by[out] = sub


def _reinstated(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    member = d["member"]
    del m.substituted[member]
    m.teknikfel.pop(member, None)
    m.replaced_by.pop(member, None)
    m.ever_served.setdefault(member, [])


def _jav(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    item = m.items[d["n"]]
    item.jav[d["user"]] = d["by"]
    item.speakers = [u for u in item.speakers if u != d["user"]]
    for motion in item.motions:  # a jävig person's motions fall with their part in the item
        if motion.user == d["user"] and not motion.withdrawn:
            motion.fallen = True


def _jav_withdrawn(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    del m.items[d["n"]].jav[d["user"]]


def _vote_started(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.votes.append(
        Vote(
            len(m.votes) + 1,
            d["n"],
            d["a"],
            d["b"],
            list(d["voters"]),
            closed=d.get("closed", False),
            presiding=d.get("presiding"),
            started=at,
            # One who declared before the vote that she takes no part has answered avstår.
            ballots=dict.fromkeys(d.get("abstaining", []), "avstår"),
        )
    )


def _ballot(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.votes[d["id"] - 1].ballots[d["user"]] = d["choice"]


def _vote_ended(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    vote = m.votes[d["id"] - 1]
    vote.ended = True
    vote.winner = d.get("winner")
    vote.how = d["how"]
    vote.counts = dict(d.get("counts", {}))
    vote.cause = dict(d.get("cause", {}))
    vote.lot = d.get("lot")
    vote.presiding = d.get("presiding", vote.presiding)


def _abstained(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].abstaining.append(d["user"])


def _abstention_withdrawn(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].abstaining.remove(d["user"])
    vote = m.vote
    if vote is not None and vote.item == d["n"] and vote.ballots.get(d["user"]) == "avstår":
        del vote.ballots[d["user"]]  # the declaration was her answer; now she votes


def _reservation(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].decisions[d["index"]].reservations.append((d["user"], d.get("text", "")))


def _check_started(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.checks.append(
        Check(
            id=len(m.checks) + 1,
            item=d["n"],
            started=at,
            deadline=datetime.fromisoformat(d["deadline"]),
            expected=list(d["expected"]),
            presiding=d.get("presiding"),
        )
    )


def _check_answered(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.checks[d["id"] - 1].answered.append(d["user"])


def _check_ended(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.checks[d["id"] - 1].passed = d["passed"]
    m.checks[d["id"] - 1].media = d.get("media", "")


def _decided(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    item = m.items[d["n"]]
    participants = list(d["participants"])
    item.decisions.append(
        Decision(
            d["text"],
            at,
            participants,
            d["check_id"],
            d.get("vote"),
            serving=list(d.get("serving", participants)),
            presiding=d.get("presiding"),
            abstained=list(d.get("abstained", [])),
            proposal=d["text"] if d.get("vote") is not None else None,
            media=d.get("media", ""),
        )
    )
    _spend_check(m, f"beslut fattat kl. {hm(at, r.tz)}")


def _worded(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].decisions[d["index"]].text = d["text"]


def _retaken(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].decisions[d["index"]].retaken = True


def _closed(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.closed_at = at
    m.closed_presiding = d.get("presiding")
    m.current = None


def _call(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    if d["devices"]:
        m.in_call[d["user"]] = dict(d["devices"])
    else:
        m.in_call.pop(d["user"], None)


def _forhinder(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    user = d["user"]
    m.forhinder[user] = d["by"]
    m.called.pop(user, None)  # a called or confirmed substitute who cannot passes the call on
    m.confirmed.pop(user, None)


def _forhinder_withdrawn(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    user = d["user"]
    del m.forhinder[user]
    for sub in [s for s, member in m.called.items() if member == user]:  # not needed any more
        del m.called[sub]


def _called_in(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.called[d["substitute"]] = d["member"]


def _confirmed(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.confirmed[d["substitute"]] = m.called.pop(d["substitute"])


def _amended(m: Meeting, kind: str, by: str, data: dict, at: datetime) -> None:
    if m.closed_at is not None:
        m.amendments.append(Amendment(m.event_count, at, kind, by, data))


def _justerare(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    _amended(m, "justerare", d.get("by", ""), {"before": list(m.justerare), "users": list(d["users"])}, at)
    m.justerare = list(d["users"])


def _signed(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    signature = Signature(d["user"], at, d.get("event_id", ""), d["fingerprint"])
    (m.items[d["n"]].signatures if d.get("n") else m.signatures).append(signature)


def _paragraph_justerad(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.items[d["n"]].justerad = at


def _corrected(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    decision = m.items[d["n"]].decisions[d["index"]]
    _amended(m, "corrected", d["by"], {"n": d["n"], "old": decision.text, "new": d["text"]}, at)
    decision.corrections.append(Correction(decision.text, d["text"], d["by"], at))
    decision.text = d["text"]


def _justerad(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.justerad_at = at
    m.fingerprint = d["fingerprint"]
    if "anslag" in d:  # a log from before !anslag took the anslag as put up the day of justering
        m.anslag = d["anslag"]["anslaget"]


def _posted(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    m.postings.append(Posting(d["fingerprint"], at, m.event_count))


def _anslag(m: Meeting, r: Roster, d: dict, at: datetime) -> None:
    if d.get("n") is not None:
        m.items[d["n"]].anslag = d["date"]
    else:
        m.anslag = d["date"]


# What can change who presides over the item up (`Meeting.presiding`): who serves, jäv, a naming.
_PRESIDING_KINDS = frozenset(
    {"item_taken", "present", "left", "presiding_named", "replaced", "reinstated", "jav", "jav_withdrawn"}
)

# Which event moves the meeting to which phase; every other event leaves the phase as it is.
PHASE_AFTER: dict[str, Phase] = {
    "convened": Phase.CONVENED,
    "cancelled": Phase.CANCELLED,
    "opened": Phase.OPEN,
    "closed": Phase.CLOSED,
}


_APPLY = {
    "convened": _convened,
    "cancelled": _cancelled,
    "opened": _opened,
    "present": _present,
    "left": _left,
    "presiding_named": _presiding_named,
    "located": _located,
    "item_taken": _item_taken,
    "struck": _struck,
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
    "jav_withdrawn": _jav_withdrawn,
    "vote_started": _vote_started,
    "ballot": _ballot,
    "vote_ended": _vote_ended,
    "reservation": _reservation,
    "abstained": _abstained,
    "abstention_withdrawn": _abstention_withdrawn,
    "worded": _worded,
    "retaken": _retaken,
    "closed": _closed,
    "justerare": _justerare,
    "forhinder": _forhinder,
    "forhinder_withdrawn": _forhinder_withdrawn,
    "called_in": _called_in,
    "confirmed": _confirmed,
    "call": _call,
    "shown": _shown,
    "regained": _regained,
    "grace_passed": _grace_passed,
    "media_unavailable": _media_unavailable,
    "media_available": _media_available,
    "signed": _signed,
    "paragraph_justerad": _paragraph_justerad,
    "corrected": _corrected,
    "justerad": _justerad,
    "posted": _posted,
    "anslag": _anslag,
}

EVENT_KINDS = frozenset(_APPLY)
