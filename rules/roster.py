"""Who belongs to a body, as the configuration names them. Identity is the Matrix user id."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Role(StrEnum):
    MEMBER = "ledamot"
    SUBSTITUTE = "ersättare"
    SECRETARY = "sekreterare"
    ATTENDEE = "övrig närvarande"
    SECURITY_CHIEF = "säkerhetsskyddschef"


@dataclass(frozen=True)
class Person:
    user: str
    name: str
    role: Role
    party: str = ""
    title: str = ""

    @property
    def label(self) -> str:
        """The name as a protocol writes it: with party for politicians, title for officials."""
        if self.party:
            return f"{self.name} ({self.party})"
        if self.title:
            return f"{self.name} ({self.title})"
        return self.name


@dataclass(frozen=True)
class Roster:
    body_id: str
    name: str
    chair: str
    members: tuple[Person, ...]
    substitutes: tuple[Person, ...] = ()
    attendees: tuple[Person, ...] = ()
    vice_chairs: tuple[str, ...] = ()
    secretaries: tuple[str, ...] = ()
    security_chief: str | None = None
    check_timeout_seconds: int = 60
    tz: ZoneInfo = STOCKHOLM  # the clock that times are read and written in
    meeting_minutes: int = 120  # a meeting's expected length, for calendars and reminders
    reminders_minutes_before: tuple[float, ...] = (1440, 15)
    place: str = ""  # the meeting room, as configured (for calendars)
    first_paragraph: int = 1  # the body's first protocol paragraph number in the first year it meets here
    protocol_kept_at: str = "Kommunkansliet"  # where the justerat protocol is kept (the anslag says)
    video: str = "extern"  # the transport's call product, for the shell; the rules read `call_name` only
    call_name: str = ""  # the room's call as people know it, when the bot follows it and checks attestations
    chair_room: str = ""  # the body's `place`: the chair's room, the protocol's plats ("" at a distance only)
    # Whether the call's media server is read for camera, microphone and connection (a followed
    # call and [livekit] configured), and how long a camera may be off in discussion (§ 5).
    reads_media: bool = False
    video_grace_seconds: int = 60
    organisation: str = ""  # the kommun the protocol's head names
    # How attendees with närvarorätt speak (§ 4): "ordförandens_medgivande", when the chair puts
    # them on the speakers' list; "ja", asking for the floor themselves as members do.
    attendees_speak: str = "ordförandens_medgivande"
    _index: dict[str, Person] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Secretaries and the security chief are named by id only; a member may hold either
        # role too, and then keeps the member's entry (the stronger rights).
        index = self._index
        for user in self.secretaries:
            index[user] = Person(user, _localpart(user), Role.SECRETARY)
        if self.security_chief:
            index[self.security_chief] = Person(
                self.security_chief, _localpart(self.security_chief), Role.SECURITY_CHIEF
            )
        for person in (*self.attendees, *self.substitutes, *self.members):
            index[person.user] = person

    def person(self, user: str) -> Person | None:
        return self._index.get(user)

    def name_of(self, user: str) -> str:
        person = self._index.get(user)
        return person.name if person else user

    def label(self, user: str) -> str:
        person = self._index.get(user)
        return person.label if person else user

    @property
    def follows_call(self) -> bool:
        """Whether the bot follows the room's call: who is in it decides what one may attest (§§ 3–5)."""
        return bool(self.call_name)

    @property
    def everyone(self) -> tuple[str, ...]:
        return tuple(self._index)

    def is_member(self, user: str) -> bool:
        return any(p.user == user for p in self.members)

    def is_substitute(self, user: str) -> bool:
        return any(p.user == user for p in self.substitutes)

    def is_secretary(self, user: str) -> bool:
        return user in self.secretaries

    def speaks_by_leave(self, user: str) -> bool:
        """Whether `user` speaks only when the chair puts them on the speakers' list: one with
        närvarorätt who is no politician nor secretary, in a body that so chooses."""
        person = self._index.get(user)
        return (
            self.attendees_speak == "ordförandens_medgivande"
            and person is not None
            and person.role in (Role.ATTENDEE, Role.SECURITY_CHIEF)
            and user not in self.secretaries  # a secretary listed among attendees for her name
        )

    def office(self, user: str) -> str:
        """The meeting role the configuration gives a person beside member and substitute."""
        if user in self.secretaries:
            return "sekreterare"
        if user == self.security_chief:
            return "säkerhetsskyddschef"
        return ""


def _localpart(user: str) -> str:
    return user[1:].split(":", 1)[0] if user.startswith("@") else user
