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
        # Convened for the whole minute after the next (kalla_for), the reminder one minute before
        # falls on the next whole minute: the clock is first moved to a few seconds before one, so
        # that the bot's own timer sends it within seconds of real time instead of up to a minute.
        before_whole = stage.now().replace(second=0, microsecond=0) + timedelta(seconds=50)
        if before_whole <= stage.now():
            before_whole += timedelta(minutes=1)
        await stage.advance_to(before_whole)
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
