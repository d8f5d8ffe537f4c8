"""The live view's part of the shell, over a real SQLite store: the widget's state events, !vy,
and the bus that pushes each committed step to open pages."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlparse

import aiohttp

from commands.text import Message
from config import WebConfig
from matrix import content
from shell import Shell
from testing.driver import started
from testing.homeserver import free_port
from testing.stage import wait_until
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


async def _lines(url: str, token: str, got: list[dict], stop: asyncio.Event) -> int:
    """A page's event stream: each view it is sent (parsed), until `stop`; returns its status."""
    async with aiohttp.ClientSession() as s, s.get(f"{url}/api/stream", params={"t": token}) as r:
        while r.status == 200 and not stop.is_set():
            try:
                line = await asyncio.wait_for(r.content.readline(), 0.1)
            except TimeoutError:
                continue
            if line.startswith(b"data: {"):
                got.append(json.loads(line[6:]))
        return r.status


async def test_par_10_a_standbys_view_waits_until_it_serves_then_shows_the_meeting_and_its_steps(config):
    """A standby's view server runs, but its shell has loaded no meeting (it may not serve): a
    page opened on it (a !vy link of the meeting under way) is answered only once it has taken
    over, with the meeting it now serves, and then gets every step. Before, it was shown "no
    meeting called", and the link refused as for a meeting that had ended."""
    served = await with_view(config)
    body, now = await opened(served)  # what the process taken over from left in the database
    secret = bytes.fromhex(await served.store.setting("web_secret") or "")
    assert secret  # made by the process that served
    link = auth.sign(secret, auth.Grant("ks", body.engine.meeting.id, "@bo:localhost", 0))
    standby = Shell(config, served.store, content.encode)
    port = free_port()
    standby.view = ViewServer(standby, WebConfig(listen=f"127.0.0.1:{port}", public_url="https://vy.example.se"))
    standby.bus.subscribe(standby.view.on_step)
    await standby.view.start()
    got: list[dict] = []
    stop = asyncio.Event()
    page = asyncio.create_task(_lines(f"http://127.0.0.1:{port}", link, got, stop))
    try:
        await asyncio.sleep(0.5)
        assert got == [] and not page.done()  # nothing shown while standing by, and not refused
        await standby.load()  # it takes over (`Shell._serve`)
        await wait_until(lambda: len(got) == 1, timeout=5)
        assert got[0]["meeting"] == body.engine.meeting.id and got[0]["phase"] == "open"
        assert [i["n"] for i in got[0]["agenda"] if i["state"] == "uppe nu"] == [1]
        steps = standby.bodies["ks"]
        steps.room_id = "!room:localhost"
        standby.by_room["!room:localhost"] = steps
        await standby.handle(steps, "$motion", Message("!yrka Bifall"), "@bo:localhost", now)
        await wait_until(lambda: len(got) == 2, timeout=5)
        assert got[1]["version"] == got[0]["version"] + 1
    finally:
        stop.set()
        await asyncio.gather(page, return_exceptions=True)
        await standby.view.stop()
        await served.store.close()
