"""What the shell needs of the world, as protocols, and the neutral records that cross them.

- A `Transport` (Matrix now, Teams later) hands the shell what people did as records — `Said`,
  `Answered`, `Hand`, `CallChanged`, `Note` — and sends what the shell owes, which the shell makes as
  records too — `Notice`, `Reaction`, `File`, `PollStart`, `PollEnd`, `StateEvent`,
  `DirectMessage` — and the transport encodes (`encode`) into the rows the outbox keeps until it
  has sent them. Only the transport knows its
  network's shapes; the shell never reads or writes them.
- A `MediaServer` (LiveKit now: `media.livekit`) follows a room's call on the call's own server
  and tells the shell what it shows of sound and picture as records — `Seen` per person,
  `Unavailable` while it cannot be read — free of the product's words and shapes.
- A `Store` keeps the log, the outbox and the handled marks: the protocol is `storage.base.Store`,
  declared once beside the records it takes and gives (`Outgoing`, `Anchor`, `Chain`), with a
  backend per database (SQLite, PostgreSQL). The shell names it, like those records, only for
  its types (under `TYPE_CHECKING`), so it imports no store; `storage.open_store` gives one.
- `bot.py verify` holds the log against what the transport reads of the rooms (`RoomAnchors`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from rules.state import Event
    from storage import Anchor, Outgoing

# Retries while a server is away wait at most this long: a meeting goes on within seconds of its
# return, and a try every 15 s costs nothing.
MAX_BACKOFF_SECONDS = 15


# --- in: what people did, as the transport read it ---------------------------------------------


@dataclass(frozen=True)
class Said:
    """A message in a body's room: perhaps a command."""

    room: str
    event_id: str
    sender: str
    text: str
    at: datetime
    html: str | None = None  # the formatted text, where the network has one (mentions as links)
    mentions: tuple[str, ...] = ()  # the user ids the network says are mentioned


@dataclass(frozen=True)
class Answered:
    """A person answered a message of the bot's without typing: a ✅ on a check's message
    (`choice` "ok") or a poll answer (`choice` ja, nej or avstår). `answers` is the event id of
    the bot's message; the rules are told which check or vote that was, never "any running one"."""

    room: str
    event_id: str
    sender: str
    answers: str
    choice: str
    at: datetime


@dataclass(frozen=True)
class Hand:
    """A hand in the room's call: raised (`raised`) on `on`, the call membership event it was
    raised on, which the shell checks is the sender's own as the call stands now; or lowered,
    `on` then the event that raised it (Matrix lowers it by withdrawing that reaction, and hands
    over every withdrawal: the shell knows which raised a hand)."""

    room: str
    event_id: str
    sender: str
    on: str
    raised: bool
    at: datetime


@dataclass(frozen=True)
class Device:
    device: str
    expires: datetime | None  # None: valid until the device leaves
    member_id: str | None = None  # the membership's own id, where it gives one (CallMember)


@dataclass(frozen=True)
class CallChanged:
    """The room's call state under one key (a device, or all of a person's devices): who it is,
    and the devices it now says are in the call. `devices` None: it could not be read, and the
    call stands as it was; `device` is then the one device the key stands for (None: all of the
    owner's). `at` None: read at start-up, counted from now."""

    room: str
    event_id: str
    key: str
    owner: str
    devices: tuple[Device, ...] | None
    at: datetime | None = None
    device: str | None = None


@dataclass(frozen=True)
class Note:
    """A message that is no command to act on: "edited" or "undecryptable"."""

    room: str
    event_id: str
    note: str
    at: datetime


@dataclass(frozen=True)
class Told:
    """A reply of the bot's own to a person's event, read back from the room at a start: what the
    person was told there. A process that could not reach its database told them without
    recording it, so only the room keeps it (`Inbound.told`)."""

    room: str
    event_id: str  # the person's event replied to
    text: str
    at: datetime


class Inbound(Protocol):
    """What the transport hands over: the shell implements it."""

    async def said(self, said: Said) -> None: ...
    async def answered(self, answered: Answered) -> None: ...
    async def hand(self, hand: Hand) -> None: ...
    async def call_changed(self, change: CallChanged) -> None: ...
    async def noted(self, note: Note) -> None: ...
    async def told(self, told: Told) -> None:
        """Handed over before the first batch after a start, for the replies since the stored position."""

    async def caught_up(self) -> None:
        """The first batch after the start is handed over: what was said while away is in."""


# --- out: what the shell owes the room ---------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A message of the bot's: plain text, the people it mentions (user id, their name as the
    text writes it), in reply to a person's event or not. `document` (text, html) is shown under
    it when the network's message can hold it, else `too_big` is said instead (the file has it);
    `anchor` (body id, length, head) is the body's chain, as data the transport posts with it."""

    text: str
    mentions: tuple[tuple[str, str], ...] = ()
    reply_to: str = ""
    tag: str = ""  # names what the message asks for, so that an answer to it answers that
    document: tuple[str, str] | None = None
    too_big: str = ""
    anchor: tuple[str, int, str] | None = None


@dataclass(frozen=True)
class Reaction:
    """A ✅ on a person's event: the command was done and has no reply of its own."""

    to: str


@dataclass(frozen=True)
class File:
    name: str
    data: str | bytes
    reply_to: str = ""


@dataclass(frozen=True)
class PollStart:
    """A vote as the network's poll (ja, nej, avstår); answers come back as `Answered`."""

    question: str
    a: str
    b: str
    tag: str


@dataclass(frozen=True)
class PollEnd:
    """The end of the poll sent with `poll` (its tag): the vote is over."""

    poll: str
    text: str


@dataclass(frozen=True)
class StateEvent:
    """A piece of the room's state the bot sets (the live view's widget: `web.widget`)."""

    kind: str
    key: str
    content: dict[str, Any]


@dataclass(frozen=True)
class DirectMessage:
    """A message to one person, outside the meeting room (!vy's link)."""

    user: str
    text: str


Out = Notice | Reaction | File | PollStart | PollEnd | StateEvent | DirectMessage


class View(Protocol):
    """The live view (`web.server.ViewServer`), as the shell asks it for a link and the widget."""

    async def serve(self) -> None:
        """The meetings are loaded by the process that serves: show them from now."""
        ...

    def link(self, body: str, meeting: str, user: str) -> str:
        """A link to the view of this meeting for this person."""
        ...

    def widget(self, body: str, events: tuple[Event, ...], may_set: Callable[[str], bool]) -> list[Out]:
        """What the room's widget needs after a step with these events; `may_set` says whether
        the bot may set a kind of room state."""
        ...


class SendFailed(Exception):
    """The server did not take a message. `permanent`: it never will (give up on it, do not
    block the rest); otherwise it is worth trying again."""

    def __init__(self, why: str, code: str = "", permanent: bool = False) -> None:
        super().__init__(why)
        self.code, self.permanent = code, permanent


# What `bot.py verify` reads of the rooms (the transport's, `matrix.client.anchors`): per body id,
# the anchors the bot posted in its room, oldest first, or why they could not be read.
RoomAnchors = dict[str, "list[Anchor] | str"]


class Transport(Protocol):
    """A chat network, as the shell drives it."""

    whoami: tuple[str, str]  # the bot's account and device, for the log

    def encode(self, room: str, out: Out) -> Outgoing:
        """An owed record as the outbox row it is kept as until sent (pure: no I/O)."""
        ...

    async def start(self, rooms: list[str], stop: asyncio.Event) -> dict[str, str] | None:
        """Log in and join; each configured room's id, or None when stopped first."""
        ...

    async def listen(self, stop: asyncio.Event, inbound: Inbound, heard: asyncio.Event) -> None:
        """Hand over what the rooms say until stopped, setting `heard` after each batch."""
        ...

    async def call_state(self, room: str) -> list[CallChanged]:
        """The room's call as it stands (read at start-up)."""
        ...

    async def send(self, out: Outgoing, event_of_tag: Callable[[str], Awaitable[str]]) -> str:
        """Send one owed row; its event id. Raises `SendFailed`. `event_of_tag` gives the event
        id of a message the bot sent with a tag (a poll's end points at its poll)."""
        ...

    def room_name(self, room: str) -> str: ...
    def room_link(self, room: str) -> str:
        """A link that opens the room in a member's client ("" if the network has none)."""
        ...

    def encrypted(self, room: str) -> bool: ...
    def can_set_state(self, room: str, kind: str) -> bool:
        """May the bot set this kind of room state (as far as the transport knows)?"""
        ...


# --- the call's media server: what it shows of sound and picture ------------------------------
# A microphone muted by its owner is not lost sound (members mute while others speak): `sound`
# holds while a microphone track is there and the person is connected. Picture is a camera on
# and a connection: a camera muted ("turned off" in Element Call) or gone is no picture.


class Camera(StrEnum):
    ON = "on"  # a camera track, not muted
    OFF = "off"  # a camera track, muted (Element Call turns a camera off so)
    NONE = "none"  # no camera track: never turned on, or taken away


class Microphone(StrEnum):
    ON = "on"
    MUTED = "muted"  # muted by its owner: still sound, in the sense of § 5
    NONE = "none"  # no microphone track


@dataclass(frozen=True)
class CallMember:
    """One device of a person in the room's call, as the room's call membership says (the
    transport reads it): what the media server's participant names are checked against."""

    user: str
    device: str
    member_id: str | None = None  # the membership's own id, where the membership gives one


@dataclass(frozen=True)
class Seen:
    """What the media server shows for one person (all their devices together), and since when
    it has shown exactly this."""

    user: str
    camera: Camera
    microphone: Microphone
    connected: bool
    since: datetime

    @property
    def picture(self) -> bool:
        return self.connected and self.camera is Camera.ON

    @property
    def sound(self) -> bool:
        return self.connected and self.microphone is not Microphone.NONE

    def same(self, other: Seen | None) -> bool:
        """Whether `other` shows the same (its time aside)."""
        return other is not None and (self.camera, self.microphone, self.connected) == (
            other.camera,
            other.microphone,
            other.connected,
        )


Reason = Literal["unreachable", "refused", "error"]


@dataclass(frozen=True)
class Unavailable:
    """The media server could not be read from `since`; `until` is set in the record made when it
    could be read again. `reason` is a code (words are the renderers'): "unreachable" (no answer
    in time), "refused" (it does not take the bot's key), "error" (it answered with an error).
    `detail` is for the log only."""

    since: datetime
    until: datetime | None
    reason: Reason
    detail: str = ""


Change = Seen | Unavailable


class MediaRoom(Protocol):
    """One room's call on the media server, as its reader last read it: per person what it shows
    (`seen`), or since when it cannot be read (`down`)."""

    seen: dict[str, Seen]
    down: Unavailable | None

    def wake(self) -> None:
        """Read again at once (the room's call members changed)."""
        ...

    async def run(self) -> None:
        """Read until cancelled, reporting each change; nothing the server does stops it."""
        ...


class MediaServer(Protocol):
    """The call's media server, as the shell follows the rooms' calls on it."""

    def follow(
        self, room: str, members: Callable[[], Iterable[CallMember]], report: Callable[[list[Change]], Awaitable[None]]
    ) -> MediaRoom:
        """A reader of `room`'s call; `members` gives the room's call members at each read (a
        participant that is none of theirs counts for nobody)."""
        ...

    async def close(self) -> None: ...
