"""The live view's part of the shell, over a real SQLite store: the widget's state events, !vy,
and the bus that pushes each committed step to open pages."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from commands.text import Message
from config import WebConfig
from testing.driver import started
from tests.test_shell import opened
from web import auth, widget
from web.server import Viewer, ViewServer

WEB = WebConfig(listen="127.0.0.1:8090", public_url="https://vy.example.se")


async def with_view(config, can_set_state: bool = True):
    bot = await started(config)
    bot.view = ViewServer(bot, WEB)
    bot.bus.subscribe(bot.view.on_step)
    await bot.view.load_secret()
    bot.answers.can_set_state = lambda room_id, kind: can_set_state
    return bot


async def test_the_widget_is_added_and_pinned_when_the_meeting_opens(config):
    bot = await with_view(config)
    await opened(bot)
    states = [o.content for o in await bot.store.unsent() if o.kind == "state"]
    assert [(s["type"], s["state_key"]) for s in states] == [(widget.WIDGET, "distansbot-ks"), (widget.LAYOUT, "")]
    assert states[0]["content"]["url"] == "https://vy.example.se/vy?organ=ks"
    await bot.store.close()


async def test_lacking_the_power_to_set_room_state_the_bot_says_so_once(config):
    bot = await with_view(config, can_set_state=False)
    body, now = await opened(bot)
    await bot.handle(body, "$paus", Message("!ajournera"), "@anna:localhost", now)
    owed = await bot.store.unsent()
    assert not [o for o in owed if o.kind == "state"]
    said = [o for o in owed if "sammanträdesvyn" in o.content.get("body", "")]
    assert len(said) == 1 and "!vy" in said[0].content["body"]
    await bot.store.close()


async def test_p2_vy_sends_a_link_for_this_meeting_and_person_in_a_dm_and_refuses_others(config):
    bot = await with_view(config)
    body, now = await opened(bot)
    await bot.handle(body, "$vy", Message("!vy"), "@bo:localhost", now)
    await bot.handle(body, "$vy2", Message("!vy"), "@mallory:localhost", now)
    owed = await bot.store.unsent()
    (dm,) = [o for o in owed if o.kind == "dm"]
    assert dm.content["user"] == "@bo:localhost"
    link = next(w for w in dm.content["content"]["body"].split() if w.startswith("https://"))
    token = parse_qs(urlparse(link).query)["t"][0]
    assert auth.read(bot.view.secret, token) == auth.Grant("ks", body.engine.meeting.id, "@bo:localhost", 0)
    answers = {
        o.content["m.relates_to"]["m.in_reply_to"]["event_id"]: o.content["body"]
        for o in owed
        if o.kind == "m.room.message" and "m.relates_to" in o.content
    }
    assert "direktmeddelande" in answers["$vy"]
    assert answers["$vy2"].startswith("⛔ § 2")
    await bot.store.close()


async def test_vy_without_web_says_the_view_is_not_switched_on(config):
    bot = await started(config)
    body, now = await opened(bot)
    await bot.handle(body, "$vy", Message("!vy"), "@bo:localhost", now)
    (answer,) = [
        o
        for o in await bot.store.unsent()
        if "m.relates_to" in o.content
        and o.kind == "m.room.message"
        and o.content["m.relates_to"]["m.in_reply_to"]["event_id"] == "$vy"
    ]
    assert "inte påslagen" in answer.content["body"]
    assert not [o for o in await bot.store.unsent() if o.kind in ("dm", "state")]
    await bot.store.close()


async def test_each_committed_step_reaches_an_open_page_once_rendered_per_kind_of_viewer(config):
    bot = await with_view(config)
    body, now = await opened(bot)
    chair = Viewer(auth.Grant("ks", "", "@anna:localhost", 0), privileged=True)
    member = Viewer(auth.Grant("ks", "", "@david:localhost", 0))
    bot.view.viewers["ks"] = {chair, member}
    await bot.handle(body, "$check", Message("!teknikkontroll"), "@anna:localhost", now)
    assert chair.changed.is_set() and member.changed.is_set()
    seen_by_chair, seen_by_member = json.loads(chair.latest), json.loads(member.latest)
    assert seen_by_chair["check"]["count"] == "0 av 5 har svarat" == seen_by_member["check"]["count"]
    assert "missing" in seen_by_chair["check"] and "missing" not in seen_by_member["check"]
    await bot.handle(body, "$ok", Message("!ok"), "@bo:localhost", now)
    assert json.loads(member.latest)["check"]["count"] == "1 av 5 har svarat"
    await bot.store.close()
