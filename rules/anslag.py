"""The times of the justering, the anslag and the appeal (KL 6 kap. 35 §, 5 kap. 69 §, 8 kap.
12 §, 13 kap. 5 §, lag (1930:173)).

The protocol is justerat at the latest fourteen days after the meeting. The justering is
announced on the kommun's anslagstavla (its website) at the latest the second day after it; the
kansli puts the anslag up and the secretary tells the bot the day (!anslag). A decision may be
appealed within three weeks from the day the anslag was put up. When a last day is a Saturday, a
Sunday, another allmän helgdag, midsommarafton, julafton or nyårsafton, the time runs to the next
weekday (lag (1930:173) om beräkning av lagstadgad tid). The anslag stays up until the time to
appeal has run out, and may be taken down the day after.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

APPEAL_TIME = timedelta(weeks=3)
JUSTERING_TIME = timedelta(days=14)  # KL 6 kap. 35 §, 5 kap. 69 §
ANSLAG_TIME = timedelta(days=2)  # KL 8 kap. 12 §: the second day after the justering


@cache
def _days_off(year: int) -> frozenset[date]:
    """The allmänna helgdagar of a year (lag (1989:253)) and the three eves that lag (1930:173)
    treats like them; Saturdays and Sundays are off by their weekday."""
    public = holidays.Sweden(years=year, include_sundays=False)
    midsummer = next(d for d in public if d.month == 6 and 20 <= d.day <= 26 and d.weekday() == 5)
    eves = {midsummer - timedelta(days=1), date(year, 12, 24), date(year, 12, 31)}
    return frozenset(public) | eves


def is_weekday(day: date) -> bool:
    """A day on which a time limit may end (not a Saturday, Sunday or day off)."""
    return day.weekday() < 5 and day not in _days_off(day.year)


def _last_day(day: date) -> date:
    while not is_weekday(day):
        day += timedelta(days=1)
    return day


def last_day_to_appeal(posted: date) -> date:
    return _last_day(posted + APPEAL_TIME)


def last_day_to_justera(meeting_day: date) -> date:
    return _last_day(meeting_day + JUSTERING_TIME)


def last_day_to_post(justerad: date) -> date:
    """The last day the anslag of a justering may be put up."""
    return _last_day(justerad + ANSLAG_TIME)


def anslag_dates(posted: date) -> dict[str, str]:
    """The anslag's dates as ÅÅÅÅ-MM-DD: posted, last day to appeal (the last day it must stay
    up), and the day it may be taken down."""
    last = last_day_to_appeal(posted)
    return {
        "anslaget": posted.isoformat(),
        "sista_dag_att_överklaga": last.isoformat(),
        "får_tas_ned": (last + timedelta(days=1)).isoformat(),
    }
