"""The widget's state events (web/widget.py), in the shapes Element and matrix-widget-api read."""

from __future__ import annotations

from datetime import UTC, datetime

from rules.state import Event
from web import widget

AT = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def events(*kinds: str) -> tuple[Event, ...]:
    return tuple(Event(k, AT, "@anna:ex.se", {}) for k in kinds)


def test_the_widget_is_added_and_pinned_at_open_named_the_draft_at_close_and_removed_when_justerat():
    url = "https://vy.example.se/vy?organ=ks"
    opened = widget.outgoing("!r:ex.se", "ks", "@bot:ex.se", url, events("opened"))
    assert [o.content["type"] for o in opened] == [widget.WIDGET, widget.LAYOUT]
    state = opened[0].content
    assert state["state_key"] == "distansbot-ks" == state["content"]["id"]
    assert state["content"] | {"data": None} == {
        "id": "distansbot-ks",
        "type": "m.custom",
        "name": "Sammanträdet",
        "url": url,
        "creatorUserId": "@bot:ex.se",
        "waitForIframeLoad": True,
        "data": None,
    }
    assert opened[1].content["state_key"] == ""
    assert opened[1].content["content"]["widgets"]["distansbot-ks"]["container"] == "top"
    (closed,) = widget.outgoing("!r:ex.se", "ks", "@bot:ex.se", url, events("closed"))
    assert closed.content["content"]["name"] == "Protokollsutkast"
    (removed,) = widget.outgoing("!r:ex.se", "ks", "@bot:ex.se", url, events("signed", "justerad"))
    assert removed.content == {"type": widget.WIDGET, "state_key": "distansbot-ks", "content": {}}
    assert widget.outgoing("!r:ex.se", "ks", "@bot:ex.se", url, events("present", "signed")) == []
