"""The meeting's time: reminders before it, a nudge when it is late to open or long to close.

Pure, like the rest of `rules/`: `reminders(meeting, roster)` says which reminders a meeting
should have and when; `remind(meeting, roster, key, now)` says what to post when one falls due,
or None when it no longer matters (a reminder for a meeting already open is dropped). The shell
schedules them with APScheduler and records each key once, so a restart sends none twice.

Times before a meeting are counted on the body's wall clock, so "the day before" stays at the
same hour across a change to or from summer time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rules.actions import Reply
from rules.model import Meeting, Phase
from rules.roster import Roster
from rules.words import say

# A meeting not opened this long after its start: the chair is reminded.
LATE_TO_OPEN = timedelta(minutes=15)
# A meeting still open this long after its expected end: the chair is asked to close it.
LONG_AFTER_END = timedelta(minutes=60)


@dataclass(frozen=True)
class Reminder:
    key: str  # unique within the meeting; names the start it was made for
    at: datetime


def _before(start: datetime, minutes: float, r: Roster) -> datetime:
    """`minutes` before `start` on the wall clock; plain elapsed time where the wall clock has no
    such moment (inside the hour skipped or repeated at a summer-time change)."""
    wall = start.astimezone(r.tz).replace(tzinfo=None) - timedelta(minutes=minutes)
    at = wall.replace(tzinfo=r.tz)
    if at.astimezone(UTC).astimezone(r.tz).replace(tzinfo=None) != wall or at.fold:
        return start - timedelta(minutes=minutes)
    return at


def expected_end(m: Meeting, r: Roster) -> datetime:
    assert m.start is not None
    return max(m.start, m.opened_at or m.start) + timedelta(minutes=r.meeting_minutes)


def reminders(m: Meeting | None, r: Roster) -> list[Reminder]:
    """Every reminder the meeting should still get, given its phase; those made due before the
    meeting was convened (a day-before reminder for a meeting called an hour ahead) are left out."""
    if m is None or m.start is None or m.convened_at is None:
        return []
    stamp = m.start.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    if m.phase is Phase.CONVENED:
        out = [
            Reminder(f"före:{minutes:g}:{stamp}", _before(m.start, minutes, r))
            for minutes in r.reminders_minutes_before
        ]
        out = [x for x in out if x.at > m.convened_at]
        return [*out, Reminder(f"ej-öppnat:{stamp}", m.start + LATE_TO_OPEN)]
    if m.phase is Phase.OPEN:
        return [Reminder(f"pågår:{stamp}", expected_end(m, r) + LONG_AFTER_END)]
    return []


def remind(m: Meeting | None, r: Roster, key: str, now: datetime) -> Reply | None:
    """What to post for reminder `key` now, or None if it no longer matters."""
    due = {x.key: x for x in reminders(m, r)}
    if m is None or key not in due or now < due[key].at:
        return None
    assert m.start is not None
    kind, _, rest = key.partition(":")
    if kind == "före":
        if now >= m.start:  # the bot was down past the start: the call to connect is moot
            return None
        minutes = float(rest.split(":", 1)[0])
        called = tuple(p.user for p in (*r.members, *r.substitutes, *r.attendees))
        text = say("schedule.before", r, form=m.form, minutes=minutes, start=m.start)
        return Reply(text, mentions=called, reply=False)
    if kind == "ej-öppnat":
        return Reply(say("schedule.not_opened", r, start=m.start), mentions=(r.chair, *r.vice_chairs), reply=False)
    return Reply(say("schedule.still_open", r, end=expected_end(m, r)), mentions=(r.chair,), reply=False)
