"""One connection to the media server as read from it, before it is tied to a person (the
shell's records, `shell.ports.Seen` and `Unavailable`, are what the rest of the bot reads)."""

from __future__ import annotations

from dataclasses import dataclass

from shell.ports import Camera, Microphone


@dataclass(frozen=True)
class Participant:
    identity: str
    connected: bool
    camera: Camera
    microphone: Microphone
