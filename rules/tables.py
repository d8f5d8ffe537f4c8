"""The tables that say what may happen when, in the style of h11's `_state.py`.

Theory of operation: every command has one row in `PERMISSIONS`: who may use it, in which
phases of the meeting, and which of the meeting's busy states block it. A busy state is a
condition that holds for a while and stops some commands: an ajournering (§ 10: only what
manages the pause, transmission and substitutes, and what only reads, goes on), a running
technical check (§ 12) and a running vote (KL 5 kap. 54 §): neither who serves nor what is up
may change under them. `rules.meeting.decide` consults the row before a command's own checks,
so no handler tests these conditions itself. Which event moves the phase is `PHASE_AFTER`,
below, and which may change who presides `PRESIDING_KINDS`.

A command whose sub-word changes what it does has a row of its own, keyed "name word"
(`votering klar` may be said while a vote runs; `votering` may not).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rules.actions import Command
from rules.citations import Rule
from rules.model import Meeting, Phase


class Who(Enum):
    # While the meeting is open "the chair" is the presiding member (`Meeting.presiding`);
    # before and after it, the ordförande alone (§ 1). Named in words by `minutes.replies`.
    CHAIR = "chair"
    CHAIR_OR_SECRETARY = "chair or secretary"
    CHAIR_OR_VICE = "chair or vice"  # !öppna: the vice when the chair does not
    APPOINTER = "appointer"  # the ordförande (also when she cannot lead the item) or the secretary
    SECURITY_CHIEF = "security chief"
    SECRETARY = "secretary"
    SERVING = "serving"
    SELF_OR_LEADER = "self or leader"
    ROSTER = "roster"


class Busy(Enum):
    ADJOURNED = "adjourned"
    CHECK = "check"
    VOTE = "vote"


# The rule a busy state's refusal cites (its words: `minutes.replies`, "who.busy").
BUSY_RULE = {Busy.ADJOURNED: Rule.P10, Busy.CHECK: Rule.P12, Busy.VOTE: Rule.KL_5_54}


def busy(m: Meeting | None) -> list[Busy]:
    """The busy states the meeting is in now, in the order their refusals are given."""
    if m is None:
        return []
    out = []
    if m.adjourned:
        out.append(Busy.ADJOURNED)
    if m.check and m.check.running:
        out.append(Busy.CHECK)
    if m.vote:
        out.append(Busy.VOTE)
    return out


_NEW = frozenset({None, Phase.CLOSED, Phase.CANCELLED})
_OPEN = frozenset({Phase.OPEN})
_CONVENED = frozenset({Phase.CONVENED})
_PLANNED = frozenset({Phase.CONVENED, Phase.OPEN})
_CLOSED = frozenset({Phase.CLOSED})
_ANY = frozenset({Phase.CONVENED, Phase.OPEN, Phase.CLOSED, Phase.CANCELLED})
_EVER = _ANY | {None}  # a question: answered before any kallelse too

_FREE: frozenset[Busy] = frozenset()  # never blocked: reads, and what manages a pause
_PAUSE = frozenset({Busy.ADJOURNED})  # handling the matter: not during an ajournering
_SEATS = frozenset({Busy.CHECK, Busy.VOTE})  # who serves: not under a check or a vote
_ALL = frozenset(Busy)


@dataclass(frozen=True)
class Permission:
    who: Who
    rule: Rule  # cited when the command is refused for who is asking or when
    phases: frozenset
    blocked_by: frozenset[Busy] = _FREE


PERMISSIONS: dict[str, Permission] = {
    "kalla": Permission(Who.CHAIR, Rule.P1, _NEW | _CONVENED),
    "inställ": Permission(Who.CHAIR, Rule.P1, _CONVENED),
    "öppna": Permission(Who.CHAIR_OR_VICE, Rule.P1, _CONVENED),
    "närvarande": Permission(Who.ROSTER, Rule.P2, _OPEN),
    "lokal": Permission(Who.CHAIR, Rule.P2, _OPEN),
    "delad": Permission(Who.CHAIR, Rule.P2, _OPEN),
    "lämnar": Permission(Who.SELF_OR_LEADER, Rule.KL_6_27, _OPEN, _SEATS),
    "ordförande": Permission(Who.APPOINTER, Rule.KL_6_33, _OPEN, _SEATS),
    "ärende": Permission(Who.CHAIR, Rule.KL_6_33, _OPEN, _ALL),
    "utgår": Permission(Who.CHAIR, Rule.KL_6_33, _PLANNED, _SEATS),  # also in a pause, as !avsluta is
    "tillåt": Permission(Who.CHAIR, Rule.P7, _PLANNED),
    "godkänn": Permission(Who.SECURITY_CHIEF, Rule.P8, _PLANNED),
    "yrka": Permission(Who.SERVING, Rule.KL_4_22, _OPEN, _PAUSE),
    "ordet": Permission(Who.ROSTER, Rule.P9, _OPEN, _PAUSE),  # finer: only the chair names another
    "ordet återta": Permission(Who.ROSTER, Rule.P9, _OPEN),  # leaving the list handles no matter
    "nästa": Permission(Who.CHAIR, Rule.P9, _OPEN, _PAUSE),
    "replik": Permission(Who.ROSTER, Rule.P9, _OPEN, _PAUSE),
    "streck": Permission(Who.CHAIR, Rule.P9, _OPEN, _PAUSE),
    "streck återta": Permission(Who.CHAIR, Rule.P9, _OPEN, _PAUSE),
    "tysta": Permission(Who.CHAIR_OR_SECRETARY, Rule.P3, _OPEN, _PAUSE),
    "fråntaordet": Permission(Who.CHAIR, Rule.P9, _OPEN, _PAUSE),
    "avbrott": Permission(Who.SELF_OR_LEADER, Rule.P10, _OPEN),
    "åter": Permission(Who.SELF_OR_LEADER, Rule.P10, _OPEN),
    "ajournera": Permission(Who.CHAIR, Rule.P10, _OPEN),
    "återuppta": Permission(Who.CHAIR, Rule.P10, _OPEN),
    "ersätt": Permission(Who.CHAIR, Rule.P11, _OPEN, _SEATS),
    "återinträd": Permission(Who.CHAIR, Rule.P11, _OPEN, _SEATS),
    "teknikkontroll": Permission(Who.CHAIR, Rule.P12, _OPEN, _ALL),
    "ok": Permission(Who.SERVING, Rule.P12, _OPEN, _PAUSE),
    "beslut": Permission(Who.CHAIR, Rule.KL_6_33, _OPEN, _ALL),
    "omtag": Permission(Who.CHAIR, Rule.P12, _OPEN, _ALL),
    "votering": Permission(Who.CHAIR, Rule.KL_5_54, _OPEN, _ALL),
    "votering klar": Permission(Who.CHAIR, Rule.KL_5_54, _OPEN, _PAUSE),
    "votering resultat": Permission(Who.CHAIR, Rule.P13, _OPEN, _PAUSE),
    "ja": Permission(Who.ROSTER, Rule.KL_5_54, _OPEN, _PAUSE),
    "nej": Permission(Who.ROSTER, Rule.KL_5_54, _OPEN, _PAUSE),
    "avstår": Permission(Who.ROSTER, Rule.KL_5_54, _OPEN, _PAUSE),
    "reservation": Permission(Who.ROSTER, Rule.KL_4_27, _OPEN),  # until the meeting ends, adjourned too
    "jäv": Permission(Who.ROSTER, Rule.KL_6_28, _OPEN, _ALL),
    "jäv återta": Permission(Who.ROSTER, Rule.KL_6_28, _OPEN, _ALL),
    "dagordning": Permission(Who.ROSTER, Rule.P6, _EVER),
    "status": Permission(Who.ROSTER, Rule.KL_6_33, _EVER),
    "protokoll": Permission(Who.CHAIR_OR_SECRETARY, Rule.KL_6_35, _OPEN | {Phase.CLOSED}),
    "avsluta": Permission(Who.CHAIR, Rule.KL_6_33, _OPEN),
    "justerare": Permission(Who.CHAIR, Rule.KL_5_69, _OPEN | _CLOSED),
    "justera": Permission(Who.ROSTER, Rule.KL_5_69, _CLOSED),  # finer: the chair, justerare, secretary
    "justera omedelbart": Permission(Who.ROSTER, Rule.KL_5_69, _OPEN, _ALL),
    "rättelse": Permission(Who.SECRETARY, Rule.KL_5_69, _CLOSED),
    "anslag": Permission(Who.SECRETARY, Rule.KL_8_12, _OPEN | _CLOSED),  # after a justering
    "förhinder": Permission(Who.ROSTER, Rule.KL_6_17, _PLANNED, _SEATS),  # finer: the person, or leaders
    "förhinder återta": Permission(Who.ROSTER, Rule.KL_6_17, _PLANNED, _SEATS),
    "tjänstgör": Permission(Who.ROSTER, Rule.KL_6_17, _PLANNED, _SEATS),  # finer: a called substitute
}


# What changes a paragraph: refused in one that is omedelbart justerad, which never changes
# afterwards (KL 5 kap. 69 §). By command name (`yrka återta`, `jäv återta` too); those with an item
# number concern that item, the rest the one up.
CHANGES_PARAGRAPH = frozenset(
    {
        "yrka",
        "jäv",
        "reservation",
        "beslut",
        "omtag",
        "votering",
        "teknikkontroll",
        "avstår",
        "tillåt",
        "godkänn",
        "rättelse",
        "nästa",  # who took part in the debate
    }
)


def permission(cmd: Command) -> Permission:
    return PERMISSIONS.get(f"{cmd.name} {cmd.word}") or PERMISSIONS[cmd.name]


# What can change who presides over the item up (`Meeting.presiding`): who serves, jäv, a naming.
PRESIDING_KINDS = frozenset(
    {"item_taken", "present", "left", "presiding_named", "replaced", "reinstated", "jav", "jav_withdrawn"}
)

# Which event moves the meeting to which phase; every other event leaves the phase as it is.
PHASE_AFTER: dict[str, Phase] = {
    "convened": Phase.CONVENED,
    "cancelled": Phase.CANCELLED,
    "opened": Phase.OPEN,
    "closed": Phase.CLOSED,
}
