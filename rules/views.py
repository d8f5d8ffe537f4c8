"""What the meeting shows and how it ends: the agenda, the status, the protocol so far, and the
close (KL 6 kap. 35 §: the protocol accounts for every item).
"""

from __future__ import annotations

from datetime import datetime

from rules import transmission
from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.anslag import last_day_to_justera
from rules.citations import Rule
from rules.convening import agenda_line
from rules.decisions import abort_running, blockers, reasons_text
from rules.forhinder import forhinder_lines
from rules.items import before_called_time
from rules.jav import retake_first
from rules.justering import posted
from rules.model import Meeting, Phase, date_time, hm
from rules.register import handles
from rules.roster import Roster
from rules.seats import between_items, next_in_turn
from rules.signers import day_of_meeting, justering_plan, lacking_text, signers_text
from rules.words import names, short_fingerprint


def _not_convened(r: Roster) -> str:
    return f"Inget sammanträde är kallat för {r.name}."


@handles("dagordning")
def _dagordning(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m is None:  # a question: answered, not refused
        return Accepted(replies=[Reply(f"{_not_convened(r)} Föredragningslistan kommer med kallelsen.")])
    lines = [f"Föredragningslista, {r.name} {date_time(m.start, r.tz) if m.start else ''}:"]
    for item in m.items.values():
        mark = " ← uppe nu" if item.n == m.current else ""
        if item.struck is not None:
            mark = " – utgår" + (f" ({item.struck})" if item.struck else "")
        lines.append(agenda_line(item.n, item.title, item.klass, item.dnr, item.allowed_by, item.approved_by) + mark)
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
        lines.append("Har lämnat sammanträdet: " + names(r, m.left))
    drops = [f"{r.label(u)} ({' och '.join(sorted(k))})" for u, k in m.drops.items() if k]
    if drops:
        lines.append("Avbrott: " + ", ".join(drops))
    if r.follows_call:
        lines.append("I videosamtalet: " + (names(r, [u for u in m.in_call if m.in_call[u]]) or "ingen"))
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
            lines.append("Jäv (KL 6 kap. 28 §): " + names(r, item.jav))
        check = m.check
        if check and check.item == item.n:
            state = "pågår" if check.running else ("godkänd" if check.passed else "ej godkänd")
            lines.append(f"Teknikkontroll {check.id}: {state}")
        if m.vote:
            lines.append(f"Votering {m.vote.id}: {len(m.vote.ballots)} av {len(m.vote.voters)} har röstat")
    found = blockers(m, r)
    if found:
        lines.append("Hindrar beslut: " + reasons_text(found))
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
        when = "" if jav or between_items(m) else " (när ärendet är beslutat, eller under ajournering)"
        lines.append(
            f"Tom plats: {p.label}. {r.label(sub)} står på tur att tjänstgöra (KL 6 kap. 17 §): "
            f"!ersätt {p.user} {sub}{when}"
        )
    return lines


def _serving_label(m: Meeting, r: Roster, user: str) -> str:
    member = m.serving_for(user, r)
    return f"{r.label(user)} (för {r.name_of(member)})" if member else r.label(user)


@handles("status")
def _status(m: Meeting | None, r: Roster, cmd: Command, now: datetime) -> Outcome:
    return Accepted(replies=[Reply(status_text(m, r) if m is not None else _not_convened(r))])


@handles("protokoll")
def _protokoll(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    final = "Protokollet" if m.phase is Phase.CLOSED else "Protokollet hittills"
    text = f"{final} för {r.name}s sammanträde bifogas."
    if m.phase is not Phase.CLOSED or m.justerad_at or not cmd.fingerprint:
        return Accepted(replies=[Reply(text, attach="protocol")])
    text += f" Signera den här lydelsen med !justera {short_fingerprint(cmd.fingerprint)} (dess fingeravtryck)."
    return Accepted(posted(cmd), [Reply(text, attach="protocol")])


@handles("avsluta")
def _avsluta(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    refusal = retake_first(m, r)
    if refusal:
        return refusal
    early = before_called_time(m, r, now, "Sammanträdet kan avslutas")
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
    events = abort_running(m, "closed")
    presiding = m.presiding(r)
    events += [("closed", {"presiding": presiding}), *posted(cmd)]
    text = f"Sammanträdet är avslutat kl. {hm(now, r.tz)}. Protokollet bifogas."
    if cmd.fingerprint:
        text += f" Fingeravtryck: {short_fingerprint(cmd.fingerprint)}."
    deadline = last_day_to_justera(day_of_meeting(m, r, now))
    if m.justerare:
        plan = justering_plan(m, r, closed_presiding=presiding)
        text += (
            f" Det justeras senast {deadline} (KL 6 kap. 35 §) av {signers_text(r, plan)}: var och en "
            "signerar med !justera (KL 5 kap. 69 §)."
        ) + lacking_text(m, r, plan)
    else:
        text += (
            f" Ordföranden utser justerare med !justerare @person; sedan justeras det senast {deadline} "
            "med !justera (KL 5 kap. 69 §, 6 kap. 35 §)."
        )
    mentions = tuple(dict.fromkeys((*r.secretaries, *m.justerare)))
    return Accepted(events, [Reply(text, attach="protocol", mentions=mentions)])
