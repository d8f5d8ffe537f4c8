"""Convening (§ 1, KL 5 kap. 65 §): the kallelse, cancelling, opening, striking an item, and the
numbering of paragraphs per body and calendar year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.items import find_item
from rules.register import handles
from rules.roster import Roster
from rules.state import Meeting, Phase, date_time, hm


def starts_meeting(m: Meeting | None, cmd: Command) -> bool:
    """A kallelse begins a new meeting unless it replaces that of a meeting not yet opened."""
    return cmd.name == "kalla" and not (m is not None and m.phase is Phase.CONVENED)


@handles("kalla")
def _kalla(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    c = cmd.convening
    assert c is not None  # the parser sets it or an error
    start = c.start.replace(tzinfo=r.tz)
    if start.astimezone(UTC).astimezone(r.tz).replace(tzinfo=None) != c.start:
        return Refused(
            Rule.P1, f"Klockslaget {c.start:%H.%M} finns inte den dagen (sommartiden börjar). Välj en annan tid."
        )
    if start <= now:
        return Refused(Rule.P1, f"Tiden {date_time(start, r.tz)} har redan varit. Kalla till en kommande tid.")
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
    lines = [
        ("NY KALLELSE (ersätter den tidigare)" if replacing else "KALLELSE")
        + f" till {r.name}s {c.form}sammanträde {date_time(start, r.tz)}",
        f"Motivering (§ 1): {c.motivation}",
        "",
        "Föredragningslista:",
        *(agenda_line(i.n, i.title, i.klass, i.dnr, None, None) for i in c.agenda),
        "",
        "Anslut i enrum, så att ingen obehörig kan se eller höra (§ 2). Ledamöter och "
        "tjänstgörande ersättare deltar med ljud och rörlig bild (§ 3); sekreterare och "
        "övriga med ljud (§ 4).",
    ]
    called = tuple(p.user for p in (*r.members, *r.substitutes, *r.attendees))
    lines.append("Kalenderfil bifogas (.ics).")
    return Accepted(
        events=[("convened", data)],
        replies=[Reply("\n".join(lines), mentions=called, attach="calendar")],
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
    head = f"{n}. {title}" + (f" ({dnr})" if dnr else "")
    if not klass:
        return head
    if klass == "säkerhetsskydd":
        state = "godkänt av säkerhetsskyddschefen" if approved else "kräver säkerhetsskyddschefens !godkänn"
        return f"{head} [säkerhetsskydd – {state} (§ 8)]"
    state = "tillåtet av ordföranden" if allowed else "kräver ordförandens !tillåt"
    return f"{head} [{klass} – {state} (§ 7)]"


@handles("inställ")
def _inställ(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    called = tuple(p.user for p in (*r.members, *r.substitutes, *r.attendees))
    text = f"{r.name}s sammanträde {date_time(m.start, r.tz)} är INSTÄLLT." if m.start else ""
    if cmd.text:
        text += f" Skäl: {cmd.text}"
    return Accepted([("cancelled", {"reason": cmd.text})], [Reply(text, mentions=called, attach="calendar")])


# Members are called to the time in the kallelse; the chair may open a little before it.
OPEN_EARLY = timedelta(minutes=15)


@handles("öppna")
def _öppna(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    assert m.start is not None
    if cmd.actor != r.chair and now < m.start:
        return Refused(
            Rule.P1,
            "Ordföranden öppnar sammanträdet. En vice ordförande kan öppna det när ordföranden inte "
            f"kan, från kl. {hm(m.start, r.tz)} då ledamöterna är kallade.",
        )
    if now < m.start - OPEN_EARLY:
        return Refused(
            Rule.P1,
            f"Sammanträdet är kallat till {date_time(m.start, r.tz)}. Det kan öppnas tidigast "
            f"kl. {hm(m.start - OPEN_EARLY, r.tz)}, eftersom ledamöterna är kallade till den tiden. "
            "Vill du hålla det tidigare: kalla på nytt med !kalla.",
        )
    text = (
        f"{r.name}s sammanträde är öppnat kl. {hm(now, r.tz)}. UPPROP: svara !närvarande "
        "(ordföranden också: den som leder sammanträdet ska själv vara anmäld och tjänstgöra).\n"
        "Ledamöter och ersättare intygar därmed att ni är uppkopplade i enrum med fungerande "
        "ljud och bild (§§ 2–3); sekreterare och övriga intygar enrum och ljud (§§ 2, 4)."
    )
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
        return Refused(Rule.KL_6_33, f"Ärende {n} har redan tagits upp (§ {item.paragraph}) och kan inte utgå.")
    if item.struck is not None:
        return Refused(Rule.KL_6_33, f"Ärende {n} har redan utgått.")
    why = f" Skäl: {cmd.text}" if cmd.text else ""
    return Accepted(
        [("struck", {"n": n, "reason": cmd.text})],
        [Reply(f"Ärende {n} ({item.title}) utgår från föredragningslistan.{why}")],
    )
