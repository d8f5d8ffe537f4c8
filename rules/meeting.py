"""Everything that decides whether a command is allowed and what it changes.

Theory of operation: `decide(meeting, roster, command, now)` is a pure function. It first
looks up who may use the command, in which phase, and what blocks it while the meeting is
adjourned or a check or vote runs (`rules.tables`, one table for the whole body of rules), then
runs the command's own checks. It answers either `Refused(rule, text)`,
naming the paragraph of the arbetsordning or kommunallagen that forbids the command and what
would make it acceptable, or `Accepted(events, replies)`. It never changes the meeting: the
shell appends the events to the log and folds them in with `rules.state.apply`.

`tick(meeting, roster, now)` is the same for the passing of time: a technical check whose
deadline has passed ends (§ 12).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rules import transmission
from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.anslag import last_day_to_justera, last_day_to_post
from rules.citations import Rule
from rules.roster import Role, Roster
from rules.state import Item, Meeting, Phase, Vote, date_time, hm, hms
from rules.tables import BUSY_REFUSAL, CHANGES_PARAGRAPH, PERMISSIONS, PHASE_HINT, PHASE_TEXT, Who, busy, permission
from rules.words import anslag_lines, paragraphs_text, short_fingerprint, vote_how


def acts_as_chair(m: Meeting | None, roster: Roster, user: str) -> bool:
    """While the meeting is open, the member presiding over the item (KL 6 kap. 33 §); before
    and after it, the ordförande, who alone convenes (§ 1)."""
    if m is not None and m.phase is Phase.OPEN:
        return user == m.presiding(roster)
    if m is not None and m.phase is Phase.CLOSED:
        return user in meeting_chairs(m, roster)
    return user == roster.chair


def meeting_chairs(m: Meeting, roster: Roster) -> list[str]:
    """Who led the meeting, and so acts as its chair after the close (chooses justerare, may
    always sign): whoever presided when it was closed, and the ordförande if she attended."""
    out = [m.closed_presiding or roster.chair]
    return out + [roster.chair] if roster.chair in m.present and roster.chair not in out else out


def chair_now(m: Meeting | None, roster: Roster) -> str:
    """Whom to mention as the chair: the presiding member, or the ordförande when none presides."""
    return (m.presiding(roster) if m is not None and m.phase is Phase.OPEN else None) or roster.chair


def _not_presiding(m: Meeting | None, roster: Roster, actor: str, rule: Rule) -> Refused:
    """Why `actor` may not act as the chair now."""
    if m is None or m.phase is not Phase.OPEN:
        return Refused(rule, "Endast ordföranden får det (§ 1).")
    item = m.item
    presiding = m.presiding(roster)
    if item is not None and actor in item.jav:
        why, rule = f"Du har jäv i ärende {item.n} och får inte leda det.", Rule.KL_6_28
    elif actor in m.teknikfel:
        why, rule = "Du är teknikfelsledamot och tjänstgör inte.", Rule.P11
    elif actor in m.left:
        why, rule = "Du har lämnat sammanträdet.", Rule.KL_6_27
    elif actor in (roster.chair, *roster.vice_chairs) and actor not in m.serving(roster):
        why = "Du tjänstgör inte nu (anmäl närvaro med !närvarande)."
    else:
        why = ""
    if presiding is None:
        return Refused(
            rule if rule in (Rule.KL_6_28, Rule.P11, Rule.KL_6_27) else Rule.KL_6_33,
            f"{why} Ingen leder sammanträdet just nu: varken ordföranden eller en vice ordförande "
            "tjänstgör. Ordföranden eller sekreteraren utser en tjänstgörande ledamot med "
            "!ordförande @ledamot (KL 6 kap. 33 §).".strip(),
        )
    return Refused(rule, f"{why} Det är {roster.label(presiding)} som är ordförande nu.".strip())


def _is_serving(m: Meeting | None, roster: Roster, user: str) -> bool:
    return m is not None and user in m.serving(roster)


def _not_serving(m: Meeting | None, roster: Roster, actor: str, rule: Rule) -> Refused | None:
    """Why `actor` may not move, vote or answer a check now, if that is so."""
    if _is_serving(m, roster, actor):
        return None
    item = m.item if m is not None else None
    if item is not None and actor in item.jav:
        return Refused(Rule.KL_6_28, f"Du har jäv i ärende {item.n} och deltar inte i det.")
    if m is not None and actor in m.left:
        return Refused(Rule.KL_6_27, "Du har lämnat sammanträdet. Anmäl närvaro med !närvarande om du är tillbaka.")
    if m is not None and actor in m.teknikfel:
        return Refused(
            Rule.P11,
            "Du är teknikfelsledamot och får yttra dig men inte yrka eller besluta. "
            "Ordföranden kan låta dig tjänstgöra igen med !återinträd.",
        )
    return Refused(
        rule,
        "Endast tjänstgörande ledamöter och ersättare får det. "
        "Anmäl närvaro med !närvarande; en ersättare tjänstgör först efter !ersätt.",
    )


def _who_refusal(m: Meeting | None, roster: Roster, actor: str, cmd: Command) -> Refused | None:
    perm = permission(cmd)
    name = cmd.name
    who = perm.who
    if who is Who.ROSTER or who is Who.SELF_OR_LEADER:
        return None  # anyone on the roster; finer checks in the command
    if who is Who.CHAIR and Phase.OPEN not in perm.phases:  # convening (§ 1): the ordförande's own
        return None if actor == roster.chair else Refused(perm.rule, f"Endast ordföranden får använda !{name} (§ 1).")
    if who is Who.CHAIR:
        return None if acts_as_chair(m, roster, actor) else _not_presiding(m, roster, actor, perm.rule)
    if who is Who.CHAIR_OR_SECRETARY and (acts_as_chair(m, roster, actor) or roster.is_secretary(actor)):
        return None
    if who is Who.CHAIR_OR_VICE and actor in (roster.chair, *roster.vice_chairs):
        return None
    if who is Who.APPOINTER and (
        actor == roster.chair or acts_as_chair(m, roster, actor) or roster.is_secretary(actor)
    ):
        return None
    if who is Who.SECURITY_CHIEF and actor == roster.security_chief:
        return None
    if who is Who.SECRETARY and roster.is_secretary(actor):
        return None
    if who is Who.SERVING:
        return _not_serving(m, roster, actor, perm.rule)
    return Refused(perm.rule, f"Endast {who.value} får använda !{name}.")


def _table_refusal(m: Meeting | None, roster: Roster, cmd: Command) -> Refused | None:
    """What the tables say of the command now: who may use it, in which phase, and whether an
    ajournering, a running check or a running vote blocks it."""
    perm = permission(cmd)
    refusal = _who_refusal(m, roster, cmd.actor, cmd)
    if refusal:
        return refusal
    phase = m.phase if m is not None else None
    if phase not in perm.phases:
        hint = PHASE_HINT.get(cmd.name, "Det går när ordföranden har öppnat sammanträdet.")
        return Refused(perm.rule, f"Det går inte nu: {PHASE_TEXT[phase]}. {hint}")
    blocking = [b for b in busy(m) if b in perm.blocked_by]
    return BUSY_REFUSAL[blocking[0]] if blocking else None


def may_use(m: Meeting | None, roster: Roster, actor: str, name: str) -> bool:
    """Whether `actor` may use command `name` now (for !hjälp)."""
    if name not in _HANDLERS:
        return True
    return roster.person(actor) is not None and _table_refusal(m, roster, Command(name, actor)) is None


def decide(m: Meeting | None, roster: Roster, cmd: Command, now: datetime) -> Outcome:
    perm = permission(cmd)
    if roster.person(cmd.actor) is None and not acts_as_chair(m, roster, cmd.actor):
        return Refused(
            Rule.P2,
            f"Du finns inte i {roster.name}s förteckning över ledamöter, ersättare och "
            "övriga med närvarorätt. Kontakta sekreteraren om det är fel.",
        )
    refusal = _table_refusal(m, roster, cmd)
    if refusal:
        return refusal
    if cmd.error:
        return Refused(perm.rule, cmd.error)
    for user in cmd.people:
        if roster.person(user) is None:
            return Refused(Rule.P2, f"{user} finns inte i {roster.name}s förteckning. Nämn en person som gör det.")
    return _final_paragraph(m, cmd) or _HANDLERS[cmd.name](m, roster, cmd, now)


# Why a change is refused in an omedelbart justerad paragraph, for the commands that need saying.
_FINAL_WHY = {
    "reservation": " En reservation mot ett beslut som justeras omedelbart anmäls före justeringen "
    "(KL 4 kap. 27 §); efter den står paragrafen som den justerades.",
    "jäv": " Jäv i ärendet anmäls före justeringen; ett jäv som upptäcks nu kan bara prövas vid ett "
    "överklagande (KL 13 kap. 8 §) eller genom ett nytt beslut på ett sammanträde.",
    "rättelse": " En ändring i sak är ett nytt beslut på ett sammanträde.",
}


def _final_paragraph(m: Meeting | None, cmd: Command) -> Refused | None:
    """An omedelbart justerad paragraph never changes afterwards (KL 5 kap. 69 §): nothing that
    would change it is accepted, so the signed extract stays the paragraph."""
    if m is None or cmd.name not in CHANGES_PARAGRAPH:
        return None
    n = cmd.number if cmd.number is not None else m.current
    item = m.items.get(n) if n is not None else None
    if item is None or item.justerad is None:
        return None
    return Refused(
        Rule.KL_5_69,
        f"§ {item.paragraph} (ärende {item.n}) är omedelbart justerad och kan inte längre ändras."
        + _FINAL_WHY.get(cmd.name, ""),
    )


# --- convening (§ 1) -------------------------------------------------------------------------


def starts_meeting(m: Meeting | None, cmd: Command) -> bool:
    """A kallelse begins a new meeting unless it replaces that of a meeting not yet opened."""
    return cmd.name == "kalla" and not (m is not None and m.phase is Phase.CONVENED)


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
        *(_agenda_line(i.n, i.title, i.klass, i.dnr, None, None) for i in c.agenda),
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


def _agenda_line(n: int, title: str, klass: str, dnr: str, allowed: str | None, approved: str | None) -> str:
    head = f"{n}. {title}" + (f" ({dnr})" if dnr else "")
    if not klass:
        return head
    if klass == "säkerhetsskydd":
        state = "godkänt av säkerhetsskyddschefen" if approved else "kräver säkerhetsskyddschefens !godkänn"
        return f"{head} [säkerhetsskydd – {state} (§ 8)]"
    state = "tillåtet av ordföranden" if allowed else "kräver ordförandens !tillåt"
    return f"{head} [{klass} – {state} (§ 7)]"


def _inställ(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    called = tuple(p.user for p in (*r.members, *r.substitutes, *r.attendees))
    text = f"{r.name}s sammanträde {date_time(m.start, r.tz)} är INSTÄLLT." if m.start else ""
    if cmd.text:
        text += f" Skäl: {cmd.text}"
    return Accepted([("cancelled", {"reason": cmd.text})], [Reply(text, mentions=called, attach="calendar")])


# Members are called to the time in the kallelse; the chair may open a little before it.
OPEN_EARLY = timedelta(minutes=15)


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


# --- presence and transmission (§§ 2–5, 9, 10) -----------------------------------------------


def _närvarande(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    person = r.person(cmd.actor)
    assert person is not None
    refusal = _not_in_call(m, r, cmd.actor, cmd.actor, Rule.P3, "!närvarande") or transmission.refusal(
        m, r, cmd.actor, cmd.actor, "!närvarande"
    )
    if refusal:
        return refusal
    if cmd.actor in m.present and cmd.actor not in m.left:
        return Accepted(
            replies=[Reply(f"Du är redan antecknad som närvarande sedan kl. {hm(m.present[cmd.actor], r.tz)}.")]
        )
    present = {"user": cmd.actor, "attests": _attests(person.role)} | transmission.roll_call(m, r, cmd.actor)
    if cmd.actor in m.left:
        present["returned"] = True
    events: list = [("present", present)]
    texts = [f"{r.label(cmd.actor)} är tillbaka kl. {hm(now, r.tz)}."] if cmd.actor in m.left else []
    if cmd.actor in m.forhinder:
        # One who comes despite a förhinder has withdrawn it in effect; a substitute already
        # serving for her goes on until the next item, as for a late member (KL 6 kap. 17 §).
        events.append(("forhinder_withdrawn", {"user": cmd.actor, "present": True}))
        texts.append(f"{r.label(cmd.actor)} har kommit trots anmält förhinder, som därmed inte gäller längre.")
        if cmd.actor in m.substituted:
            texts.append(
                f"{r.label(m.substituted[cmd.actor])} tjänstgör för hen till nästa ärende, då hen tar över "
                "(KL 6 kap. 17 §)."
            )
    member = m.confirmed.get(cmd.actor)
    if member is not None and _takes_seat(m, r, cmd.actor, member, arriving=True):
        more, text = _confirmed_serves(m, r, cmd.actor, member)
        events += more
        texts.append(text)
    return Accepted(events, [Reply(" ".join(texts))] if texts else [])


def _takes_seat(m: Meeting, r: Roster, sub: str, member: str, arriving: bool = False) -> bool:
    """Whether a substitute confirmed (!tjänstgör) for a member with förhinder takes the member's
    seat (KL 6 kap. 17 §): she is here (or `arriving`) with working transmission and does not
    serve already, and the seat is empty: the member is not here and nobody else fills it."""
    if member in m.substituted or m.here(member) or m.seat(member) is not None:
        return False
    return (arriving or m.here(sub)) and not m.drops.get(sub) and sub not in m.teknikfel and sub not in m.serving(r)


def _confirmed_serves(m: Meeting, r: Roster, sub: str, member: str) -> tuple[list, str]:
    """A confirmed substitute here takes the empty seat: at once between items, else from the next."""
    if not _between_items(m):
        return [], (
            f"{r.label(sub)} tjänstgör för {r.label(member)}, som har anmält förhinder, från nästa ärende: "
            "tjänstgöringen ändras inte mitt i ett ärende (KL 6 kap. 17 §)."
        )
    text = f"{r.label(sub)} tjänstgör för {r.label(member)}, som har anmält förhinder (KL 6 kap. 17 §)."
    return [("replaced", {"member": member, "substitute": sub, "teknikfel": False})], text


def _attests(role: Role) -> str:
    video = role in (Role.MEMBER, Role.SUBSTITUTE)
    return "enrum, ljud och bild; §§ 2–3" if video else "enrum och ljud; §§ 2, 4"


def _placed(m: Meeting, r: Roster, user: str, before_roll_call: bool = False) -> Refused | None:
    """Whether `user` can be placed in the chair's room or a shared transmission (§ 2): one who
    is here and not placed already (a share is between two, never a chain). The chair may seat
    someone in the chair's room before they answer the roll call."""
    if user in m.left or not (m.here(user) or before_roll_call):
        return Refused(Rule.P2, f"{r.label(user)} är inte närvarande (!närvarande).")
    where = m.location.get(user)
    if where == "lokal":
        return Refused(Rule.P2, f"{r.label(user)} deltar redan i ordförandens lokal.")
    if where:
        return Refused(Rule.P2, f"{r.label(user)} delar redan överföring med {r.label(where)}.")
    return None


def _lokal(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P2, "Nämn en person: !lokal @person.")
    user = cmd.people[0]
    refusal = _placed(m, r, user, before_roll_call=True)
    if refusal:
        return refusal
    if not (follows_call(r) and m.here(user)):
        return Accepted(
            [("located", {"users": [user]})],
            [Reply(f"{r.label(user)} deltar i ordförandens lokal (§ 2).")],
        )
    # The call has shown the person attending from elsewhere: a change of place, from now, which
    # leaves a drop standing until the person answers !åter (there, from the chair's room).
    text = f"{r.label(user)} deltar från kl. {hm(now, r.tz)} i ordförandens lokal, och dessförinnan på distans (§ 2)."
    if m.drops.get(user):
        kinds = " och ".join(k for k in ("ljud", "bild") if k in m.drops[user])
        text += f" Avbrottet i {kinds} står kvar tills hen bekräftar med !åter (§ 10)."
    return Accepted([("located", {"users": [user], "moved": True})], [Reply(text)])


def _delad(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 2 or cmd.people[0] == cmd.people[1]:
        return Refused(Rule.P2, "Nämn två olika personer: !delad @person @person.")
    a, b = cmd.people
    # With the call followed, one without a call membership of their own cannot attest before
    # sharing: sharing with one here and in the call comes first, and covers them (§§ 2-3).
    covers = follows_call(r) and (m.here(a) and bool(m.in_call.get(a)) or m.here(b) and bool(m.in_call.get(b)))
    refusal = _placed(m, r, a, before_roll_call=covers) or _placed(m, r, b, before_roll_call=covers)
    if refusal:
        return refusal
    return Accepted(
        [("located", {"users": [a, b]})],
        [
            Reply(
                f"{r.label(a)} och {r.label(b)} delar ljud- och bildöverföring (§ 2). "
                "Ordföranden ansvarar för att likvärdigheten mellan ledamöterna bibehålls."
            )
        ],
    )


def _target(m: Meeting, r: Roster, cmd: Command, rule: Rule) -> str | Refused:
    """The person a command is about: the one named, or the sender; only leaders may name others."""
    if len(cmd.people) > 1:
        return Refused(rule, "Nämn högst en person.")
    user = cmd.people[0] if cmd.people else cmd.actor
    leader = acts_as_chair(m, r, cmd.actor) or r.is_secretary(cmd.actor)
    if user != cmd.actor and not leader:
        return Refused(rule, "Bara ordföranden eller sekreteraren får anmäla detta för någon annan.")
    if user not in m.present:
        return Refused(rule, f"{r.label(user)} har inte anmält närvaro (!närvarande).")
    if user in m.left:
        return Refused(rule, f"{r.label(user)} har lämnat sammanträdet.")
    return user


def _avbrott(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = _target(m, r, cmd, Rule.P10)
    if isinstance(user, Refused):
        return user
    kind = cmd.word
    if kind in m.drops.get(user, set()):
        return Refused(
            Rule.P10,
            f"Avbrottet i {kind} för {r.label(user)} är redan antecknat. Skriv !åter när det fungerar.",
        )
    events, text = _drop(m, r, user, [kind])
    text = text or f"Avbrott i {kind} för {r.label(user)} antecknat."
    # One recorded by someone else hears of it at once, and can answer with !åter.
    mentions = (chair_now(m, r),) if user == cmd.actor else tuple(dict.fromkeys((chair_now(m, r), user)))
    return Accepted(events, [Reply(text, mentions=mentions)])


def _drop(m: Meeting, r: Roster, user: str, kinds: list[str], via: str = "") -> tuple[list, str]:
    """Lost audio and/or video (§§ 5, 10): the events, a running vote the person is in made
    void, and what it means for the chair, who must act on it ("" for one who does not serve
    and is in no vote: nothing to do). `via` is "call" when the call registered it."""
    who = r.label(user)
    serving = user in m.serving(r)
    running = m.check is not None and m.check.running
    lost = {("ljud",): "ljudet", ("bild",): "bilden"}.get(tuple(kinds), "ljud och bild")
    if not serving:
        text = ""
    elif "ljud" in kinds:
        text = (
            f"{who} har förlorat {lost}. Ljudet måste fungera för tjänstgörande ledamöter (§ 5). "
            "Sammanträdet kan ajourneras med !ajournera och återupptas först när överföringen "
            "fungerar (!åter) eller en ersättare har trätt in (!ersätt) (§ 10)."
        )
    else:
        text = (
            f"{who} har förlorat bilden. Kortvariga bilduppehåll godtas under diskussionen, "
            "men inte när ordföranden ställer proposition och beslut fattas (§ 5)."
        )
    events: list = [("dropped", {"user": user, "kind": kind} | ({"via": via} if via else {})) for kind in kinds]
    vote = m.vote
    if vote and user in vote.voters:
        cause = {"code": "dropped", "user": user, "kind": kinds[0]}
        events.append(("vote_ended", {"id": vote.id, "how": "void", "cause": cause}))
        void = f"Votering {vote.id} är ogiltig: gör en ny teknikkontroll och votera igen (§§ 5, 12)."
        text = f"{text} {void}" if text else f"{who} har förlorat {lost}. {void}"
    elif serving and not running and m.check and m.check.passed and not m.check.spent_by:
        text += " Den godkända teknikkontrollen gäller inte längre: gör en ny före beslut (§ 12)."
    return events, text


def _åter(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = _target(m, r, cmd, Rule.P10)
    if isinstance(user, Refused):
        return user
    if not m.drops.get(user) and user not in m.muted:
        return Refused(Rule.P10, f"Inget avbrott är antecknat för {r.label(user)}.")
    refusal = _not_in_call(m, r, user, cmd.actor, Rule.P10, "!åter") or transmission.refusal(
        m, r, user, cmd.actor, "!åter"
    )
    if refusal:
        return refusal
    return Accepted([("restored", {"user": user})])


def _tysta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P3, "Nämn en person: !tysta @person.")
    user = cmd.people[0]
    return Accepted(
        [("muted", {"user": user, "by": cmd.actor})],
        [Reply(f"Ljudet för {r.label(user)} är avstängt (§ 3). Skriv !åter när det slås på igen.")],
    )


def _ordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.actor not in m.present:
        return Refused(Rule.P9, "Anmäl närvaro med !närvarande först.")
    if cmd.actor in m.left:
        return Refused(Rule.KL_6_27, "Du har lämnat sammanträdet. Anmäl närvaro med !närvarande om du är tillbaka.")
    item = m.item
    if item and cmd.actor in item.silenced:
        return Refused(Rule.P9, f"Ordföranden har fråntagit dig ordet under resten av ärende {item.n}.")
    if item and cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, f"Du har jäv i ärende {item.n} och får inte delta i det, inte heller yttra dig.")
    return Accepted([("floor", {"user": cmd.actor, "n": m.current})])


def _fråntaordet(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.P9, "Inget ärende är uppe. Ordet kan fråntas under ett ärende.")
    if len(cmd.people) != 1:
        return Refused(Rule.P9, "Nämn en person: !fråntaordet @person.")
    user = cmd.people[0]
    if user in item.silenced:
        return Refused(Rule.P9, f"{r.label(user)} har redan fråntagits ordet under ärende {item.n}.")
    return Accepted(
        [("floor_taken", {"user": user, "n": item.n})],
        [Reply(f"{r.label(user)} fråntas ordet under resten av ärende {item.n} (§ 9).", mentions=(user,))],
    )


def _ajournera(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.adjourned:
        return Refused(Rule.P10, "Sammanträdet är redan ajournerat. Återuppta med !återuppta.")
    events = _abort_running(m, "adjourned")
    events.append(("adjourned", {}))
    return Accepted(events, [Reply(f"Sammanträdet är ajournerat kl. {hm(now, r.tz)} (§ 10).")])


def _abort_running(m: Meeting, code: str) -> list:
    """End a running check or vote that the meeting cannot finish (`code` in `words.ABORTED`)."""
    events: list = []
    if m.check and m.check.running:
        events.append(("check_ended", {"id": m.check.id, "passed": False, "reason": code}))
    if m.vote:
        events.append(("vote_ended", {"id": m.vote.id, "how": "void", "cause": {"code": code}}))
    return events


def _återuppta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if not m.adjourned:
        return Refused(Rule.P10, "Sammanträdet är inte ajournerat.")
    lacking = m.lacking(r)
    if lacking:
        return Refused(
            Rule.P10,
            f"{_names(r, lacking)} saknar godtagbar överföring. Sammanträdet återupptas först "
            "när kontakten är återupprättad (!åter) eller en ersättare har trätt in (!ersätt).",
        )
    return Accepted([("resumed", {})], [Reply(f"Sammanträdet återupptas kl. {hm(now, r.tz)} (§ 10).")])


# --- who serves (§ 11) -----------------------------------------------------------------------


def next_in_turn(m: Meeting, r: Roster, member: str, skip: Collection[str] = ()) -> str | None:
    """The substitute whose turn it is to serve for `member` (KL 6 kap. 17 §): first the
    member's own party in list order, then the others in list order, among those here, with
    working transmission, not serving, not replaced for teknikfel and without jäv on the
    current item (nor in `skip`: already proposed for another seat)."""
    serving = {*m.serving(r), *skip}
    item = m.item
    free = [
        s
        for s in r.substitutes
        if m.here(s.user)
        and not m.drops.get(s.user)
        and s.user not in serving
        and s.user not in m.teknikfel
        and not (item and s.user in item.jav)
    ]
    return _first_in_turn(r, member, free)


def _first_in_turn(r: Roster, member: str, free: list) -> str | None:
    """Of the substitutes free to serve, the first of the member's own party in list order,
    else the first on the list (KL 6 kap. 17 §): one order for !ersätt and for förhinder."""
    person = r.person(member)
    own = [s for s in free if person and person.party and s.party == person.party]
    return (own or free)[0].user if free else None


def _between_items(m: Meeting) -> bool:
    """Who serves changes between items or during an ajournering, not in the middle of an item."""
    item = m.item
    return item is None or m.adjourned or bool(item.valid_decisions)


_MID_ITEM = (
    "Tjänstgöringen ändras mellan ärenden eller under ajournering, inte mitt i ett ärende. "
    "Ajournera först (!ajournera) om ledamoten inte kan fortsätta (§ 10)."
)


def _ersätt(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 2:
        return Refused(Rule.P11, "Nämn ledamoten och sedan ersättaren: !ersätt @ledamot @ersättare.")
    first, sub = cmd.people
    # The seat is a member's; the one replaced is whoever fills it: the member or a substitute.
    member = first if r.is_member(first) else m.serving_for(first, r)
    if member is None:
        return Refused(
            Rule.P11,
            f"{r.label(first)} är varken ledamot eller tjänstgörande ersättare. Nämn ledamoten "
            "(eller ersättaren som tjänstgör för hen) först.",
        )
    holder = m.seat(member)
    if not r.is_substitute(sub):
        return Refused(Rule.P11, f"{r.label(sub)} finns inte bland {r.name}s ersättare.")
    if sub in m.serving(r):
        return Refused(Rule.P11, f"{r.label(sub)} tjänstgör redan.")
    if not m.here(sub):
        return Refused(Rule.P11, f"{r.label(sub)} är inte närvarande (!närvarande) och kan inte tjänstgöra.")
    item = m.item
    regular = m.substituted.get(member) or (member if m.here(member) else None)
    for_jav = item is not None and holder is None and regular is not None and regular in item.jav
    if holder is not None and not m.drops.get(holder):
        also = f" tjänstgör för {r.label(member)} och" if holder != member else ""
        return Refused(
            Rule.P11,
            f"{r.label(holder)}{also} har fungerande överföring och kan inte ersättas. § 11 gäller "
            "den som har återkommande svårigheter med överföringen: anteckna avbrottet först "
            "(!avbrott ljud|bild @person). Den som går antecknas med !lämnar; sedan kan en ersättare "
            "tjänstgöra.",
        )
    if not for_jav and not _between_items(m):
        return Refused(Rule.KL_6_17, _MID_ITEM)
    turn = next_in_turn(m, r, member)
    if turn != sub:
        whose = f"Det är {r.label(turn)} som står på tur" if turn else "Ingen ersättare kan tjänstgöra"
        return Refused(
            Rule.KL_6_17,
            f"{whose} att tjänstgöra för {r.label(member)}: först ersättare från samma parti, "
            "sedan de andra, i den ordning fullmäktige bestämt.",
        )
    if for_jav:
        assert item is not None and regular is not None
        text = f"{r.label(sub)} tjänstgör under ärende {item.n} i stället för {r.label(regular)} (jäv, KL 6 kap. 28 §)."
        return Accepted(
            [("replaced", {"member": member, "substitute": sub, "teknikfel": False, "for_item": item.n})],
            [Reply(text, mentions=(sub,))],
        )
    data = {"member": member, "substitute": sub, "teknikfel": holder is not None}
    text = f"{r.label(sub)} tjänstgör från kl. {hm(now, r.tz)} i stället för "
    if holder is None:
        gone = "som har lämnat sammanträdet" if member in m.left else "som inte är närvarande"
        text += f"{r.label(member)}, {gone}. Om ledamoten kommer tar hen över vid nästa ärende."
    else:
        if holder != member:
            data["replaces"] = holder
            text += f"{r.label(holder)}, som tjänstgjorde för {r.label(member)} och "
        else:
            text += f"{r.label(member)}, som "
        text += (
            "är teknikfelsledamot under återstoden av sammanträdet och får yttra sig men "
            "inte yrka eller delta i beslut (§ 11)."
        )
        if holder == member:
            text += " Ordföranden kan låta ledamoten tjänstgöra igen med !återinträd."
    return Accepted([("replaced", data)], [Reply(text, mentions=tuple(u for u in (holder, sub) if u))])


def _återinträd(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P11, "Nämn ledamoten: !återinträd @ledamot.")
    member = cmd.people[0]
    if member not in m.substituted:
        return Refused(Rule.P11, f"{r.label(member)} är inte ersatt.")
    if not m.here(member):
        return Refused(Rule.P11, f"{r.label(member)} är inte närvarande (!närvarande).")
    if m.drops.get(member):
        return Refused(
            Rule.P11,
            f"{r.label(member)} saknar fortfarande godtagbar överföring. Skriv !åter när den fungerar.",
        )
    if not _between_items(m):
        return Refused(Rule.KL_6_17, _MID_ITEM)
    sub = m.substituted[member]
    return Accepted(
        [("reinstated", {"member": member})],
        [
            Reply(
                f"{r.label(member)} tjänstgör åter från kl. {hm(now, r.tz)}; "
                f"{r.label(sub)} tjänstgör inte längre (§ 11).",
                mentions=(member, sub),
            )
        ],
    )


def _lämnar(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = _target(m, r, cmd, Rule.KL_6_27)
    if isinstance(user, Refused):
        return user
    where = f" under ärende {m.current}" if m.current is not None else ""
    text = f"{r.label(user)} lämnar sammanträdet kl. {hm(now, r.tz)}{where}."
    member = next((p.user for p in r.members if m.seat(p.user) == user), None)
    if member is not None:
        text += " Hen tjänstgör inte längre och räknas inte i beslutförheten (KL 6 kap. 27 §)."
        counted = m.counted(r, excluding=user)
        if len(counted) * 2 <= len(r.members):
            text += f" Organet är inte beslutfört: {len(counted)} av {len(r.members)} ledamöter tjänstgör."
        turn = next_in_turn(m, r, member)
        if turn:
            text += f" {r.label(turn)} står på tur att tjänstgöra för {r.label(member)} (!ersätt)."
    chair = m.presiding(r, excluding=user) or r.chair
    mentions = tuple(dict.fromkeys((chair, user) if user != cmd.actor else (chair,)))
    return Accepted([("left", {"user": user, "n": m.current})], [Reply(text, mentions=mentions)])


def _ordförande(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.KL_6_33, "Nämn ledamoten: !ordförande @ledamot.")
    user = cmd.people[0]
    item = m.item
    if item is not None and cmd.actor in item.jav:
        return Refused(
            Rule.KL_6_28,
            f"Du har jäv i ärende {item.n} och får inte delta i organets val av vem som leder det. "
            "Sekreteraren antecknar valet med !ordförande @ledamot.",
        )
    if not m.here(cmd.actor) and not r.is_secretary(cmd.actor):
        return Refused(
            Rule.KL_6_33,
            "Du är inte med på sammanträdet. Valet görs av organet på sammanträdet; sekreteraren "
            "antecknar det med !ordförande @ledamot.",
        )
    serving = m.serving(r)
    by_office = next((u for u in (r.chair, *r.vice_chairs) if u in serving), None)
    if by_office is not None:
        return Refused(
            Rule.KL_6_33,
            f"{r.label(by_office)} tjänstgör och är ordförande. !ordförande används bara när varken "
            "ordföranden eller en vice ordförande kan leda ärendet (jäv, frånvaro, teknikfel).",
        )
    if user not in serving:
        return Refused(
            Rule.KL_6_33,
            f"{r.label(user)} tjänstgör inte nu och kan inte vara ordförande. Nämn en tjänstgörande ledamot.",
        )
    text = (
        f"{r.label(user)} är ordförande och leder sammanträdet så länge varken ordföranden eller en "
        "vice ordförande kan; hen har utslagsrösten vid lika röstetal (KL 6 kap. 33 §, 5 kap. 56 §)."
    )
    named = {"user": user, "n": m.current, "by": cmd.actor}
    return Accepted([("presiding_named", named)], [Reply(text, mentions=(user,))])


def _tainted(m: Meeting) -> list[tuple[int, list[str]]]:
    """Decisions that stand though someone who took part or presided has jäv in the item: (item, who)."""
    return [
        (n, [u for u in d.involved if u in item.jav])
        for n, item in m.items.items()
        for d in item.valid_decisions
        if any(u in item.jav for u in d.involved) and not item.justerad
    ]


def _retake_first(m: Meeting, r: Roster) -> Refused | None:
    found = _tainted(m)
    if not found:
        return None
    n, users = found[0]
    return Refused(
        Rule.KL_6_28,
        f"Beslutet i ärende {n} fattades med {_names(r, users)}, som har jäv i ärendet. Det ska tas om "
        "först: !omtag, ny !teknikkontroll och nytt beslut (KL 13 kap. 8 §).",
    )


def _jäv(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_28, "Inget ärende är uppe. Jäv anmäls för det ärende som behandlas.")
    if cmd.word == "återta":
        return _jäv_återta(m, r, cmd, item)
    if len(cmd.people) > 1:
        return Refused(Rule.KL_6_28, "Nämn högst en person: !jäv @person.")
    user = cmd.people[0] if cmd.people else cmd.actor
    if user != cmd.actor and not acts_as_chair(m, r, cmd.actor):
        return Refused(Rule.KL_6_28, "Bara ordföranden kan anteckna jäv för någon annan; anmäl ditt eget med !jäv.")
    if user in item.jav:
        return Refused(Rule.KL_6_28, f"Jäv för {r.label(user)} i ärende {item.n} är redan antecknat.")
    text = (
        f"{r.label(user)} har jäv i ärende {item.n} och får varken delta i eller närvara vid "
        "behandlingen (KL 6 kap. 28 §)."
    )
    if any(x.user == user and not x.withdrawn for x in item.motions):
        text += " Hens yrkanden i ärendet faller."
    decided = [d for d in item.valid_decisions if user in d.involved]
    if decided:
        text += (
            f" {r.label(user)} deltog i beslutet i ärendet, som därför ska tas om: !omtag, ny "
            "!teknikkontroll och nytt beslut. Jäv som upptäcks efter beslutet gör det angripbart "
            "(KL 13 kap. 8 §)."
        )
    presiding = m.presiding(r)
    if user == presiding:
        after = m.presiding(r, excluding=user)
        text += (
            f" {r.label(after)} är ordförande i ärendet."
            if after
            else " Ingen vice ordförande kan leda ärendet: ordföranden eller sekreteraren utser en "
            "tjänstgörande ledamot med !ordförande @ledamot (KL 6 kap. 33 §)."
        )
    seat = next((p.user for p in r.members if m.seat(p.user) == user), None)
    if seat is not None:
        turn = next_in_turn(m, r, seat)
        if turn:
            text += f" {r.label(turn)} står på tur att tjänstgöra under ärendet (!ersätt)."
    mentions = tuple(dict.fromkeys((user, presiding or r.chair)))
    return Accepted([("jav", {"n": item.n, "user": user, "by": cmd.actor})], [Reply(text, mentions=mentions)])


def _jäv_återta(m: Meeting, r: Roster, cmd: Command, item) -> Outcome:
    by = item.jav.get(cmd.actor)
    if by is None:
        return Refused(Rule.KL_6_28, f"Du har inget jäv antecknat i ärende {item.n}.")
    if by != cmd.actor:
        return Refused(
            Rule.KL_6_28,
            f"Jävet antecknades av {r.label(by)}, inte av dig; bara den egna anmälan kan återtas.",
        )
    if item.valid_decisions:
        return Refused(Rule.KL_6_28, f"Ärende {item.n} är redan beslutat; jävet kan inte återtas efter beslutet.")
    return Accepted(
        [("jav_withdrawn", {"n": item.n, "user": cmd.actor})],
        [Reply(f"{r.label(cmd.actor)} har återtagit sin jävsanmälan i ärende {item.n} och deltar i ärendet.")],
    )


# --- förhinder: substitutes called in before the meeting (KL 6 kap. 17 §) -------------------------


def next_to_call(m: Meeting, r: Roster, member: str, skip: str = "") -> str | None:
    """The substitute to call in for `member`: the same order as !ersätt (own party first, then
    the list), skipping those with förhinder, those already called or confirmed, and those serving."""
    serving = set(m.serving(r)) if m.phase is Phase.OPEN else set()
    free = [s for s in r.substitutes if s.user not in (*m.forhinder, *m.called, *m.confirmed, *serving, skip)]
    return _first_in_turn(r, member, free)


def _call_in(m: Meeting, r: Roster, member: str, skip: str) -> tuple[list, str, tuple[str, ...]]:
    """Call the next substitute in turn for `member` (not `skip`, who just declined): the events,
    the words, whom to mention."""
    sub = next_to_call(m, r, member, skip)
    when = date_time(m.start, r.tz) if m.start else ""
    if sub is None:
        text = (
            f"Ingen ersättare finns kvar att kalla in för {r.label(member)}. Ordföranden och sekreteraren: "
            "sammanträdet hålls med de ledamöter som kommer; beslutförheten räknas vid uppropet (KL 6 kap. 27 §)."
        )
        return [], text, (r.chair, *r.secretaries)
    text = (
        f"{r.label(sub)}: du kallas in att tjänstgöra för {r.label(member)} vid {r.name}s sammanträde {when}. "
        "Svara !tjänstgör om du kan, annars !förhinder."
    )
    return [("called_in", {"substitute": sub, "member": member})], text, (sub,)


def _förhinder(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.word == "återta":
        return _förhinder_återta(m, r, cmd)
    user = cmd.people[0] if cmd.people else cmd.actor
    leader = acts_as_chair(m, r, cmd.actor) or cmd.actor == r.chair or r.is_secretary(cmd.actor)
    if user != cmd.actor and not leader:
        return Refused(Rule.KL_6_17, "Bara ordföranden eller sekreteraren kan anmäla förhinder för någon annan.")
    substitute_for = m.called.get(user) or m.confirmed.get(user)
    if not r.is_member(user) and substitute_for is None:
        return Refused(
            Rule.KL_6_17,
            f"{r.label(user)} är varken ledamot eller inkallad ersättare; förhinder anmäls av den som är kallad.",
        )
    if user in m.forhinder:
        return Refused(Rule.KL_6_17, f"Förhinder för {r.label(user)} är redan anmält.")
    if m.here(user):
        return Refused(Rule.KL_6_27, f"{r.label(user)} är närvarande. Den som går antecknas med !lämnar.")
    events: list = [("forhinder", {"user": user, "by": cmd.actor})]
    member = substitute_for or user
    text = f"{r.label(user)} har anmält förhinder."
    more, call_text, mentions = _call_in(m, r, member, skip=user)
    return Accepted(events + more, [Reply(f"{text} {call_text}", mentions=mentions)])


def _förhinder_återta(m: Meeting, r: Roster, cmd: Command) -> Outcome:
    """The member withdraws her förhinder: the substitute called for her is told he is not
    needed, and one who has confirmed that he serves until the next item after she has come, as
    for a late member (KL 6 kap. 17 §)."""
    if cmd.actor not in m.forhinder:
        return Refused(Rule.KL_6_17, "Du har inget förhinder anmält.")
    member = r.label(cmd.actor)
    served = [s for s, of in m.confirmed.items() if of == cmd.actor]
    text = f"{member} har återtagit sitt förhinder."
    if served:
        text += (
            f" {r.label(served[0])} har redan bekräftat och tjänstgör från början; du tar över från nästa ärende "
            "sedan du anmält närvaro, som en ledamot som kommer senare (KL 6 kap. 17 §)."
        )
    replies = [Reply(text)]
    replies += [
        Reply(
            f"{r.label(sub)}: du behöver inte tjänstgöra för {member}, som har återtagit sitt förhinder. "
            "Inkallelsen gäller inte längre.",
            mentions=(sub,),
            reply=False,  # a message of its own to him, not an answer to her command
        )
        for sub, of in m.called.items()
        if of == cmd.actor
    ]
    replies += [
        Reply(
            f"{r.label(sub)}: {member} har återtagit sitt förhinder. Du har bekräftat och tjänstgör för hen till "
            "nästa ärende sedan hen har anmält närvaro; då tar hen över (KL 6 kap. 17 §).",
            mentions=(sub,),
            reply=False,
        )
        for sub in served
    ]
    return Accepted([("forhinder_withdrawn", {"user": cmd.actor})], replies)


def _tjänstgör(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    member = m.called.get(cmd.actor)
    if member is None:
        if cmd.actor in m.confirmed:
            return Refused(Rule.KL_6_17, "Du har redan bekräftat.")
        return Refused(
            Rule.KL_6_17, "Du är inte inkallad. Sekreteraren kallar in ersättare i tur när någon har förhinder."
        )
    events: list = [("confirmed", {"substitute": cmd.actor, "member": member})]
    if m.phase is Phase.OPEN and _takes_seat(m, r, cmd.actor, member):  # here already: no need to come again
        more, text = _confirmed_serves(m, r, cmd.actor, member)
        return Accepted(events + more, [Reply(text)])
    text = (
        f"{r.label(cmd.actor)} tjänstgör för {r.label(member)} vid sammanträdet: anmäl närvaro med !närvarande vid "
        "uppropet, så tjänstgör du från början (KL 6 kap. 17 §)."
    )
    return Accepted(events, [Reply(text)])


def forhinder_lines(m: Meeting, r: Roster) -> list[str]:
    """Who has förhinder and who is called in (for !status and !dagordning)."""
    lines = []
    members = [u for u in m.forhinder if r.is_member(u)]
    if members:
        lines.append("Förhinder: " + _names(r, members))
    for sub, member in m.confirmed.items():
        if m.here(member) and m.substituted.get(member) != sub:
            continue  # she came and took her seat: the substitute no longer serves for her
        lines.append(f"{r.label(sub)} tjänstgör för {r.label(member)} (bekräftat)")
    for sub, member in m.called.items():
        lines.append(f"{r.label(sub)} är inkallad för {r.label(member)} (inte svarat)")
    return lines


# --- items and their classes (§§ 6–8) --------------------------------------------------------


def _find_item(m: Meeting, cmd: Command, rule: Rule) -> int | Refused:
    if cmd.number is None or cmd.number not in m.items:
        numbers = ", ".join(str(n) for n in m.items)
        return Refused(rule, f"Ange ett ärendenummer från föredragningslistan ({numbers}).")
    return cmd.number


def _before_called_time(m: Meeting, r: Roster, now: datetime, what: str) -> Refused | None:
    """Members were called to the time in the kallelse (§ 1): one who comes then must not find
    matters handled. Opening up to 15 minutes before it is for the roll call only."""
    if m.start is None or now >= m.start:
        return None
    return Refused(
        Rule.P1,
        f"Ledamöterna är kallade till kl. {hm(m.start, r.tz)}, och inget ärende behandlas före den tiden. "
        f"{what} från kl. {hm(m.start, r.tz)}; uppropet kan göras redan nu.",
    )


def _ärende(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = _find_item(m, cmd, Rule.KL_6_33)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    early = _before_called_time(m, r, now, f"Ärende {n} kan tas upp")
    if early:
        return early
    if item.struck is not None:
        return Refused(Rule.KL_6_33, f"Ärende {n} har utgått från föredragningslistan och kan inte tas upp.")
    if not item.permitted:
        if item.klass == "säkerhetsskydd":
            return Refused(
                Rule.P8,
                f"Ärende {n} innehåller säkerhetsskyddsuppgifter. Det får behandlas på distans "
                f"bara om säkerhetsskyddschefen bedömer att det kan ske (!godkänn {n}); "
                "ordföranden kan inte tillåta det.",
            )
        return Refused(
            Rule.P6,
            f"Ärende {n} innehåller {item.klass}. Bara ärenden med triviala personuppgifter och "
            f"utan sekretess får behandlas på distans, om inte ordföranden tillåter det med "
            f"!tillåt {n} (§ 7).",
        )
    if m.current == n:
        return Refused(Rule.KL_6_33, f"Ärende {n} är redan uppe.")
    refusal = _retake_first(m, r) or _no_quorum(m, r, f"Ärende {n} kan inte tas upp")
    if refusal:
        return refusal
    # A member who arrived late takes over from the substitute at the next item.
    late = [
        member for member in m.substituted if m.here(member) and member not in m.teknikfel and not m.drops.get(member)
    ]
    # A substitute confirmed for a member with förhinder, here while an item was up, takes the seat.
    confirmed = [(sub, member) for sub, member in m.confirmed.items() if _takes_seat(m, r, sub, member)]
    paragraph = item.paragraph or m.next_paragraph
    lines = [f"Ärende {n}: {item.title} (§ {paragraph})"]
    lines += [f"{r.label(u)} tjänstgör från detta ärende i stället för {r.label(m.substituted[u])}." for u in late]
    lines += [f"{r.label(sub)} tjänstgör från detta ärende för {r.label(member)}." for sub, member in confirmed]
    taken = ("item_taken", {"n": n, "paragraph": paragraph})
    events = [("reinstated", {"member": u, "late": True}) for u in late]
    events += [("replaced", {"member": member, "substitute": sub, "teknikfel": False}) for sub, member in confirmed]
    events.append(taken)
    return Accepted(events, [Reply("\n".join(lines), mentions=(*late, *(sub for sub, _ in confirmed)))])


def _utgår(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = _find_item(m, cmd, Rule.KL_6_33)
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


def _tillåt(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = _find_item(m, cmd, Rule.P7)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    if item.klass == "säkerhetsskydd":
        return Refused(
            Rule.P8,
            f"Ärende {n} innehåller säkerhetsskyddsuppgifter. Bara säkerhetsskyddschefen kan "
            f"godkänna att det behandlas på distans (!godkänn {n}).",
        )
    if not item.klass:
        return Refused(Rule.P6, f"Ärende {n} har inga personuppgifter eller sekretess; inget tillstånd behövs.")
    if item.allowed_by:
        return Refused(Rule.P7, f"Ärende {n} är redan tillåtet.")
    return _permission(
        cmd, n, Rule.P7, f"Ordföranden tillåter att ärende {n} med {item.klass} behandlas under sammanträdet (§ 7)."
    )


def _godkänn(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = _find_item(m, cmd, Rule.P8)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    if item.klass != "säkerhetsskydd":
        return Refused(Rule.P8, f"Ärende {n} är inte klassat som säkerhetsskydd; ditt godkännande behövs inte.")
    if item.approved_by:
        return Refused(Rule.P8, f"Ärende {n} är redan godkänt.")
    return _permission(cmd, n, Rule.P8, f"Säkerhetsskyddschefen bedömer att ärende {n} kan behandlas på distans (§ 8).")


def _permission(cmd: Command, n: int, rule: Rule, text: str) -> Accepted:
    """The chair's (§ 7) or the security chief's (§ 8) permission, which is theirs to give also in
    a room that is not end-to-end encrypted; there it is given with a warning, and recorded so."""
    data: dict = {"n": n, "by": cmd.actor, "rule": rule.name}
    if not cmd.room_encrypted:
        data["unencrypted"] = True
        text = (
            f"⚠ {Rule.P2}: Rummet är inte end-to-end-krypterat. Ingen obehörig får ta del av handlingar, "
            f"bild eller ljud, men här kan den som driver hemservern läsa allt som skrivs i ärende {n}. "
            "Håll ärendet i ett krypterat rum om det går; protokollet antecknar att tillståndet gavs "
            f"i ett okrypterat rum.\n{text}"
        )
    return Accepted([("allowed", data)], [Reply(text)])


# --- motions, checks and decisions (§§ 5, 11, 12, 13, KL 6 kap. 27 §) ------------------------


def _yrka(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_33, "Inget ärende är uppe. Yrkanden görs under ett ärende.")
    if cmd.word == "återta":
        mine = [x for x in item.motions if x.user == cmd.actor and not x.withdrawn]
        if not mine:
            return Refused(Rule.KL_6_33, f"Du har inget yrkande att återta i ärende {item.n}.")
        return Accepted(
            [("motion_withdrawn", {"n": item.n, "id": mine[-1].id})],
            [Reply(f"Yrkandet är återtaget: {mine[-1].text}")],
        )
    if cmd.actor in item.silenced:
        return Refused(Rule.P9, f"Ordföranden har fråntagit dig ordet under resten av ärende {item.n}.")
    refusal = _no_quorum(m, r, "Yrkanden kan inte göras")
    if refusal:
        return refusal
    return Accepted(
        [("motion", {"n": item.n, "user": cmd.actor, "text": cmd.text})],
        [Reply(f"Yrkande {len(item.motions) + 1} i ärende {item.n} av {r.label(cmd.actor)}: {cmd.text}")],
    )


def _quorum_text(m: Meeting, r: Roster) -> str | None:
    """What is missing for quorum (KL 6 kap. 27 §), or None when the body has it."""
    if m.has_quorum(r):
        return None
    n = len(r.members) // 2 + 1
    return f"beslutförhet saknas: {len(m.serving(r))} av {len(r.members)} ledamöter tjänstgör, minst {n} krävs"


def _no_quorum(m: Meeting, r: Roster, what: str) -> Refused | None:
    """A body handles matters only with quorum (KL 6 kap. 27 §): taking up and moving included."""
    missing = _quorum_text(m, r)
    if missing is None:
        return None
    return Refused(
        Rule.KL_6_27,
        f"{what}: {missing} (ledamöter med förlorat ljud räknas inte). Ersättare kan träda in med !ersätt.",
    )


def _teknikkontroll(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None:
        return Refused(Rule.P12, "Ta upp ett ärende med !ärende N först; kontrollen föregår ett beslut.")
    lacking = m.lacking(r)
    if lacking:
        return Refused(
            Rule.P5,
            f"{transmission.names_since(m, r, lacking)} saknar ljud eller bild. Ingen kontroll kan godkännas förrän "
            "överföringen fungerar (!åter) eller en ersättare har trätt in (!ersätt, § 11).",
        )
    serving = m.serving(r)
    if not serving:
        return Refused(Rule.KL_6_27, "Ingen ledamot tjänstgör. Ledamöterna anmäler närvaro med !närvarande.")
    deadline = now + timedelta(seconds=r.check_timeout_seconds)
    check_id = len(m.checks) + 1
    text = (
        f"TEKNIKKONTROLL (§ 12) inför beslut i ärende {item.n}. Tjänstgörande ledamöter: svara "
        f"!ok (eller reagera ✅ på detta meddelande) senast kl. {hms(deadline, r.tz)} "
        "om ni ser och hör sammanträdet och själva syns och hörs."
    )
    return Accepted(
        [
            (
                "check_started",
                {"n": item.n, "deadline": deadline.isoformat(), "expected": serving, "presiding": m.presiding(r)},
            )
        ],
        [Reply(text, mentions=tuple(serving), tag=f"check:{m.id}:{check_id}")],
    )


def _ok(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    check = m.check
    if check is None or not check.running:
        return Refused(Rule.P12, "Ingen teknikkontroll pågår. Ordföranden startar en med !teknikkontroll.")
    if cmd.answers is not None and cmd.answers != (m.id, check.id):
        # A ✅ on an earlier check's message answers that check, which is over, not this one.
        return Refused(
            Rule.P12,
            f"Din reaktion gäller en tidigare teknikkontroll, inte den som pågår (nr {check.id}). "
            "Svara !ok, eller reagera ✅ på den pågående kontrollens meddelande.",
        )
    if cmd.actor not in check.expected:
        return Refused(Rule.P12, "Du tjänstgjorde inte när kontrollen startade; ordföranden gör en ny kontroll.")
    if cmd.actor in check.answered:
        return Refused(Rule.P12, "Ditt svar är redan antecknat.")
    refusal = _not_in_call(m, r, cmd.actor, cmd.actor, Rule.P12, "!ok")
    if refusal:
        return refusal
    if m.drops.get(cmd.actor):
        return Refused(
            Rule.P5, "Ditt avbrott är antecknat. Skriv !åter när ljud och bild fungerar, och svara sedan !ok."
        )
    events: list = [("check_answered", {"id": check.id, "user": cmd.actor})]
    if len(check.answered) + 1 == len(check.expected):
        events.append(("check_ended", {"id": check.id, "passed": True} | transmission.evidence(m, r)))
        return Accepted(events, [_check_result(r, check.id, [], len(check.expected))])
    return Accepted(events)


def _check_result(r: Roster, check_id: int, missing: list[str], expected: int) -> Reply:
    if not missing:
        return Reply(
            f"Teknikkontroll {check_id} är godkänd: alla {expected} tjänstgörande ledamöter "
            "deltar med godtagbar överföring (§ 12). Beslut kan fattas.",
            reply=False,
        )
    return Reply(
        f"⛔ § 12: Teknikkontroll {check_id} är inte godkänd. Svarade inte: {_names(r, missing)}. "
        "Ordföranden kan göra en ny !teknikkontroll, ajournera (§ 10) eller ersätta ledamoten (§ 11).",
        mentions=tuple([r.chair, *missing]),
        reply=False,
    )


def tick(m: Meeting | None, r: Roster, now: datetime) -> tuple[datetime, str, Accepted] | None:
    """Time has passed: the earliest thing that fell due, with when it did and a key naming it:
    a running check's deadline (§ 12), or a call membership that expired without a leave."""
    if m is None:
        return None
    due: list[tuple[datetime, str, Callable[[], Accepted | None]]] = []
    check = m.check
    if check is not None and check.running and now >= check.deadline:
        due.append((check.deadline, f"check:{check.id}", lambda: _check_ended(m, r, check)))
    if m.phase in _CALL_PHASES:
        for user, devices in m.in_call.items():
            for device, expires in devices.items():
                if expires is not None and datetime.fromisoformat(expires) <= now:
                    at = datetime.fromisoformat(expires)
                    rest = {d: e for d, e in devices.items() if d != device}
                    due.append(
                        (at, f"call:{user}:{device}:{expires}", lambda u=user, d=rest, t=at: call(m, r, u, d, t))
                    )
    due += [(at, key, lambda a=a: a) for at, key, a in transmission.grace_due(m, r) if at <= now]
    if not due:
        return None
    at, key, outcome = min(due, key=lambda x: x[0])
    result = outcome()
    assert result is not None  # a membership in the meeting's state always changes when it expires
    return at, key, result


def _check_ended(m: Meeting, r: Roster, check) -> Accepted:
    missing = check.missing
    return Accepted(
        [
            (
                "check_ended",
                {"id": check.id, "passed": not missing} | (transmission.evidence(m, r) if not missing else {}),
            )
        ],
        [_check_result(r, check.id, missing, len(check.expected))],
    )


# --- the video call (Element Call, MatrixRTC; §§ 3–5, 10, 12) --------------------------------------

_CALL_PHASES = frozenset({Phase.CONVENED, Phase.OPEN})


def follows_call(r: Roster) -> bool:
    return r.video == "element-call"


def in_call(m: Meeting, user: str, devices: dict[str, dict[str, str | None]] | None = None) -> bool:
    """In the call on a device of one's own, or sharing the transmission (§ 2) of one who is:
    the one without a membership of their own is covered by the other's. `devices` asks the
    same of a call state other than the meeting's (who is in it by user)."""
    devices = m.in_call if devices is None else devices
    partner = m.location.get(user)
    return bool(devices.get(user)) or (partner not in (None, "lokal") and bool(devices.get(partner)))


def call(m: Meeting | None, r: Roster, user: str, devices: dict[str, str | None], now: datetime) -> Accepted | None:
    """A person's devices in the room's call changed (from the room state, or an expiry). A
    present person who leaves the call has lost audio and video, with every consequence of
    §§ 5, 10 and 12; coming back into the call is not enough, the person confirms with !åter."""
    if m is None or not follows_call(r) or m.phase not in _CALL_PHASES or r.person(user) is None:
        return None
    before = m.in_call.get(user, {})
    if before == devices:
        return None
    events: list = [("call", {"user": user, "devices": devices})]
    replies = []
    after = {**m.in_call, user: devices}
    partner = m.location.get(user)
    # The person, and one sharing the person's transmission, who is then out of the call too.
    for who in [user, *([partner] if partner not in (None, "lokal") else [])]:
        left = in_call(m, who) and not in_call(m, who, after)
        if not (left and m.phase is Phase.OPEN and m.here(who) and m.location.get(who) != "lokal"):
            continue
        kinds = [k for k in ("ljud", "bild") if k not in m.drops.get(who, set())]
        if kinds:
            # To the person what to do, and to the chair, when there is something to do, what it means.
            drop, for_chair = _drop(m, r, who, kinds, via="call")
            voided = any(kind == "vote_ended" for kind, _ in events)  # a vote ends once
            events += [e for e in drop if not (voided and e[0] == "vote_ended")]
            what = (
                "du har lämnat videosamtalet"
                if who == user
                else f"du delar överföring med {r.label(user)}, som har lämnat videosamtalet"
            )
            text = (
                f"{r.label(who)}: {what} kl. {hm(now, r.tz)}; det antecknas som förlorat ljud och bild "
                "(§§ 5, 10). Anslut igen och skriv !åter."
            )
            replies.append(Reply(text, mentions=(who,), reply=False))
            if for_chair:
                chair = chair_now(m, r)
                replies.append(Reply(f"{r.label(chair)}: {for_chair}", mentions=(chair,), reply=False))
    return Accepted(events, replies)


def _not_in_call(m: Meeting, r: Roster, user: str, actor: str, rule: Rule, what: str) -> Refused | None:
    """§§ 3–4, 12: with the call followed, one attests only what the call shows (one in the
    chair's room attests in the room)."""
    if not follows_call(r) or in_call(m, user) or m.location.get(user) == "lokal":
        return None
    who = "Du är" if user == actor else f"{r.label(user)} är"
    return Refused(
        rule,
        f"{who} inte med i rummets videosamtal (Element Call). Anslut till samtalet och skriv sedan {what}.",
    )


def blockers(m: Meeting, r: Roster) -> list[tuple[Rule, str]]:
    """Everything that stops a decision on the current item now, each with its rule."""
    out: list[tuple[Rule, str]] = []
    item = m.item
    if item is None:
        return [(Rule.KL_6_33, "inget ärende är uppe (!ärende N)")]
    if m.adjourned:
        out.append((Rule.P10, "sammanträdet är ajournerat (!återuppta)"))
    if not item.permitted:
        out.append((item.permission_rule, f"ärende {item.n} är inte tillåtet på distans"))
    if item.justerad:
        out.append((Rule.KL_5_69, f"§ {item.paragraph} är omedelbart justerad"))
    missing = _quorum_text(m, r)
    if missing:
        out.append((Rule.KL_6_27, missing))
    if m.presiding(r) is None:
        out.append((Rule.KL_6_33, "ingen leder ärendet (!ordförande @ledamot)"))
    for user, kinds in m.lacking(r).items():
        out.append((Rule.P5, f"{transmission.names_since(m, r, [user])} saknar {' och '.join(sorted(kinds))}"))
    if m.vote:
        out.append((Rule.KL_5_54, f"votering {m.vote.id} pågår"))
    check = m.check
    if check is None or check.item != item.n:
        out.append((Rule.P12, "ingen teknikkontroll har gjorts i ärendet (!teknikkontroll)"))
    elif check.running:
        out.append((Rule.P12, f"teknikkontroll {check.id} pågår"))
    elif not check.passed:
        out.append((Rule.P12, f"teknikkontroll {check.id} blev inte godkänd; gör en ny"))
    elif check.spent_by:
        out.append((Rule.P12, f"teknikkontroll {check.id} gäller inte längre ({check.spent_by}); gör en ny"))
    elif sorted(check.expected) != sorted(m.serving(r)):
        out.append((Rule.P12, "tjänstgöringen har ändrats sedan teknikkontrollen; gör en ny"))
    return out


def _reasons(found: list[tuple[Rule, str]]) -> str:
    return "; ".join(f"{text} ({rule})" for rule, text in found)


def _vote_to_word(m: Meeting) -> int | None:
    """The index of the current item's decision that a vote has just settled, which the chair
    may still word (KL 6 kap. 33 §: the chair states what was decided): it stands, and no new
    check has begun a new decision round since."""
    item, check = m.item, m.check
    index = item.last_standing if item is not None else None
    if index is None or check is None or m.vote is not None:
        return None
    decision = item.decisions[index]
    return index if decision.vote_id is not None and decision.check_id == check.id else None


def _beslut(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    index = _vote_to_word(m)
    if index is not None:
        item = m.items[m.current]
        decision = item.decisions[index]
        if item.justerad:
            return Refused(Rule.KL_5_69, f"§ {item.paragraph} är omedelbart justerad och kan inte ändras.")
        return Accepted(
            [("worded", {"n": item.n, "index": index, "text": cmd.text})],
            [
                Reply(
                    f"BESLUT i ärende {item.n}, efter votering {decision.vote_id} enligt förslaget "
                    f"”{decision.proposal}”: {cmd.text}"
                )
            ],
        )
    found = blockers(m, r)
    if found:
        rule = found[0][0]
        return Refused(rule, f"Beslut kan inte fattas nu: {_reasons(found)}.")
    item, check = m.item, m.check
    assert item is not None and check is not None
    serving = m.serving(r)
    # One who declared she abstains takes no part in the decision (KL 4 kap. 25 §).
    participants = [u for u in serving if u not in item.abstaining]
    abstained = [u for u in serving if u in item.abstaining]
    if not participants:
        return Refused(Rule.KL_4_25, "Alla tjänstgörande har anmält att de avstår; ingen deltar i ett beslut.")
    data = {
        "n": item.n,
        "text": cmd.text,
        "participants": participants,
        "serving": serving,
        "check_id": check.id,
        "presiding": m.presiding(r),
        "abstained": abstained,
    } | transmission.evidence(m, r)
    text = f"BESLUT i ärende {item.n}: {cmd.text}\nDeltog i beslutet: {_names(r, participants)}."
    if abstained:
        text += f"\nAvstod från att delta i beslutet (KL 4 kap. 25 §): {_names(r, abstained)}."
    return Accepted([("decided", data)], [Reply(text)])


def _omtag(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    index = item.last_standing if item else None
    if item is None or index is None:
        return Refused(Rule.P12, "Det finns inget beslut i det aktuella ärendet att ta om.")
    decision = item.decisions[index]
    text = f"Beslutet i ärende {item.n} tas om (§ 12) och gäller inte: {decision.text}\n"
    reserved = tuple(dict.fromkeys(user for user, _ in decision.reservations))
    if reserved:
        # KL 4 kap. 27 §: a reservation is against the decision; the void one takes its reservations with it.
        text += (
            f"Reservationerna mot det beslutet faller: {_names(r, reserved)}. Den som vill reservera sig "
            "mot det nya beslutet anmäler det på nytt med !reservation (KL 4 kap. 27 §).\n"
        )
    text += "Gör en ny !teknikkontroll och fatta beslutet igen."
    return Accepted([("retaken", {"n": item.n, "index": index})], [Reply(text, mentions=reserved)])


def _conclude(m: Meeting, r: Roster, vote: Vote, ballots: dict[str, str]) -> Accepted | Refused:
    """The result of an open vote: simple majority; on a tie, the presiding member's vote
    decides (KL 5 kap. 56 §). One who gave no vote took no part (KL 4 kap. 27 §)."""
    ja = [u for u in vote.voters if ballots.get(u) == "ja"]
    nej = [u for u in vote.voters if ballots.get(u) == "nej"]
    avstod = [u for u in vote.voters if ballots.get(u) == "avstår"]
    silent = [u for u in vote.voters if u not in ballots]
    presiding = m.presiding(r)
    if len(ja) != len(nej):
        winner, how = ("a" if len(ja) > len(nej) else "b"), "majority"
    else:
        choice = ballots.get(presiding) if presiding in vote.voters else None
        if choice not in ("ja", "nej"):
            who = r.label(presiding) if presiding else "ordföranden"
            return Refused(
                Rule.KL_4_25,
                f"Lika röstetal ({len(ja)}–{len(nej)}). Ordföranden ({who}) har utslagsröst och får inte "
                "avstå när rösten behövs för att avgöra: ordföranden röstar med !ja eller !nej "
                "(efter !avstår återta, om hen har anmält att hen avstår).",
            )
        winner, how = ("a" if choice == "ja" else "b"), "casting"
    won = vote.a if winner == "a" else vote.b
    counts = {"ja": len(ja), "nej": len(nej), "avstår": len(avstod)}
    text = (
        f"RESULTAT av votering {vote.id} i ärende {vote.item}: {len(ja)} ja, {len(nej)} nej, "
        f"{len(avstod)} avstod. Beslut enligt: {won} ({vote_how(how, {}, None, r, presiding)}).\n"
        f"Ja ({vote.a}): {_names(r, ja) or '–'}\nNej ({vote.b}): {_names(r, nej) or '–'}\n"
        f"Avstod: {_names(r, avstod) or '–'}"
    )
    if silent:
        text += f"\nRöstade inte och deltog inte i beslutet: {_names(r, silent)}"
    # One who answered avstår takes no part in the decision (KL 4 kap. 25 §), nor one who gave no vote.
    voted = [u for u in vote.voters if ballots.get(u) in ("ja", "nej")]
    return Accepted(_vote_decided(m, r, vote, winner, how, counts, voted, avstod), [Reply(text, reply=False)])


def _vote_decided(
    m: Meeting,
    r: Roster,
    vote: Vote,
    winner: str,
    how: str,
    counts: dict[str, int],
    participants: list[str],
    abstained: list[str],
    lot: int | None = None,
) -> list:
    """A vote's end and the decision it makes: the winning proposal, taken by those who voted."""
    assert m.check is not None
    won = vote.a if winner == "a" else vote.b
    presiding = m.presiding(r)
    ended = {"id": vote.id, "winner": winner, "how": how, "counts": counts, "presiding": presiding}
    if lot is not None:
        ended["lot"] = lot
    decided = {
        "n": vote.item,
        "text": won,
        "participants": participants,
        "serving": vote.voters,
        "check_id": m.check.id,
        "vote": vote.id,
        "presiding": presiding,
        "abstained": abstained,
    } | transmission.evidence(m, r)
    return [("vote_ended", ended), ("decided", decided)]


def _votering(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    vote = m.vote
    if cmd.word == "klar":
        if vote is None or vote.closed:
            return Refused(Rule.KL_5_54, "Ingen öppen votering pågår.")
        # Every serving member gets the same time to vote as to answer a check; until then only
        # a vote all have given ends it, so the chair cannot close it on the first ja.
        open_until = (vote.started or now) + timedelta(seconds=r.check_timeout_seconds)
        if now < open_until and len(vote.ballots) < len(vote.voters):
            return Refused(
                Rule.KL_5_54,
                f"Alla tjänstgörande ska hinna rösta: {len(vote.ballots)} av {len(vote.voters)} har röstat. "
                f"Voteringen kan avslutas med !votering klar från kl. {hms(open_until, r.tz)}, "
                "eller när alla har röstat.",
            )
        return _conclude(m, r, vote, vote.ballots)
    if cmd.word == "resultat":
        return _closed_result(m, r, cmd)
    item = m.item
    if item is None:
        return Refused(Rule.KL_6_33, "Inget ärende är uppe. Ta upp ärendet med !ärende N först.")
    a, b = cmd.options
    closed = cmd.word == "sluten"
    if closed:
        remote = [u for u in m.serving(r) if u != cmd.actor and m.location.get(u) != "lokal"]
        if remote:
            return Refused(
                Rule.P13,
                "Sluten omröstning får inte genomföras på distans när valhemligheten inte kan "
                f"upprätthållas. {_names(r, remote)} deltar inte i ordförandens lokal. Omröstningen kan "
                "hållas med valsedlar när alla tjänstgörande sitter i ordförandens lokal (!lokal).",
            )
    found = blockers(m, r)
    if found:
        return Refused(found[0][0], f"Voteringen kan inte börja nu: {_reasons(found)}.")
    voters = m.serving(r)
    data = {"n": item.n, "a": a, "b": b, "voters": voters, "closed": closed, "presiding": m.presiding(r)}
    if not closed and item.abstaining:  # their declaration is their answer (KL 4 kap. 25 §)
        data["abstaining"] = [u for u in voters if u in item.abstaining]
    vote_id = len(m.votes) + 1
    if closed:
        text = (
            f"SLUTEN OMRÖSTNING {vote_id} i ärende {item.n} (§ 13, KL 5 kap. 54 §): alla tjänstgörande "
            f"sitter i ordförandens lokal, så omröstningen hålls med valsedlar på papper. A = {a}, B = {b}. "
            "Räkna valsedlarna och skriv !votering sluten resultat A=n B=m blanka=k."
        )
    else:
        text = (
            f"VOTERING {vote_id} i ärende {item.n} (KL 5 kap. 54 §): Ja = {a}, Nej = {b}. "
            "Tjänstgörande ledamöter: svara !ja, !nej eller !avstår. Rösten kan ändras tills resultatet "
            "är klart; en förlorad överföring under voteringen gör den ogiltig (§§ 5, 12)."
        )
    return Accepted([("vote_started", data)], [Reply(text, mentions=tuple(voters))])


def _closed_result(m: Meeting, r: Roster, cmd: Command) -> Outcome:
    vote = m.vote
    if vote is None or not vote.closed:
        return Refused(Rule.P13, "Ingen sluten omröstning pågår. Den börjar med !votering sluten A / B.")
    counts = dict(cmd.counts)
    cast = sum(counts.values())
    if cast != len(vote.voters):
        return Refused(
            Rule.KL_5_54,
            f"Antalet valsedlar ({cast}) ska vara lika med antalet som röstade ({len(vote.voters)}). Räkna om.",
        )
    if counts["a"] != counts["b"]:
        winner, how = ("a" if counts["a"] > counts["b"] else "b"), "most"
    else:
        # An election tied: lots are drawn (KL 5 kap. 56 §); the shell draws with the OS's CSPRNG.
        winner = "a" if cmd.lot % 2 == 0 else "b"
        how = "lot"
    won = vote.a if winner == "a" else vote.b
    text = (
        f"RESULTAT av sluten omröstning {vote.id} i ärende {vote.item}: {vote.a} {counts['a']}, "
        f"{vote.b} {counts['b']}, blanka {counts['blanka']}. Vald/beslut: {won} "
        f"({vote_how(how, {}, cmd.lot, r)})."
    )
    lot = cmd.lot if how == "lot" else None
    # Ballots on paper are secret; only a declaration made before the vote says who took no part.
    abstained = [u for u in vote.voters if u in m.items[vote.item].abstaining]
    voted = [u for u in vote.voters if u not in abstained]
    return Accepted(_vote_decided(m, r, vote, winner, how, counts, voted, abstained, lot), [Reply(text)])


def _ballot(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    vote = m.vote
    if vote is None or vote.closed:
        return Refused(Rule.KL_5_54, "Ingen öppen votering pågår.")
    if cmd.answers is not None and cmd.answers != (m.id, vote.id):
        # A response to an earlier vote's poll answers that vote, which is over, not this one.
        return Refused(
            Rule.KL_5_54,
            f"Ditt svar gäller en tidigare votering, inte den som pågår (nr {vote.id}). Svara i den "
            "pågående voteringens omröstning, eller med !ja, !nej eller !avstår.",
        )
    if cmd.actor not in vote.voters:
        return _not_serving(m, r, cmd.actor, Rule.KL_5_54) or Refused(
            Rule.KL_5_54, "Du tjänstgjorde inte när voteringen började."
        )
    if cmd.name != "avstår" and cmd.actor in m.items[vote.item].abstaining:
        return Refused(
            Rule.KL_4_25,
            f"Du har anmält att du avstår från att delta i beslutet i ärende {vote.item}. Vill du rösta: "
            "återta anmälan med !avstår återta först.",
        )
    if vote.ballots.get(cmd.actor) == cmd.name:
        return Refused(Rule.KL_5_54, f"Din röst ({cmd.name}) är redan antecknad.")
    events: list = [("ballot", {"id": vote.id, "user": cmd.actor, "choice": cmd.name})]
    ballots = {**vote.ballots, cmd.actor: cmd.name}
    if len(ballots) < len(vote.voters):
        return Accepted(events)
    result = _conclude(m, r, vote, ballots)
    if isinstance(result, Refused):  # a tie the chair must settle: tell the chair, keep the vote open
        return Accepted(events, [Reply(result.body, mentions=(chair_now(m, r),), reply=False)])
    return Accepted(events + result.events, result.replies)


def _avstår(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """In a running open vote, the answer avstår; otherwise a serving member's declaration,
    before the current item's decision, that she takes no part in it (KL 4 kap. 25 §), or its
    withdrawal (`återta`). Either way she takes no part and cannot reserve (KL 4 kap. 27 §)."""
    vote = m.vote
    if vote is not None and vote.closed and cmd.word != "återta":
        return Refused(Rule.KL_5_54, "En sluten omröstning pågår: den som avstår lämnar en blank valsedel.")
    if cmd.word != "återta" and (vote is not None or cmd.answers is not None):  # a poll answers a vote
        return _ballot(m, r, cmd, now)
    item = m.item
    if item is None:
        return Refused(Rule.KL_4_25, "Inget ärende är uppe. Att avstå gäller beslutet i ärendet som är uppe.")
    if item.valid_decisions:
        return Refused(
            Rule.KL_4_25,
            f"Ärende {item.n} är redan beslutat. Att avstå anmäls, och återtas, före beslutet.",
        )
    if cmd.word == "återta":
        if cmd.actor not in item.abstaining:
            return Refused(Rule.KL_4_25, f"Du har inte anmält att du avstår i ärende {item.n}.")
        text = f"{r.label(cmd.actor)} deltar i beslutet i ärende {item.n}."
        if vote is not None and cmd.actor in vote.voters:
            text += " Rösta med !ja, !nej eller !avstår."
        return Accepted([("abstention_withdrawn", {"n": item.n, "user": cmd.actor})], [Reply(text)])
    refusal = _not_serving(m, r, cmd.actor, Rule.KL_4_25)
    if refusal:
        return refusal
    if cmd.actor in item.abstaining:
        return Refused(
            Rule.KL_4_25,
            f"Att du avstår i ärende {item.n} är redan antecknat. Vill du delta: !avstår återta.",
        )
    return Accepted([("abstained", {"n": item.n, "user": cmd.actor})])


def _reservation(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """Against the latest standing decision in the current item, or in item N, until the
    meeting ends (KL 4 kap. 27 §)."""
    if cmd.number is not None:
        n = _find_item(m, cmd, Rule.KL_4_27)
        if isinstance(n, Refused):
            return n
    elif m.current is None:
        return Refused(Rule.KL_4_27, "Inget ärende är uppe. Ange ärendet: !reservation ärende N [motivering].")
    else:
        n = m.current
    item = m.items[n]
    index = item.last_standing
    if index is None:
        return Refused(
            Rule.KL_4_27,
            f"Det finns inget beslut i ärende {n} att reservera sig mot. Gäller det ett annat ärende: "
            "!reservation ärende N [motivering].",
        )
    decision = item.decisions[index]
    if cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, f"Du har jäv i ärende {n} och deltar inte i det, inte heller med reservation.")
    if cmd.actor in m.left:
        return Refused(Rule.KL_4_27, "Du har lämnat sammanträdet; en reservation anmäls på sammanträdet.")
    if cmd.actor in decision.abstained:
        return Refused(
            Rule.KL_4_27,
            "Du avstod från att delta i beslutet och kan därför inte reservera dig mot det (KL 4 kap. 25 §).",
        )
    if cmd.actor not in decision.participants:
        return Refused(
            Rule.KL_4_27,
            "Endast den som deltog i beslutet får reservera sig mot det; den som inte röstade deltog inte.",
        )
    if any(user == cmd.actor for user, _ in decision.reservations):
        return Refused(Rule.KL_4_27, "Din reservation mot beslutet är redan antecknad.")
    return Accepted(
        [("reservation", {"n": n, "index": index, "user": cmd.actor, "text": cmd.text})],
        [Reply(f"{r.label(cmd.actor)} reserverar sig mot beslutet i ärende {n} (KL 4 kap. 27 §).")],
    )


# --- views and the end ------------------------------------------------------------------------


def _not_convened(r: Roster) -> str:
    return f"Inget sammanträde är kallat för {r.name}."


def _dagordning(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m is None:  # a question: answered, not refused
        return Accepted(replies=[Reply(f"{_not_convened(r)} Föredragningslistan kommer med kallelsen.")])
    lines = [f"Föredragningslista, {r.name} {date_time(m.start, r.tz) if m.start else ''}:"]
    for item in m.items.values():
        mark = " ← uppe nu" if item.n == m.current else ""
        if item.struck is not None:
            mark = " – utgår" + (f" ({item.struck})" if item.struck else "")
        lines.append(_agenda_line(item.n, item.title, item.klass, item.dnr, item.allowed_by, item.approved_by) + mark)
    lines += forhinder_lines(m, r)
    return Accepted(replies=[Reply("\n".join(lines))])


def status_text(m: Meeting, r: Roster) -> str:
    lines = [f"{r.name}: sammanträdet {m.phase.value}" + (" (ajournerat)" if m.adjourned else "") + "."]
    lines += forhinder_lines(m, r) if m.phase in (Phase.CONVENED, Phase.OPEN) else []
    if m.phase is not Phase.OPEN:
        return "\n".join(lines)
    serving = m.serving(r)
    lines.append(
        f"Tjänstgör ({len(serving)} av {len(r.members)}): "
        + (", ".join(_serving_label(m, r, u) for u in serving) or "ingen")
    )
    presiding = m.presiding(r)
    if presiding != r.chair:
        lines.append(
            f"Ordförande (KL 6 kap. 33 §): {r.label(presiding)}"
            if presiding
            else "Ingen leder sammanträdet: utse en tjänstgörande ledamot med !ordförande @ledamot (KL 6 kap. 33 §)"
        )
    if m.teknikfel:
        lines.append("Teknikfelsledamöter (§ 11): " + ", ".join(r.label(u) for u in m.teknikfel))
    absent = [p.label for p in r.members if p.user not in m.present and p.user not in m.substituted]
    if absent:
        lines.append("Ej närvarande ledamöter: " + ", ".join(absent))
    lines += _empty_seats(m, r)
    if m.left:
        lines.append("Har lämnat sammanträdet: " + _names(r, m.left))
    drops = [f"{r.label(u)} ({' och '.join(sorted(k))})" for u, k in m.drops.items() if k]
    if drops:
        lines.append("Avbrott: " + ", ".join(drops))
    if follows_call(r):
        lines.append("I videosamtalet: " + (_names(r, [u for u in m.in_call if m.in_call[u]]) or "ingen"))
    lines += transmission.status_lines(m, r)
    item = m.item
    if item:
        lines.append(f"Uppe: ärende {item.n}. {item.title}")
        motions = [f"{x.id}) {r.label(x.user)}: {x.text}" for x in item.motions if not (x.withdrawn or x.fallen)]
        if motions:
            lines.append("Yrkanden: " + "; ".join(motions))
        if item.speakers:
            lines.append("Talarlista: " + ", ".join(r.label(u) for u in item.speakers))
        if item.jav:
            lines.append("Jäv (KL 6 kap. 28 §): " + _names(r, item.jav))
        check = m.check
        if check and check.item == item.n:
            state = "pågår" if check.running else ("godkänd" if check.passed else "ej godkänd")
            lines.append(f"Teknikkontroll {check.id}: {state}")
        if m.vote:
            lines.append(f"Votering {m.vote.id}: {len(m.vote.ballots)} av {len(m.vote.voters)} har röstat")
    found = blockers(m, r)
    if found:
        lines.append("Hindrar beslut: " + _reasons(found))
    else:
        lines.append("Beslut kan fattas: teknikkontrollen är godkänd och organet är beslutfört.")
    return "\n".join(lines)


def _empty_seats(m: Meeting, r: Roster) -> list[str]:
    """For each member's seat nobody fills, the substitute here whose turn it is, as the !ersätt
    the chair may give (KL 6 kap. 17 §), one substitute per seat; none for a seat a confirmed
    substitute takes at the next item."""
    lines: list[str] = []
    proposed: list[str] = []
    for p in r.members:
        if m.seat(p.user) is not None or any(of == p.user and m.here(s) for s, of in m.confirmed.items()):
            continue
        sub = next_in_turn(m, r, p.user, skip=proposed)
        if sub is None:
            continue
        proposed.append(sub)
        # Who serves changes between items; a seat emptied by jäv is filled for the item at once.
        jav = m.item is not None and (m.substituted.get(p.user) or p.user) in m.item.jav
        when = "" if jav or _between_items(m) else " (när ärendet är beslutat, eller under ajournering)"
        lines.append(
            f"Tom plats: {p.label}. {r.label(sub)} står på tur att tjänstgöra (KL 6 kap. 17 §): "
            f"!ersätt {p.user} {sub}{when}"
        )
    return lines


def _serving_label(m: Meeting, r: Roster, user: str) -> str:
    member = m.serving_for(user, r)
    return f"{r.label(user)} (för {r.name_of(member)})" if member else r.label(user)


def _status(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    return Accepted(replies=[Reply(status_text(m, r) if m is not None else _not_convened(r))])


def _protokoll(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    final = "Protokollet" if m.phase is Phase.CLOSED else "Protokollet hittills"
    text = f"{final} för {r.name}s sammanträde bifogas."
    if m.phase is not Phase.CLOSED or m.justerad_at or not cmd.fingerprint:
        return Accepted(replies=[Reply(text, attach="protocol")])
    text += f" Signera den här lydelsen med !justera {short_fingerprint(cmd.fingerprint)} (dess fingeravtryck)."
    return Accepted(_posted(cmd), [Reply(text, attach="protocol")])


def _posted(cmd: Command) -> list:
    """The protocol shown in the room, by its fingerprint: what a signer may have read (the
    shell gives it as the protocol reads after the command)."""
    return [("posted", {"fingerprint": cmd.fingerprint})] if cmd.fingerprint else []


def _avsluta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    refusal = _retake_first(m, r)
    if refusal:
        return refusal
    early = _before_called_time(m, r, now, "Sammanträdet kan avslutas")
    if early:
        return early
    untouched = [n for n, item in m.items.items() if not item.handled]
    if untouched:
        numbers = ", ".join(str(n) for n in untouched)
        return Refused(
            Rule.KL_6_35,
            f"Ärende {numbers} har varken tagits upp eller utgått, och protokollet ska redovisa varje ärende. "
            "Ta upp det med !ärende N eller stryk det med !utgår N [skäl] innan sammanträdet avslutas.",
        )
    events = _abort_running(m, "closed")
    presiding = m.presiding(r)
    events += [("closed", {"presiding": presiding}), *_posted(cmd)]
    text = f"Sammanträdet är avslutat kl. {hm(now, r.tz)}. Protokollet bifogas."
    if cmd.fingerprint:
        text += f" Fingeravtryck: {short_fingerprint(cmd.fingerprint)}."
    deadline = last_day_to_justera(_meeting_day(m, r, now))
    if m.justerare:
        plan = justering_plan(m, r, closed_presiding=presiding)
        text += (
            f" Det justeras senast {deadline} (KL 6 kap. 35 §) av {_signers_text(r, plan)}: var och en "
            "signerar med !justera (KL 5 kap. 69 §)."
        ) + _lacking_text(m, r, plan)
    else:
        text += (
            f" Ordföranden utser justerare med !justerare @person; sedan justeras det senast {deadline} "
            "med !justera (KL 5 kap. 69 §, 6 kap. 35 §)."
        )
    mentions = tuple(dict.fromkeys((*r.secretaries, *m.justerare)))
    return Accepted(events, [Reply(text, attach="protocol", mentions=mentions)])


# --- justering and anslag (KL 5 kap. 69 §, 6 kap. 35 §, 8 kap. 12 §) ------------------------------


@dataclass(frozen=True)
class Paragraph:
    """Who justerar one paragraph (KL 5 kap. 69 §): whoever presided over it signs it as its
    ordförande, and every justerare who neither presided over it nor was jävig in it justerar it
    with them, so that a paragraph always has two different people; it needs at least one."""

    item: int
    number: int | None
    chairs: tuple[str, ...]
    justerare: tuple[str, ...]
    presided: tuple[str, ...]  # who presided over it, jävig or not (a jävig one signs nothing)


def paragraph_signers(m: Meeting, r: Roster, item: Item) -> Paragraph:
    """Who presided over the paragraph: over each decision that stands, or without one, over the
    item when it was last up (`Item.led_by`)."""
    presided = tuple(dict.fromkeys(d.presiding or r.chair for d in item.valid_decisions)) or (item.led_by or r.chair,)
    chairs = tuple(u for u in presided if u not in item.jav)
    justerare = tuple(u for u in m.justerare if u not in presided and u not in item.jav)
    return Paragraph(item.n, item.paragraph, chairs, justerare, presided)


def justering_plan(m: Meeting, r: Roster, closed_presiding: str | None = None) -> list[Paragraph]:
    """The signers of every paragraph the protocol's justering covers, in § order: each one taken
    up and not omedelbart justerad already. With no such paragraph, whoever presided at the close
    signs as the ordförande."""
    items = [i for i in m.items.values() if i.taken_up and i.justerad is None]
    plan = [paragraph_signers(m, r, i) for i in sorted(items, key=lambda i: (i.paragraph or 0, i.n))]
    if plan:
        return plan
    chair = closed_presiding or m.closed_presiding or r.chair
    return [Paragraph(0, None, (chair,), tuple(u for u in m.justerare if u != chair), (chair,))]


def required_signers(plan: list[Paragraph]) -> list[str]:
    """Everyone whose signature the justering needs: each paragraph's ordförande and justerare."""
    return list(dict.fromkeys([*(u for p in plan for u in p.chairs), *(u for p in plan for u in p.justerare)]))


def signer_roles(plan: list[Paragraph]) -> dict[str, str]:
    """What each signer justerar, in words: "ordförande", or with the §§ when not all of them."""
    everything = [p.number for p in plan if p.number is not None]
    out: dict[str, str] = {}
    for user in required_signers(plan):
        roles = []
        for role, of in (("ordförande", "chairs"), ("justerare", "justerare")):
            numbers = [p.number for p in plan if user in getattr(p, of) and p.number is not None]
            if any(user in getattr(p, of) for p in plan):
                roles.append(role if numbers == everything else f"{role} {paragraphs_text(numbers)}")
        out[user] = ", ".join(roles)
    return out


def _signers_text(r: Roster, plan: list[Paragraph]) -> str:
    return ", ".join(f"{r.label(u)} ({role})" for u, role in signer_roles(plan).items())


def _why_not(m: Meeting, r: Roster, p: Paragraph) -> str:
    """Why no justerare may justera a paragraph (or, with none, the protocol)."""
    jav = m.items[p.item].jav if p.item in m.items else {}
    led = "ledde ärendet" if p.item in m.items else "ledde sammanträdet"
    reasons = [f"{r.label(u)} {'har jäv i ärendet' if u in jav else led}" for u in m.justerare]
    what = f"§ {p.number}" if p.number is not None else "protokollet"
    return f"{what}: {', '.join(reasons or ['ingen justerare är utsedd'])}"


def _lacking_text(m: Meeting, r: Roster, plan: list[Paragraph]) -> str:
    lacking = [p for p in plan if not p.justerare]
    if not lacking:
        return ""
    return (
        " ⚠ KL 5 kap. 69 §: ingen justerare kan justera "
        + "; ".join(_why_not(m, r, p) for p in lacking)
        + ". En paragraf justeras av den som ledde den och en justerare som varken ledde den eller "
        "hade jäv: ordföranden utser ytterligare en justerare med !justerare @person @person."
    )


def _meeting_day(m: Meeting, r: Roster, now: datetime) -> date:
    return (m.opened_at or m.start or now).astimezone(r.tz).date()


def _justerare(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.justerad_at:
        return Refused(Rule.KL_5_69, "Protokollet är redan justerat.")
    # Serving members and substitutes; after the close, those who served in the meeting.
    eligible = m.serving(r) if m.phase is Phase.OPEN else list(m.ever_served)
    presiding = m.presiding(r) if m.phase is Phase.OPEN else None
    for user in cmd.people:
        if user not in eligible:
            return Refused(
                Rule.KL_5_69,
                f"{r.label(user)} tjänstgör inte och kan inte vara justerare: välj tjänstgörande ledamöter "
                "eller ersättare.",
            )
    if presiding is not None and list(cmd.people) == [presiding]:
        return Refused(
            Rule.KL_5_69,
            f"{r.label(presiding)} leder sammanträdet och justerar som ordförande de paragrafer hen leder; "
            "en justerare justerar med ordföranden. Välj någon annan, eller två justerare.",
        )
    chosen = dataclasses.replace(m, justerare=list(cmd.people))  # the plan as it would be
    if m.phase is Phase.CLOSED:
        for user in cmd.people:
            if not any(user in p.justerare for p in justering_plan(chosen, r)):
                return Refused(
                    Rule.KL_5_69,
                    f"{r.label(user)} ledde eller hade jäv i varje paragraf och kan inte justera någon av dem.",
                )
    events = [("justerare", {"users": list(cmd.people), "by": cmd.actor})]
    text = f"Utses att justera protokollet: {_names(r, cmd.people)} (KL 5 kap. 69 §)."
    if m.phase is Phase.CLOSED:
        plan = justering_plan(chosen, r)
        text += f" Protokollet justeras av {_signers_text(r, plan)}." + _lacking_text(chosen, r, plan)
        if m.signatures:
            text += " Signaturer som gavs före ändringen gäller inte längre: signera på nytt med !justera."
    return Accepted(events, [Reply(text, mentions=cmd.people)])


def _changes_since(m: Meeting, r: Roster, seq: int) -> list[str]:
    """What changed in the protocol after the log's event `seq`, in words."""
    out = []
    for a in m.amendments:
        if a.seq <= seq:
            continue
        when = date_time(a.at, r.tz)
        if a.kind == "corrected":
            item = m.items[a.data["n"]]
            out.append(
                f"rättelse av beslutet i § {item.paragraph}, {when} av {r.label(a.by)}: «{a.data['new']}» "
                f"(tidigare: «{a.data['old']}»)"
            )
        else:
            before = _names(r, a.data["before"]) or "inga"
            out.append(f"justerare utsedda {when}: {_names(r, a.data['users'])} (tidigare: {before})")
    return out


def _stale(m: Meeting, r: Roster, cmd: Command, what: str) -> Refused | None:
    """A signature with a fingerprint is on that version only: refused unless it is the one to be
    signed now, telling what changed since the version the signer typed was shown."""
    typed, fp = cmd.typed_fingerprint, cmd.fingerprint
    if not typed or fp.startswith(typed):
        return None
    text = (
        f"Fingeravtrycket du angav ({short_fingerprint(typed)}) är inte {what} som ska signeras nu "
        f"({short_fingerprint(fp)})."
    )
    seen = next((p for p in reversed(m.postings) if p.fingerprint.startswith(typed)), None)
    if seen is not None:
        changes = _changes_since(m, r, seen.seq)
        if changes:
            text += f" Ändrat sedan den lydelsen visades {date_time(seen.at, r.tz)}: " + "; ".join(changes) + "."
    else:
        text += " Det stämmer inte med någon lydelse som har visats i rummet."
    cmd_text = "!justera omedelbart" if cmd.word == "omedelbart" else "!justera"
    return Refused(Rule.KL_5_69, f"{text} Läs den (!protokoll) och signera med {cmd_text} {short_fingerprint(fp)}.")


def _justera(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.word == "omedelbart":
        return _justera_omedelbart(m, r, cmd, now)
    if m.justerad_at:
        return Refused(Rule.KL_5_69, f"Protokollet är redan justerat {m.justerad_at.astimezone(r.tz):%Y-%m-%d}.")
    if not m.justerare:
        return Refused(Rule.KL_5_69, "Inga justerare är utsedda. Ordföranden utser dem med !justerare @person.")
    plan = justering_plan(m, r)
    required = required_signers(plan)
    secretary = r.is_secretary(cmd.actor) and cmd.actor in m.present
    if cmd.actor not in required and cmd.actor not in meeting_chairs(m, r) and not secretary:
        return Refused(
            Rule.KL_5_69,
            f"Protokollet justeras av {_signers_text(r, plan)}; sekreteraren som var med på sammanträdet "
            "får också signera.",
        )
    return _stale(m, r, cmd, "den lydelse") or _sign(m, r, cmd, now, plan, m.signatures, None)


def _must_retake(m: Meeting, item: Item) -> list[tuple[Rule, Any]]:
    """Why the item's standing decision must be taken again before it may be justerat at once:
    one who took part has jäv in the item (KL 6 kap. 28 §), or a technical check in the item after
    it did not pass, so the chair cannot see that all take part with acceptable transmission (§ 12)."""
    out = []
    for d in item.valid_decisions:
        jav = [u for u in d.participants if u in item.jav]
        if jav:
            out.append((Rule.KL_6_28, jav))
        failed = [c for c in m.checks_of(item.n) if c.started >= d.at and c.passed is False]
        if failed:
            out.append((Rule.P12, failed[-1].id))
    return out


def _justera_omedelbart(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None or not item.valid_decisions:
        return Refused(
            Rule.KL_5_69, "Omedelbar justering gäller ärendet som är uppe, efter att beslutet i det har fattats."
        )
    if item.justerad:
        return Refused(Rule.KL_5_69, f"§ {item.paragraph} är redan omedelbart justerad.")
    retake = _must_retake(m, item)
    if retake:
        rule, what = retake[0]
        why = (
            f"{_names(r, what)} deltog i beslutet men har jäv i ärendet"
            if rule is Rule.KL_6_28
            else f"teknikkontroll {what} efter beslutet blev inte godkänd"
        )
        return Refused(
            rule,
            f"Beslutet i § {item.paragraph} ska tas om ({why}) och kan inte justeras omedelbart: !omtag, ny "
            "!teknikkontroll och nytt beslut (KL 5 kap. 69 §).",
        )
    if not m.justerare:
        return Refused(Rule.KL_5_69, "Inga justerare är utsedda. Ordföranden utser dem med !justerare @person.")
    p = paragraph_signers(m, r, item)
    if not p.justerare:
        return Refused(
            Rule.KL_5_69,
            f"Ingen justerare kan justera paragrafen ({_why_not(m, r, p)}). Den justeras av den som ledde "
            "ärendet och en justerare som varken ledde det eller hade jäv: ordföranden utser ytterligare "
            "en justerare med !justerare @person @person.",
        )
    plan = [p]
    if cmd.actor not in required_signers(plan):
        return Refused(Rule.KL_5_69, f"Paragrafen justeras omedelbart av {_signers_text(r, plan)}.")
    refusal = _stale(m, r, cmd, "paragrafens lydelse")
    if refusal:
        return refusal
    chair_signed = any(s.user in p.chairs and s.fingerprint == cmd.fingerprint for s in item.signatures)
    if cmd.actor not in p.chairs and not chair_signed:
        changed = " Paragrafen har ändrats sedan ordföranden signerade." if item.signatures else ""
        return Refused(
            Rule.KL_5_69,
            f"Ordföranden i ärendet ({_names(r, p.chairs)}) begär först omedelbar justering med "
            f"!justera omedelbart.{changed}",
        )
    return _sign(m, r, cmd, now, plan, item.signatures, item.n)


def _sign(m: Meeting, r: Roster, cmd: Command, now: datetime, plan: list[Paragraph], signatures, n) -> Outcome:
    """A signature on what the fingerprint names; justerat when every required signer has signed
    that same fingerprint and every paragraph has its justerare. A signature on an earlier wording
    (before a rättelse) does not count."""
    fp = cmd.fingerprint
    if not fp:
        return Refused(Rule.KL_5_69, "Protokollets fingeravtryck kunde inte beräknas. Försök igen.")
    if any(s.user == cmd.actor and s.fingerprint == fp for s in signatures):
        return Refused(Rule.KL_5_69, f"Du har redan signerat den här lydelsen (fingeravtryck {short_fingerprint(fp)}).")
    signed = {s.user for s in signatures if s.fingerprint == fp} | {cmd.actor}
    missing = [u for u in required_signers(plan) if u not in signed]
    data = {"user": cmd.actor, "event_id": cmd.event_id, "fingerprint": fp}
    what = "Protokollet" if n is None else f"§ {m.items[n].paragraph} (ärende {n})"
    text = f"{what} är signerat av {r.label(cmd.actor)} kl. {hm(now, r.tz)}. Fingeravtryck: {short_fingerprint(fp)}"
    meeting_day = _meeting_day(m, r, now)
    today = now.astimezone(r.tz).date()
    if n is None:
        if m.postings and (changes := _changes_since(m, r, m.postings[-1].seq)):
            text += "\nÄndrat sedan protokollet senast visades i rummet: " + "; ".join(changes) + "."
        deadline = last_day_to_justera(meeting_day)
        if today > deadline:
            text += (
                f"\n⚠ KL 6 kap. 35 §: protokollet skulle ha justerats senast {deadline}, fjorton dagar efter "
                "sammanträdet. Den sena justeringen antecknas i protokollet."
            )
    else:
        data["n"] = n
    events: list = [("signed", data)]
    lacking = [p for p in plan if not p.justerare]
    if missing or lacking:
        if missing:
            text += f"\nÅterstår att signera: {_names(r, missing)} (!justera{' omedelbart' if n else ''})."
        text += _lacking_text(m, r, plan)
        return Accepted(events, [Reply(text, mentions=tuple(missing))])
    due = last_day_to_post(today)
    ask = (
        f"Anslaget ska sättas upp på kommunens anslagstavla senast {due} (KL 8 kap. 12 §); sekreteraren "
        f"antecknar dagen det sattes upp med !anslag{f' § {m.items[n].paragraph}' if n is not None else ''} "
        "[ÅÅÅÅ-MM-DD]."
    )
    if n is not None:
        events.append(("paragraph_justerad", {"n": n, "fingerprint": fp}))
        text += f"\n{what} är omedelbart justerad (KL 5 kap. 69 §). Protokollsutdrag och anslag följer. {ask}"
        numbers = [m.items[n].paragraph]
    else:
        events.append(("justerad", {"fingerprint": fp}))
        text += f"\nPROTOKOLLET ÄR JUSTERAT (KL 5 kap. 69 §). Det bifogas som PDF/A. Anslaget följer. {ask}"
        numbers = [p.number for p in plan if p.number is not None]
    lines = anslag_lines(r, meeting_day.isoformat(), today.isoformat(), None, paragraphs_text(numbers), n is not None)
    notice = "\n".join(lines)
    attach = "pdf" if n is None else f"extract:{n}"
    return Accepted(events, [Reply(text, attach=attach, mentions=(*r.secretaries,)), Reply(notice, reply=False)])


def _anslag(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    """The day the anslag of a justering was put up on the kommun's anslagstavla (KL 8 kap. 12 §):
    of the protocol, or with § N of an omedelbart justerad paragraph. The time to appeal runs
    from it (KL 13 kap. 5 §)."""
    item = None
    if cmd.number is not None:
        item = next((i for i in m.items.values() if i.paragraph == cmd.number and i.taken_up), None)
        if item is None or item.justerad is None:
            return Refused(
                Rule.KL_8_12,
                f"§ {cmd.number} är inte omedelbart justerad; dess anslag sätts upp med protokollets (!anslag).",
            )
        justerad = item.justerad
    elif m.justerad_at is None:
        return Refused(
            Rule.KL_8_12,
            "Protokollet är inte justerat än; anslaget sätts upp efter justeringen. För en omedelbart "
            "justerad paragraf: !anslag § N [ÅÅÅÅ-MM-DD].",
        )
    else:
        justerad = m.justerad_at
    today = now.astimezone(r.tz).date()
    day = date.fromisoformat(cmd.text) if cmd.text else today
    justerad_day = justerad.astimezone(r.tz).date()
    if day < justerad_day:
        return Refused(Rule.KL_8_12, f"Anslaget kan inte ha satts upp före justeringen ({justerad_day}).")
    if day > today:
        return Refused(Rule.KL_8_12, f"Ange dagen då anslaget sattes upp, inte en kommande dag (i dag är {today}).")
    numbers = [item.paragraph] if item else [p.number for p in justering_plan(m, r) if p.number is not None]
    meeting_day = _meeting_day(m, r, now).isoformat()
    listed = paragraphs_text(numbers)
    lines = anslag_lines(r, meeting_day, justerad_day.isoformat(), day.isoformat(), listed, item is not None)
    text = f"Anslaget är uppsatt {day} (KL 8 kap. 12 §)."
    before = item.anslag if item else m.anslag
    if before:
        text += f" Det ersätter {before}, som angavs tidigare."
    due = last_day_to_post(justerad_day)
    if day > due:
        text += f"\n⚠ KL 8 kap. 12 §: anslaget skulle ha satts upp senast {due}, andra dagen efter justeringen."
    data = {"date": day.isoformat()} | ({"n": item.n} if item else {})
    return Accepted([("anslag", data)], [Reply(text + "\n" + "\n".join(lines))])


def _rättelse(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.justerad_at:
        return Refused(Rule.KL_5_69, "Protokollet är redan justerat och kan inte rättas här.")
    n = _find_item(m, cmd, Rule.KL_5_69)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    index = item.last_standing
    if index is None:
        return Refused(Rule.KL_5_69, f"Ärende {n} har inget beslut att rätta.")
    decision = item.decisions[index]
    if decision.vote_id is not None:
        return Refused(
            Rule.KL_5_69,
            f"Beslutet i § {item.paragraph} fattades genom votering: beslutet är det förslag som vann "
            f"(«{decision.text}») och kan inte rättas. En ändring i sak är ett nytt beslut på ett sammanträde.",
        )
    old = decision.text
    signed = list(dict.fromkeys(s.user for s in m.signatures))
    text = (
        f"Beslutet i § {item.paragraph} (ärende {n}) är rättat av {r.label(cmd.actor)}: «{cmd.text}» "
        f"(tidigare: «{old}»). Det rättade protokollet bifogas"
    )
    text += f", fingeravtryck {short_fingerprint(cmd.fingerprint)}." if cmd.fingerprint else "."
    if signed:
        text += (
            f" Signaturerna som gavs före rättelsen gäller inte längre: {_names(r, signed)} signerar den nya "
            "lydelsen med !justera."
        )
    signers = required_signers(justering_plan(m, r))
    return Accepted(
        [("corrected", {"n": n, "index": index, "text": cmd.text, "by": cmd.actor}), *_posted(cmd)],
        [Reply(text, attach="protocol", mentions=tuple(dict.fromkeys((*signed, *signers))))],
    )


def _names(r: Roster, users) -> str:
    return ", ".join(r.label(u) for u in users)


_HANDLERS: dict[str, Callable[..., Outcome]] = {
    "kalla": _kalla,
    "inställ": _inställ,
    "öppna": _öppna,
    "närvarande": _närvarande,
    "lokal": _lokal,
    "delad": _delad,
    "ärende": _ärende,
    "utgår": _utgår,
    "tillåt": _tillåt,
    "godkänn": _godkänn,
    "yrka": _yrka,
    "ordet": _ordet,
    "tysta": _tysta,
    "fråntaordet": _fråntaordet,
    "avbrott": _avbrott,
    "åter": _åter,
    "ajournera": _ajournera,
    "återuppta": _återuppta,
    "ersätt": _ersätt,
    "återinträd": _återinträd,
    "lämnar": _lämnar,
    "ordförande": _ordförande,
    "teknikkontroll": _teknikkontroll,
    "ok": _ok,
    "beslut": _beslut,
    "omtag": _omtag,
    "votering": _votering,
    "ja": _ballot,
    "nej": _ballot,
    "avstår": _avstår,
    "reservation": _reservation,
    "jäv": _jäv,
    "dagordning": _dagordning,
    "status": _status,
    "protokoll": _protokoll,
    "avsluta": _avsluta,
    "justerare": _justerare,
    "förhinder": _förhinder,
    "tjänstgör": _tjänstgör,
    "justera": _justera,
    "rättelse": _rättelse,
    "anslag": _anslag,
}

assert _HANDLERS.keys() == {p.split()[0] for p in PERMISSIONS}
