"""The widget's state events (web/widget.py), in the shapes Element and matrix-widget-api read."""

from __future__ import annotations

from datetime import UTC, datetime

from rules.state import Event
from shell.ports import StateEvent
from web import widget

AT = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def events(*kinds: str) -> tuple[Event, ...]:
    return tuple(Event(k, AT, "@anna:ex.se", {}) for k in kinds)


def test_the_widget_is_added_and_pinned_at_open_named_the_draft_at_close_and_removed_when_justerat():
    url = "https://vy.example.se/vy?organ=ks"
    opened = widget.states("ks", "@bot:ex.se", url, events("opened"))
    assert [o.kind for o in opened] == [widget.WIDGET, widget.LAYOUT]
    state = opened[0]
    assert state.key == "distansbot-ks" == state.content["id"]
    assert state.content | {"data": None} == {
        "id": "distansbot-ks",
        "type": "m.custom",
        "name": "Sammanträdet",
        "url": url,
        "creatorUserId": "@bot:ex.se",
        "waitForIframeLoad": True,
        "data": None,
    }
    assert opened[1].key == ""
    assert opened[1].content["widgets"]["distansbot-ks"]["container"] == "top"
    (closed,) = widget.states("ks", "@bot:ex.se", url, events("closed"))
    assert closed.content["name"] == "Protokollsutkast"
    (removed,) = widget.states("ks", "@bot:ex.se", url, events("signed", "justerad"))
    assert removed == StateEvent(widget.WIDGET, "distansbot-ks", {})
    assert widget.states("ks", "@bot:ex.se", url, events("present", "signed")) == []
