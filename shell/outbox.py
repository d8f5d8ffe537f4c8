"""The answers owed, sent in order until the server has taken them: stored with the command that
owes them, marked sent after, and kept in memory while the store cannot take a mark."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from shell.ports import MAX_BACKOFF_SECONDS, SendFailed, Told, Transport

if TYPE_CHECKING:
    from storage import Outgoing, Store

log = logging.getLogger("distansbot")


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.wakeup = asyncio.Event()
        self.unstored: list[Outgoing] = []  # answers owed that the store could not take
        # handled, the store could not say so yet: the room, when, and what to say should the
        # store then show it applied after all (a person's command told "not recorded")
        self.unmarked: dict[str, tuple[str, datetime, Outgoing | None]] = {}
        # Answers sent whose marks are not stored yet (outbox id -> event id, tag): never sent again.
        self.sent: dict[int, tuple[str, str]] = {}

    async def handled(self, source: str) -> bool:
        return source in self.unmarked or await self.store.is_handled(source)

    async def tag_of(self, event_id: str) -> str | None:
        """The tag of a message the bot sent, also one whose mark is not stored yet."""
        tag = next((t for ev, t in self.sent.values() if ev == event_id), None)
        return tag if tag is not None else await self.store.tag_of(event_id)

    async def event_of_tag(self, tag: str) -> str:
        """The event id of the message the bot sent with `tag`, also one whose mark is not stored yet."""
        event_id = next((ev for ev, t in self.sent.values() if t == tag), None)
        return event_id or await self.store.event_of_tag(tag)

    def not_recorded(self, source: str, room_id: str, at: datetime, said: tuple[Outgoing, Outgoing] | None) -> None:
        """Told "not recorded" unstored (`said`: that and its correction; None for the clock's
        sources), and counted as handled until the store is back to mark it."""
        if said:
            self.unstored.append(said[0])
        self.unmarked[source] = (room_id, at, said[1] if said else None)

    async def told(self, told: Told, said: tuple[Outgoing, Outgoing] | None) -> None:
        """A "not recorded" answer that the room shows (read back at a start) and the store does
        not know of: the process that sent it lost its database before it could mark the command
        handled, and stopped or was taken over. The person was told it was not applied, so it
        never is; or, if the store shows it applied after all, they are told so. A store that
        fails here fails the start's reading, tried again before any command is read."""
        source = told.event_id
        if not await self.handled(source):
            await self.store.record(source, told.room, told.at, [], [])
            log.warning('Kommandot %s fick svaret "inte sparat" utan att det noterades; verkställs inte', source)
        elif said:
            await self.correct(source, told.room, told.at, said[1])

    async def correct(self, source: str, room_id: str, at: datetime, correction: Outgoing) -> None:
        """A person told "not recorded" whose command the store shows applied after all is told
        so (once: under a source of its own), lest they send it again and it stand twice."""
        if await self.store.applied(source):
            await self.store.record(f"{source}#rättelse", room_id, at, [], [correction])

    async def send(self, transport: Transport) -> None:
        """Send every answer owed, in order; what the server took is marked sent, all in one
        transaction at the end. Until the mark is stored it is kept in memory (`sent`), so an
        answer is not sent again while the store is down; a resend after a crash lands once, by
        its transaction id. Only while this process serves (`Store.lease`): a standby, or one
        taken over, sends nothing."""
        if not self.store.lease.serving():
            return
        while self.unstored and self.store.lease.serving():  # "not recorded" answers, unstored: first, once
            await transport.send(self.unstored[0], self.event_of_tag)
            self.unstored.pop(0)
        for source, (room_id, at, correction) in list(self.unmarked.items()):  # the store is back: marked now
            if not await self.store.record(source, room_id, at, [], []) and correction:
                await self.correct(source, room_id, at, correction)
            del self.unmarked[source]
        try:
            for out in await self.store.unsent():
                if out.id in self.sent:
                    continue
                if not self.store.lease.serving():  # the lease ran out while sending: the rest waits
                    break
                try:
                    event_id = await transport.send(out, self.event_of_tag)
                except SendFailed as e:
                    if not e.permanent:
                        raise
                    # The server will never take it (e.g. forbidden): log it, do not block the rest.
                    log.error("Svar %s kunde inte skickas och ges upp: %s", out.id, e)
                    event_id = f"failed:{e.code}"
                self.sent[out.id] = (event_id, out.tag)
        finally:
            if self.sent:
                await self.store.mark_sent({i: ev for i, (ev, _) in self.sent.items()})
                self.sent.clear()

    async def last(self, transport: Transport, seconds: float) -> None:
        """Stopping: what is owed goes out before the bot exits, if the homeserver takes it in
        time (and this process still serves: taken over, it is the new server's to send)."""
        try:
            await asyncio.wait_for(self.send(transport), seconds)
        except Exception as e:  # kept in the outbox: it goes out at the next start
            log.warning("Allt kunde inte skickas före avslutet (%s); det skickas vid nästa start", type(e).__name__)

    async def forever(self, transport: Transport, stop: asyncio.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            await self.wakeup.wait()
            self.wakeup.clear()
            try:
                await self.send(transport)
                backoff = 1.0
            except Exception as e:  # keep what is owed; it goes out when the server (or the store) is back
                log.warning("Kunde inte skicka (%s); nytt försök om %.0f s", e, backoff)
                # A new answer owed is a reason to try at once: "not recorded" must not wait.
                try:
                    await asyncio.wait_for(self.wakeup.wait(), backoff)
                except TimeoutError:
                    pass
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                self.wakeup.set()
