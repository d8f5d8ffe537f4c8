"""Every kind of event, declared once: one frozen type per kind with its fields.

The log stores an event as its kind and a dict of data (`rules.state.Event`), a format that never
changes, so an old log replays and verifies. `check` holds every event the rules emit to its
declaration (`rules.actions.Accepted` calls it); `of` reads stored data into its type for the
fold, a field a later version added taking its default, which is what an older log meant. A
field without a default is one the fold cannot do without. `n` is an item's number on the
agenda, `id` a check's or vote's number in the meeting, `index` a decision's among its item's.
The fold (`rules.state`) and the journal (`minutes.journal`) check when imported that they cover
every kind declared here (`covers`).

The kinds are declared by part of the meeting, as the fold folds them: `course` (convening, the
meeting's course, presence and the floor, who serves) and `items` (the items' business: jäv and
motions, checks and decisions, votes and reservations, justering and anslag); `declare` holds
the machinery.
"""

from rules.events import course, items
from rules.events.declare import ABSENT, EVENTS, Absent, EventData, check, covers, of

__all__ = ["ABSENT", "EVENTS", "Absent", "EventData", "check", "covers", "course", "items", "of"]
