"""Convening (§ 1, KL 5 kap. 65 §): the kallelse, cancelling, opening, striking an item, and the
numbering of paragraphs per body and calendar year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.items import find_item
from rules.model import Meeting, Phase
from rules.register import handles
from rules.roster import Roster
from rules.words import say


def starts_meeting(m: Meeting | None, cmd: Command) -> bool:
    """A kallelse begins a new meeting unless it replaces that of a meeting not yet opened."""
    return cmd.name == "kalla" and not (m is not None and m.phase is Phase.CONVENED)


@handles("kalla")
def _kalla(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    c = cmd.convening
    assert c is not None  # the parser sets it or an error
    start = c.start.replace(tzinfo=r.tz)
    if start.astimezone(UTC).astimezone(r.tz).replace(tzinfo=None) != c.start:
        return Refused(Rule.P1, say("convening.no_such_time", r, start=c.start))
    if start <= now:
        return Refused(Rule.P1, say("convening.time_passed", r, start=start))
    replacing = not starts_meeting(m, cmd)
    numbered = _numbered_before(m, r) if replacing and m is not None else numbered_after(m, r)
    data = {
        "start": start.isoformat(),
        "form": c.form,
        "motivation": c.motivation,
        "agenda": [{"n": i.n, "title": i.title, "klass": i.klass, "dnr": i.dnr} for i in c.agenda],
        "first_paragraph": first_paragraph(numbered, r, start),  # until it is opened, for the kallelse's day
        "numbered": numbered,
    }
    agenda = [agenda_line(i.n, i.title, i.klass, i.dnr, None, None) for i in c.agenda]
    text = say(
        "convening.kallelse", r, replacing=replacing, form=c.form, start=start, motivation=c.motivation, agenda=agenda
    )
    called = tuple(p.user for p in (*r.members, *r.substitutes, *r.attendees))
    return Accepted(
        events=[("convened", data)],
        replies=[Reply(text, mentions=called, attach="calendar")],
        new_meeting=not replacing,
    )


def numbered_after(m: Meeting | None, r: Roster) -> dict[str, int]:
    """The body's last paragraph number by calendar year once meeting `m` is over: what the
    meetings before it numbered, and what `m` numbered in the year it was held (opened). A
    meeting never opened (cancelled, or replaced) numbers nothing."""
    numbered = _numbered_before(m, r) if m is not None else {}
    if m is not None and m.opened_at is not None:
        year = str(m.opened_at.astimezone(r.tz).year)
        numbered[year] = max(numbered.get(year, 0), m.next_paragraph - 1)
    return numbered


def _numbered_before(m: Meeting, r: Roster) -> dict[str, int]:
    """What the meeting's kallelse knew of the body's numbering. A log from before that was kept
    knows the meeting's own first number, for the year it was convened for."""
    if m.numbered is not None:
        return dict(m.numbered)
    return {str(m.start.astimezone(r.tz).year): m.first_paragraph - 1} if m.start else {}


def first_paragraph(numbered: dict[str, int], r: Roster, day: datetime) -> int:
    """Paragraphs run per body and calendar year across meetings (KL 5 kap. 65 §): on from the
    body's last numbered paragraph in the year of `day`, from 1 in a year it has not met, and
    from the configured `first_paragraph` before it has met here at all."""
    year = str(day.astimezone(r.tz).year)
    if year in numbered:
        return numbered[year] + 1
    return 1 if numbered else r.first_paragraph


def agenda_line(n: int, title: str, klass: str, dnr: str, allowed: str | None, approved: str | None) -> str:
    """An item as the kallelse and the agenda list it, with the permission it needs (§§ 7–8)."""
    return say(
        "convening.agenda_line", None, n=n, title=title, klass=klass, dnr=dnr, allowed=allowed, approved=approved
    )


@handles("inställ")
def _inställ(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    called = tuple(p.user for p in (*r.members, *r.substitutes, *r.attendees))
    text = say("convening.cancelled", r, start=m.start, reason=cmd.text)
    return Accepted([("cancelled", {"reason": cmd.text})], [Reply(text, mentions=called, attach="calendar")])


# Members are called to the time in the kallelse; the chair may open a little before it.
OPEN_EARLY = timedelta(minutes=15)


@handles("öppna")
def _öppna(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    assert m.start is not None
    if cmd.actor != r.chair and now < m.start:
        return Refused(Rule.P1, say("convening.chair_opens", r, start=m.start))
    if now < m.start - OPEN_EARLY:
        return Refused(Rule.P1, say("convening.too_early", r, start=m.start, earliest=m.start - OPEN_EARLY))
    text = say("convening.opened", r, at=now)
    # The numbers follow the year of the day the meeting is held, whenever it was convened for.
    opened = {"first_paragraph": first_paragraph(_numbered_before(m, r), r, now)}
    return Accepted([("opened", opened)], [Reply(text, mentions=r.everyone)])


@handles("utgår")
def _utgår(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = find_item(m, cmd, Rule.KL_6_33)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    if item.taken_up:
        return Refused(Rule.KL_6_33, say("convening.taken_up_already", r, n=n, paragraph=item.paragraph))
    if item.struck is not None:
        return Refused(Rule.KL_6_33, say("convening.struck_already", r, n=n))
    return Accepted(
        [("struck", {"n": n, "reason": cmd.text})],
        [Reply(say("convening.struck", r, n=n, title=item.title, reason=cmd.text))],
    )
