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

Why a copy and not nio's tables in PostgreSQL: nio's store is SQLite by construction (peewee's
SqliteDatabase, INSERT OR REPLACE, raw SQLite queries, synchronous calls), and a copy taken at
the points where the bot's own state moves keeps the two in step: a crash before a save loses
only what the next sync re-delivers (the token had not moved past it).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from storage import Store


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
