"""Sending what the shell owes, as the outbox keeps it: messages and reactions, files (uploaded,
encrypted in an encrypted room), a poll's end, the live view's widget state, and !vy's link in
a direct-message room of its own, which is end-to-end encrypted (the link opens the meeting's
view for the one person: it must be read by no one else)."""

from __future__ import annotations

import dataclasses
import io
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from nio import (
    AsyncClient,
    Event,
    MatrixRoom,
    RoomCreateResponse,
    RoomGetStateResponse,
    RoomMemberEvent,
    RoomPreset,
    RoomPutStateResponse,
    RoomSendResponse,
    UploadResponse,
)

from matrix import content as shapes
from shell.ports import SendFailed
from storage import Outgoing, Store

_MIMETYPES = {"ics": "text/calendar", "md": "text/markdown", "pdf": "application/pdf"}
ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


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
    def __init__(self, client: AsyncClient, store: Store, sent: Callable[[], Awaitable[None]]) -> None:
        self.client, self.store = client, store
        self.sent = sent  # after each message: sharing a room's key moved Olm sessions on (standby's key store)

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
        if await self.known(out.room_id) is None:  # before a file is uploaded: encrypted or not
            raise SendFailed(f"rummets tillstånd kunde inte läsas ({out.room_id})")
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
        await self.sent()
        return resp.event_id

    async def _direct_room(self, user: str) -> str:
        """The bot's direct-message room with a person (for !vy), made encrypted the first time
        and kept, under a key of its own: a room an earlier version made unencrypted (kept under
        `dm:`) is not used again."""
        key = f"dm-e2ee:{user}"
        room_id = await self.store.setting(key)
        if room_id is None:
            resp = await self.client.room_create(
                is_direct=True,
                invite=[user],
                preset=RoomPreset.trusted_private_chat,
                name="distansbot",
                initial_state=[ENCRYPTION],
            )
            if not isinstance(resp, RoomCreateResponse):
                raise SendError(resp)
            room_id = resp.room_id
            await self.store.set_setting(key, room_id)
        room = await self.known(room_id)
        if room is None:
            raise SendFailed(f"direktmeddelanderummets tillstånd kunde inte läsas ({room_id})")
        # The bot's sync leaves out its own events (`matrix.client.sync_filter_for`), and with them
        # the room's making: a room a sync brought knows neither that it is encrypted nor whom the
        # bot invited, and nio would send the link in the clear, or share its key with no one.
        room.encrypted = True
        if user not in room.users:
            room.add_member(user, None, None, invited=True)
        return room_id

    async def known(self, room_id: str) -> MatrixRoom | None:
        """The room as nio needs it to send in it (encrypted or not, and to whom a room key goes).
        nio knows a room only from a sync that carried it, and a process that starts from a stored
        sync token (restarted, or a standby that took over) hears nothing of a quiet room: what it
        owes there would wait for the next event in the room. So a room nio has not synced is
        read from its state, as an initial sync gives it; nio then loads its members itself
        before it shares a room key (`members_synced` stays False). None: its state could not
        be read (the bot is not in the room)."""
        if room_id in self.client.rooms:
            return self.client.rooms[room_id]
        resp = await self.client.room_get_state(room_id)
        if not isinstance(resp, RoomGetStateResponse):
            return None
        room = MatrixRoom(room_id, self.client.user_id, room_id in self.client.encrypted_rooms)
        for event in map(Event.parse_event, resp.events):
            if isinstance(event, RoomMemberEvent):
                room.handle_membership(event)
            else:
                room.handle_event(event)
        if room.encrypted:
            self.client.encrypted_rooms.add(room_id)
        return self.client.rooms.setdefault(room_id, room)  # a sync may have brought it meanwhile
