"""Every kind of event, declared once: one frozen type per kind with its fields.

The log stores an event as its kind and a dict of data (`rules.state.Event`), a format that never
changes, so an old log replays and verifies. `check` holds every event the rules emit to its
declaration (`rules.actions.Accepted` calls it); `of` reads stored data into its type for the
fold, a field a later version added taking its default, which is what an older log meant. A
field without a default is one the fold cannot do without. `n` is an item's number on the
agenda, `id` a check's or vote's number in the meeting, `index` a decision's among its item's.
The fold (`rules.state`) and the journal (`minutes.journal`) check when imported that they cover
every kind declared here (`covers`).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar


class Absent:
    """The value of a field the stored data did not have, where that means "as it was"."""


ABSENT: Any = Absent()


class EventData:
    kind: ClassVar[str]


EVENTS: dict[str, type[EventData]] = {}
_FIELDS: dict[str, frozenset[str]] = {}
_REQUIRED: dict[str, frozenset[str]] = {}


def _declare(kind: str):
    def declare(cls):
        cls = dataclass(frozen=True, kw_only=True, slots=True)(cls)
        cls.kind = kind
        EVENTS[kind] = cls
        _FIELDS[kind] = frozenset(f.name for f in fields(cls))
        _REQUIRED[kind] = frozenset(f.name for f in fields(cls) if MISSING is f.default is f.default_factory)
        return cls

    return declare


def check(kind: str, data: dict[str, Any]) -> None:
    """Raise if an event the rules emit is not as declared."""
    declared = _FIELDS.get(kind)
    if declared is None:
        raise ValueError(f"undeclared event kind {kind!r}")
    if not data.keys() <= declared or not _REQUIRED[kind] <= data.keys():
        extra, lacking = sorted(data.keys() - declared), sorted(_REQUIRED[kind] - data.keys())
        raise ValueError(f"event {kind!r}: undeclared fields {extra}, missing fields {lacking}")


def of(kind: str, data: dict[str, Any]) -> EventData:
    """Stored data read into its kind's type (a field no longer declared is left out)."""
    cls, declared = EVENTS[kind], _FIELDS[kind]
    return cls(**(data if data.keys() <= declared else {k: v for k, v in data.items() if k in declared}))


def covers(what: str, kinds) -> None:
    """Raise unless `kinds` (a fold's or a renderer's table) has exactly the declared kinds."""
    if set(kinds) != EVENTS.keys():
        raise RuntimeError(
            f"{what} does not cover the declared events: missing {sorted(EVENTS.keys() - set(kinds))}, "
            f"undeclared {sorted(set(kinds) - EVENTS.keys())}"
        )


# --- convening and the meeting's course (§ 1, KL 6 kap. 35 §) ----------------------------------
@_declare("convened")
class Convened(EventData):
    start: str
    form: str  # distans | hybrid
    motivation: str
    agenda: list[dict[str, Any]]  # n, title, klass, dnr
    first_paragraph: int = 1  # until it is opened, for the kallelse's day
    numbered: dict[str, int] | None = None  # the body's last paragraph by year (logs from before: none)


@_declare("cancelled")
class Cancelled(EventData):
    reason: str = ""


@_declare("opened")
class Opened(EventData):
    first_paragraph: int | None = None  # logs from before: as convened


@_declare("closed")
class Closed(EventData):
    presiding: str | None = None


@_declare("adjourned")
class Adjourned(EventData):
    pass


@_declare("resumed")
class Resumed(EventData):
    pass


# --- presence and transmission (§§ 2–5, 9, 10) ------------------------------------------------
@_declare("present")
class Present(EventData):
    user: str
    attests: str = ""
    returned: bool = False
    shown: dict[str, str] | None = None  # what the call's media server showed: camera, microphone


@_declare("left")
class Left(EventData):
    user: str
    n: int | None = None


@_declare("located")
class Located(EventData):
    users: list[str]  # one: in the chair's room; two: sharing a transmission
    moved: bool = False  # seen in the call first: a change of place from now


@_declare("floor")
class Floor(EventData):
    """A place asked on the item's speakers' list (§ 9)."""

    user: str
    n: int | None = None  # logs from before the list was per item: none
    hand: str = ""  # asked with a hand raised in the call: its event
    by: str = ""  # the chair who put the person there


@_declare("floor_withdrawn")
class FloorWithdrawn(EventData):
    """Off the speakers' list, with a reply asked, at one's own request."""

    user: str
    n: int
    via: str = ""  # "call": the hand lowered in the call


@_declare("reply_asked")
class ReplyAsked(EventData):
    user: str
    n: int
    to: str  # the one speaking when it was asked


@_declare("floor_given")
class FloorGiven(EventData):
    """The chair gave the floor (!nästa): to the reply asked, or to the first on the list."""

    n: int
    user: str | None  # None: the list was empty, nobody has the floor
    reply: bool = False
    reply_to: str | None = None


@_declare("streck")
class Streck(EventData):
    n: int


@_declare("streck_withdrawn")
class StreckWithdrawn(EventData):
    n: int


@_declare("floor_taken")
class FloorTaken(EventData):
    user: str
    n: int


@_declare("muted")
class Muted(EventData):
    user: str
    by: str = ""


@_declare("dropped")
class Dropped(EventData):
    user: str
    kind: str  # ljud | bild
    via: str = ""  # "call": seen in the followed call; "media": shown by the call's media server


@_declare("restored")
class Restored(EventData):
    user: str


@_declare("call")
class Call(EventData):
    user: str
    devices: dict[str, str | None]  # device -> when its membership expires (ISO) or None


# --- what the call's media server shows (§§ 3–5, 12; rules/transmission.py) ---------------------
@_declare("shown")
class Shown(EventData):
    user: str
    camera: str  # on | off | none
    microphone: str  # on | muted | none
    connected: bool


@_declare("regained")
class Regained(EventData):
    user: str
    kind: str  # bild: a picture loss the server registered, ended as it shows the camera on


@_declare("grace_passed")
class GracePassed(EventData):
    user: str  # the chair was told the picture has been lost longer than the grace (§ 5)


@_declare("media_unavailable")
class MediaUnavailable(EventData):
    reason: str  # unreachable | refused | error


@_declare("media_available")
class MediaAvailable(EventData):
    pass


# --- who serves (§ 11, KL 6 kap. 17, 33 §§) ---------------------------------------------------
@_declare("replaced")
class Replaced(EventData):
    member: str
    substitute: str
    teknikfel: bool
    for_item: int | None = None  # for one item, for jäv (KL 6 kap. 28 §)
    replaces: str | None = None  # the serving substitute replaced, when not the member


@_declare("reinstated")
class Reinstated(EventData):
    member: str
    late: bool = False


@_declare("presiding_named")
class PresidingNamed(EventData):
    user: str
    n: int | None = None
    by: str | None = None  # logs from before: not kept


@_declare("forhinder")
class Forhinder(EventData):
    user: str
    by: str


@_declare("forhinder_withdrawn")
class ForhinderWithdrawn(EventData):
    user: str
    present: bool = False  # she came despite it


@_declare("called_in")
class CalledIn(EventData):
    substitute: str
    member: str


@_declare("confirmed")
class Confirmed(EventData):
    substitute: str
    member: str


# --- items, jäv and motions (§§ 6–8, KL 4 kap. 22 §, 6 kap. 28 §) ------------------------------
@_declare("item_taken")
class ItemTaken(EventData):
    n: int
    paragraph: int | None = None  # logs from before numbering: none


@_declare("struck")
class Struck(EventData):
    n: int
    reason: str = ""


@_declare("allowed")
class Allowed(EventData):
    n: int
    by: str
    rule: str  # P7 (the chair) | P8 (the security chief)
    unencrypted: bool = False


@_declare("jav")
class Jav(EventData):
    n: int
    user: str
    by: str


@_declare("jav_withdrawn")
class JavWithdrawn(EventData):
    n: int
    user: str


@_declare("motion")
class Motion(EventData):
    n: int
    user: str
    text: str


@_declare("motion_withdrawn")
class MotionWithdrawn(EventData):
    n: int
    id: int


# --- checks and decisions (§§ 5, 12, KL 6 kap. 27, 33 §§) --------------------------------------
@_declare("check_started")
class CheckStarted(EventData):
    n: int
    deadline: str
    expected: list[str]
    presiding: str | None = None


@_declare("check_answered")
class CheckAnswered(EventData):
    id: int
    user: str


@_declare("check_ended")
class CheckEnded(EventData):
    id: int
    passed: bool
    reason: str = ""  # a code of `minutes.words.ABORTED` when something else ended it
    media: str = ""  # what the call's media server showed (rules.transmission.evidence)
    lacking: list[str] = field(default_factory=list)


@_declare("decided")
class Decided(EventData):
    n: int
    text: str
    participants: list[str]
    check_id: int
    vote: int | None = None
    serving: list[str] | None = None  # logs from before: the participants
    presiding: str | None = None
    abstained: list[str] = field(default_factory=list)
    media: str = ""  # what the call's media server showed (rules.transmission.evidence)
    lacking: list[str] = field(default_factory=list)


@_declare("worded")
class Worded(EventData):
    n: int
    index: int
    text: str


@_declare("retaken")
class Retaken(EventData):
    n: int
    index: int


# --- votes and reservations (KL 4 kap. 25–27 §§, 5 kap. 53–56 §§, § 13) -------------------------
@_declare("vote_started")
class VoteStarted(EventData):
    n: int
    a: str
    b: str
    voters: list[str]
    closed: bool = False
    presiding: str | None = None
    abstaining: list[str] = field(default_factory=list)


@_declare("ballot")
class Ballot(EventData):
    id: int
    user: str
    choice: str  # ja | nej | avstår


@_declare("vote_ended")
class VoteEnded(EventData):
    id: int
    how: str  # a code: majority, casting, most, lot, void
    winner: str | None = None  # a | b; none when void
    counts: dict[str, int] = field(default_factory=dict)
    cause: dict[str, str] = field(default_factory=dict)  # why void: {"code": ..., ...}
    lot: int | None = None
    presiding: str | None = ABSENT  # absent (a void vote): who presided when it started


@_declare("abstained")
class Abstained(EventData):
    n: int
    user: str


@_declare("abstention_withdrawn")
class AbstentionWithdrawn(EventData):
    n: int
    user: str


@_declare("reservation")
class Reservation(EventData):
    n: int
    index: int
    user: str
    text: str = ""


# --- justering and anslag (KL 5 kap. 69 §, 8 kap. 12 §) --------------------------------------
@_declare("justerare")
class Justerare(EventData):
    users: list[str]
    by: str = ""


@_declare("signed")
class Signed(EventData):
    user: str
    fingerprint: str
    event_id: str = ""
    n: int | None = None  # a paragraph's omedelbar justering


@_declare("paragraph_justerad")
class ParagraphJusterad(EventData):
    n: int
    fingerprint: str = ""


@_declare("justerad")
class Justerad(EventData):
    fingerprint: str
    anslag: dict[str, str] | None = None  # logs from before !anslag: the anslag as of that day


@_declare("corrected")
class Corrected(EventData):
    n: int
    index: int
    text: str
    by: str


@_declare("posted")
class Posted(EventData):
    fingerprint: str


@_declare("anslag")
class Anslag(EventData):
    date: str  # ÅÅÅÅ-MM-DD
    n: int | None = None  # an omedelbart justerad paragraph's
