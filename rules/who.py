"""Who may act: the chair now, the serving, and the refusal for one who may not (§ 1, § 11,
KL 6 kap. 27, 28, 33 §§).

`table_refusal` reads a command's row in `rules.tables` (who, in which phase, what blocks it)
before the command's own checks, so no handler tests these conditions itself.
"""

from __future__ import annotations

from rules.actions import Command, Refused
from rules.citations import Rule
from rules.model import Meeting, Phase
from rules.roster import Roster
from rules.tables import BUSY_REFUSAL, PHASE_HINT, PHASE_TEXT, Who, busy, permission


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


def not_serving(m: Meeting | None, roster: Roster, actor: str, rule: Rule) -> Refused | None:
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


def who_refusal(m: Meeting | None, roster: Roster, actor: str, cmd: Command) -> Refused | None:
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
        return not_serving(m, roster, actor, perm.rule)
    return Refused(perm.rule, f"Endast {who.value} får använda !{name}.")


def table_refusal(m: Meeting | None, roster: Roster, cmd: Command) -> Refused | None:
    """What the tables say of the command now: who may use it, in which phase, and whether an
    ajournering, a running check or a running vote blocks it."""
    perm = permission(cmd)
    refusal = who_refusal(m, roster, cmd.actor, cmd)
    if refusal:
        return refusal
    phase = m.phase if m is not None else None
    if phase not in perm.phases:
        hint = PHASE_HINT.get(cmd.name, "Det går när ordföranden har öppnat sammanträdet.")
        return Refused(perm.rule, f"Det går inte nu: {PHASE_TEXT[phase]}. {hint}")
    blocking = [b for b in busy(m) if b in perm.blocked_by]
    return BUSY_REFUSAL[blocking[0]] if blocking else None


def target(m: Meeting, r: Roster, cmd: Command, rule: Rule) -> str | Refused:
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
