"""The events of a meeting's course and its people: convening, opening, adjourning and closing;
presence, transmission and the floor; who serves (see `rules.events`)."""

from __future__ import annotations

from typing import Any

from rules.events.declare import EventData, declare


# --- convening and the meeting's course (§ 1, KL 6 kap. 35 §) ----------------------------------
@declare("convened")
class Convened(EventData):
    start: str
    form: str  # distans | hybrid
    motivation: str
    agenda: list[dict[str, Any]]  # n, title, klass, dnr
    first_paragraph: int = 1  # until it is opened, for the kallelse's day
    numbered: dict[str, int] | None = None  # the body's last paragraph by year (logs from before: none)


@declare("cancelled")
class Cancelled(EventData):
    reason: str = ""


@declare("opened")
class Opened(EventData):
    first_paragraph: int | None = None  # logs from before: as convened


@declare("closed")
class Closed(EventData):
    presiding: str | None = None


@declare("adjourned")
class Adjourned(EventData):
    pass


@declare("resumed")
class Resumed(EventData):
    pass


# --- presence and transmission (§§ 2–5, 9, 10) ------------------------------------------------
@declare("present")
class Present(EventData):
    user: str
    attests: str = ""
    returned: bool = False
    shown: dict[str, str] | None = None  # what the call's media server showed: camera, microphone


@declare("left")
class Left(EventData):
    user: str
    n: int | None = None


@declare("located")
class Located(EventData):
    users: list[str]  # one: in the chair's room; two: sharing a transmission
    moved: bool = False  # seen in the call first: a change of place from now


@declare("floor")
class Floor(EventData):
    """A place asked on the item's speakers' list (§ 9)."""

    user: str
    n: int | None = None  # logs from before the list was per item: none
    hand: str = ""  # asked with a hand raised in the call: its event
    by: str = ""  # the chair who put the person there


@declare("floor_withdrawn")
class FloorWithdrawn(EventData):
    """Off the speakers' list, with a reply asked, at one's own request."""

    user: str
    n: int
    via: str = ""  # "call": the hand lowered in the call


@declare("reply_asked")
class ReplyAsked(EventData):
    user: str
    n: int
    to: str  # the one speaking when it was asked


@declare("floor_given")
class FloorGiven(EventData):
    """The chair gave the floor (!nästa): to the reply asked, or to the first on the list."""

    n: int
    user: str | None  # None: the list was empty, nobody has the floor
    reply: bool = False
    reply_to: str | None = None


@declare("streck")
class Streck(EventData):
    n: int


@declare("streck_withdrawn")
class StreckWithdrawn(EventData):
    n: int


@declare("floor_taken")
class FloorTaken(EventData):
    user: str
    n: int


@declare("muted")
class Muted(EventData):
    user: str
    by: str = ""


@declare("dropped")
class Dropped(EventData):
    user: str
    kind: str  # ljud | bild
    via: str = ""  # "call": seen in the followed call; "media": shown by the call's media server


@declare("restored")
class Restored(EventData):
    user: str


@declare("call")
class Call(EventData):
    user: str
    devices: dict[str, str | None]  # device -> when its membership expires (ISO) or None


# --- what the call's media server shows (§§ 3–5, 12; rules/transmission.py) ---------------------
@declare("shown")
class Shown(EventData):
    user: str
    camera: str  # on | off | none
    microphone: str  # on | muted | none
    connected: bool


@declare("regained")
class Regained(EventData):
    user: str
    kind: str  # bild: a picture loss the server registered, ended as it shows the camera on


@declare("grace_passed")
class GracePassed(EventData):
    user: str  # the chair was told the picture has been lost longer than the grace (§ 5)


@declare("media_unavailable")
class MediaUnavailable(EventData):
    reason: str  # unreachable | refused | error


@declare("media_available")
class MediaAvailable(EventData):
    pass


# --- who serves (§ 11, KL 6 kap. 17, 33 §§) ---------------------------------------------------
@declare("replaced")
class Replaced(EventData):
    member: str
    substitute: str
    teknikfel: bool
    for_item: int | None = None  # for one item, for jäv (KL 6 kap. 28 §)
    replaces: str | None = None  # the serving substitute replaced, when not the member


@declare("reinstated")
class Reinstated(EventData):
    member: str
    late: bool = False


@declare("presiding_named")
class PresidingNamed(EventData):
    user: str
    n: int | None = None
    by: str | None = None  # logs from before: not kept


@declare("forhinder")
class Forhinder(EventData):
    user: str
    by: str


@declare("forhinder_withdrawn")
class ForhinderWithdrawn(EventData):
    user: str
    present: bool = False  # she came despite it


@declare("called_in")
class CalledIn(EventData):
    substitute: str
    member: str


@declare("confirmed")
class Confirmed(EventData):
    substitute: str
    member: str
