"""The meeting's clock: every moment the meeting waits for, and the first of them.

Theory of operation: `deadlines(meeting, roster)` lists what falls due, earliest first, each with
a key that names it: a running technical check's deadline (§ 12, "check:N"), a call membership
that expires without being renewed ("call:USER:DEVICE:EXPIRY", while the meeting is convened or
open), and the reminders before and during the meeting (`rules.schedule`, "reminder:KEY").
`due(meeting, roster)` is the first of them: `rules.meeting.tick` ends what it names once the
time has passed (checks and calls), and the shell sets its timer for it. Which reminders have
been sent is the shell's to know (`done`); the rules keep no record of what was posted.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from rules.model import Meeting, Phase
from rules.roster import Roster
from rules.schedule import reminders

# A call membership counts while the meeting is convened (the roll call is made in the call) or open.
CALL_PHASES = frozenset({Phase.CONVENED, Phase.OPEN})

# What the clock itself ends when it falls due, and what it only tells the shell.
ENDS = ("check", "call", "grace")
KINDS = (*ENDS, "reminder")


def call_key(user: str, device: str, expires: str) -> str:
    return f"call:{user}:{device}:{expires}"


def grace_key(user: str, since: datetime) -> str:
    return f"grace:{user}:{since.isoformat()}"


def deadlines(m: Meeting | None, r: Roster) -> list[tuple[datetime, str]]:
    """Every moment the meeting waits for, earliest first (in this order on a tie)."""
    if m is None:
        return []
    out: list[tuple[datetime, str]] = []
    check = m.check
    if check is not None and check.running:
        out.append((check.deadline, f"check:{check.id}"))
    if m.phase in CALL_PHASES:
        for user, devices in m.in_call.items():
            for device, expires in devices.items():
                if expires is not None:
                    out.append((datetime.fromisoformat(expires), call_key(user, device, expires)))
    if m.phase is Phase.OPEN and r.reads_media and r.follows_call:
        # A picture loss the media server registered, for one serving, past the grace (§ 5).
        serving = m.serving(r)
        for user, kinds in m.media_drops.items():
            since = kinds.get("bild")
            if since is not None and user not in m.grace_told and user in serving:
                out.append((since + timedelta(seconds=r.video_grace_seconds), grace_key(user, since)))
    out += [(x.at, f"reminder:{x.key}") for x in reminders(m, r)]
    return sorted(out, key=lambda x: x[0])


def due(
    m: Meeting | None, r: Roster, kinds: Collection[str] = KINDS, done: Collection[str] = ()
) -> tuple[datetime, str] | None:
    """The first moment the meeting waits for, of `kinds`, leaving out the keys in `done`."""
    return next(
        ((at, key) for at, key in deadlines(m, r) if key.partition(":")[0] in kinds and key not in done),
        None,
    )
