"""The floor for latency: a minimal bot on the same client library that answers every command
with a reply, doing nothing else. What it costs is what the homeserver round trip costs.

    python bench/echo.py HOMESERVER USER PASSWORD ROOM [STORE_DIR]

With STORE_DIR it is the fair floor for a bot like distansbot: end-to-end encryption enabled
with nio's key store there, keys kept flowing after each sync, and each batch's sync token
written durably to an SQLite file (WAL, synchronous=FULL) as a bot that loses nothing must.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, RoomMessageText, SyncResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matrix.client import sync_filter_for  # noqa: E402


async def main(homeserver: str, user: str, password: str, room: str, store: str | None = None) -> None:
    db = None
    if store:
        config = AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True)
        client = AsyncClient(homeserver, user, store_path=store, config=config)
        db = sqlite3.connect(Path(store) / "echo.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT)")
    else:
        client = AsyncClient(homeserver, user)
    assert isinstance(await client.login(password, device_name="echo"), LoginResponse)
    if store:
        await client.keys_upload()
    await client.join(room)
    first = await client.sync(timeout=0, full_state=True)
    token = first.next_batch
    print("ready", flush=True)
    sync_filter = sync_filter_for(user)  # the bot's own, so that the floor is a well-made bot
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
                    await client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        if db is not None:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            db.execute("INSERT OR REPLACE INTO settings VALUES ('sync_token', ?)", (token,))


if __name__ == "__main__":
    if len(sys.argv) > 5:
        Path(sys.argv[5]).mkdir(parents=True, exist_ok=True)
    asyncio.run(main(*sys.argv[1:6]))
