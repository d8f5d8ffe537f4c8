"""The types of a meeting's state, which `rules.state` folds the event log into.

The state keeps codes and no words: what a person reads is rendered from it and from the events
(`rules.words`, `minutes/`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from rules.citations import Rule
from rules.roster import Roster
from rules.shown import Shown


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
    media: str = ""  # of the call's media server at the decision: "shown" | "attested" … ("": not read)


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


@dataclass(frozen=True)
class Spent:
    """What made a passed check no longer cover the meeting (§ 12), as a code and its facts:
    left, muted, dropped (`kind` ljud|bild), item_taken (`n`), resumed, decided. Rendered by
    `minutes.words.spent_text`."""

    code: str
    at: datetime
    user: str = ""
    kind: str = ""
    n: int | None = None


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
    spent_by: Spent | None = None
    presiding: str | None = None  # who presided when it started, and so until it ends
    media: str = ""  # at a passed check, of the call's media server: "shown" | "attested" … ("": not read)

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
    dnr: str = ""
    allowed_by: str | None = None  # § 7, the chair
    approved_by: str | None = None  # § 8, the security chief
    taken_up: bool = False
    motions: list[Motion] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    silenced: set[str] = field(default_factory=set)  # § 9, for the rest of the item
    # The speakers' list (talarlista, § 9): who asked for the floor, in the order asked; who has
    # it now, and whether for a reply (never answered by a reply); a reply asked to the one
    # speaking (one at a time, given before the list); the streck that closes the list.
    speakers: list[str] = field(default_factory=list)
    hands: dict[str, str] = field(default_factory=dict)  # on the list by a hand in the call -> its event
    speaking: str | None = None
    replying: bool = False
    replying_to: str | None = None  # whom `speaking` replies to
    reply: str | None = None
    reply_to: str | None = None
    closed_list: bool = False
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
