"""Real Matrix clients (matrix-nio) playing the chair, members and others, writing as Element does:
display names in `body`, matrix.to links in `formatted_body`, ids in `m.mentions`.

Also: running the bot as its own process, so that tests and the demo can kill and restart it.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, LoginResponse, RoomCreateResponse, RoomSendResponse, SyncResponse

from testing.homeserver import stop_process

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Person:
    localpart: str
    name: str
    client: AsyncClient | None = None

    @property
    def user_id(self) -> str:
        assert self.client is not None
        return self.client.user_id


async def connect(homeserver_url: str, person: Person, password: str, store: Path) -> Person:
    """Log in with an end-to-end encryption capable device (keys kept under `store`)."""
    await asyncio.to_thread(store.mkdir, parents=True, exist_ok=True)
    client = AsyncClient(
        homeserver_url,
        f"@{person.localpart}:localhost",
        store_path=str(store),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
    )
    resp = await client.login(password, device_name="test")
    if not isinstance(resp, LoginResponse):
        raise RuntimeError(f"login {person.localpart}: {resp}")
    await client.set_displayname(person.name)
    await client.keys_upload()
    person.client = client
    return person


async def catch_up(client: AsyncClient) -> None:
    """What a client does between syncs for encryption: keys up, others' devices, sessions out."""
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    await client.send_to_device_messages()


VIEW_LINK = re.compile(r"https?://\S+/vy\?t=\S+")


@dataclass(frozen=True)
class DirectLink:
    """The !vy link as the person's client read it: the room it came in, the link, and whether it
    came end-to-end encrypted (and the client could decrypt it)."""

    room_id: str
    link: str
    encrypted: bool


async def view_link(person: Person, tries: int = 60) -> DirectLink:
    """The !vy link the bot sent the person in a direct message: their client joins the room it
    is invited to and reads the link, decrypting it if it came encrypted."""
    client = person.client
    assert client is not None
    for _ in range(tries):
        resp = await client.sync(timeout=1000)
        await catch_up(client)
        for room_id in list(getattr(resp.rooms, "invite", {}) or {}):
            await client.join(room_id)
        for room_id, joined in resp.rooms.join.items():
            for ev in joined.timeline.events:
                found = VIEW_LINK.search(getattr(ev, "body", None) or "")
                if found:
                    return DirectLink(room_id, found.group(0), bool(getattr(ev, "decrypted", False)))
    raise TimeoutError("no !vy link came")


def element_message(template: str, *people: Person) -> dict[str, Any]:
    """`template` with `{}` for each mentioned person, as Element would send it."""
    body = template.format(*(p.name for p in people))
    formatted = (
        html.escape(template)
        .replace("\n", "<br>")
        .format(*(f'<a href="https://matrix.to/#/{p.user_id}">{html.escape(p.name)}</a>' for p in people))
    )
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if people:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = formatted
    content["m.mentions"] = {"user_ids": [p.user_id for p in people]}
    return content


async def ready_to_send(client: AsyncClient, room_id: str) -> None:
    """nio sends only to a room it has synced, and to an encrypted one only with the members'
    devices and keys of now; a room it knows is not encrypted needs no sync (each costs the
    homeserver the whole delta since this person last spoke)."""
    room = client.rooms.get(room_id)
    if room is None or room.encrypted:
        await client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 1}}})
        await catch_up(client)


async def say(person: Person, room_id: str, template: str, *people: Person) -> str:
    """Send a message (encrypted where the room is); returns its event id."""
    client = person.client
    assert client is not None
    await ready_to_send(client, room_id)
    resp = await client.room_send(
        room_id, "m.room.message", element_message(template, *people), ignore_unverified_devices=True
    )
    if not isinstance(resp, RoomSendResponse):
        raise RuntimeError(f"send by {person.localpart}: {resp}")
    return resp.event_id


async def react(person: Person, room_id: str, event_id: str, key: str = "✅") -> str:
    assert person.client is not None
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
    resp = await person.client.room_send(room_id, "m.reaction", content, ignore_unverified_devices=True)
    assert isinstance(resp, RoomSendResponse), resp
    return resp.event_id


class Observer:
    """A client that syncs all the time and keeps every room event it sees, as raw dicts."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task | None = None
        self._changed = asyncio.Event()
        self.on_event: Callable[[dict[str, Any]], None] | None = None

    async def start(self) -> None:
        client = self.person.client
        assert client is not None
        resp = await client.sync(timeout=0, full_state=True)
        assert isinstance(resp, SyncResponse)
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        client = self.person.client
        assert client is not None
        while True:
            try:
                resp = await client.sync(timeout=2000, sync_filter={"room": {"timeline": {"limit": 200}}})
                await catch_up(client)
            except Exception:  # the homeserver is away (outage tests): keep trying
                await asyncio.sleep(0.5)
                continue
            if not isinstance(resp, SyncResponse):
                await asyncio.sleep(0.5)
                continue
            for room_id, joined in resp.rooms.join.items():
                for ev in joined.timeline.events:
                    raw = dict(ev.source)
                    raw["room_id"] = room_id
                    self.events.append(raw)
                    if self.on_event:
                        self.on_event(raw)
            self._changed.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if match(ev):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching event")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass

    def answers_to(self, event_id: str) -> list[dict[str, Any]]:
        """The bot's replies and reactions to one command, in order."""
        return [ev for ev in self.events if relates_to(ev) == event_id]

    async def answer(self, event_id: str, timeout: float = 30) -> dict[str, Any]:
        """The first answer to a command: a reply (notice) or a ✅ reaction."""
        return await self.wait_for(lambda ev: relates_to(ev) == event_id, timeout)


def relates_to(ev: dict[str, Any]) -> str | None:
    """The event a reply or a reaction answers."""
    rel = ev.get("content", {}).get("m.relates_to") or {}
    if rel.get("rel_type") == "m.annotation":
        return rel.get("event_id")
    return (rel.get("m.in_reply_to") or {}).get("event_id")


def text_of(ev: dict[str, Any]) -> str:
    """What an answer says: a notice's body, or the reaction key."""
    content = ev.get("content", {})
    if ev.get("type") == "m.reaction":
        return content["m.relates_to"]["key"]
    return content.get("body", "")


ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


async def create_room(
    chair: Person, invite: list[str], name: str, encrypted: bool = False, moderators: tuple[str, ...] = ()
) -> str:
    """A room the chair creates; `moderators` (power 50) may set its widgets, for one."""
    assert chair.client is not None
    # As Element Call sets up a room: members may write their own call membership state.
    resp = await chair.client.room_create(
        name=name,
        invite=invite,
        initial_state=[ENCRYPTION] if encrypted else [],
        power_level_override={"events": {CALL_MEMBER: 0}},
    )
    if not isinstance(resp, RoomCreateResponse):
        raise RuntimeError(f"room_create: {resp}")
    if moderators:  # added to the levels the room got (a creator of a v12 room is in none of them)
        levels = await chair.client.room_get_state_event(resp.room_id, "m.room.power_levels")
        content = dict(levels.content)
        content["users"] = {**content.get("users", {}), **dict.fromkeys(moderators, 50)}
        await chair.client.room_put_state(resp.room_id, "m.room.power_levels", content)
    return resp.room_id


async def join_all(people: list[Person], room_id: str) -> None:
    for p in people:
        assert p.client is not None
        await p.client.join(room_id)


def write_config(
    path: Path,
    homeserver_url: str,
    bot_password: str,
    data_dir: Path,
    bodies: list[dict],
    tables: dict[str, dict] | None = None,
    user_id: str = "@distansbot:localhost",
    database: str | None = None,
    **top: Any,
) -> Path:
    """A bot configuration file (TOML), written from plain data; `tables` are further sections
    (`[web]`), whose values are text or tables of text. `database`: a PostgreSQL URL instead of
    the SQLite file in `data_dir`."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in top.items()] + [
        "[matrix]",
        f'homeserver = "{homeserver_url}"',
        f'user_id = "{user_id}"',
        f'password = "{bot_password}"',
        'device_name = "distansbot"',
        "",
        "[storage]",
        f"database = {json.dumps(database or str(data_dir / 'distansbot.sqlite3'))}",
        f"e2ee_store = {json.dumps(str(data_dir / 'e2ee'))}",
    ]
    for name, table in (tables or {}).items():
        lines += ["", f"[{name}]"]
        for key, value in table.items():
            if isinstance(value, dict):
                value = "{" + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items()) + "}"
            else:
                value = json.dumps(value, ensure_ascii=False)
            lines.append(f"{key} = {value}")
    for body in bodies:
        lines += ["", "[[bodies]]"]
        for key, value in body.items():
            if key not in ("members", "substitutes", "attendees"):
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        for table in ("members", "substitutes", "attendees"):
            for entry in body.get(table, []):
                lines.append(f"[[bodies.{table}]]")
                lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


class BotProcess:
    """`python bot.py --config PATH` as a child process, killable at any moment."""

    def __init__(
        self, config: Path, log: Path, env: dict[str, str] | None = None, program: list[str] | None = None
    ) -> None:
        """`program`: what runs bot.py's main (default `python bot.py`)."""
        self.config = config
        self.log = log
        self.env = env or dict(os.environ)
        self.program = program or [sys.executable, str(ROOT / "bot.py")]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115  (the child keeps it)
        self.proc = subprocess.Popen(
            [*self.program, "--config", str(self.config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**self.env, "DISTANSBOT_LOG": "INFO"},
        )

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        stop_process(self.proc)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


CALL_MEMBER = "org.matrix.msc3401.call.member"


def call_membership(person: Person, device: str, expires_ms: int | None = 14_400_000) -> dict[str, Any]:
    """A call membership as today's Element Call writes it (MSC4143 content, MSC3401 type)."""
    content: dict[str, Any] = {
        "application": "m.call",
        "call_id": "",
        "scope": "m.room",
        "device_id": device,
        "focus_active": {"type": "livekit", "focus_selection": "oldest_membership"},
        "foci_preferred": [{"type": "livekit", "livekit_service_url": "https://livekit.example", "livekit_alias": "x"}],
        "m.call.intent": "video",
    }
    if expires_ms is not None:
        content["expires"] = expires_ms
    return content


async def set_call(person: Person, room_id: str, device: str, content: dict[str, Any], delay_ms: int = 0) -> str:
    """Write the person's call membership for a device (empty content: the device left); with
    `delay_ms`, as a delayed event the server sends itself (MSC4140), as Element Call schedules
    its leave for when the client vanishes. Returns the membership event's id (a delayed one's: "")."""
    client = person.client
    assert client is not None
    state_key = f"_{client.user_id}_{device}"
    path = f"/_matrix/client/v3/rooms/{room_id}/state/{CALL_MEMBER}/{state_key}"
    if delay_ms:
        path += f"?org.matrix.msc4140.delay={delay_ms}"
    url = client.homeserver + path
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {client.access_token}"}
        async with http.put(url, json=content, headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"call membership of {client.user_id}: {resp.status} {await resp.text()}")
            return (await resp.json()).get("event_id", "")


STICKY_MEMBER = "org.matrix.msc4143.rtc.member"


def sticky_membership(person: Person, device: str, member_id: str) -> dict[str, Any]:
    """A call membership as Element Call's Matrix 2.0 mode writes it (matrix-js-sdk
    StickyEventMembershipManager: MSC4143 content, keyed by the join's own id)."""
    assert person.client is not None
    return {
        "application": {"type": "m.call", "m.call.intent": "video"},
        "slot_id": "m.call#ROOM",
        "rtc_transports": [{"type": "livekit", "livekit_service_url": "https://livekit.example"}],
        "member": {"device_id": device, "user_id": person.client.user_id, "id": member_id},
        "versions": [],
        "msc4354_sticky_key": member_id,
    }


async def send_sticky(person: Person, room_id: str, content: dict[str, Any], duration_ms: int = 3_600_000) -> str:
    """Send a sticky call membership event (MSC4354) as Element Call does, sticky for an hour,
    encrypted in an encrypted room (nio readies the room key as its room_send would; the sticky
    parameter is one nio does not send); `{"msc4354_sticky_key": id}` alone is its leave.
    Returns the event's id."""
    client = person.client
    assert client is not None
    kind = STICKY_MEMBER
    await ready_to_send(client, room_id)
    if client.rooms[room_id].encrypted:
        await client.joined_members(room_id)
        if client.should_query_keys:
            await client.keys_query()
        if client.olm and client.olm.should_share_group_session(room_id):
            await client.share_group_session(room_id, ignore_unverified_devices=True)
        kind, content = client.encrypt(room_id, kind, content)
    path = f"/_matrix/client/v3/rooms/{room_id}/send/{kind}/{secrets.token_hex(8)}"
    url = f"{client.homeserver}{path}?org.matrix.msc4354.sticky_duration_ms={duration_ms}"
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {client.access_token}"}
        async with http.put(url, json=content, headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"sticky call membership of {client.user_id}: {resp.status} {await resp.text()}")
            return (await resp.json())["event_id"]


async def respond(person: Person, room_id: str, poll_event_id: str, answer_id: str) -> str:
    """Answer a poll as Element does (MSC3381 response, unstable name); returns the event id."""
    client = person.client
    assert client is not None
    content = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event_id},
        "org.matrix.msc3381.poll.response": {"answers": [answer_id]},
    }
    resp = await client.room_send(room_id, "org.matrix.msc3381.poll.response", content, ignore_unverified_devices=True)
    if not isinstance(resp, RoomSendResponse):
        raise RuntimeError(f"poll response by {person.localpart}: {resp}")
    return resp.event_id
