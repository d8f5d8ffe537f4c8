"""Förhinder before the meeting (KL 6 kap. 17 §): a member who cannot come, the substitute called
in her place in turn, his answer, and her withdrawal.
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.model import Meeting, Phase
from rules.register import handles
from rules.roster import Roster
from rules.seats import confirmed_serves, first_in_turn, takes_seat
from rules.who import acts_as_chair
from rules.words import say


def next_to_call(m: Meeting, r: Roster, member: str, skip: str = "") -> str | None:
    """The substitute to call in for `member`: the same order as !ersätt (own party first, then
    the list), skipping those with förhinder, those already called or confirmed, and those serving."""
    serving = set(m.serving(r)) if m.phase is Phase.OPEN else set()
    free = [s for s in r.substitutes if s.user not in (*m.forhinder, *m.called, *m.confirmed, *serving, skip)]
    return first_in_turn(r, member, free)


def _call_in(m: Meeting, r: Roster, member: str, skip: str) -> tuple[list, str, tuple[str, ...]]:
    """Call the next substitute in turn for `member` (not `skip`, who just declined): the events,
    the words, whom to mention."""
    sub = next_to_call(m, r, member, skip)
    if sub is None:
        return [], say("forhinder.none_left_to_call", r, member=member), (r.chair, *r.secretaries)
    text = say("forhinder.called_in", r, sub=sub, member=member, start=m.start)
    return [("called_in", {"substitute": sub, "member": member})], text, (sub,)


@handles("förhinder")
def _förhinder(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if cmd.word == "återta":
        return _förhinder_återta(m, r, cmd)
    user = cmd.people[0] if cmd.people else cmd.actor
    leader = acts_as_chair(m, r, cmd.actor) or cmd.actor == r.chair or r.is_secretary(cmd.actor)
    if user != cmd.actor and not leader:
        return Refused(Rule.KL_6_17, say("forhinder.only_leaders_for_others", r))
    substitute_for = m.called.get(user) or m.confirmed.get(user)
    if not r.is_member(user) and substitute_for is None:
        return Refused(Rule.KL_6_17, say("forhinder.not_called", r, user=user))
    if user in m.forhinder:
        return Refused(Rule.KL_6_17, say("forhinder.already", r, user=user))
    if m.here(user):
        return Refused(Rule.KL_6_27, say("forhinder.present", r, user=user))
    events: list = [("forhinder", {"user": user, "by": cmd.actor})]
    member = substitute_for or user
    more, call_text, mentions = _call_in(m, r, member, skip=user)
    return Accepted(events + more, [Reply(say("forhinder.reported", r, user=user, then=call_text), mentions=mentions)])


def _förhinder_återta(m: Meeting, r: Roster, cmd: Command) -> Outcome:
    """The member withdraws her förhinder: the substitute called for her is told he is not
    needed, and one who has confirmed that he serves until the next item after she has come, as
    for a late member (KL 6 kap. 17 §)."""
    if cmd.actor not in m.forhinder:
        return Refused(Rule.KL_6_17, say("forhinder.none_reported", r))
    member = cmd.actor
    served = [s for s, of in m.confirmed.items() if of == member]
    replies = [Reply(say("forhinder.withdrawn", r, member=member, served=served[0] if served else None))]
    replies += [
        Reply(
            say("forhinder.not_needed", r, sub=sub, member=member),
            mentions=(sub,),
            reply=False,  # a message of its own to him, not an answer to her command
        )
        for sub, of in m.called.items()
        if of == cmd.actor
    ]
    replies += [
        Reply(
            say("forhinder.serves_until_next", r, sub=sub, member=member),
            mentions=(sub,),
            reply=False,
        )
        for sub in served
    ]
    return Accepted([("forhinder_withdrawn", {"user": cmd.actor})], replies)


@handles("tjänstgör")
def _tjänstgör(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    member = m.called.get(cmd.actor)
    if member is None:
        if cmd.actor in m.confirmed:
            return Refused(Rule.KL_6_17, say("forhinder.confirmed_already", r))
        return Refused(Rule.KL_6_17, say("forhinder.not_called_in", r))
    events: list = [("confirmed", {"substitute": cmd.actor, "member": member})]
    if m.phase is Phase.OPEN and takes_seat(m, r, cmd.actor, member):  # here already: no need to come again
        more, text = confirmed_serves(m, r, cmd.actor, member)
        return Accepted(events + more, [Reply(text)])
    return Accepted(events, [Reply(say("forhinder.serves_from_start", r, sub=cmd.actor, member=member))])


def forhinder_lines(m: Meeting, r: Roster) -> list[str]:
    """Who has förhinder and who is called in (for !status and !dagordning)."""
    lines = []
    members = [u for u in m.forhinder if r.is_member(u)]
    if members:
        lines.append(say("forhinder.list", r, users=members))
    for sub, member in m.confirmed.items():
        if m.here(member) and m.substituted.get(member) != sub:
            continue  # she came and took her seat: the substitute no longer serves for her
        lines.append(say("forhinder.confirmed_line", r, sub=sub, member=member))
    for sub, member in m.called.items():
        lines.append(say("forhinder.called_line", r, sub=sub, member=member))
    return lines
