"""nio's key store kept in the bot's database too, so that a standby on another machine takes
over as the same Matrix device, with the same keys (members see no new device).

nio keeps its keys (the Olm account, the Olm and Megolm sessions, the devices) in a SQLite
file of its own, written as it goes. That file stays nio's working copy; a copy of it (the file's
bytes, read between two of nio's writes) is saved in the database whenever it changed:
after each sync batch is handled and before the sync token may move past it, after the keys
are uploaded or claimed, and after each message sent. The save is a write like any other,
fenced by the lease (storage.lease), so a process that was taken over cannot overwrite the new
holder's keys. A process that starts to serve writes the saved copy over its working copy
before nio opens it.

Keys are saved before they are uploaded (`upload_keys`), not only after: the homeserver refuses
for good a one-time key id it has with other contents, so a key it may have must never be
lost to a kill; and a device whose upload's answer was lost is recognised by the homeserver's
copy of its identity key (`keys_lost`), not taken for a device whose keys are gone.

Why a copy and not nio's tables in PostgreSQL: nio's store is SQLite by construction (peewee's
SqliteDatabase, INSERT OR REPLACE, raw SQLite queries, synchronous calls), and a copy taken at
the points where the bot's own state moves keeps the two in step: a crash before a save loses
only what the next sync re-delivers (the token had not moved past it).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path

import aiohttp
from nio import Api, AsyncClient, KeysUploadResponse

from storage import Store

log = logging.getLogger("distansbot")
# How long the homeserver gets to say which identity key it has for the bot's device.
QUERY_SECONDS = 10


def path_of(store_dir: Path, user_id: str, device_id: str) -> Path:
    """The file nio's DefaultStore keeps a device's keys in."""
    return store_dir / f"{user_id}_{device_id}.db"


def _read(path: Path) -> bytes | None:
    """The working copy as it is between two of nio's writes. nio writes its store synchronously,
    on the event loop's own thread, each write a committed transaction in SQLite's rollback
    journal mode (peewee's default), so a read on this thread between them is a whole database:
    read here, not in a thread of its own, where nio could write meanwhile."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _write(path: Path, data: bytes) -> None:
    """The saved copy in place of the working copy, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".restoring")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    for stale in (Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(tmp, path)


class KeyCopy:
    """The saved copy of one device's key store, kept in step with the working copy."""

    def __init__(self, store: Store, path: Path | None = None) -> None:
        self.store = store
        self.path = path  # None until the bot has logged in: nothing to save yet
        self.saved: str | None = None  # the digest of what the database has

    async def restore(self) -> bool:
        """Before nio opens its store: the database's copy, if it has one, over the working copy.
        False when the database has none (SQLite, or the first start on PostgreSQL)."""
        data = await self.store.key_store()
        if data is None:
            return False
        await asyncio.to_thread(_write, self.path, data)
        self.saved = hashlib.sha256(data).hexdigest()
        return True

    async def save(self) -> None:
        """The working copy saved, if it changed since the last save (raises if the database
        does not take it: the caller must not move on as if it had)."""
        if not self.store.keeps_key_store or self.path is None:
            return
        data = _read(self.path)
        if data is None:
            return
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.saved:
            await self.store.save_key_store(data)
            self.saved = digest


async def upload_keys(client: AsyncClient, copy: KeyCopy) -> None:
    """The device's keys uploaded as nio's `keys_upload` does, but saved first (nio's working
    copy and the database's). nio makes new one-time keys in memory, their ids counted on from
    the account, and saves the account only once the homeserver has answered: killed between
    the two, the next start (here, or a standby) would count from the same place and make keys
    of the same ids with other contents, which Synapse refuses (400) at every upload after, so
    the device could take no new Olm session once its keys ran out. Saved first, the same keys
    are uploaded again, which the homeserver takes (it has them, or not yet)."""
    assert client.olm is not None
    content = client.olm.share_keys()
    client.olm.save_account()
    await copy.save()
    method, path, data = Api.keys_upload(client.access_token, content)
    # nio's own request (retries, the answer marking the keys published and the account saved)
    resp = await client._send(KeysUploadResponse, method, path, data)
    if not isinstance(resp, KeysUploadResponse):
        log.error("Hemservern tog inte emot botens krypteringsnycklar: %s", resp)


async def keys_lost(client: AsyncClient) -> bool:
    """Is the account nio restored for the logged-in device not the device's own (its keys
    lost)? One nio has not marked as uploaded may be new, made because the key store was gone,
    or the device's own whose first upload's answer a kill lost (`upload_keys` saved it before).
    The homeserver tells them apart: it has this account's identity key for the device (the
    answer is applied now, as nio would have on receiving it: the keys marked published, the
    account shared and saved), none (the first upload is still to come), or another (lost)."""
    if client.olm is None or client.olm.account.shared:
        return False
    own = client.olm.account.identity_keys["curve25519"]
    url = f"{client.homeserver}/_matrix/client/v3/keys/query"
    query = {"device_keys": {client.user_id: [client.device_id]}}
    headers = {"Authorization": f"Bearer {client.access_token}"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=QUERY_SECONDS)) as s,
        s.post(url, json=query, headers=headers) as r,
    ):
        r.raise_for_status()
        found = await r.json()
    device = (found.get("device_keys") or {}).get(client.user_id, {}).get(client.device_id) or {}
    uploaded = (device.get("keys") or {}).get(f"curve25519:{client.device_id}")
    if uploaded is None:
        return False
    if uploaded != own:
        return True
    client.olm.account.shared = True
    client.olm.mark_keys_as_published()
    client.olm.save_account()
    return False
