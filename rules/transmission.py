"""Sound and picture as the call's media server shows them (§§ 3–5, 10, 12), neutral to the
server that shows them: the shell hands in, per person, camera ("on" | "off" | "none"),
microphone ("on" | "muted" | "none") and connection, and when the server cannot be read.

Theory of operation. With `Roster.reads_media` the call's server is evidence beside the call
membership: one attests presence (and confirms a transmission back with !åter) only while the
server shows what § 3 asks of a member or substitute (a camera on, a microphone track, a
connection) or § 4 of a secretary or attendee (a microphone track). A microphone muted by its
owner is sound: members mute while others speak. A microphone track gone or the connection lost
is lost sound, with every consequence of `!avbrott ljud` (§§ 5, 10, 12). A camera off or gone is
lost picture, registered with its time: tolerated in discussion, where the chair is told only
when it lasts longer than `video_grace_seconds`, never at a check or decision (it spends a
passed check and voids a running vote, as a reported loss does); it ends when the camera is on
again. While the server cannot be read the bot relies on attestations, says so, and the
protocol names the span.
"""

from __future__ import annotations

from datetime import datetime

from rules.actions import Accepted, Refused, Reply
from rules.call import lose_transmission
from rules.citations import Rule
from rules.clock import CALL_PHASES, deadlines, grace_key
from rules.model import Meeting, Phase
from rules.roster import Role, Roster
from rules.shown import Shown
from rules.who import chair_now
from rules.words import say

# What the server may show (the shell's neutral codes); the words are `minutes.words.SHOWN`'s.
CAMERAS = frozenset({"on", "off", "none"})
MICROPHONES = frozenset({"on", "muted", "none"})
REASONS = frozenset({"unreachable", "refused", "error"})


def followed(r: Roster) -> bool:
    """Whether the body's call is followed and its media server read ([livekit])."""
    return r.reads_media and r.follows_call


def reads_media(m: Meeting | None, r: Roster) -> bool:
    """Whether the media server is evidence now: read for this body, and readable."""
    return followed(r) and m is not None and m.media_down is None


def needs_picture(r: Roster, user: str) -> bool:
    """§ 3 asks moving picture of members (and substitutes, who may serve); § 4 sound only of others."""
    person = r.person(user)
    return person is not None and person.role in (Role.MEMBER, Role.SUBSTITUTE)


def shown_for(m: Meeting, user: str) -> Shown | None:
    """What the server shows for a person: their own connection, or, sharing a transmission
    (§ 2) without one of their own, the partner's."""
    own = m.shown.get(user)
    partner = m.location.get(user)
    if (own is None or not own.connected) and partner not in (None, "lokal"):
        return m.shown.get(partner) or own
    return own


def lacking_now(m: Meeting, r: Roster, user: str) -> list[str]:
    """What of § 3 (or § 4) the server does not show for a person now, as codes of
    `minutes.words.SHOWN` ("connection:none", "camera:off", "camera:none", "microphone:none");
    [] when all."""
    s = shown_for(m, user)
    if s is None or not s.connected:
        return ["connection:none"]
    out = []
    if needs_picture(r, user) and s.camera != "on":
        out.append(f"camera:{s.camera}")
    if s.microphone == "none":
        out.append("microphone:none")
    return out


def refusal(m: Meeting, r: Roster, user: str, actor: str, what: str) -> Refused | None:
    """§§ 3–4: one attests presence, or a transmission back, only with what the server shows.
    One in the chair's room attests in the room."""
    if not reads_media(m, r) or m.location.get(user) == "lokal":
        return None
    if not lacking_now(m, r, user):
        return None
    picture = needs_picture(r, user)
    return Refused(
        Rule.P3 if picture else Rule.P4,
        say("transmission.refused", r, user=user, actor=actor, shown=shown_for(m, user), picture=picture, then=what),
    )


def lacking(m: Meeting, r: Roster, users) -> dict[str, tuple[list[str], datetime]]:
    """Of these people, those the server, where it is read, shows without what § 3 (or § 4)
    asks: what they lack (codes of `lacking_now`) and since when it has shown so (for a refused
    check or a blocked decision)."""
    out = {}
    for u in users:
        s = shown_for(m, u) if reads_media(m, r) else None
        missing = lacking_now(m, r, u) if s is not None else []
        if s is not None and missing:
            out[u] = (missing, s.since)
    return out


def roll_call(m: Meeting, r: Roster, user: str) -> dict:
    """What a !närvarande records of the server: what it showed at the roll call."""
    s = shown_for(m, user) if reads_media(m, r) else None
    return {"shown": {"camera": s.camera, "microphone": s.microphone}} if s is not None else {}


def evidence(m: Meeting, r: Roster) -> dict:
    """What a check's end or a decision records of the server: that it showed every serving
    person with sound and moving picture, or that the bot relied on attestations."""
    if not followed(r):
        return {}
    if m.media_down is not None:
        return {"media": "attested"}
    # One in the chair's room is seen there, not in the call (§ 2); the rest must all be shown so
    # (a decision is blocked otherwise, but the record says what was so, whatever blocked it).
    remote = [u for u in m.serving(r) if m.location.get(u) != "lokal"]
    if any(lacking_now(m, r, u) for u in remote):
        return {"media": "lacking", "lacking": [u for u in remote if lacking_now(m, r, u)]}
    return {"media": "shown" if len(remote) == len(m.serving(r)) else "shown_remote"}


def shown(
    m: Meeting | None, r: Roster, user: str, camera: str, microphone: str, connected: bool, now: datetime
) -> Accepted | None:
    """The server shows something new for a person. A present person who lost sound has lost it
    as with !avbrott ljud; one who lost picture, as with !avbrott bild, told to the chair at once
    only where it spends a check or voids a vote (else after the grace, `tick`); a camera on
    again ends a picture loss that the server registered."""
    if m is None or not followed(r) or m.phase not in CALL_PHASES:
        return None
    if r.person(user) is None or camera not in CAMERAS or microphone not in MICROPHONES:
        return None
    now_shown = Shown(camera, microphone, bool(connected), now)
    before = m.shown.get(user)
    if before is not None and (before.camera, before.microphone, before.connected) == (
        camera,
        microphone,
        now_shown.connected,
    ):
        return None
    events: list = [("shown", {"user": user, "camera": camera, "microphone": microphone, "connected": connected})]
    if not _watched(m, user):
        return Accepted(events)
    lost, replies = _losses(m, r, user, now_shown, now)
    if lost:
        events += lost
    elif now_shown.picture and "bild" in m.media_drops.get(user, {}):
        events.append(("regained", {"user": user, "kind": "bild"}))
    return Accepted(events, replies)


def _watched(m: Meeting, user: str) -> bool:
    """Whose transmission the server's word decides: one present at the open meeting, at a
    distance (one in the chair's room is seen there), while the server can be read."""
    return m.phase is Phase.OPEN and m.here(user) and m.location.get(user) != "lokal" and m.media_down is None


def _losses(m: Meeting, r: Roster, user: str, s: Shown, now: datetime) -> tuple[list, list[Reply]]:
    """What the server showing `s` means for a watched person not yet recorded as without it:
    sound lost as with !avbrott ljud, told to the person and the chair; picture lost as with
    !avbrott bild, told to the chair at once only where it spends a check or voids a vote."""
    drops = m.drops.get(user, set())
    lost = [k for k, ok in (("ljud", s.sound), ("bild", s.picture or not needs_picture(r, user))) if not ok]
    lost = [k for k in lost if k not in drops]
    if not lost:
        return [], []
    matters = (m.vote is not None and user in m.vote.voters) or (
        m.check is not None and (m.check.running or bool(m.check.passed and not m.check.spent_by))
    )
    events, for_chair = lose_transmission(m, r, user, lost, via="media")
    replies = []
    if "ljud" in lost:
        text = say("transmission.lost_sound", r, user=user, shown=s, at=now)
        replies.append(Reply(text, mentions=(user,), reply=False))
    if for_chair and ("ljud" in lost or matters):
        chair = chair_now(m, r)
        replies.append(Reply(say("call.to_chair", r, chair=chair, text=for_chair), mentions=(chair,), reply=False))
    return events, replies


def grace_at(m: Meeting, r: Roster) -> datetime | None:
    """When the next picture loss passes the grace (`rules.clock`): for the shell's timer."""
    return next((at for at, key in deadlines(m, r) if key.startswith("grace:")), None)


def grace_passed(m: Meeting, r: Roster, key: str, at: datetime) -> Accepted | None:
    """A serving member's picture lost longer than the grace (`rules.clock.grace_key`): the
    chair is told, once (§ 5)."""
    found = [(u, k["bild"]) for u, k in m.media_drops.items() if "bild" in k and grace_key(u, k["bild"]) == key]
    if not found:
        return None
    ((user, since),) = found
    chair = chair_now(m, r)
    text = say("transmission.grace_passed", r, chair=chair, user=user, since=since)
    reply = Reply(text, mentions=tuple(dict.fromkeys((chair, user))), reply=False)
    return Accepted([("grace_passed", {"user": user})], [reply])


def unavailable(m: Meeting | None, r: Roster, reason: str, now: datetime) -> Accepted | None:
    """The server cannot be read from now: said in the room at once; attestations count again."""
    if m is None or not followed(r) or m.phase not in CALL_PHASES:
        return None
    if m.media_down is not None:
        return None
    code = reason if reason in REASONS else "error"
    chair = chair_now(m, r)
    text = say("transmission.unavailable", r, chair=chair, at=now, reason=code)
    return Accepted([("media_unavailable", {"reason": code})], [Reply(text, mentions=(chair,), reply=False)])


def available(m: Meeting | None, r: Roster, now: datetime) -> Accepted | None:
    """The server can be read again: said in the room, with the span the bot relied on
    attestations; what it shows counts again, also for one who attested while it could not be
    read (a loss it shows now is recorded now)."""
    if m is None or m.media_down is None:
        return None
    text = say("transmission.available", r, since=m.media_down, at=now)
    events: list = [("media_available", {})]
    replies = [Reply(text, reply=False)]
    if m.phase is Phase.OPEN:
        for user in [u for u in m.present if m.here(u) and m.location.get(u) != "lokal"]:
            lost, told = _losses(m, r, user, m.shown.get(user) or Shown("none", "none", False, now), now)
            voided = any(kind == "vote_ended" for kind, _ in events)  # a vote ends once
            events += [e for e in lost if not (voided and e[0] == "vote_ended")]
            replies += told
    return Accepted(events, replies)
