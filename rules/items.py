"""Items and their classes (§§ 6–8, KL 6 kap. 33 §): taking an item up, and the permission an item
with personuppgifter or sekretess (§ 7) or säkerhetsskydd (§ 8) needs to be handled at a distance.
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.decisions import no_quorum
from rules.jav import retake_first
from rules.register import handles
from rules.roster import Roster
from rules.seats import takes_seat
from rules.state import Meeting, hm


def find_item(m: Meeting, cmd: Command, rule: Rule) -> int | Refused:
    if cmd.number is None or cmd.number not in m.items:
        numbers = ", ".join(str(n) for n in m.items)
        return Refused(rule, f"Ange ett ärendenummer från föredragningslistan ({numbers}).")
    return cmd.number


def before_called_time(m: Meeting, r: Roster, now: datetime, what: str) -> Refused | None:
    """Members were called to the time in the kallelse (§ 1): one who comes then must not find
    matters handled. Opening up to 15 minutes before it is for the roll call only."""
    if m.start is None or now >= m.start:
        return None
    return Refused(
        Rule.P1,
        f"Ledamöterna är kallade till kl. {hm(m.start, r.tz)}, och inget ärende behandlas före den tiden. "
        f"{what} från kl. {hm(m.start, r.tz)}; uppropet kan göras redan nu.",
    )


@handles("ärende")
def _ärende(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = find_item(m, cmd, Rule.KL_6_33)
    if isinstance(n, Refused):
        return n
    item = m.items[n]
    early = before_called_time(m, r, now, f"Ärende {n} kan tas upp")
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
    refusal = retake_first(m, r) or no_quorum(m, r, f"Ärende {n} kan inte tas upp")
    if refusal:
        return refusal
    # A member who arrived late takes over from the substitute at the next item.
    late = [
        member for member in m.substituted if m.here(member) and member not in m.teknikfel and not m.drops.get(member)
    ]
    # A substitute confirmed for a member with förhinder, here while an item was up, takes the seat.
    confirmed = [(sub, member) for sub, member in m.confirmed.items() if takes_seat(m, r, sub, member)]
    paragraph = item.paragraph or m.next_paragraph
    lines = [f"Ärende {n}: {item.title} (§ {paragraph})"]
    lines += [f"{r.label(u)} tjänstgör från detta ärende i stället för {r.label(m.substituted[u])}." for u in late]
    lines += [f"{r.label(sub)} tjänstgör från detta ärende för {r.label(member)}." for sub, member in confirmed]
    taken = ("item_taken", {"n": n, "paragraph": paragraph})
    events = [("reinstated", {"member": u, "late": True}) for u in late]
    events += [("replaced", {"member": member, "substitute": sub, "teknikfel": False}) for sub, member in confirmed]
    events.append(taken)
    return Accepted(events, [Reply("\n".join(lines), mentions=(*late, *(sub for sub, _ in confirmed)))])


@handles("tillåt")
def _tillåt(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = find_item(m, cmd, Rule.P7)
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


@handles("godkänn")
def _godkänn(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    n = find_item(m, cmd, Rule.P8)
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
