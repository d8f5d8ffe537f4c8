"""The view as an Element widget in the meeting room: the state events that add it, pin it at
the top, turn it into the protocol draft and remove it (shapes as Element and matrix-widget-api
read them: `im.vector.modular.widgets`, state key = widget id; `io.element.widgets.layout`).
"""

from __future__ import annotations

from rules.state import Event
from shell.ports import StateEvent

WIDGET = "im.vector.modular.widgets"
LAYOUT = "io.element.widgets.layout"
NAMES = {"opened": "Sammanträdet", "closed": "Protokollsutkast"}
NO_POWER = (
    "⚠️ Jag får inte lägga till sammanträdesvyn i rummet (behörighet att ändra rummets widgetar saknas, "
    "{kind}). Ge boten den behörigheten inför nästa sammanträde. Var och en kan ändå få vyn med !vy."
)


def widget_id(body_id: str) -> str:
    return f"distansbot-{body_id}"


def states(body_id: str, bot: str, url: str, events: tuple[Event, ...]) -> list[StateEvent]:
    """The widget state events a step calls for: added and pinned when the meeting opens, named
    the protocol draft when it closes, removed when the protocol is justerat."""
    out = []
    for e in events:
        if e.kind in NAMES:
            content = {
                "id": widget_id(body_id),
                "type": "m.custom",
                "name": NAMES[e.kind],
                "url": url,
                "creatorUserId": bot,
                "waitForIframeLoad": True,
                "data": {"title": NAMES[e.kind]},
            }
            out.append(StateEvent(WIDGET, widget_id(body_id), content))
            if e.kind == "opened":
                pinned = {"widgets": {widget_id(body_id): {"container": "top", "index": 0, "width": 100, "height": 50}}}
                out.append(StateEvent(LAYOUT, "", pinned))
        elif e.kind == "justerad":
            out.append(StateEvent(WIDGET, widget_id(body_id), {}))  # empty content: the widget is gone
    return out


def opens(events: tuple[Event, ...]) -> bool:
    return any(e.kind == "opened" for e in events)
