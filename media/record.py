"""The neutral records of what a call's media server shows: per person, camera, microphone and
connection since a time; and the spans when the server could not be read. Pure data: no server,
product or transport is named here, so the rules can read these and nothing else.

A microphone muted by its owner is not lost sound (members mute while others speak): `sound`
holds while a microphone track is there and the person is connected. Picture is a camera on and
a connection: a camera muted ("turned off" in Element Call) or gone is no picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal


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
class Participant:
    """One connection to the media server, as read from it, before it is tied to a person."""

    identity: str
    connected: bool
    camera: Camera
    microphone: Microphone


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
