"""The bot's store behind one protocol (`storage.base.Store`), with two backends: SQLite, the
embedded default (a file path), and PostgreSQL (a `postgresql://` URL), chosen by
`[storage].database`. Only `storage.sqlite` imports sqlite, only `storage.postgres` asyncpg.
"""

from __future__ import annotations

from pathlib import Path

from storage.base import Anchor, Break, Chain, Outgoing, Store, chain

__all__ = ["Anchor", "Break", "Chain", "Outgoing", "Store", "chain", "is_url", "open_store"]

URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(database: str | Path) -> bool:
    """A PostgreSQL URL, not a file: which backend `database` names."""
    return isinstance(database, str) and database.startswith(URL_SCHEMES)


async def open_store(database: str | Path, password: str | None = None) -> Store:
    """The store `database` names, open and migrated: a `postgresql://` URL (its password in
    the URL or `password`) or a SQLite file's path."""
    if is_url(database):
        from storage.postgres import PostgresStore

        return await PostgresStore.open(str(database), password)
    from storage.sqlite import SqliteStore

    return await SqliteStore.open(database)
