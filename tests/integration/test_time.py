"""Time through Matrix: the kallelse's calendar file and a reminder arriving with its mentions."""

from __future__ import annotations

from datetime import timedelta

import icalendar

from testing.actors import text_of
from testing.stage import CAST

KALLA = "!kalla {} distans\nMotivering: stormen\n1. Budget 2027"


async def test_p1_kallelse_with_calendar_file_and_a_reminder_with_mentions(stage):
    await stage.new_meeting_room(reminders_minutes_before=[1])
    try:
        # Convened two minutes ahead (to the minute): the reminder one minute before comes in 0–60 s.
        soon = stage.kalla_for(timedelta(minutes=1))  # on the stage's clock
        kalla_id = await stage.say("anna", KALLA.format(soon))
        assert stage.observer
        ics = await stage.wait_for(
            lambda ev: (
                ev.get("content", {}).get("msgtype") == "m.file"
                and (ev["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == kalla_id
            )
        )
        assert ics["content"]["info"]["mimetype"] == "text/calendar"
        assert ics["content"]["filename"].endswith(".ics")
        got = await stage.observer.person.client.download(mxc=ics["content"]["url"])
        event = icalendar.Calendar.from_ical(got.body).walk("VEVENT")[0]
        # the room by the name its members know it by, with a link that opens it
        assert str(event["LOCATION"]) == f"Matrix-rummet ”KS {stage.rooms}”"
        assert str(event["URL"]).startswith(f"https://matrix.to/#/{stage.room_id}")
        reminder = await stage.wait_for(
            lambda ev: ev.get("room_id") == stage.room_id and text_of(ev).startswith("PÅMINNELSE"), timeout=150
        )
        assert "börjar om 1 minut, " in text_of(reminder)
        called = {
            f"@{lp}:localhost"
            for lp, _, _, role in CAST
            if role in ("member", "substitute", "secretary", "attendee", "security")
        }
        assert called <= set(reminder["content"]["m.mentions"]["user_ids"])
        assert "m.relates_to" not in reminder["content"]  # a message of its own, not a reply
    finally:
        stage.bot.stop()
