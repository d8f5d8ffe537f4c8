"""The events of the items' business: taking up and striking items, jäv and motions, checks and
decisions, votes and reservations, justering and anslag (see `rules.events`)."""

from __future__ import annotations

from dataclasses import field

from rules.events.declare import ABSENT, EventData, declare


# --- items, jäv and motions (§§ 6–8, KL 4 kap. 22 §, 6 kap. 28 §) ------------------------------
@declare("item_taken")
class ItemTaken(EventData):
    n: int
    paragraph: int | None = None  # logs from before numbering: none


@declare("struck")
class Struck(EventData):
    n: int
    reason: str = ""


@declare("allowed")
class Allowed(EventData):
    n: int
    by: str
    rule: str  # P7 (the chair) | P8 (the security chief)
    unencrypted: bool = False


@declare("jav")
class Jav(EventData):
    n: int
    user: str
    by: str


@declare("jav_withdrawn")
class JavWithdrawn(EventData):
    n: int
    user: str


@declare("motion")
class Motion(EventData):
    n: int
    user: str
    text: str


@declare("motion_withdrawn")
class MotionWithdrawn(EventData):
    n: int
    id: int


# --- checks and decisions (§§ 5, 12, KL 6 kap. 27, 33 §§) --------------------------------------
@declare("check_started")
class CheckStarted(EventData):
    n: int
    deadline: str
    expected: list[str]
    presiding: str | None = None


@declare("check_answered")
class CheckAnswered(EventData):
    id: int
    user: str


@declare("check_ended")
class CheckEnded(EventData):
    id: int
    passed: bool
    reason: str = ""  # a code of `minutes.words.ABORTED` when something else ended it
    media: str = ""  # what the call's media server showed (rules.transmission.evidence)
    lacking: list[str] = field(default_factory=list)


@declare("decided")
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


@declare("worded")
class Worded(EventData):
    n: int
    index: int
    text: str


@declare("retaken")
class Retaken(EventData):
    n: int
    index: int


# --- votes and reservations (KL 4 kap. 25–27 §§, 5 kap. 53–56 §§, § 13) -------------------------
@declare("vote_started")
class VoteStarted(EventData):
    n: int
    a: str
    b: str
    voters: list[str]
    closed: bool = False
    presiding: str | None = None
    abstaining: list[str] = field(default_factory=list)


@declare("ballot")
class Ballot(EventData):
    id: int
    user: str
    choice: str  # ja | nej | avstår


@declare("vote_ended")
class VoteEnded(EventData):
    id: int
    how: str  # a code: majority, casting, most, lot, void
    winner: str | None = None  # a | b; none when void
    counts: dict[str, int] = field(default_factory=dict)
    cause: dict[str, str] = field(default_factory=dict)  # why void: {"code": ..., ...}
    lot: int | None = None
    presiding: str | None = ABSENT  # absent (a void vote): who presided when it started


@declare("abstained")
class Abstained(EventData):
    n: int
    user: str


@declare("abstention_withdrawn")
class AbstentionWithdrawn(EventData):
    n: int
    user: str


@declare("reservation")
class Reservation(EventData):
    n: int
    index: int
    user: str
    text: str = ""


# --- justering and anslag (KL 5 kap. 69 §, 8 kap. 12 §) --------------------------------------
@declare("justerare")
class Justerare(EventData):
    users: list[str]
    by: str = ""


@declare("signed")
class Signed(EventData):
    user: str
    fingerprint: str
    event_id: str = ""
    n: int | None = None  # a paragraph's omedelbar justering


@declare("paragraph_justerad")
class ParagraphJusterad(EventData):
    n: int
    fingerprint: str = ""


@declare("justerad")
class Justerad(EventData):
    fingerprint: str
    anslag: dict[str, str] | None = None  # logs from before !anslag: the anslag as of that day


@declare("corrected")
class Corrected(EventData):
    n: int
    index: int
    text: str
    by: str


@declare("posted")
class Posted(EventData):
    fingerprint: str


@declare("anslag")
class Anslag(EventData):
    date: str  # ÅÅÅÅ-MM-DD
    n: int | None = None  # an omedelbart justerad paragraph's
