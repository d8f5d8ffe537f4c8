"""Sending what the shell owes, as the outbox keeps it: messages and reactions, files (uploaded,
encrypted in an encrypted room), a poll's end, the live view's widget state, and !vy's link in
a direct-message room of its own."""

from __future__ import annotations

import dataclasses
import io
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from nio import (
    AsyncClient,
    RoomCreateResponse,
    RoomPreset,
    RoomPutStateResponse,
    RoomSendResponse,
    UploadResponse,
)

from matrix import content as shapes
from shell.ports import SendFailed
from storage import Outgoing, Store

_MIMETYPES = {"ics": "text/calendar", "md": "text/markdown", "pdf": "application/pdf"}


class SendError(SendFailed):
    """The homeserver did not take a message. Permanent when it answered with an error code
    other than rate limiting; otherwise (no answer, 429) it is worth trying again."""

    def __init__(self, resp: Any) -> None:
        code = getattr(resp, "status_code", None) or ""
        super().__init__(str(resp), code, permanent=bool(code) and code != "M_LIMIT_EXCEEDED")


def encrypted(client: AsyncClient, room_id: str) -> bool:
    """Is the room end-to-end encrypted (m.room.encryption in its state, as the last sync had it)."""
    room = client.rooms.get(room_id)
    return bool(room and room.encrypted)


class Sender:
    def __init__(self, client: AsyncClient, store: Store) -> None:
        self.client, self.store = client, store

    async def send(self, out: Outgoing, event_of_tag: Callable[[str], Awaitable[str]]) -> str:
        """Send one owed message, reaction or file; the transaction id makes a resend after a
        crash land once on the homeserver. One the store could not keep (no id) gets its own."""
        txn = f"distansbot-{out.id}" if out.id else f"distansbot-unstored-{secrets.token_hex(8)}"
        if out.kind == "state":  # the live view's widget (web/widget.py)
            c = out.content
            resp = await self.client.room_put_state(out.room_id, c["type"], c["content"], state_key=c["state_key"])
            if not isinstance(resp, RoomPutStateResponse):
                raise SendError(resp)
            return resp.event_id
        if out.kind == "dm":  # !vy's link
            room_id = await self._direct_room(out.content["user"])
            return await self._room_send(room_id, "m.room.message", out.content["content"], txn)
        relates = out.content.get("m.relates_to") or {}
        if str(relates.get("event_id", "")).startswith(shapes.TAG):
            # A poll's end points at the poll, whose event id is known once the poll was sent.
            poll = await event_of_tag(relates["event_id"].removeprefix(shapes.TAG))
            out = dataclasses.replace(out, content={**out.content, "m.relates_to": {**relates, "event_id": poll}})
        if out.kind != "file":
            return await self._room_send(out.room_id, out.kind, out.content, txn)
        return await self._file(out, txn)

    async def _file(self, out: Outgoing, txn: str) -> str:
        assert out.attachment is not None and out.attachment_name is not None
        data = out.attachment if isinstance(out.attachment, bytes) else out.attachment.encode()
        mimetype = _MIMETYPES[out.attachment_name.rsplit(".", 1)[-1]]
        resp, keys = await self.client.upload(
            io.BytesIO(data),
            content_type=mimetype,
            filename=out.attachment_name,
            filesize=len(data),
            encrypt=encrypted(self.client, out.room_id),
        )
        if not isinstance(resp, UploadResponse):
            raise SendError(resp)
        relates = out.content.get("m.relates_to")
        file_content = shapes.file(out.attachment_name, mimetype, len(data), resp.content_uri, keys, relates)
        return await self._room_send(out.room_id, "m.room.message", file_content, txn)

    async def _room_send(self, room_id: str, kind: str, content: dict, txn: str) -> str:
        resp = await self.client.room_send(room_id, kind, content, tx_id=txn, ignore_unverified_devices=True)
        if not isinstance(resp, RoomSendResponse):
            raise SendError(resp)
        return resp.event_id

    async def _direct_room(self, user: str) -> str:
        """The bot's direct-message room with a person (for !vy), made the first time and kept."""
        key = f"dm:{user}"
        room_id = await self.store.setting(key)
        if room_id is None:
            resp = await self.client.room_create(
                is_direct=True, invite=[user], preset=RoomPreset.trusted_private_chat, name="distansbot"
            )
            if not isinstance(resp, RoomCreateResponse):
                raise SendError(resp)
            room_id = resp.room_id
            await self.store.set_setting(key, room_id)
        return room_id
