"""The bot's web server for the live view (aiohttp, which the bot already has through nio).

    GET  /vy                 the page (in Element as a widget, or from a !vy link)
    GET  /static/…           its script (Element's widget API, bundled: no CDN) and style
    POST /api/openid         an OpenID token from Element -> a token of the bot's own
    GET  /api/stream?t=…     server-sent events: the view now, then again after every step

Nothing polls: each step the shell commits is published on its bus, and every open page of
that body gets the new view at once (the latest only, if a page is slow to read).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from config import WebConfig
from minutes.view import privileged, view
from rules.state import Event
from shell.bus import Committed
from shell.ports import Notice, Out
from web import auth, widget

log = logging.getLogger("distansbot")

STATIC = Path(__file__).parent / "static"
# A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 15
SECRET_SETTING = "web_secret"


@dataclass(eq=False)
class Viewer:
    grant: auth.Grant
    privileged: bool = False
    latest: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    ended: str | None = None  # why the stream ends (the link no longer holds)
    closing: bool = False  # the bot stops: the page's browser reconnects when it is back


class ViewServer:
    def __init__(self, shell: Any, config: WebConfig) -> None:
        self.shell = shell
        self.config = config
        self.secret = b""
        self.viewers: dict[str, set[Viewer]] = {}  # body id -> open streams
        self.runner: web.AppRunner | None = None
        self.client: ClientSession | None = None
        # The shell serves, its meetings loaded (`serve`). A standby's server answers only from
        # then: before, it knows no meeting, and would show "no meeting called" or refuse a good
        # link as for one that has ended, and the page would not ask again.
        self.serving = asyncio.Event()

    # --- tokens --------------------------------------------------------------------------------

    async def serve(self) -> None:
        """The shell's meetings are loaded as the serving process's: pages are shown from now."""
        await self.load_secret()
        self.serving.set()

    async def load_secret(self) -> None:
        """The key of the bot's tokens, kept in the database: !vy links hold across a restart, and
        a takeover. Made (a write) only by the process that serves, so no standby makes another."""
        saved = await self.shell.store.setting(SECRET_SETTING)
        if saved is None:
            saved = secrets.token_hex(32)
            await self.shell.store.set_setting(SECRET_SETTING, saved)
        self.secret = bytes.fromhex(saved)

    def link(self, body_id: str, meeting_id: str, user: str) -> str:
        """A !vy link: this meeting, this person, until the meeting is justerat or cancelled."""
        token = auth.sign(self.secret, auth.Grant(body_id, meeting_id, user, 0))
        return f"{self.config.public_url}/vy?t={token}"

    def widget_url(self, body_id: str) -> str:
        return f"{self.config.public_url}/vy?organ={body_id}"

    def widget(self, body_id: str, events: tuple[Event, ...], may_set: Callable[[str], bool]) -> list[Out]:
        """The room's widget follows the meeting (opened, closed, justerat). Lacking the power to
        set it, the bot says so once, when the meeting opens."""
        if not may_set(widget.WIDGET):
            return [Notice(widget.NO_POWER.format(kind=widget.WIDGET))] if widget.opens(events) else []
        return list(widget.states(body_id, self.shell.config.matrix.user_id, self.widget_url(body_id), events))

    def _admit(self, grant: auth.Grant, now: datetime) -> Any:
        body = self.shell.bodies.get(grant.body)
        if body is None:
            raise auth.Refused("Organet finns inte.")
        auth.admit(grant, body.engine.meeting, body.engine.roster, now)
        return body

    # --- serving -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024)
        app.add_routes(
            [
                web.get("/vy", self.page),
                web.static("/static", STATIC),
                web.post("/api/openid", self.openid),
                web.get("/api/stream", self.stream),
            ]
        )
        return app

    async def start(self) -> None:
        self.client = ClientSession()
        # Open streams end at once on a stop (`closing`): the bot is gone well within 10 seconds.
        self.runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2)
        await self.runner.setup()
        host, port = self.config.host_port
        await web.TCPSite(self.runner, host, port).start()
        log.info("Sammanträdesvyn lyssnar på %s (%s)", self.config.listen, self.config.public_url)

    async def stop(self) -> None:
        for viewers in self.viewers.values():
            for v in viewers:
                v.closing = True
                v.changed.set()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.client is not None:
            await self.client.close()

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC / "view.html",
            headers={
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def openid(self, request: web.Request) -> web.Response:
        await self.serving.wait()
        try:
            asked = await request.json()
        except ValueError:
            return _refused("Fel form på frågan.", 400)
        if not isinstance(asked, dict) or not isinstance(asked.get("organ"), str):
            return _refused("Fel form på frågan.", 400)
        now = datetime.now(UTC)
        body = self.shell.bodies.get(asked["organ"])
        if body is None:
            return _refused("Organet finns inte.", 403)
        try:
            # Only a server that someone on the roster belongs to is asked: the bot makes no
            # requests to whatever host a page names.
            auth.roster_server(asked.get("matrix_server_name"), body.engine.roster)
            assert self.client is not None
            user = await auth.openid_user(
                self.client,
                asked.get("access_token"),
                asked.get("matrix_server_name"),
                self.config.openid_servers,
            )
            grant = auth.Grant(asked["organ"], "", user, int(now.timestamp()) + auth.SESSION_SECONDS)
            self._admit(grant, now)
        except auth.Refused as e:
            log.info("Sammanträdesvyn nekades: %s", e)
            return _refused(str(e), 403)
        return web.json_response({"token": auth.sign(self.secret, grant), "user": user})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        await self.serving.wait()
        now = datetime.now(UTC)
        try:
            grant = auth.read(self.secret, request.query.get("t", ""))
            body = self._admit(grant, now)
        except auth.Refused as e:
            return _refused(str(e), 403)
        viewer = Viewer(grant, privileged(body.engine.meeting, body.engine.roster, grant.user))
        viewer.latest = self._render(body, body.engine.meeting, viewer, now)
        viewer.changed.set()
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        self.viewers.setdefault(grant.body, set()).add(viewer)  # from now: no step is missed
        try:
            await resp.prepare(request)
            who = json.dumps(body.engine.roster.label(grant.user), ensure_ascii=False)
            await resp.write(f"event: vem\ndata: {who}\n\n".encode())
            while True:
                try:
                    await asyncio.wait_for(viewer.changed.wait(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await resp.write(b": \n\n")
                    continue
                viewer.changed.clear()
                if viewer.closing:
                    break
                if viewer.latest is not None:
                    data, viewer.latest = viewer.latest, None
                    await resp.write(f"data: {data}\n\n".encode())
                if viewer.ended is not None:
                    await resp.write(f"event: slut\ndata: {json.dumps(viewer.ended, ensure_ascii=False)}\n\n".encode())
                    break
        except ConnectionResetError:  # the page was closed
            pass
        finally:
            self.viewers[grant.body].discard(viewer)
        return resp

    def _render(self, body: Any, meeting: Any, viewer: Viewer, now: datetime) -> str:
        return json.dumps(
            view(meeting, body.engine.roster, viewer.privileged, now), ensure_ascii=False, separators=(",", ":")
        )

    def on_step(self, step: Committed) -> None:
        """A step committed: every open page of the body gets the view after it. Called in the
        shell's commit: whatever goes wrong here is logged and never reaches the meeting."""
        try:
            self._push(step)
        except Exception:
            log.exception("Sammanträdesvyn kunde inte uppdateras efter ett steg")

    def _push(self, step: Committed) -> None:
        viewers = self.viewers.get(step.body)
        if not viewers:
            return
        body = self.shell.bodies[step.body]
        rendered: dict[bool, str] = {}  # one rendering per kind of viewer, not one per page
        for v in viewers:
            try:
                self._admit(v.grant, step.at)
            except auth.Refused as e:
                v.ended = str(e)
            v.privileged = privileged(step.meeting, body.engine.roster, v.grant.user)
            if v.privileged not in rendered:
                rendered[v.privileged] = self._render(body, step.meeting, v, step.at)
            v.latest = rendered[v.privileged]
            v.changed.set()


def _refused(text: str, status: int) -> web.Response:
    return web.json_response({"fel": text}, status=status)
