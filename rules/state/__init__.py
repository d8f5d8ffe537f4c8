"""A meeting's state: a fold over its event log.

Theory of operation: `rules.meeting.decide` turns a command into events (or a refusal) without
touching the state; `apply` folds one event into the state. Replaying a meeting's log through
`apply` rebuilds it exactly, which is how the bot restarts. The fold keeps state and no words:
events carry data (the item they concern, rule ids, codes), and `minutes/` renders the journal
and the protocol from the events themselves, so every event is filed under the item it concerns.
Each event's data is read into its declared type (`rules.events`) before it is folded, and the
fold covers every declared kind, checked when this module is imported. The state's types are
`rules.model`'s, importable from here as before. The fold of each kind is in the module of its
part of the meeting, as the kinds are declared: `course` (`rules.events.course`) and `items`
(`rules.events.items`).
"""

from __future__ import annotations

from rules.events import covers, of
from rules.model import Event, Item, Meeting, Phase, Vote, date_time, hm
from rules.roster import Roster
from rules.state import course, items
from rules.tables import PHASE_AFTER, PRESIDING_KINDS

# Re-exported for the importers of the state's types from here.
__all__ = ["Event", "Item", "Meeting", "Phase", "Vote", "apply", "date_time", "hm"]


def apply(m: Meeting, roster: Roster, e: Event) -> None:
    """Fold one event into the meeting."""
    _APPLY[e.kind](m, roster, of(e.kind, e.data), e.at)
    m.phase = PHASE_AFTER.get(e.kind, m.phase)
    if e.kind in PRESIDING_KINDS and m.phase is Phase.OPEN and m.item is not None:
        # Who justerar a paragraph without a decision as its ordförande (KL 5 kap. 69 §).
        m.item.led_by = m.presiding(roster) or m.item.led_by
    m.event_count += 1


# The fold covers every kind `rules.events` declares, each once, or this module does not import.
if overlap := course.FOLD.keys() & items.FOLD.keys():
    raise RuntimeError(f"the fold (rules.state) folds {sorted(overlap)} twice")
covers("the fold (rules.state)", [*course.FOLD, *items.FOLD])
_APPLY = {**course.FOLD, **items.FOLD}
