"""The kallelse as an iCalendar file (RFC 5545), made with the icalendar library.

One UID per meeting; every new kallelse before the meeting is opened raises SEQUENCE, so
calendars update the event instead of adding one; `!inställ` sends METHOD:CANCEL.
"""

from __future__ import annotations

from datetime import timedelta

import icalendar

from rules.roster import Roster
from rules.state import Meeting, Phase


def sequence(m: Meeting) -> int:
    """How many times the meeting has been changed since it was first convened."""
    return m.kallelser - 1 + (1 if m.phase is Phase.CANCELLED else 0)


def ics(m: Meeting, r: Roster) -> str:
    assert m.start is not None and m.convened_at is not None
    cancelled = m.phase is Phase.CANCELLED
    cal = icalendar.Calendar()
    cal.add("prodid", "-//distansbot//kallelse//SV")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{m.id}@distansbot")
    event.add("sequence", sequence(m))
    event.add("dtstamp", m.convened_at)
    start = m.start.astimezone(r.tz)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=r.meeting_minutes))
    event.add("summary", f"{r.name} – {m.form}sammanträde")
    event.add("location", f"Matrix-rummet {r.place}" if r.place else "Matrix")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"matrix:u/{r.chair.lstrip('@')}")
    organizer.params["cn"] = icalendar.vText(r.name_of(r.chair))
    event.add("organizer", organizer)
    agenda = [f"{item.n}. {item.title}" + (f" [{item.klass}]" if item.klass else "") for item in m.items.values()]
    description = [f"Motivering (§ 1): {m.motivation}", "", "Föredragningslista:", *agenda]
    if cancelled:
        description.insert(0, "Sammanträdet är INSTÄLLT." + (f" Skäl: {m.cancel_reason}" if m.cancel_reason else ""))
    event.add("description", "\n".join(description))
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical().decode()
