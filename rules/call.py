"""The followed call (§§ 3–5, 10, 12), neutral to the product that carries it: the roster says
whether the bot follows the room's call (`Roster.follows_call`) and the shell reports who is in
it on which devices. One who attests presence or answers a check must be in the call; one who
leaves it while present has lost audio and video. A lost transmission, recorded by a command or
seen in the call, has the same consequences (`lose_transmission`).
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Refused, Reply
from rules.citations import Rule
from rules.clock import CALL_PHASES
from rules.model import Meeting, Phase
from rules.roster import Roster
from rules.who import chair_now
from rules.words import say


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
    if m is None or not r.follows_call or m.phase not in CALL_PHASES or r.person(user) is None:
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
            drop, for_chair = lose_transmission(m, r, who, kinds, via="call")
            voided = any(kind == "vote_ended" for kind, _ in events)  # a vote ends once
            events += [e for e in drop if not (voided and e[0] == "vote_ended")]
            text = say("call.left_call", r, who=who, user=user, at=now)
            replies.append(Reply(text, mentions=(who,), reply=False))
            if for_chair:
                chair = chair_now(m, r)
                replies.append(
                    Reply(say("call.to_chair", r, chair=chair, text=for_chair), mentions=(chair,), reply=False)
                )
    return Accepted(events, replies)


def not_in_call(m: Meeting, r: Roster, user: str, actor: str, rule: Rule, what: str) -> Refused | None:
    """§§ 3–4, 12: with the call followed, one attests only what the call shows (one in the
    chair's room attests in the room)."""
    if not r.follows_call or in_call(m, user) or m.location.get(user) == "lokal":
        return None
    return Refused(rule, say("call.not_in_call", r, user=user, actor=actor, then=what))


def lose_transmission(m: Meeting, r: Roster, user: str, kinds: list[str], via: str = "") -> tuple[list, str]:
    """Lost audio and/or video (§§ 5, 10): the events, a running vote the person is in made
    void, and what it means for the chair, who must act on it ("" for one who does not serve
    and is in no vote: nothing to do). `via` is "call" when the call registered it."""
    serving = user in m.serving(r)
    running = m.check is not None and m.check.running
    events: list = [("dropped", {"user": user, "kind": kind} | ({"via": via} if via else {})) for kind in kinds]
    vote = m.vote
    if vote and user in vote.voters:
        cause = {"code": "dropped", "user": user, "kind": kinds[0]}
        events.append(("vote_ended", {"id": vote.id, "how": "void", "cause": cause}))
        void = vote.id
    else:
        void = None
        spends = serving and not running and m.check is not None and m.check.passed and not m.check.spent_by
    text = say("call.lost", r, user=user, kinds=kinds, serving=serving, void=void, spends=void is None and bool(spends))
    return events, text
