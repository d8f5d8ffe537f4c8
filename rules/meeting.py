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

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.anslag import anslag_dates
from rules.citations import Rule
from rules.roster import Role, Roster
from rules.state import Meeting, Phase, Vote, date_time, hm, hms
from rules.tables import BUSY_REFUSAL, PERMISSIONS, PHASE_HINT, PHASE_TEXT, Who, busy, permission
from rules.words import anslag_lines, vote_how


def acts_as_chair(m: Meeting | None, roster: Roster, user: str) -> bool:
    """While the meeting is open, the member presiding over the item (KL 6 kap. 33 §); before
    and after it, the ordförande, who alone convenes (§ 1)."""
    if m is not None and m.phase is Phase.OPEN:
        return user == m.presiding(roster)
    if m is not None and m.phase is Phase.CLOSED:
        return user == signing_chair(m, roster)
    return user == roster.chair


def signing_chair(m: Meeting, roster: Roster) -> str:
    """Who justerar as the chair: whoever presided when the meeting was closed."""
    return m.closed_presiding or roster.chair


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
    return _HANDLERS[cmd.name](m, roster, cmd, now)


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
    data = {
        "start": start.isoformat(),
        "form": c.form,
        "motivation": c.motivation,
        "agenda": [{"n": i.n, "title": i.title, "klass": i.klass, "dnr": i.dnr} for i in c.agenda],
        "first_paragraph": _first_paragraph(m, r, start, replacing),
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


def _first_paragraph(m: Meeting | None, r: Roster, start: datetime, replacing: bool) -> int:
    """Paragraphs run per body and calendar year across meetings: on from the body's previous
    meeting in the same year, from 1 in a new year, from `first_paragraph` at the first."""
    if m is None:
        return r.first_paragraph
    if replacing:
        return m.first_paragraph
    same_year = m.start is not None and m.start.astimezone(r.tz).year == start.year
    return m.next_paragraph if same_year else 1


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
    return Accepted([("opened", {})], [Reply(text, mentions=r.everyone)])


# --- presence and transmission (§§ 2–5, 9, 10) -----------------------------------------------


def _närvarande(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    person = r.person(cmd.actor)
    assert person is not None
    refusal = _not_in_call(m, r, cmd.actor, cmd.actor, Rule.P3, "!närvarande")
    if refusal:
        return refusal
    if cmd.actor in m.left:
        return Accepted(
            [("present", {"user": cmd.actor, "attests": _attests(person.role), "returned": True})],
            [Reply(f"{r.label(cmd.actor)} är tillbaka kl. {hm(now, r.tz)}.")],
        )
    if cmd.actor in m.present:
        return Accepted(
            replies=[Reply(f"Du är redan antecknad som närvarande sedan kl. {hm(m.present[cmd.actor], r.tz)}.")]
        )
    events: list = [("present", {"user": cmd.actor, "attests": _attests(person.role)})]
    member = m.confirmed.get(cmd.actor)
    if member is not None and m.seat(member) is None and member not in m.substituted and _between_items(m):
        # Called in for a member with förhinder and confirmed: serves from the start, no !ersätt.
        events.append(("replaced", {"member": member, "substitute": cmd.actor, "teknikfel": False}))
        text = f"{r.label(cmd.actor)} tjänstgör för {r.label(member)}, som har anmält förhinder (KL 6 kap. 17 §)."
        return Accepted(events, [Reply(text)])
    return Accepted(events)


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
    # One recorded by someone else hears of it at once, and can answer with !åter.
    mentions = (chair_now(m, r),) if user == cmd.actor else tuple(dict.fromkeys((chair_now(m, r), user)))
    return Accepted(events, [Reply(text, mentions=mentions)])


def _drop(m: Meeting, r: Roster, user: str, kinds: list[str], via: str = "") -> tuple[list, str]:
    """Lost audio and/or video (§§ 5, 10): the events, a running vote the person is in made
    void, and what the room is told. `via` is "call" when the call registered it."""
    who = r.label(user)
    serving = user in m.serving(r)
    running = m.check is not None and m.check.running
    if not serving:
        text = f"Avbrott i {' och '.join(kinds)} för {who} antecknat."
    elif "ljud" in kinds:
        text = (
            f"{who} har förlorat ljudet. Ljudet måste fungera för tjänstgörande ledamöter (§ 5). "
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
        text += f" Votering {vote.id} är ogiltig: gör en ny teknikkontroll och votera igen (§§ 5, 12)."
    elif serving and not running and m.check and m.check.passed and not m.check.spent_by:
        text += " Den godkända teknikkontrollen gäller inte längre: gör en ny före beslut (§ 12)."
    return events, text


def _åter(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = _target(m, r, cmd, Rule.P10)
    if isinstance(user, Refused):
        return user
    if not m.drops.get(user) and user not in m.muted:
        return Refused(Rule.P10, f"Inget avbrott är antecknat för {r.label(user)}.")
    refusal = _not_in_call(m, r, user, cmd.actor, Rule.P10, "!åter")
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


def next_in_turn(m: Meeting, r: Roster, member: str) -> str | None:
    """The substitute whose turn it is to serve for `member` (KL 6 kap. 17 §): first the
    member's own party in list order, then the others in list order, among those here, with
    working transmission, not serving, not replaced for teknikfel and without jäv on the
    current item."""
    serving = set(m.serving(r))
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
    return Accepted([("presiding_named", {"user": user, "n": m.current})], [Reply(text, mentions=(user,))])


def _tainted(m: Meeting) -> list[tuple[int, list[str]]]:
    """Decisions that stand though someone who took part has jäv in the item: (item, who)."""
    return [
        (n, [u for u in d.participants if u in item.jav])
        for n, item in m.items.items()
        for d in item.valid_decisions
        if any(u in item.jav for u in d.participants) and not item.justerad
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
    decided = [d for d in item.valid_decisions if user in d.participants]
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
    if cmd.actor not in m.forhinder:
        return Refused(Rule.KL_6_17, "Du har inget förhinder anmält.")
    served = [s for s, member in m.confirmed.items() if member == cmd.actor]
    text = f"{r.label(cmd.actor)} har återtagit sitt förhinder."
    if served:
        text += (
            f" {r.label(served[0])} har redan bekräftat och tjänstgör från början; du tar över från nästa ärende "
            "sedan du anmält närvaro, som en ledamot som kommer senare."
        )
    return Accepted([("forhinder_withdrawn", {"user": cmd.actor})], [Reply(text, mentions=tuple(served))])


def _tjänstgör(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    member = m.called.get(cmd.actor)
    if member is None:
        if cmd.actor in m.confirmed:
            return Refused(Rule.KL_6_17, "Du har redan bekräftat.")
        return Refused(
            Rule.KL_6_17, "Du är inte inkallad. Sekreteraren kallar in ersättare i tur när någon har förhinder."
        )
    text = (
        f"{r.label(cmd.actor)} tjänstgör för {r.label(member)} vid sammanträdet: anmäl närvaro med !närvarande vid "
        "uppropet, så tjänstgör du från början (KL 6 kap. 17 §)."
    )
    return Accepted([("confirmed", {"substitute": cmd.actor, "member": member})], [Reply(text)])


def forhinder_lines(m: Meeting, r: Roster) -> list[str]:
    """Who has förhinder and who is called in (for !status and !dagordning)."""
    lines = []
    members = [u for u in m.forhinder if r.is_member(u)]
    if members:
        lines.append("Förhinder: " + _names(r, members))
    for sub, member in m.confirmed.items():
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


def _ärende(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = _find_item(m, cmd, Rule.KL_6_33)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
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
    paragraph = item.paragraph or m.next_paragraph
    lines = [f"Ärende {n}: {item.title} (§ {paragraph})"]
    lines += [f"{r.label(u)} tjänstgör från detta ärende i stället för {r.label(m.substituted[u])}." for u in late]
    taken = ("item_taken", {"n": n, "paragraph": paragraph})
    events = [("reinstated", {"member": u, "late": True}) for u in late] + [taken]
    return Accepted(events, [Reply("\n".join(lines), mentions=tuple(late))])


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
    return Accepted(
        [("allowed", {"n": n, "by": cmd.actor, "rule": Rule.P7.name})],
        [Reply(f"Ordföranden tillåter att ärende {n} med {item.klass} behandlas under sammanträdet (§ 7).")],
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
    return Accepted(
        [("allowed", {"n": n, "by": cmd.actor, "rule": Rule.P8.name})],
        [Reply(f"Säkerhetsskyddschefen bedömer att ärende {n} kan behandlas på distans (§ 8).")],
    )


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
            f"{_names(r, lacking)} saknar ljud eller bild. Ingen kontroll kan godkännas förrän "
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
        [("check_started", {"n": item.n, "deadline": deadline.isoformat(), "expected": serving})],
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
        events.append(("check_ended", {"id": check.id, "passed": True}))
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
        due.append((check.deadline, f"check:{check.id}", lambda: _check_ended(r, check)))
    if m.phase in _CALL_PHASES:
        for user, devices in m.in_call.items():
            for device, expires in devices.items():
                if expires is not None and datetime.fromisoformat(expires) <= now:
                    at = datetime.fromisoformat(expires)
                    rest = {d: e for d, e in devices.items() if d != device}
                    due.append(
                        (at, f"call:{user}:{device}:{expires}", lambda u=user, d=rest, t=at: call(m, r, u, d, t))
                    )
    if not due:
        return None
    at, key, outcome = min(due, key=lambda x: x[0])
    result = outcome()
    assert result is not None  # a membership in the meeting's state always changes when it expires
    return at, key, result


def _check_ended(r: Roster, check) -> Accepted:
    missing = check.missing
    return Accepted(
        [("check_ended", {"id": check.id, "passed": not missing})],
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
            drop, text = _drop(m, r, who, kinds, via="call")
            voided = any(kind == "vote_ended" for kind, _ in events)  # a vote ends once
            events += [e for e in drop if not (voided and e[0] == "vote_ended")]
            shared = f", som delar överföring med {r.label(user)}," if who != user else ""
            text = (
                f"{r.label(who)}{shared} har lämnat videosamtalet kl. {hms(now, r.tz)}, vilket antecknas som förlorat "
                f"ljud och bild. {text} När hen är tillbaka i samtalet bekräftar hen med !åter."
            )
            replies.append(Reply(text, mentions=tuple(dict.fromkeys((chair_now(m, r), who))), reply=False))
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
        out.append((Rule.P5, f"{r.label(user)} saknar {' och '.join(sorted(kinds))}"))
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


def _beslut(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    found = blockers(m, r)
    if found:
        rule = found[0][0]
        return Refused(rule, f"Beslut kan inte fattas nu: {_reasons(found)}.")
    item, check = m.item, m.check
    assert item is not None and check is not None
    participants = m.serving(r)
    data = {
        "n": item.n,
        "text": cmd.text,
        "participants": participants,
        "serving": participants,
        "check_id": check.id,
        "presiding": m.presiding(r),
    }
    return Accepted(
        [("decided", data)],
        [
            Reply(
                f"BESLUT i ärende {item.n}: {cmd.text}\nDeltog i beslutet: "
                f"{', '.join(r.label(u) for u in participants)}."
            )
        ],
    )


def _omtag(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    index = item.last_standing if item else None
    if item is None or index is None:
        return Refused(Rule.P12, "Det finns inget beslut i det aktuella ärendet att ta om.")
    if item.justerad:
        return Refused(Rule.KL_5_69, f"§ {item.paragraph} är omedelbart justerad; beslutet kan inte tas om.")
    decision = item.decisions[index]
    return Accepted(
        [("retaken", {"n": item.n, "index": index})],
        [
            Reply(
                f"Beslutet i ärende {item.n} tas om (§ 12) och gäller inte: {decision.text}\n"
                "Gör en ny !teknikkontroll och fatta beslutet igen."
            )
        ],
    )


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
                "avstå när rösten behövs för att avgöra: ordföranden röstar med !ja eller !nej.",
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
    voted = [u for u in vote.voters if u in ballots]
    return Accepted(_vote_decided(m, r, vote, winner, how, counts, voted), [Reply(text, reply=False)])


def _vote_decided(
    m: Meeting,
    r: Roster,
    vote: Vote,
    winner: str,
    how: str,
    counts: dict[str, int],
    participants: list[str],
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
    }
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
    data = {"n": item.n, "a": a, "b": b, "voters": voters, "closed": closed}
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
    return Accepted(_vote_decided(m, r, vote, winner, how, counts, vote.voters, lot), [Reply(text)])


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
    if item.justerad:
        return Refused(
            Rule.KL_5_69, f"§ {item.paragraph} är omedelbart justerad; reservationen anmäls före justeringen."
        )
    if cmd.actor in item.jav:
        return Refused(Rule.KL_6_28, f"Du har jäv i ärende {n} och deltar inte i det, inte heller med reservation.")
    if cmd.actor in m.left:
        return Refused(Rule.KL_4_27, "Du har lämnat sammanträdet; en reservation anmäls på sammanträdet.")
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


def _dagordning(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    lines = [f"Föredragningslista, {r.name} {date_time(m.start, r.tz) if m.start else ''}:"]
    for item in m.items.values():
        mark = " ← uppe nu" if item.n == m.current else ""
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
    if m.left:
        lines.append("Har lämnat sammanträdet: " + _names(r, m.left))
    drops = [f"{r.label(u)} ({' och '.join(sorted(k))})" for u, k in m.drops.items() if k]
    if drops:
        lines.append("Avbrott: " + ", ".join(drops))
    if follows_call(r):
        lines.append("I videosamtalet: " + (_names(r, [u for u in m.in_call if m.in_call[u]]) or "ingen"))
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


def _serving_label(m: Meeting, r: Roster, user: str) -> str:
    member = m.serving_for(user, r)
    return f"{r.label(user)} (för {r.name_of(member)})" if member else r.label(user)


def _status(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    return Accepted(replies=[Reply(status_text(m, r))])


def _protokoll(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    final = "Protokollet" if m.phase is Phase.CLOSED else "Protokollet hittills"
    return Accepted(replies=[Reply(f"{final} för {r.name}s sammanträde bifogas.", attach="protocol")])


def _avsluta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    refusal = _retake_first(m, r)
    if refusal:
        return refusal
    events = _abort_running(m, "closed")
    presiding = m.presiding(r)
    events.append(("closed", {"presiding": presiding}))
    text = f"Sammanträdet är avslutat kl. {hm(now, r.tz)}. Protokollet bifogas. "
    if m.justerare:
        text += (
            f"Det justeras av ordföranden ({r.label(presiding or r.chair)}) och {_names(r, m.justerare)}: "
            "var och en signerar med !justera (KL 5 kap. 69 §)."
        )
    else:
        text += "Ordföranden utser justerare med !justerare @person; sedan justeras det med !justera (KL 5 kap. 69 §)."
    mentions = tuple(dict.fromkeys((*r.secretaries, *m.justerare)))
    return Accepted(events, [Reply(text, attach="protocol", mentions=mentions)])


# --- justering and anslag (KL 5 kap. 69 §, 8 kap. 12 §) -----------------------------------------


def _justerare(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.justerad_at:
        return Refused(Rule.KL_5_69, "Protokollet är redan justerat.")
    chair = m.presiding(r) if m.phase is Phase.OPEN else signing_chair(m, r)
    # Serving members and substitutes; after the close, those who served in the meeting.
    eligible = m.serving(r) if m.phase is Phase.OPEN else list(m.ever_served)
    for user in cmd.people:
        if user in (chair, r.chair):
            return Refused(Rule.KL_5_69, f"{r.label(user)} justerar som ordförande och kan inte också vara justerare.")
        if user not in eligible:
            return Refused(
                Rule.KL_5_69,
                f"{r.label(user)} tjänstgör inte och kan inte vara justerare: välj tjänstgörande ledamöter "
                "eller ersättare.",
            )
    return Accepted(
        [("justerare", {"users": list(cmd.people)})],
        [Reply(f"Utses att justera protokollet: {_names(r, cmd.people)} (KL 5 kap. 69 §).", mentions=cmd.people)],
    )


def _signers(m: Meeting, r: Roster, chair: str) -> list[str]:
    return [chair, *(u for u in m.justerare if u != chair)]


def _justera(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.word == "omedelbart":
        return _justera_omedelbart(m, r, cmd, now)
    if m.justerad_at:
        return Refused(Rule.KL_5_69, f"Protokollet är redan justerat {m.justerad_at.astimezone(r.tz):%Y-%m-%d}.")
    if not m.justerare:
        return Refused(Rule.KL_5_69, "Inga justerare är utsedda. Ordföranden utser dem med !justerare @person.")
    chair = signing_chair(m, r)
    required = _signers(m, r, chair)
    if cmd.actor not in required and not r.is_secretary(cmd.actor):
        return Refused(
            Rule.KL_5_69,
            f"Protokollet justeras av ordföranden ({r.label(chair)}) och justerarna ({_names(r, m.justerare)}); "
            "sekreteraren får också signera.",
        )
    return _sign(m, r, cmd, now, required, m.signatures, None)


def _justera_omedelbart(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    item = m.item
    if item is None or not item.valid_decisions:
        return Refused(
            Rule.KL_5_69, "Omedelbar justering gäller ärendet som är uppe, efter att beslutet i det har fattats."
        )
    if item.justerad:
        return Refused(Rule.KL_5_69, f"§ {item.paragraph} är redan omedelbart justerad.")
    if not m.justerare:
        return Refused(Rule.KL_5_69, "Inga justerare är utsedda. Ordföranden utser dem med !justerare @person.")
    chair = m.presiding(r) or r.chair
    required = _signers(m, r, chair)
    if cmd.actor not in required:
        return Refused(
            Rule.KL_5_69,
            f"Paragrafen justeras omedelbart av ordföranden ({r.label(chair)}) och justerarna "
            f"({_names(r, m.justerare)}).",
        )
    if cmd.actor != chair and not any(s.user == chair and s.fingerprint == cmd.fingerprint for s in item.signatures):
        return Refused(Rule.KL_5_69, "Ordföranden begär först omedelbar justering med !justera omedelbart.")
    return _sign(m, r, cmd, now, required, item.signatures, item.n)


def _sign(m: Meeting, r: Roster, cmd: Command, now: datetime, required: list[str], signatures, n) -> Outcome:
    """A signature on what the fingerprint names; justerat when every required signer has signed
    that same fingerprint. A signature on an earlier wording (before a rättelse) does not count."""
    fp = cmd.fingerprint
    if not fp:
        return Refused(Rule.KL_5_69, "Protokollets fingeravtryck kunde inte beräknas. Försök igen.")
    if any(s.user == cmd.actor and s.fingerprint == fp for s in signatures):
        return Refused(Rule.KL_5_69, f"Du har redan signerat den här lydelsen (fingeravtryck {fp[:16]}…).")
    signed = {s.user for s in signatures if s.fingerprint == fp} | {cmd.actor}
    missing = [u for u in required if u not in signed]
    data = {"user": cmd.actor, "event_id": cmd.event_id, "fingerprint": fp}
    what = "Protokollet" if n is None else f"§ {m.items[n].paragraph} (ärende {n})"
    text = f"{what} är signerat av {r.label(cmd.actor)} kl. {hm(now, r.tz)}. Fingeravtryck (SHA-256): {fp}"
    if n is not None:
        data["n"] = n
    events: list = [("signed", data)]
    if missing:
        text += f"\nÅterstår att signera: {_names(r, missing)} (!justera{' omedelbart' if n else ''})."
        return Accepted(events, [Reply(text, mentions=tuple(missing))])
    if n is not None:
        events.append(("paragraph_justerad", {"n": n, "fingerprint": fp}))
        text += f"\n{what} är omedelbart justerad (KL 5 kap. 69 §). Protokollsutdrag bifogas."
        return Accepted(events, [Reply(text, attach=f"extract:{n}", mentions=(*r.secretaries,))])
    posted = now.astimezone(r.tz).date()
    anslag = anslag_dates(posted)
    events.append(("justerad", {"fingerprint": fp, "anslag": anslag}))
    text += "\nPROTOKOLLET ÄR JUSTERAT (KL 5 kap. 69 §). Det bifogas som PDF/A. Anslaget följer."
    meeting_day = (m.opened_at or m.start or now).astimezone(r.tz).date()
    notice = "\n".join(anslag_lines(r, meeting_day.isoformat(), posted.isoformat(), anslag))
    return Accepted(
        events,
        [Reply(text, attach="pdf", mentions=(*r.secretaries,)), Reply(notice, reply=False)],
    )


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
    if item.justerad:
        return Refused(Rule.KL_5_69, f"§ {item.paragraph} är omedelbart justerad och kan inte rättas.")
    old = item.decisions[index].text
    signed = list(dict.fromkeys(s.user for s in m.signatures))
    text = (
        f"Beslutet i § {item.paragraph} (ärende {n}) är rättat av {r.label(cmd.actor)}: «{cmd.text}» "
        f"(tidigare: «{old}»)."
    )
    if signed:
        text += (
            f" Signaturerna som gavs före rättelsen gäller inte längre: {_names(r, signed)} signerar den nya "
            "lydelsen med !justera."
        )
    chair = signing_chair(m, r)
    return Accepted(
        [("corrected", {"n": n, "index": index, "text": cmd.text, "by": cmd.actor})],
        [Reply(text, mentions=tuple(dict.fromkeys((*signed, chair, *m.justerare))))],
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
    "avstår": _ballot,
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
}

assert _HANDLERS.keys() == {p.split()[0] for p in PERMISSIONS}
