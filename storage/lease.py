"""Standby on PostgreSQL: of the bot processes that share a database, the one holding the lease
serves, the others stand by and take it over when it is not renewed.

Why two can never serve at once:
- The lease is one row (holder, epoch, expires_at), with times by the database's clock alone, so
  the machines' clocks never matter. A standby takes it only once it has expired, raising the
  epoch; the holder renews it every RENEW_SECONDS, and only while the epoch is still its own.
- Every write (a command's events, answers and handled mark; the sync token; what was sent)
  first reads the lease row FOR SHARE in the write's own transaction and goes on only if holder
  and epoch are this process's. The share lock keeps a takeover waiting until that transaction
  has ended, and a takeover that came first has changed the epoch: either way no write of an old
  holder lands after another began to serve. A holder frozen inside a transaction holds the lock
  only until the server ends the session (idle_in_transaction_session_timeout).
- What is not a write to the database (sending to the homeserver, syncing) is done only while
  `serving()`: the lease was renewed less than LEASE_SECONDS - MARGIN_SECONDS ago by the local
  monotonic clock, measured from before the renewal was sent, so the database's expiry always
  comes later. A process frozen (SIGSTOP) past that wakes unable to send, finds its renewal
  refused, and steps down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the pool is storage.postgres's: only it imports asyncpg
    import asyncpg

log = logging.getLogger("distansbot")

# A holder not heard from for this long is taken over (the goal: within 5 s at the median, 15 at
# most); renewed four times in that, so a holder that stalls three seconds keeps it.
LEASE_SECONDS = 4.0
RENEW_SECONDS = 1.0
MARGIN_SECONDS = 1.0  # how much sooner than the database a holder stops sending
POLL_SECONDS = 0.5  # how often a standby tries
# A transaction left open this long (its process frozen) is ended by the server, its locks freed.
IDLE_IN_TRANSACTION_MS = 4000


class Fenced(Exception):
    """Another process serves now: this one may not write, and steps down."""


class Lease:
    def __init__(self, pool: asyncpg.Pool, errors: tuple[type[Exception], ...]) -> None:
        """`errors`: what the driver raises when the database is away (waited out, never fatal)."""
        self.pool, self.errors = pool, errors
        self.host = socket.gethostname()
        self.holder = f"{self.host}:{os.getpid()}:{secrets.token_hex(4)}"
        self.epoch: int | None = None  # the lease this process holds (None: it has not served)
        self.valid_until = 0.0  # monotonic: sends and syncs stop here unless renewed
        self.deposed = asyncio.Event()  # a write or a renewal found another holder

    def serving(self) -> bool:
        return self.epoch is not None and not self.deposed.is_set() and time.monotonic() < self.valid_until

    async def fence(self, conn: asyncpg.Connection) -> None:
        """In a write's transaction: go on only as the lease's holder (see the module's note).
        The command line (epoch None: the bot stopped, flytta, ny-enhet) writes unfenced."""
        if self.epoch is None:
            return
        held = await conn.fetchval(
            "SELECT 1 FROM lease WHERE name = 'serving' AND holder = $1 AND epoch = $2 FOR SHARE",
            self.holder,
            self.epoch,
        )
        if held is None:
            self.deposed.set()
            raise Fenced("en annan process tjänar nu; den här skriver inte och går i beredskap")

    async def serve(self, stop: asyncio.Event) -> bool:
        """Stand by until this process holds the lease (True), or `stop` (False)."""
        said: str | None = None  # what was last logged: who serves, or that the database is away
        while not stop.is_set():
            try:
                if await self._take():
                    log.info("Den här processen (%s) tjänar nu (epok %s)", self.holder, self.epoch)
                    return True
                holder = await self.pool.fetchval("SELECT holder FROM lease WHERE name = 'serving'")
                if holder != said:
                    log.info("I beredskap (%s): %s tjänar", self.holder, holder or "ingen")
                    said = holder
            except self.errors as e:
                if said != "":
                    log.warning("I beredskap: databasen svarar inte (%s)", type(e).__name__)
                    said = ""  # said once, until it answers
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
        return False

    async def _take(self) -> bool:
        started = time.monotonic()
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '2s'")
            epoch = await conn.fetchval(
                "UPDATE lease SET holder = $1, epoch = epoch + 1, "
                "expires_at = clock_timestamp() + make_interval(secs => $2) "
                "WHERE name = 'serving' AND expires_at <= clock_timestamp() "
                # after the server itself was down, the holder (if alive) is given a lease's time to
                # renew first: it may owe "not recorded" answers whose marks only it can store
                "AND pg_postmaster_start_time() + make_interval(secs => $2) <= clock_timestamp() RETURNING epoch",
                self.holder,
                LEASE_SECONDS,
            )
            await self._seen(conn, epoch is not None)
        if epoch is not None:
            self.epoch, self.valid_until = epoch, started + LEASE_SECONDS - MARGIN_SECONDS
        return epoch is not None

    async def _seen(self, conn: asyncpg.Connection, serving: bool) -> None:
        await conn.execute(
            "INSERT INTO processes (holder, host, pid, serving, seen_at) VALUES ($1, $2, $3, $4, clock_timestamp()) "
            "ON CONFLICT (holder) DO UPDATE SET serving = excluded.serving, seen_at = excluded.seen_at",
            self.holder,
            self.host,
            os.getpid(),
            serving,
        )
        # the processes gone for good (an hour unheard) are forgotten
        await conn.execute("DELETE FROM processes WHERE seen_at < clock_timestamp() - interval '1 hour'")

    async def hold(self, stop: asyncio.Event) -> None:
        """Renew the lease until `stop`, or until another process holds it (returns: step down).
        A database that does not answer is waited for: the lease is still this process's as
        long as its epoch is (nobody could take it meanwhile), but nothing is sent until then."""
        failing = False  # said once while it lasts, and once when it is over
        while not stop.is_set() and not self.deposed.is_set():
            try:
                await asyncio.wait_for(self.deposed.wait(), RENEW_SECONDS)
                break
            except TimeoutError:
                pass
            try:
                await self._renew()
            except self.errors as e:
                if not failing:
                    log.warning("Tjänsten kunde inte förnyas (%s); inget skickas förrän den är det", type(e).__name__)
                failing = True
                continue
            if failing and not self.deposed.is_set():
                log.info("Tjänsten är förnyad: den här processen (%s) tjänar vidare (epok %s)", self.holder, self.epoch)
            failing = False
        if self.deposed.is_set():
            log.warning("En annan process tjänar nu: den här (%s) går i beredskap", self.holder)

    async def _renew(self) -> None:
        started = time.monotonic()
        async with self.pool.acquire() as conn, conn.transaction():
            renewed = await conn.fetchval(
                "UPDATE lease SET expires_at = clock_timestamp() + make_interval(secs => $3) "
                "WHERE name = 'serving' AND holder = $1 AND epoch = $2 RETURNING 1",
                self.holder,
                self.epoch,
                LEASE_SECONDS,
            )
            if renewed:
                await self._seen(conn, True)
        if renewed:
            self.valid_until = started + LEASE_SECONDS - MARGIN_SECONDS
        else:
            self.deposed.set()

    async def release(self) -> None:
        """A clean stop: the lease free at once, so a standby need not wait for it to expire."""
        if self.epoch is None:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE lease SET holder = '', expires_at = '-infinity' WHERE name = 'serving' AND holder = $1 "
                "AND epoch = $2",
                self.holder,
                self.epoch,
            )
            await conn.execute("DELETE FROM processes WHERE holder = $1", self.holder)
        self.epoch = None

    async def leave(self) -> None:
        """A standby that stops: it is no longer listed."""
        await self.pool.execute("DELETE FROM processes WHERE holder = $1", self.holder)

    async def processes(self) -> list[tuple[str, str, int, bool, float]]:
        """`bot.py check`: each process that serves or stands by (holder, host, pid, serving — as
        the lease has it, not as it says — and seconds since it was heard from), the server first."""
        sql = (
            "SELECT p.holder, p.host, p.pid, (p.holder = l.holder AND l.expires_at > clock_timestamp()), "
            "EXTRACT(EPOCH FROM clock_timestamp() - p.seen_at)::float8 FROM processes p, lease l "
            "WHERE l.name = 'serving' ORDER BY 4 DESC, p.seen_at DESC"
        )
        return [tuple(row) for row in await self.pool.fetch(sql)]
