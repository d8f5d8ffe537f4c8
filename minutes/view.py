"""The live view's data (`[web]`): what the page shows of a meeting, in Swedish words, built from
the same meeting state and rules that `!status`, `!dagordning` and the protocol come from.

An item with personal data, secrecy or säkerhetsskydd shows its rubrik and class only, as the
kallelse does (§§ 7–8): no motion, no proposal put to the vote, no decision's wording of it is
put in the view, since the page is read outside the encrypted room. Who has not answered a
running check or vote is for the chair and the secretaries only (`privileged`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minutes.words import signer_roles
from rules.call import in_call
from rules.decisions import blockers
from rules.forhinder import forhinder_lines
from rules.roster import Role, Roster
from rules.signers import justering_plan
from rules.state import Item, Meeting, Phase, date_time, hm

CLASSIFIED = ("personuppgifter", "sekretess", "säkerhetsskydd")

PHASES = {
    Phase.CONVENED: ("kallat", "Kallat, inte öppnat"),
    Phase.OPEN: ("open", "Pågår"),
    Phase.CLOSED: ("closed", "Avslutat – protokollet justeras"),
    Phase.CANCELLED: ("cancelled", "Inställt"),
}
BALLOTS = {"ja": "Ja", "nej": "Nej", "avstår": "Avstår"}


def classified(item: Item) -> bool:
    return item.klass in CLASSIFIED


def privileged(m: Meeting | None, r: Roster, user: str) -> bool:
    """The chair (by office, or presiding now) and the secretaries also see who has not answered."""
    return user in (r.chair, *r.vice_chairs, *r.secretaries) or (
        m is not None and m.phase is Phase.OPEN and m.presiding(r) == user
    )


def view(m: Meeting | None, r: Roster, privileged: bool, now: datetime | None = None) -> dict[str, Any]:
    """The whole view of the body's meeting as one viewer sees it (plain data, JSON-ready), at
    `now` (a running check's seconds left are counted from it)."""
    if m is None:
        return {
            "body": r.name,
            "meeting": None,
            "phase": "none",
            "phase_text": f"Inget sammanträde är kallat för {r.name}.",
        }
    code, text = PHASES[m.phase]
    if m.phase is Phase.OPEN and m.adjourned:
        code, text = "adjourned", "Ajournerat"
    if m.phase is Phase.CLOSED and m.justerad_at is not None:
        code, text = "justerat", f"Protokollet är justerat {date_time(m.justerad_at, r.tz)}"
    out: dict[str, Any] = {
        "body": r.name,
        "meeting": m.id,
        "version": m.event_count,
        "when": date_time(m.start, r.tz) if m.start else "",
        "form": m.form,
        "phase": code,
        "phase_text": text,
        "agenda": [_agenda_entry(m, i) for i in m.items.values()],
        "forhinder": forhinder_lines(m, r) if m.phase in (Phase.CONVENED, Phase.OPEN) else [],
    }
    if m.phase is Phase.OPEN:
        out |= _running(m, r, privileged, now)
    elif m.phase is Phase.CLOSED:
        out["draft"] = _draft(m, r)
        out["justering"] = _justering(m, r)
    return out


def _agenda_entry(m: Meeting, item: Item) -> dict[str, Any]:
    state = "uppe nu" if item.n == m.current else ""
    if item.struck is not None:
        state = "utgår"
    elif item.taken_up and item.n != m.current:
        state = "behandlat"
    return {
        "n": item.n,
        "paragraph": f"§ {item.paragraph}" if item.paragraph is not None else "",
        "title": item.title,
        "klass": item.klass,
        "permission": _permission(item),
        "state": state,
    }


def _permission(item: Item) -> str:
    """What has been allowed (§§ 7–8), in the words of !dagordning."""
    if item.klass == "säkerhetsskydd":
        return (
            "godkänt av säkerhetsskyddschefen (§ 8)"
            if item.approved_by
            else "kräver säkerhetsskyddschefens !godkänn (§ 8)"
        )
    if item.klass in ("personuppgifter", "sekretess"):
        return "tillåtet av ordföranden (§ 7)" if item.allowed_by else "kräver ordförandens !tillåt (§ 7)"
    return ""


def _running(m: Meeting, r: Roster, privileged: bool, now: datetime | None) -> dict[str, Any]:
    serving = m.serving(r)
    needed = len(r.members) // 2 + 1
    counted = len(m.counted(r))
    presiding = m.presiding(r)
    item = m.item
    found = blockers(m, r)
    return {
        "presiding": r.label(presiding) if presiding else "Ingen leder sammanträdet (KL 6 kap. 33 §)",
        "quorum": {
            "ok": m.has_quorum(r),
            "text": (
                f"{'Beslutfört' if m.has_quorum(r) else 'Inte beslutfört'}: {len(serving)} av {len(r.members)} "
                f"ledamöter tjänstgör, {counted} räknas, minst {needed} krävs (KL 6 kap. 27 §)"
            ),
        },
        "item": _current(m, item) if item else None,
        "people": _people(m, r),
        "check": _check(m, r, privileged, now),
        "vote": _vote(m, r, privileged),
        "blockers": [f"{text} ({rule})" for rule, text in found],
        "decidable": not found,
        "speakers": [r.label(u) for u in item.speakers] if item else [],
        "floor": _floor(r, item) if item else None,
    }


def _floor(r: Roster, item: Item) -> dict[str, Any]:
    """Who has the floor now, a reply waiting, and whether the list is closed (streck, § 9)."""
    return {
        "speaking": r.label(item.speaking) if item.speaking else None,
        "reply": item.replying,
        "reply_waiting": r.label(item.reply) if item.reply else None,
        "closed": item.closed_list,
    }


def _current(m: Meeting, item: Item) -> dict[str, Any]:
    out = {
        "n": item.n,
        "paragraph": f"§ {item.paragraph}" if item.paragraph is not None else "",
        "title": item.title,
        "klass": item.klass,
        "permission": _permission(item),
    }
    if item.valid_decisions and not classified(item):  # what was decided, for an item without class
        decision = item.valid_decisions[-1]
        out["decision"] = "Beslut: " + (decision.corrections[-1].new if decision.corrections else decision.text)
    return out


def _people(m: Meeting, r: Roster) -> list[dict[str, Any]]:
    """Everyone on the roster who serves, is here, or is a member: what the chair checks at a glance."""
    serving = m.serving(r)
    item = m.item
    rows = []
    for p in (
        *r.members,
        *r.substitutes,
        *(r.person(u) for u in r.everyone if r.person(u).role not in (Role.MEMBER, Role.SUBSTITUTE)),
    ):
        u = p.user
        if not (r.is_member(u) or m.here(u) or u in serving or u in m.teknikfel):
            continue
        states: list[str] = []
        level = "ok"
        if u in serving:
            member = m.serving_for(u, r)
            role = f"tjänstgör för {r.name_of(member)}" if member else "tjänstgör"
        elif r.is_member(u) or r.is_substitute(u):
            role = "ersättare, tjänstgör inte" if r.is_substitute(u) else "ledamot, tjänstgör inte"
            level = "off"
        else:
            role = r.office(u) or p.role.value  # the title is in the label already
            level = "off"
        if u in m.left:
            states.append(f"har lämnat kl. {hm(m.left[u], r.tz)}")
            level = "off"
        elif u in m.present:
            place = m.location.get(u)
            states.append(
                "i ordförandens lokal"
                if place == "lokal"
                else (f"delad överföring med {r.name_of(place)}" if place else "på distans")
            )
            drops = m.drops.get(u, set())
            sound = "ljud saknas" if "ljud" in drops else ("ljud avstängt (§ 3)" if u in m.muted else "ljud fungerar")
            states.append(sound)
            if r.is_member(u) or r.is_substitute(u):
                states.append("bild saknas" if "bild" in drops else "bild fungerar")
            if r.follows_call:
                states.append("i videosamtalet" if in_call(m, u) else "inte i videosamtalet")
            if drops or u in m.muted:
                level = "bad" if u in serving else "warn"
        elif u in m.forhinder:
            states.append("förhinder")
            level = "off"
        else:
            states.append("inte närvarande")
            level = "bad" if r.is_member(u) and m.seat(u) is None else "off"
        if u in m.teknikfel:
            who = m.replaced_by.get(u)
            states.append("teknikfelsledamot (§ 11)" + (f", ersatt av {r.name_of(who)}" if who else ""))
            level = "warn"
        if item and u in item.jav:
            states.append("jäv i ärendet (KL 6 kap. 28 §)")
            level = "warn"
        rows.append({"name": p.label, "role": role, "serving": u in serving, "states": states, "level": level})
    return rows


def _check(m: Meeting, r: Roster, privileged: bool, now: datetime | None) -> dict[str, Any] | None:
    check = m.check
    if check is None or check.item != m.current:
        return None
    state = "pågår" if check.running else ("godkänd" if check.passed else "inte godkänd")
    if check.spent_by:
        state += f", gäller inte längre ({check.spent_by})"
    out = {
        "id": check.id,
        "running": check.running,
        "valid": bool(check.passed) and not check.spent_by,
        "text": f"Teknikkontroll {check.id} (§ 12): {state}",
        "count": f"{len(check.answered)} av {len(check.expected)} har svarat",
        # The page counts down from this (its own clock need not agree with the bot's).
        "seconds_left": max(0, round((check.deadline - now).total_seconds())) if check.running and now else None,
        "answered": [r.label(u) for u in check.answered],
    }
    if privileged and check.running:
        out["missing"] = [r.label(u) for u in check.missing]
    return out


def _vote(m: Meeting, r: Roster, privileged: bool) -> dict[str, Any] | None:
    """The running vote, or the current item's last one after its result."""
    votes = m.votes_of(m.current) if m.current is not None else []
    vote = votes[-1] if votes else None
    if vote is None:
        return None
    item = m.items[vote.item]
    kind = "Sluten votering (§ 13)" if vote.closed else "Öppen votering (KL 5 kap. 53 §)"
    out: dict[str, Any] = {
        "id": vote.id,
        "running": vote.running,
        "text": f"{kind} {vote.id}: {'pågår' if vote.running else 'avslutad'}",
        "count": f"{len(vote.ballots)} av {len(vote.voters)} har röstat",
        "voted": [r.label(u) for u in vote.voters if u in vote.ballots],
    }
    if not classified(item):  # what was put to the vote is what was said about the item
        out["proposals"] = [f"Ja: {vote.a}", f"Nej: {vote.b}"]
    if vote.running:
        if privileged:
            out["missing"] = [r.label(u) for u in vote.voters if u not in vote.ballots]
        return out
    if vote.winner is None:
        out["result"] = "Voteringen är ogiltig och görs om."
    else:
        side = "Ja" if vote.winner == "a" else "Nej"
        won = vote.a if vote.winner == "a" else vote.b
        out["result"] = f"{side} har vunnit" + ("." if classified(item) else f": {won}.")
    if not vote.closed:  # how each voted, once the result is out (an open vote)
        out["ballots"] = [
            {"name": r.label(u), "vote": BALLOTS.get(vote.ballots[u], "") if u in vote.ballots else "deltar inte"}
            for u in vote.voters
        ]
    return out


def _draft(m: Meeting, r: Roster) -> list[dict[str, Any]]:
    """The protocol's paragraphs as a draft: § and rubrik, and for an item without class its decision."""
    out = []
    for item in sorted((i for i in m.items.values() if i.taken_up), key=lambda i: i.paragraph or 0):
        entry: dict[str, Any] = {"paragraph": f"§ {item.paragraph}", "title": item.title, "klass": item.klass}
        decision = item.valid_decisions[-1] if item.valid_decisions else None
        if not classified(item):
            entry["decision"] = (
                (decision.corrections[-1].new if decision.corrections else decision.text)
                if decision
                else "Inget beslut."
            )
        out.append(entry)
    return out


def _justering(m: Meeting, r: Roster) -> dict[str, Any]:
    signed = {s.user: s for s in m.signatures}
    roles = signer_roles(justering_plan(m, r))
    return {
        "signed": [f"{r.label(u)} ({role}), kl. {hm(signed[u].at, r.tz)}" for u, role in roles.items() if u in signed],
        "to_sign": [f"{r.label(u)} ({role})" for u, role in roles.items() if u not in signed],
    }


# --- !vy -------------------------------------------------------------------------------------

VY_SENT = "Jag har skickat dig en länk till sammanträdesvyn i ett direktmeddelande."


def vy_refusal(m: Meeting | None, r: Roster, user: str, served: bool) -> str:
    """Why !vy gives no link now ("" when it does)."""
    if r.person(user) is None:
        return (
            f"⛔ § 2: Du finns inte i {r.name}s förteckning och ser inte sammanträdet. "
            "Kontakta sekreteraren om det är fel."
        )
    if not served:
        return "Sammanträdesvyn är inte påslagen för den här boten ([web] i konfigurationen)."
    if m is None or m.phase is Phase.CANCELLED or m.justerad_at is not None:
        return (
            f"Inget sammanträde pågår för {r.name} nu: vyn visar ett kallat sammanträde tills protokollet är justerat."
        )
    return ""


def vy_link(m: Meeting, r: Roster, link: str) -> str:
    when = f" {date_time(m.start, r.tz)}" if m.start else ""
    return (
        f"Sammanträdesvyn för {r.name}{when}, för en webbläsare utanför Element:\n{link}\n"
        "Länken gäller bara för dig och bara det här sammanträdet, tills protokollet är justerat. Dela den inte."
    )
