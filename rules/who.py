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
from rules.tables import BUSY_RULE, Who, busy, permission
from rules.words import say


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
        return Refused(rule, say("who.only_the_chair", roster))
    item = m.item
    presiding = m.presiding(roster)
    if item is not None and actor in item.jav:
        why, rule = "jav", Rule.KL_6_28
    elif actor in m.teknikfel:
        why, rule = "teknikfel", Rule.P11
    elif actor in m.left:
        why, rule = "left", Rule.KL_6_27
    elif actor in (roster.chair, *roster.vice_chairs) and actor not in m.serving(roster):
        why = "not_serving"
    else:
        why = ""
    text = say("who.not_presiding", roster, why=why, n=item.n if item else None, presiding=presiding)
    if presiding is None:
        return Refused(rule if rule in (Rule.KL_6_28, Rule.P11, Rule.KL_6_27) else Rule.KL_6_33, text)
    return Refused(rule, text)


def _is_serving(m: Meeting | None, roster: Roster, user: str) -> bool:
    return m is not None and user in m.serving(roster)


def not_serving(m: Meeting | None, roster: Roster, actor: str, rule: Rule) -> Refused | None:
    """Why `actor` may not move, vote or answer a check now, if that is so."""
    if _is_serving(m, roster, actor):
        return None
    item = m.item if m is not None else None
    if item is not None and actor in item.jav:
        return Refused(Rule.KL_6_28, say("who.jav_takes_no_part", roster, n=item.n))
    if m is not None and actor in m.left:
        return Refused(Rule.KL_6_27, say("floor.left", roster, user=actor, you=True))
    if m is not None and actor in m.teknikfel:
        return Refused(Rule.P11, say("who.teknikfel", roster))
    return Refused(rule, say("who.only_serving", roster))


def who_refusal(m: Meeting | None, roster: Roster, actor: str, cmd: Command) -> Refused | None:
    perm = permission(cmd)
    name = cmd.name
    who = perm.who
    if who is Who.ROSTER or who is Who.SELF_OR_LEADER:
        return None  # anyone on the roster; finer checks in the command
    if who is Who.CHAIR and Phase.OPEN not in perm.phases:  # convening (§ 1): the ordförande's own
        return (
            None if actor == roster.chair else Refused(perm.rule, say("who.only_the_chair_convenes", roster, name=name))
        )
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
    return Refused(perm.rule, say("who.only", roster, who=who.name, name=name))


def table_refusal(m: Meeting | None, roster: Roster, cmd: Command) -> Refused | None:
    """What the tables say of the command now: who may use it, in which phase, and whether an
    ajournering, a running check or a running vote blocks it."""
    perm = permission(cmd)
    refusal = who_refusal(m, roster, cmd.actor, cmd)
    if refusal:
        return refusal
    phase = m.phase if m is not None else None
    if phase not in perm.phases:
        return Refused(perm.rule, say("who.not_now", roster, phase=phase, name=cmd.name))
    blocking = [b for b in busy(m) if b in perm.blocked_by]
    return Refused(BUSY_RULE[blocking[0]], say("who.busy", roster, busy=blocking[0].name)) if blocking else None


def target(m: Meeting, r: Roster, cmd: Command, rule: Rule) -> str | Refused:
    """The person a command is about: the one named, or the sender; only leaders may name others."""
    if len(cmd.people) > 1:
        return Refused(rule, say("who.at_most_one", r))
    user = cmd.people[0] if cmd.people else cmd.actor
    leader = acts_as_chair(m, r, cmd.actor) or r.is_secretary(cmd.actor)
    if user != cmd.actor and not leader:
        return Refused(rule, say("who.only_leaders_for_others", r))
    if user not in m.present:
        return Refused(rule, say("who.not_reported_present", r, user=user))
    if user in m.left:
        return Refused(rule, say("who.has_left", r, user=user))
    return user
