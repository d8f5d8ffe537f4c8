"""The floor for latency: a minimal bot on the same client library that answers every command
with a reply, doing nothing else. What it costs is what the homeserver round trip costs.

    python bench/echo.py HOMESERVER USER PASSWORD ROOM
"""

from __future__ import annotations

import asyncio
import sys

from nio import AsyncClient, LoginResponse, RoomMessageText, SyncResponse


async def main(homeserver: str, user: str, password: str, room: str) -> None:
    client = AsyncClient(homeserver, user)
    assert isinstance(await client.login(password, device_name="echo"), LoginResponse)
    await client.join(room)
    first = await client.sync(timeout=0, full_state=True)
    token = first.next_batch
    print("ready", flush=True)
    sync_filter = {"room": {"timeline": {"limit": 100}}}
    while True:
        resp = await client.sync(timeout=30_000, since=token, sync_filter=sync_filter)
        if not isinstance(resp, SyncResponse):
            await asyncio.sleep(0.5)
            continue
        token = resp.next_batch
        for room_id, joined in resp.rooms.join.items():
            for ev in joined.timeline.events:
                if isinstance(ev, RoomMessageText) and ev.sender != user and ev.body.startswith("!"):
                    content = {
                        "msgtype": "m.notice",
                        "body": f"eko: {ev.body[:40]}",
                        "m.relates_to": {"m.in_reply_to": {"event_id": ev.event_id}},
                    }
                    await client.room_send(room_id, "m.room.message", content)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
