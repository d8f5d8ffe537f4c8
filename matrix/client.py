"""The Matrix side of the bot: login on one device kept across restarts, end-to-end encryption,
the sync loop with backoff, backfill of a limited timeline; what the shell owes is sent by
`matrix.sending`.

What a room says is handed to the shell as neutral records (`shell.ports`: said, answered, a
call changed, a note that a message could not be acted on); what decides about it lives in
`shell` and `rules`. Only the modules of `matrix/` read or write Matrix's shapes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    LoginResponse,
    LogoutResponse,
    MegolmEvent,
    RoomMessagesResponse,
    RoomResolveAliasResponse,
    SyncResponse,
    WhoamiResponse,
)
from nio.store import DefaultStore

from config import Config, exposed
from matrix import content as shapes
from matrix import rtc
from matrix.keystore import KeyCopy, keys_lost, path_of, upload_keys
from matrix.readback import ReadBack
from matrix.reading import Reader
from matrix.sending import Sender, SendError, encrypted
from shell.ports import MAX_BACKOFF_SECONDS, CallChanged, Inbound, RoomAnchors
from storage import Anchor, Outgoing, Store

# The sync token alone is stored at most this often (with a command, at once).
TOKEN_FLUSH_SECONDS = 10
# `bot.py verify` waits this long for each answer from the homeserver.
VERIFY_STEP_SECONDS = 30

log = logging.getLogger("distansbot")


class OncePerMinute:
    """A warning that repeats while a fault lasts, logged at most once a minute: one clear line,
    not a flood, during a long outage."""

    def __init__(self) -> None:
        self.last: float | None = None

    def say(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if self.last is None or now - self.last >= 60:
            log.warning(message, *args)
            self.last = now


def sync_filter_for(user_id: str) -> dict[str, Any]:
    """What the bot syncs: the rooms' timelines and state, without its own messages, typing,
    read receipts and presence, which would wake it for nothing (a member's client sends a
    receipt for every answer it shows). All members are loaded (no lazy loading): encrypted
    messages must reach every device; device lists and to-device keys are never filtered."""
    nothing = {"not_types": ["*"]}
    return {
        "room": {
            "timeline": {"limit": 100, "not_senders": [user_id]},
            "ephemeral": nothing,
            "account_data": nothing,
        },
        "presence": nothing,
        "account_data": nothing,
    }


class StickyClient(AsyncClient):
    """nio's client, but a decrypted event keeps MSC4354's stickiness: nio makes it from the
    plaintext alone, and stickiness lies outside the ciphertext (the event's `msc4354_sticky`, the
    homeserver's remaining time in `unsigned`), so that in an encrypted room Element Call's Matrix
    2.0 memberships (matrix/rtc.py) would be read as never sticky, and count for nobody."""

    def load_store(self) -> None:
        super().load_store()
        if self.olm is None:
            return
        decrypt = self.olm.decrypt_megolm_event

        def decrypted(event: Any, room_id: str | None = None) -> Any:
            found = decrypt(event, room_id)
            outer, inner = getattr(event, "source", None), getattr(found, "source", None)
            if isinstance(outer, dict) and isinstance(inner, dict) and inner.get("type") == rtc.STICKY_MEMBER:
                if "msc4354_sticky" in outer:
                    inner["msc4354_sticky"] = outer["msc4354_sticky"]
                unsigned = outer.get("unsigned")
                if isinstance(unsigned, dict) and "msc4354_sticky_duration_ttl_ms" in unsigned:
                    ttl = unsigned["msc4354_sticky_duration_ttl_ms"]
                    inner["unsigned"] = {**(inner.get("unsigned") or {}), "msc4354_sticky_duration_ttl_ms": ttl}
            return found

        self.olm.decrypt_megolm_event = decrypted  # type: ignore[method-assign]


class KeyStore(DefaultStore):
    """nio's key store, but its list of encrypted rooms is written only when a room is added:
    nio calls this after every sync, most often with nothing to add (a query each time)."""

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


class Transport:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        e2ee = config.storage.e2ee_store
        e2ee.mkdir(parents=True, exist_ok=True)
        self.client = StickyClient(
            config.matrix.homeserver,
            config.matrix.user_id,
            store_path=str(e2ee),
            # nio gives up after two tries, so that the bot's own loops wait with backoff and say
            # it once a minute; nio's own retries would go on for ever, a warning each time.
            config=AsyncClientConfig(store=KeyStore, store_sync_tokens=False, encryption_enabled=True, max_timeouts=2),
        )
        self.rooms: set[str] = set()  # the bodies' rooms, resolved
        self.aliases: dict[str, str] = {}  # a room id -> the alias it was configured by
        self.trouble = OncePerMinute()  # the homeserver away: said once a minute while it lasts
        self.reader = Reader(self.client, store, self.rooms, self._join)
        self.read_back = ReadBack(self.client, self.rooms)  # what it told people before this start
        self.keys_copy = KeyCopy(store)  # nio's key store, saved in the database (standby)
        self.sender = Sender(self.client, store, self.keys_copy.save)

    @property
    def whoami(self) -> tuple[str, str]:
        return self.client.user_id, self.client.device_id

    async def close(self) -> None:
        await self.client.close()

    # --- start ---------------------------------------------------------------------------------

    async def start(self, rooms: list[str], stop: asyncio.Event) -> dict[str, str] | None:
        """Log in, upload device keys, join the rooms; returns each configured room's id, or None
        if stopped first. A homeserver that does not answer is waited for, with backoff, and said
        once a minute; a refused login stops the bot (SystemExit)."""
        backoff = 1.0
        while not stop.is_set():
            try:
                return await self._start(rooms)
            except SystemExit:
                raise
            except Exception as e:
                self.trouble.say(
                    "Hemservern %s svarar inte (%s); boten väntar och försöker igen", self.config.matrix.homeserver, e
                )
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        return None

    async def _start(self, rooms: list[str]) -> dict[str, str]:
        await self._login()
        # Device keys go up before the bot joins, so that members' clients share their room keys
        # with it from the first message on.
        await self.keys()
        resolved = {}
        for room in rooms:
            room_id = room
            if room.startswith("#"):
                resp = await self.client.room_resolve_alias(room)
                if not isinstance(resp, RoomResolveAliasResponse):
                    log.error("Rummet %s kunde inte slås upp: %s", room, resp)
                    continue
                room_id = resp.room_id
                self.aliases[room_id] = room
            resolved[room] = room_id
            self.rooms.add(room_id)
            if room_id not in self.client.rooms:
                await self._join(room_id)
                # Known from its state now, not from the next event in it: what is owed there goes
                # out at once, and whether it is encrypted, its name and power levels read right.
                await self.sender.known(room_id)
        return resolved

    async def _login(self) -> None:
        mx = self.config.matrix
        saved = await saved_session(self.store)
        if saved:
            user_id, device_id, token = saved
            self.keys_copy.path = path_of(self.config.storage.e2ee_store, user_id, device_id)
            await self.keys_copy.restore()  # as the last process that served left them (standby)
            self.client.restore_login(user_id, device_id, token)  # the same device, its keys from the store
            if await keys_lost(self.client):
                # nio made a new account: the device's keys are gone, and whatever the bot wrote
                # now could be read by no one who trusts the device (nor could it read them).
                raise SystemExit(lost_keys(self.config, device_id))
            return
        if mx.access_token:
            self.client.access_token = mx.access_token.get_secret_value()
            resp = await self.client.whoami()
            device_id = getattr(resp, "device_id", None) or ""
            self.client.restore_login(mx.user_id, device_id, mx.access_token.get_secret_value())
        else:
            resp = await self.client.login(mx.password.get_secret_value(), device_name=mx.device_name)
            if not isinstance(resp, LoginResponse):
                raise SystemExit(f"Inloggningen som {mx.user_id} misslyckades: {getattr(resp, 'message', resp)}")
        await self.store.set_setting(
            "session", f"{self.client.user_id}\n{self.client.device_id}\n{self.client.access_token}"
        )
        self.keys_copy.path = path_of(self.config.storage.e2ee_store, self.client.user_id, self.client.device_id)

    async def _join(self, room_id: str) -> None:
        # Commands from the moment of joining count; what was said before is history.
        await self.reader.joined(room_id)
        resp = await self.client.join(room_id)
        if isinstance(resp, JoinResponse):
            log.info("Gick med i %s", room_id)
        else:
            log.warning("Kunde inte gå med i %s än (%s): väntar på inbjudan", room_id, getattr(resp, "message", resp))

    async def keys(self) -> None:
        """Keep end-to-end encryption keys flowing (what nio's sync_forever would do)."""
        if self.client.olm is None or not self.store.lease.serving():
            return
        if self.client.should_upload_keys:
            await upload_keys(self.client, self.keys_copy)
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        await self.client.send_to_device_messages()
        await self.keys_copy.save()

    # --- receiving -----------------------------------------------------------------------------

    async def listen(self, stop: asyncio.Event, inbound: Inbound, synced: asyncio.Event) -> None:
        """Sync until `stop`; each batch is handed over before its token is saved, so a crash
        re-reads it (the shell's handled marks keep each command to one application)."""
        token = await self.store.setting("sync_token")
        first = token is None
        backoff, flushed, caught_up = 1.0, time.monotonic(), False
        sync_filter = sync_filter_for(self.client.user_id)
        while not stop.is_set():
            if not self.store.lease.serving():  # not renewed in time (standby): this device's messages wait
                await sleep_or_stop(stop, 0.2)
                continue
            try:
                await self.read_back.once(token, inbound)  # before the first batch
                resp = await self.client.sync(timeout=30_000, since=token, sync_filter=sync_filter, full_state=first)
                if not isinstance(resp, SyncResponse):
                    raise SendError(resp)
                if not self.store.lease.serving():  # frozen during the sync, perhaps taken over: not handled
                    continue
                await self.reader.on_sync(resp, inbound)
                if not caught_up:
                    await inbound.caught_up()
                    caught_up = True
            except Exception as e:  # the homeserver is away, or the batch failed: not stored, so not lost
                self.trouble.say("Synk misslyckades (%s); nytt försök inom %.0f s", e, backoff)
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1.0
            first = False
            try:
                await self.keys()  # and the key store saved: the token moves past the batch only after
            except Exception as e:
                self.trouble.say("Nycklarna kunde inte sparas (%s); synken läses om", e)
                await sleep_or_stop(stop, backoff)
                continue
            token = resp.next_batch
            # Stored with the next command, or alone every few seconds: a crash rereads at most
            # those batches, and the handled marks keep each command to one application.
            self.store.remember("sync_token", token)
            if time.monotonic() - flushed >= TOKEN_FLUSH_SECONDS:
                try:
                    await self.store.flush()
                    flushed = time.monotonic()
                except Exception as e:  # the store is down: go on from memory
                    self.trouble.say("Synkpositionen kunde inte sparas (%s)", e)
            synced.set()

    async def call_state(self, room_id: str) -> list[CallChanged]:
        return await self.reader.call_state(room_id)

    # --- sending -------------------------------------------------------------------------------

    encode = staticmethod(shapes.encode)

    async def send(self, out: Outgoing, event_of_tag: Callable[[str], Awaitable[str]]) -> str:
        return await self.sender.send(out, event_of_tag)

    # --- the rooms, as the last sync had them --------------------------------------------------

    def can_set_state(self, room_id: str, kind: str) -> bool:
        """May the bot set this kind of room state (as the last sync had the power levels)?"""
        room = self.client.rooms.get(room_id)
        return room is None or room.power_levels.can_user_send_state(self.client.user_id, kind)

    def room_name(self, room_id: str) -> str:
        """The room's name (m.room.name) as the last sync had it; "" when it has none."""
        room = self.client.rooms.get(room_id)
        return (room.name or "") if room else ""

    def encrypted(self, room_id: str) -> bool:
        return encrypted(self.client, room_id)

    def room_link(self, room_id: str) -> str:
        """A matrix.to link that opens the room in a member's client: by its alias when it was
        configured by one (it reads better), else by its id with the bot's server to find it by."""
        return shapes.room_link(self.aliases.get(room_id, room_id), self.config.matrix.user_id.partition(":")[2])


async def saved_session(store: Store) -> tuple[str, str, str] | None:
    """The bot's device as logged in (user id, device id, access token), if it has one."""
    saved = await store.setting("session")
    if not saved:
        return None
    user_id, device_id, token = saved.split("\n")
    return user_id, device_id, token


def lost_keys(config: Config, device_id: str) -> str:
    return (
        f"Botens nyckellager för enheten {device_id} saknas eller är utbytt ({config.storage.e2ee_store}). "
        "Utan det kan boten varken läsa eller skriva i krypterade rum som den enheten. Återställ katalogen "
        "från säkerhetskopian och starta boten igen, eller låt boten bli en ny enhet: "
        f"python bot.py ny-enhet --config {config.model_config.get('toml_file') or 'KONFIGURATIONSFIL'} "
        "(den gamla enheten loggas ut; medlemmarnas klienter delar sina nycklar med den nya)."
    )


async def new_device(config: Config, store: Store) -> int:
    """`bot.py ny-enhet`: the bot's device (lost keys) logged out and forgotten; the next start
    logs in as a new device, with new keys, by password."""
    saved = await saved_session(store)
    if config.matrix.access_token and not config.matrix.password:
        print(
            "En åtkomsttoken hör till en enhet. Skapa en ny (en ny inloggning) och ange den som "
            "matrix.access_token, eller ange matrix.password i stället."
        )
        return 2
    if saved:
        user_id, device_id, token = saved
        client = AsyncClient(config.matrix.homeserver, user_id)
        client.restore_login(user_id, device_id, token)
        try:
            resp = await client.logout()
            print(
                f"Enheten {device_id} är utloggad."
                if isinstance(resp, LogoutResponse)
                else f"Enheten {device_id} kunde inte loggas ut ({resp}); ta bort den i Element om den finns kvar."
            )
        finally:
            await client.close()
        await store.forget_setting("session")
    print("Vid nästa start loggar boten in som en ny enhet.")
    return 0


# `bot.py check`: how long each of its requests to the homeserver may take.
CHECK_STEP_SECONDS = 10


_T = TypeVar("_T")


class NoAnswer(Exception):
    """A step of `bot.py check` the homeserver did not answer in time, or at all."""


async def _bounded(what: str, request: Awaitable[_T]) -> _T:
    try:
        return await asyncio.wait_for(request, CHECK_STEP_SECONDS)
    except TimeoutError:
        raise NoAnswer(f"{what} (inget svar på {CHECK_STEP_SECONDS} s)") from None
    except (aiohttp.ClientError, OSError) as e:
        raise NoAnswer(f"{what} ({e})") from None


async def check(config: Config, warnings: list[str], also: Callable[[], Awaitable[int]] | None = None) -> int:
    """`bot.py check`: log in on a device of its own (never touching the bot's keys) and report on
    each configured room: joined, encrypted, may the bot write. Every request is bounded; exits 1
    when anything must be fixed (a homeserver that does not answer, a refused login, a room the
    bot is not in, cannot write in or that is not end-to-end encrypted, secrets others can read or
    change: `warnings` about the configuration file)."""
    mx = config.matrix
    # No retries of nio's own: a request that fails or times out is said at once.
    bounded = AsyncClientConfig(max_timeouts=0, max_limit_exceeded=0, request_timeout=CHECK_STEP_SECONDS)
    client = AsyncClient(mx.homeserver, mx.user_id, config=bounded)
    faults = 0
    logged_in = False  # on a device of its own, logged out after
    try:
        # the configuration's own (`warnings`); the token and the keys are the bot's alone
        for warning in warnings + exposed(config.storage):
            print(f"VARNING: {warning}")
            faults += 1
        if mx.access_token:
            client.access_token = mx.access_token.get_secret_value()
            resp = await _bounded("inloggningen (whoami)", client.whoami())
        else:
            login = client.login(mx.password.get_secret_value(), device_name=f"{mx.device_name} (check)")
            resp = await _bounded("inloggningen", login)
            logged_in = isinstance(resp, LoginResponse)
        if not (isinstance(resp, WhoamiResponse) or logged_in):
            print(f"Inloggning som {mx.user_id}: MISSLYCKADES ({getattr(resp, 'message', resp)})")
            return 1
        print(f"Inloggning som {mx.user_id}: OK")
        rooms: dict[str, str] = {}  # configured room -> its id ("" when the alias does not resolve)
        for body in config.bodies:
            rooms[body.room] = body.room
            if body.room.startswith("#"):
                r = await _bounded(f"uppslagningen av {body.room}", client.room_resolve_alias(body.room))
                rooms[body.room] = r.room_id if isinstance(r, RoomResolveAliasResponse) else ""
        # Only the bodies' rooms, their state without history: quick also for an account in many rooms.
        nothing = {"not_types": ["*"]}
        only = {
            "room": {"rooms": [r for r in rooms.values() if r], "timeline": {"limit": 1}, "ephemeral": nothing},
            "presence": nothing,
            "account_data": nothing,
        }
        await _bounded("synkroniseringen", client.sync(timeout=0, full_state=True, sync_filter=only))
        for body in config.bodies:
            room = client.rooms.get(rooms[body.room])
            if room is None:
                print(f"{body.name} ({body.room}): boten är inte med i rummet (bjud in {mx.user_id})")
                faults += 1
                continue
            levels = room.power_levels
            can_write = levels.can_user_send_message(mx.user_id, "m.room.message") and levels.can_user_send_message(
                mx.user_id, "m.reaction"
            )
            enc = (
                "krypterat"
                if room.encrypted
                else "INTE KRYPTERAT: slå på kryptering i rummets inställningar (§ 2: ingen obehörig får ta del; "
                "§ 7–8: ärenden med personuppgifter, sekretess eller säkerhetsskydd)"
            )
            write = "kan skriva och reagera" if can_write else "KAN INTE SKRIVA: höj botens behörighetsnivå"
            print(
                f"{body.name} ({body.room}): med i rummet, {enc}, "
                f"behörighetsnivå {levels.get_user_level(mx.user_id)}, {write}"
            )
            faults += (not room.encrypted) + (not can_write)
    except NoAnswer as e:
        print(
            f"Hemservern {mx.homeserver} svarade inte på {e}. Kontrollera matrix.homeserver, "
            "att hemservern är igång och att den nås härifrån."
        )
        return 1
    finally:
        if logged_in:
            try:
                await _bounded("utloggningen", client.logout())
            except NoAnswer as e:
                print(f"Kontrollens enhet kunde inte loggas ut: {e}; ta bort den i Element.")
        await client.close()
    if also is not None:  # the other servers the bot reads (the call's media server), said after
        faults += await also()
    print("Att åtgärda: se ovan." if faults else "Allt i ordning.")
    return 1 if faults else 0


async def anchors(config: Config, store: Store) -> RoomAnchors:
    """`bot.py verify`: the anchors the bot posted in each body's room, oldest first, or why they
    could not be read. As the bot's own device when it has logged in before (its key store
    decrypts its notices in an encrypted room), otherwise on a device of its own, as `check`
    does. It only reads the rooms' history, never syncs: what is sent to the bot's device stays
    the bot's."""
    mx = config.matrix
    saved = await saved_session(store)
    e2ee = config.storage.e2ee_store
    own = saved if saved is not None and e2ee.is_dir() else None
    if own:
        client = AsyncClient(
            mx.homeserver,
            own[0],
            store_path=str(e2ee),
            config=AsyncClientConfig(store=KeyStore, store_sync_tokens=False, encryption_enabled=True, max_timeouts=2),
        )
        client.restore_login(*own)
    else:
        client = AsyncClient(mx.homeserver, mx.user_id, config=AsyncClientConfig(max_timeouts=2))
    by_password = not own and not mx.access_token
    try:
        try:
            if by_password:
                await asyncio.wait_for(
                    client.login(mx.password.get_secret_value(), device_name=f"{mx.device_name} (verify)"),
                    VERIFY_STEP_SECONDS,
                )
            elif not own:
                client.access_token = mx.access_token.get_secret_value()
            who = await asyncio.wait_for(client.whoami(), VERIFY_STEP_SECONDS)
            if not isinstance(who, WhoamiResponse):
                why = f"boten kunde inte logga in på {mx.homeserver} ({getattr(who, 'message', who)})"
                return {b.id: why for b in config.bodies}
            out = {b.id: await _anchors_in(client, b.id, b.room, mx.user_id) for b in config.bodies}
            if by_password:
                await asyncio.wait_for(client.logout(), VERIFY_STEP_SECONDS)
            return out
        except (OSError, TimeoutError, ClientError) as e:
            why = f"hemservern {mx.homeserver} svarade inte ({type(e).__name__})"
            return {b.id: why for b in config.bodies}
    finally:
        await client.close()


async def _anchors_in(client: AsyncClient, body_id: str, room: str, bot: str) -> list[Anchor] | str:
    """The anchors of one body that the bot posted in its room, read from the room's history."""
    room_id = room
    if room.startswith("#"):
        resp = await asyncio.wait_for(client.room_resolve_alias(room), VERIFY_STEP_SECONDS)
        if not isinstance(resp, RoomResolveAliasResponse):
            return f"rummet {room} kunde inte slås upp ({getattr(resp, 'message', resp)})"
        room_id = resp.room_id
    found: list[Anchor] = []
    sealed = 0  # the bot's messages that its keys do not open
    start = None
    only_bot = {"senders": [bot], "types": ["m.room.message", "m.room.encrypted"]}
    while True:
        resp = await asyncio.wait_for(
            client.room_messages(room_id, start=start, limit=100, message_filter=only_bot), VERIFY_STEP_SECONDS
        )
        if not isinstance(resp, RoomMessagesResponse):
            return f"rummet {room} kunde inte läsas ({getattr(resp, 'message', resp)})"
        for ev in resp.chunk:
            if getattr(ev, "sender", None) != bot:
                continue
            if isinstance(ev, MegolmEvent):
                sealed += 1
                continue
            anchor = shapes.anchor_of((getattr(ev, "source", None) or {}).get("content"), body_id)
            if anchor:
                found.append(Anchor(*anchor))
        if not resp.chunk or not resp.end or resp.end == start:
            break
        start = resp.end
    if sealed:
        return f"{sealed} av botens meddelanden i {room} kunde inte dekrypteras, så alla förankringar kunde inte läsas"
    return found[::-1]
