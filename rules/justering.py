"""Justering and anslag (KL 5 kap. 69 §, 6 kap. 35 §, 8 kap. 12 §): who justerar each paragraph,
the justerare, signatures on a fingerprinted wording, omedelbar justering, rättelse before the
justering, and the day the anslag was put up.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.anslag import last_day_to_justera, last_day_to_post
from rules.citations import Rule
from rules.items import find_item
from rules.model import Item, Meeting, Phase, date_time, hm
from rules.register import handles
from rules.roster import Roster
from rules.signers import (
    Paragraph,
    day_of_meeting,
    justering_plan,
    lacking_text,
    paragraph_signers,
    required_signers,
    signers_text,
    why_not,
)
from rules.who import meeting_chairs
from rules.words import anslag_lines, names, paragraphs_text, short_fingerprint


@handles("justerare")
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
    text = f"Utses att justera protokollet: {names(r, cmd.people)} (KL 5 kap. 69 §)."
    if m.phase is Phase.CLOSED:
        plan = justering_plan(chosen, r)
        text += f" Protokollet justeras av {signers_text(r, plan)}." + lacking_text(chosen, r, plan)
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
            before = names(r, a.data["before"]) or "inga"
            out.append(f"justerare utsedda {when}: {names(r, a.data['users'])} (tidigare: {before})")
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


@handles("justera")
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
            f"Protokollet justeras av {signers_text(r, plan)}; sekreteraren som var med på sammanträdet "
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
            f"{names(r, what)} deltog i beslutet men har jäv i ärendet"
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
            f"Ingen justerare kan justera paragrafen ({why_not(m, r, p)}). Den justeras av den som ledde "
            "ärendet och en justerare som varken ledde det eller hade jäv: ordföranden utser ytterligare "
            "en justerare med !justerare @person @person.",
        )
    plan = [p]
    if cmd.actor not in required_signers(plan):
        return Refused(Rule.KL_5_69, f"Paragrafen justeras omedelbart av {signers_text(r, plan)}.")
    refusal = _stale(m, r, cmd, "paragrafens lydelse")
    if refusal:
        return refusal
    chair_signed = any(s.user in p.chairs and s.fingerprint == cmd.fingerprint for s in item.signatures)
    if cmd.actor not in p.chairs and not chair_signed:
        changed = " Paragrafen har ändrats sedan ordföranden signerade." if item.signatures else ""
        return Refused(
            Rule.KL_5_69,
            f"Ordföranden i ärendet ({names(r, p.chairs)}) begär först omedelbar justering med "
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
    meeting_day = day_of_meeting(m, r, now)
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
            text += f"\nÅterstår att signera: {names(r, missing)} (!justera{' omedelbart' if n else ''})."
        text += lacking_text(m, r, plan)
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


@handles("anslag")
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
    meeting_day = day_of_meeting(m, r, now).isoformat()
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


@handles("rättelse")
def _rättelse(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if m.justerad_at:
        return Refused(Rule.KL_5_69, "Protokollet är redan justerat och kan inte rättas här.")
    n = find_item(m, cmd, Rule.KL_5_69)
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
            f" Signaturerna som gavs före rättelsen gäller inte längre: {names(r, signed)} signerar den nya "
            "lydelsen med !justera."
        )
    signers = required_signers(justering_plan(m, r))
    return Accepted(
        [("corrected", {"n": n, "index": index, "text": cmd.text, "by": cmd.actor}), *posted(cmd)],
        [Reply(text, attach="protocol", mentions=tuple(dict.fromkeys((*signed, *signers))))],
    )


def posted(cmd: Command) -> list:
    """The protocol shown in the room, by its fingerprint: what a signer may have read (the
    shell gives it as the protocol reads after the command)."""
    return [("posted", {"fingerprint": cmd.fingerprint})] if cmd.fingerprint else []
