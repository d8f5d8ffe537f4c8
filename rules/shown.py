"""What the call's media server showed for a person, as the meeting keeps it (§§ 3–5;
`rules.transmission` decides what it means)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Shown:
    """What the call's media server showed for a person (all their devices), since when (§§ 3–5):
    camera "on" | "off" | "none", microphone "on" | "muted" | "none". A microphone muted by its
    owner is still sound; picture is a camera on."""

    camera: str
    microphone: str
    connected: bool
    since: datetime

    @property
    def picture(self) -> bool:
        return self.connected and self.camera == "on"

    @property
    def sound(self) -> bool:
        return self.connected and self.microphone != "none"
