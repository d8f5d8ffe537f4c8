"""Förhinder before the meeting (KL 6 kap. 17 §): a member who cannot come, the substitute called
in her place in turn, his answer, and her withdrawal.
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.register import handles
from rules.roster import Roster
from rules.seats import confirmed_serves, first_in_turn, takes_seat
from rules.state import Meeting, Phase, date_time
from rules.who import acts_as_chair
from rules.words import names


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


@handles("förhinder")
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


@handles("tjänstgör")
def _tjänstgör(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    member = m.called.get(cmd.actor)
    if member is None:
        if cmd.actor in m.confirmed:
            return Refused(Rule.KL_6_17, "Du har redan bekräftat.")
        return Refused(
            Rule.KL_6_17, "Du är inte inkallad. Sekreteraren kallar in ersättare i tur när någon har förhinder."
        )
    events: list = [("confirmed", {"substitute": cmd.actor, "member": member})]
    if m.phase is Phase.OPEN and takes_seat(m, r, cmd.actor, member):  # here already: no need to come again
        more, text = confirmed_serves(m, r, cmd.actor, member)
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
        lines.append("Förhinder: " + names(r, members))
    for sub, member in m.confirmed.items():
        if m.here(member) and m.substituted.get(member) != sub:
            continue  # she came and took her seat: the substitute no longer serves for her
        lines.append(f"{r.label(sub)} tjänstgör för {r.label(member)} (bekräftat)")
    for sub, member in m.called.items():
        lines.append(f"{r.label(sub)} är inkallad för {r.label(member)} (inte svarat)")
    return lines
