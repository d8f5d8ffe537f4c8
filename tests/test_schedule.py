"""Time: reminders, summer time, the calendar file, and timers rebuilt after a restart.

The clock is the test's: rules get `now` as an argument, and the shell's timers are fired by
hand with a given time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import vobject

from commands.text import Message
from matrix.content import room_link
from minutes import calendar
from rules import schedule
from rules.citations import Rule
from rules.state import Phase
from testing.driver import CHAIR, KALLA, MEMBERS, SUB1, TJP, Driver, started

STOCKHOLM_18 = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 18.00 in Stockholm, winter time


def convened(kalla: str = KALLA, now: datetime | None = None) -> Driver:
    d = Driver()
    if now:
        d.now = now
    d.ok(CHAIR, kalla)
    return d


def test_p1_default_reminders_day_before_and_time_to_connect():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    due = {r.key.split(":")[0] + ":" + r.key.split(":")[1]: r.at for r in schedule.reminders(d.m, d.roster)}
    assert due == {
        "före:1440": STOCKHOLM_18 - timedelta(days=1),
        "före:15": STOCKHOLM_18 - timedelta(minutes=15),
        "ej-öppnat:20261203T1700Z": STOCKHOLM_18 + timedelta(minutes=15),
    }


def test_p1_reminders_already_past_at_convening_are_left_out():
    d = convened(now=STOCKHOLM_18 - timedelta(hours=1))
    assert [r.key.split(":")[1] for r in schedule.reminders(d.m, d.roster) if r.key.startswith("före")] == ["15"]


def test_p1_day_before_keeps_the_wall_clock_across_summer_time_end():
    # Summer time ends 2026-10-25 at 03.00; a meeting at 10.00 that day (09.00 UTC) is reminded
    # the day before at 10.00 summer time, 08.00 UTC: 25 hours before, not 24.
    kalla = KALLA.replace("2026-12-03 18:00", "2026-10-25 10:00")
    d = convened(kalla, now=datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    day_before = next(r for r in schedule.reminders(d.m, d.roster) if r.key.startswith("före:1440"))
    assert d.m.start == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert day_before.at == datetime(2026, 10, 24, 8, 0, tzinfo=UTC)


def test_p1_day_before_keeps_the_wall_clock_across_summer_time_start():
    kalla = KALLA.replace("2026-12-03 18:00", "2026-03-29 10:00")
    d = convened(kalla, now=datetime(2026, 3, 20, 12, 0, tzinfo=UTC))
    day_before = next(r for r in schedule.reminders(d.m, d.roster) if r.key.startswith("före:1440"))
    assert d.m.start == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # summer time: UTC+2
    assert day_before.at == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # winter time: UTC+1


def test_p1_a_time_skipped_by_summer_time_is_refused():
    d = Driver()
    d.now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    refusal = d.refused(CHAIR, KALLA.replace("2026-12-03 18:00", "2026-03-29 02:30"))
    assert refusal.rule is Rule.P1 and "finns inte" in refusal.text


def test_p1_a_time_in_the_past_is_refused():
    d = Driver()
    d.now = STOCKHOLM_18 + timedelta(minutes=1)
    assert d.refused(CHAIR, KALLA).rule is Rule.P1


def test_p1_reminder_mentions_everyone_called_and_is_dropped_once_too_late():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    key = next(r.key for r in schedule.reminders(d.m, d.roster) if r.key.startswith("före:15"))
    assert schedule.remind(d.m, d.roster, key, STOCKHOLM_18 - timedelta(minutes=20)) is None  # not yet
    reply = schedule.remind(d.m, d.roster, key, STOCKHOLM_18 - timedelta(minutes=15))
    assert "börjar om 15 minuter, 2026-12-03 kl. 18.00" in reply.text
    assert set(MEMBERS) | {SUB1, TJP} <= set(reply.mentions)
    assert schedule.remind(d.m, d.roster, key, STOCKHOLM_18 + timedelta(seconds=1)) is None  # moot


def test_p1_reminder_for_a_meeting_already_open_is_dropped():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    key = next(r.key for r in schedule.reminders(d.m, d.roster) if r.key.startswith("före:15"))
    d.now = STOCKHOLM_18 - timedelta(minutes=15, seconds=1)  # opened as early as the kallelse allows
    d.ok(CHAIR, "!öppna")
    d.until_called()
    assert schedule.remind(d.m, d.roster, key, STOCKHOLM_18 - timedelta(minutes=10)) is None


def test_p1_chair_reminded_when_not_opened_and_when_open_long_after_end():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    late = next(r for r in schedule.reminders(d.m, d.roster) if r.key.startswith("ej-öppnat"))
    reply = schedule.remind(d.m, d.roster, late.key, late.at)
    assert "inte öppnat" in reply.text and reply.mentions[0] == CHAIR
    d.now = late.at + timedelta(minutes=1)
    d.ok(CHAIR, "!öppna")
    d.until_called()
    d.ok(CHAIR, "!närvarande")
    assert schedule.remind(d.m, d.roster, late.key, late.at + timedelta(minutes=2)) is None
    (overdue,) = schedule.reminders(d.m, d.roster)
    assert overdue.at == d.m.opened_at + timedelta(minutes=120 + 60)
    reply = schedule.remind(d.m, d.roster, overdue.key, overdue.at)
    assert "!avsluta" in reply.text and reply.mentions == (CHAIR,)
    d.close()
    assert schedule.reminders(d.m, d.roster) == []


def test_p1_new_kallelse_moves_the_reminders():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    before = {r.key for r in schedule.reminders(d.m, d.roster)}
    d.ok(CHAIR, KALLA.replace("18:00", "19:00"))
    after = {r.key for r in schedule.reminders(d.m, d.roster)}
    assert before.isdisjoint(after)
    d.ok(CHAIR, "!inställ")
    assert schedule.reminders(d.m, d.roster) == []


# --- the calendar file, read back with an independent parser (vobject) ------------------------------


def parse_ics(text: str):
    return vobject.readOne(text)


def test_p1_ics_carries_the_meeting():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    cal = parse_ics(calendar.ics(d.m, d.roster))
    event = cal.vevent
    assert cal.method.value == "PUBLISH"
    assert event.uid.value == "ks-1@distansbot" and int(event.sequence.value) == 0
    assert event.dtstart.value == STOCKHOLM_18
    assert event.dtend.value - event.dtstart.value == timedelta(minutes=120)
    assert event.summary.value == "Kommunstyrelsen – distanssammanträde"
    description = event.description.value
    assert "Motivering (§ 1): smittspridning i kommunen" in description
    assert "1. Budget 2027" in description and "4. [sekretess]" in description


def _unfolded(text: str) -> str:
    """The file as one reads it, its long lines unfolded (RFC 5545 3.1)."""
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def test_p7_p8_ics_gives_items_with_personal_data_secrecy_or_sakerhetsskydd_as_number_and_class_only():
    # The file goes to members' calendars, often in a cloud: only the room is encrypted (§§ 7–8).
    d = convened(
        KALLA.replace("Anställning av förvaltningschef", "Anställning av Karin Ek")
        .replace("Skyddsobjekt", "Kraftverket Norrfors")
        .replace("Upphandling [sekretess]", "Upphandling av larmcentral [sekretess] (Dnr KS 2026/9)")
    )
    text = calendar.ics(d.m, d.roster, room_link("!abc:ex.se", "ex.se"), "KS sammanträden")
    description = parse_ics(text).vevent.description.value
    lines = description.splitlines()
    assert lines[lines.index("Föredragningslista:") :][:6] == [
        "Föredragningslista:",
        "1. Budget 2027",
        "2. [personuppgifter]",
        "3. [säkerhetsskydd]",
        "4. [sekretess]",
        "",
    ]
    for secret in ("Karin", "Norrfors", "larmcentral", "2026/9"):
        assert secret not in _unfolded(text), secret
    assert icalendar.Calendar.from_ical(text).walk("VEVENT")[0]["DESCRIPTION"] == description


def test_ics_locates_the_meeting_by_the_rooms_name_with_a_link_to_the_room():
    d = convened()
    event = parse_ics(calendar.ics(d.m, d.roster, room_link("!abc:ex.se", "ex.se"), "KS sammanträden")).vevent
    assert event.location.value == "Matrix-rummet ”KS sammanträden”"
    assert event.location.params["ALTREP"] == ["https://matrix.to/#/!abc:ex.se?via=ex.se"]
    assert event.url.value == "https://matrix.to/#/!abc:ex.se?via=ex.se"
    assert event.description.value.endswith("Sammanträdesrummet i Matrix: https://matrix.to/#/!abc:ex.se?via=ex.se")
    # a room without a name: the body's; an alias links as it reads
    event = parse_ics(calendar.ics(d.m, d.roster, room_link("#ks:ex.se", "ex.se"), "")).vevent
    assert event.location.value == "Matrix-rummet ”Kommunstyrelsen”"
    assert event.url.value == "https://matrix.to/#/%23ks:ex.se"
    assert "!" not in event.location.value


async def test_ics_room_link_is_the_transports_by_the_configured_alias_or_by_id_and_the_bots_server(config):
    """The shell asks the transport for the room's link (matrix.to is Matrix's, not the shell's)."""
    from matrix.client import Transport

    bot = await started(config)
    transport = Transport(config, bot.store)
    transport.aliases["!abc:ex.se"] = "#ks:ex.se"  # as `start` resolved it
    assert transport.room_link("!abc:ex.se") == "https://matrix.to/#/%23ks:ex.se"
    assert transport.room_link("!def:ex.se") == "https://matrix.to/#/!def:ex.se?via=localhost"
    await transport.close()
    await bot.store.close()


def test_ics_is_swedish_and_its_time_zone_holds_after_2038():
    d = convened(KALLA.replace("2026-12-03 18:00", "2040-06-14 18:00"), now=datetime(2040, 6, 1, 12, 0, tzinfo=UTC))
    text = calendar.ics(d.m, d.roster, room_link("!abc:ex.se", "ex.se"), "KS")
    assert "This timezone" not in _unfolded(text) and "COMMENT" not in text
    # The file's own VTIMEZONE (not the parser's zone database) puts 18.00 in summer time: 16.00 UTC.
    # (vobject's reading of any VTIMEZONE stops at 2038, so icalendar reads this one.)
    zone = icalendar.Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    assert datetime(2040, 6, 14, 18, 0, tzinfo=zone).astimezone(UTC) == datetime(2040, 6, 14, 16, 0, tzinfo=UTC)
    assert datetime(2040, 12, 14, 18, 0, tzinfo=zone).astimezone(UTC) == datetime(2040, 12, 14, 17, 0, tzinfo=UTC)
    summer = convened(KALLA.replace("2026-12-03", "2026-06-11"), now=datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    start = parse_ics(calendar.ics(summer.m, summer.roster)).vevent.dtstart.value
    assert start.astimezone(UTC) == datetime(2026, 6, 11, 16, 0, tzinfo=UTC)


def test_p1_new_kallelse_updates_and_inställ_cancels_the_same_event():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    d.ok(CHAIR, KALLA.replace("18:00", "19:00"))
    updated = parse_ics(calendar.ics(d.m, d.roster)).vevent
    assert int(updated.sequence.value) == 1 and updated.dtstart.value == STOCKHOLM_18 + timedelta(hours=1)
    d.ok(CHAIR, "!inställ sjukdom")
    cancelled = parse_ics(calendar.ics(d.m, d.roster))
    assert cancelled.method.value == "CANCEL" and cancelled.vevent.status.value == "CANCELLED"
    assert cancelled.vevent.uid.value == "ks-1@distansbot" and int(cancelled.vevent.sequence.value) == 2


def test_p1_kallelse_and_inställ_attach_the_calendar_file():
    d = Driver()
    assert d.ok(CHAIR, KALLA).replies[0].attach == "calendar"
    assert d.ok(CHAIR, "!inställ").replies[0].attach == "calendar"


# --- the shell's timers over a restart (real SQLite, no homeserver) ----------------------------------


async def test_p1_p12_timers_survive_a_restart_and_fire_once(config):
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    bot = await started(config)
    body = bot.bodies["ks"]
    await bot.handle(body, "$kalla", Message(KALLA), "@anna:localhost", now)
    timers = dict(await bot.timers(body))
    first = next(job for job in timers if "före:1440" in job)
    await bot.on_timer(first, now=timers[first])
    sent = [o.content.get("body", "") for o in await bot.store.unsent()]
    assert sum("PÅMINNELSE" in b for b in sent) == 1
    await bot.store.close()

    bot = await started(config)  # a restart between the first reminder and the second
    body = bot.bodies["ks"]
    timers = dict(await bot.timers(body))
    assert first not in timers and any("före:15" in job for job in timers)
    await bot.on_timer(first, now=STOCKHOLM_18 - timedelta(hours=20))  # a stray second firing
    second = next(job for job in timers if "före:15" in job)
    await bot.on_timer(second, now=timers[second])
    await bot.on_timer(second, now=timers[second] + timedelta(seconds=1))
    sent = [o.content.get("body", "") for o in await bot.store.unsent()]
    assert sum("PÅMINNELSE" in b for b in sent) == 2
    assert sum("om 15 minuter" in b for b in sent) == 1
    await bot.store.close()


async def test_p12_check_deadline_rebuilt_after_restart(config):
    bot = await started(config)
    body = bot.bodies["ks"]
    now = STOCKHOLM_18 - timedelta(seconds=20)  # the item is taken up at the time called to (§ 1)
    for n, (who, text) in enumerate(
        [("anna", KALLA), ("anna", "!öppna"), *[(u[1:].split(":")[0], "!närvarande") for u in MEMBERS]]
    ):
        await bot.handle(body, f"$e{n}", Message(text), f"@{who}:localhost", now + timedelta(seconds=n))
    await bot.handle(body, "$item", Message("!ärende 1"), "@anna:localhost", now + timedelta(seconds=20))
    await bot.handle(body, "$check", Message("!teknikkontroll"), "@anna:localhost", now + timedelta(seconds=21))
    await bot.store.close()

    bot = await started(config)
    body = bot.bodies["ks"]
    timers = dict(await bot.timers(body))
    deadline = timers["ks|check|1"]
    assert deadline == now + timedelta(seconds=21 + 60)
    await bot.on_timer("ks|check|1", now=deadline)
    m = body.engine.meeting
    assert m.check.passed is False and m.phase is Phase.OPEN
    assert "ks|check|1" not in dict(await bot.timers(body))
    await bot.store.close()


def test_p1_swedish_times_in_messages():
    d = convened(now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    assert "2026-12-03 kl. 18.00" in d.ok(CHAIR, "!dagordning").replies[0].text


async def test_kl_6_35_snapshot_and_replay_give_the_same_meeting(config, monkeypatch):
    from shell import bodies

    monkeypatch.setattr(bodies, "SNAPSHOT_EVERY", 5)
    now = STOCKHOLM_18 - timedelta(minutes=5)
    script = [("anna", KALLA), ("anna", "!öppna"), *[(u[1:].split(":")[0], "!närvarande") for u in MEMBERS]]
    script += [("anna", "!ärende 1"), ("cecilia", "!yrka Bifall"), ("bo", "!ordet")]
    bot = await started(config)
    for n, (who, text) in enumerate(script):  # the items at the time called to (§ 1)
        at = now if n < len(script) - 3 else STOCKHOLM_18
        await bot.handle(bot.bodies["ks"], f"$e{n}", Message(text), f"@{who}:localhost", at)
    expected = bot.bodies["ks"].engine.meeting
    await bot.store.close()

    bot = await started(config)
    read = []
    original = bot.store.events

    async def counting(meeting_id, after=0):
        events = await original(meeting_id, after)
        read.append(len(events))
        return events

    bot.store.events = counting
    bot.meetings.clear()
    await bot.meeting(bot.bodies["ks"].meetings[-1])
    m = bot.bodies["ks"].engine.meeting
    assert m == expected  # the snapshot is JSON: read back, it is the meeting itself
    assert m.event_count == len(script) and read == [len(script) % 5]  # only the tail after the snapshot
    await bot.store.close()
