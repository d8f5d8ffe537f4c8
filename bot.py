"""distansbot: the shell around the rules. Configuration, the Matrix client, the sync loop, the
scheduler, sending, and the command line.

    python bot.py --config PATH                          run the bot
    python bot.py protokoll --config PATH [--meeting ID] [--format md|html|json]
    python bot.py check --config PATH                    validate, log in, report on rooms

Everything that decides lives in `rules/`; this file only moves data between Matrix, SQLite
and the rules. Order of effects for one command: decide -> store events + answers + "handled"
in one transaction -> fold events into memory -> send answers from the outbox. The sync token is
saved only after a batch is stored, so a crash anywhere re-reads the batch and the "handled"
table keeps every command to one application.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import hashlib
import html
import io
import logging
import os
import pickle
import re
import secrets
import signal
import stat
import sys
import tomllib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

import commands
from commands.text import Message
from rules import calendar, minutes, schedule
from rules import meeting as rules_meeting
from rules import state as rules_state
from rules.actions import Accepted, Command, Refused, Reply
from rules.roster import STOCKHOLM, Person, Role, Roster
from rules.state import Event, Meeting, apply
from storage import Outgoing, Store

log = logging.getLogger("distansbot")

# --- configuration -----------------------------------------------------------------------------

_MXID = r"^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(:\d+)?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatrixConfig(_Strict):
    homeserver: str = Field(pattern=r"^https?://")
    user_id: str = Field(pattern=_MXID)
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_name: str = "distansbot"

    @model_validator(mode="after")
    def _credentials(self) -> MatrixConfig:
        if not self.password and not self.access_token:
            raise ValueError("ange password eller access_token (eller DISTANSBOT_MATRIX__PASSWORD)")
        return self


class StorageConfig(_Strict):
    database: Path = Path("data/distansbot.sqlite3")
    e2ee_store: Path = Path("data/e2ee")


class PersonConfig(_Strict):
    user: str = Field(pattern=_MXID)
    name: str = Field(min_length=1)
    party: str = ""


class AttendeeConfig(_Strict):
    user: str = Field(pattern=_MXID)
    name: str = Field(min_length=1)
    title: str = ""


class BodyConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    name: str = Field(min_length=1)
    room: str = Field(pattern=r"^(![^\s]+|#[^:\s]+:\S+)$")  # room ids of v12 rooms have no server part
    chair: str = Field(pattern=_MXID)
    vice_chairs: list[str] = []
    secretaries: list[str] = []
    security_chief: str | None = None
    check_timeout_seconds: int = Field(60, ge=5, le=3600)
    meeting_minutes: int = Field(120, ge=10, le=1440)  # expected length, for calendars and reminders
    reminders_minutes_before: list[float] = [1440, 15]  # the day before, and time to connect
    members: list[PersonConfig] = Field(min_length=1)
    substitutes: list[PersonConfig] = []
    attendees: list[AttendeeConfig] = []

    @field_validator("vice_chairs", "secretaries")
    @classmethod
    def _ids(cls, users: list[str]) -> list[str]:
        for user in users:
            if not re.match(_MXID, user):
                raise ValueError(f"{user!r} är inget Matrix-id (@namn:server)")
        return users

    @field_validator("reminders_minutes_before")
    @classmethod
    def _positive(cls, minutes: list[float]) -> list[float]:
        if any(x <= 0 for x in minutes):
            raise ValueError("påminnelser anges i minuter före start, större än 0")
        return sorted(set(minutes), reverse=True)

    @model_validator(mode="after")
    def _roster(self) -> BodyConfig:
        members = [p.user for p in self.members]
        if self.chair not in members:
            raise ValueError(f"ordföranden {self.chair} måste också finnas bland members")
        for vice in self.vice_chairs:
            if vice not in members:
                raise ValueError(f"vice ordföranden {vice} måste också finnas bland members")
        people = members + [p.user for p in self.substitutes]
        dupes = sorted({u for u in people if people.count(u) > 1})
        if dupes:
            raise ValueError(f"{', '.join(dupes)} står mer än en gång bland members och substitutes")
        return self

    def roster(self, tz: ZoneInfo = STOCKHOLM) -> Roster:
        return Roster(
            body_id=self.id,
            name=self.name,
            chair=self.chair,
            members=tuple(Person(p.user, p.name, Role.MEMBER, party=p.party) for p in self.members),
            substitutes=tuple(Person(p.user, p.name, Role.SUBSTITUTE, party=p.party) for p in self.substitutes),
            attendees=tuple(Person(p.user, p.name, Role.ATTENDEE, title=p.title) for p in self.attendees),
            vice_chairs=tuple(self.vice_chairs),
            secretaries=tuple(self.secretaries),
            security_chief=self.security_chief,
            check_timeout_seconds=self.check_timeout_seconds,
            tz=tz,
            meeting_minutes=self.meeting_minutes,
            reminders_minutes_before=tuple(self.reminders_minutes_before),
            place=self.room,
        )


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISTANSBOT_", env_nested_delimiter="__", extra="forbid")

    matrix: MatrixConfig
    storage: StorageConfig = StorageConfig()
    timezone: str = "Europe/Stockholm"  # the clock of kallelser, reminders and protocols
    commands_per_minute: int = Field(60, ge=5)  # from one person; more is slowed (flooding)
    bodies: list[BodyConfig] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"okänd tidszon {name!r} (t.ex. Europe/Stockholm)") from None
        return name

    @model_validator(mode="after")
    def _unique(self) -> Config:
        for key in ("id", "room"):
            values = [getattr(b, key) for b in self.bodies]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"bodies: {key} {', '.join(dupes)} förekommer mer än en gång")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, so secrets need not be written in it.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


_ERROR_SV = {
    "missing": "saknas",
    "extra_forbidden": "okänd nyckel (felstavad?)",
    "string_pattern_mismatch": "har fel form",
    "string_type": "ska vara text",
    "int_parsing": "ska vara ett heltal",
    "int_type": "ska vara ett heltal",
    "greater_than_equal": "är för litet",
    "less_than_equal": "är för stort",
    "too_short": "får inte vara tom",
    "list_type": "ska vara en lista",
}


class ConfigError(Exception):
    pass


def load_config(path: str | Path) -> Config:
    """Read and validate the file; a bad one raises ConfigError naming the key, in Swedish."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Konfigurationsfilen {path} finns inte.")

    class FileConfig(Config):  # the file is read by the settings source named in model_config
        model_config = SettingsConfigDict(**{**Config.model_config, "toml_file": path})

    try:
        return FileConfig()
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} är inte giltig TOML: {e}") from None
    except ValidationError as e:
        lines = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(filen)"
            text = _ERROR_SV.get(err["type"], "")
            if err["type"] == "value_error":
                text = str(err.get("ctx", {}).get("error", err["msg"]))
            lines.append(f"  {key}: {text or err['msg']}")
        raise ConfigError(f"Fel i konfigurationen {path}:\n" + "\n".join(lines)) from None


# --- from rules' answers to Matrix content -------------------------------------------------------


def _pill(user: str, name: str) -> str:
    return f'<a href="https://matrix.to/#/{html.escape(user)}">{html.escape(name)}</a>'


def message_content(reply: Reply, roster: Roster, in_reply_to: str | None) -> dict[str, Any]:
    """A notice with plain and HTML body; mentioned people's names become pills in the HTML."""
    formatted = html.escape(reply.text)
    for user in dict.fromkeys(reply.mentions):
        name = roster.name_of(user)
        if name != user:
            formatted = formatted.replace(html.escape(name), _pill(user, name), 1)
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": reply.text,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted.replace("\n", "<br>"),
        "m.mentions": {"user_ids": list(dict.fromkeys(reply.mentions))},
    }
    if in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
    return content


# --- the bot -----------------------------------------------------------------------------------


@dataclass
class Body:
    config: BodyConfig
    roster: Roster
    room_id: str = ""
    meetings: list[str] = field(default_factory=list)  # ids, oldest first
    state_version: str | None = None
    timers_for: tuple | None = None  # what the body's scheduled timers were made from
    jobs: set[str] = field(default_factory=set)


class Bot:
    def __init__(self, config: Config, store: Store, client: Any | None = None) -> None:
        self.config = config
        self.store = store
        self.client = client
        tz = ZoneInfo(config.timezone)
        self.bodies = {b.id: Body(b, b.roster(tz)) for b in config.bodies}
        self.meetings: dict[str, Meeting] = {}  # those loaded
        self.known: dict[str, str] = {}  # every meeting id -> its body id
        self.snapshot_at: dict[str, int] = {}
        self.by_room: dict[str, Body] = {}
        self.lock = asyncio.Lock()
        self.scheduler: AsyncIOScheduler | None = None
        self.outbox_wakeup = asyncio.Event()
        self.limiter = RateLimiter(config.commands_per_minute)
        self.joined_at: dict[str, int] = {}  # room -> ms since epoch

    # --- state ----------------------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild each body's latest meeting from its log (a restart loses nothing). Older
        meetings are closed and are read only when asked for (`meeting()`)."""
        for meeting_id, body_id in await self.store.meetings():
            self.known[meeting_id] = body_id
            body = self.bodies.get(body_id)
            if body is None:
                log.warning("Sammanträde %s hör till organet %s som inte längre är konfigurerat", meeting_id, body_id)
                continue
            body.meetings.append(meeting_id)
        for body in self.bodies.values():
            if body.meetings:
                await self.meeting(body.meetings[-1])

    async def meeting(self, meeting_id: str) -> Meeting | None:
        """A meeting's state: its latest snapshot, if any, with the events after it folded in."""
        if meeting_id in self.meetings or meeting_id not in self.known:
            return self.meetings.get(meeting_id)
        body = self.bodies[self.known[meeting_id]]
        version = self._state_version(body)
        saved = await self.store.snapshot(meeting_id, version)
        m = pickle.loads(saved[1]) if saved else Meeting(meeting_id, body.config.id)
        for event in await self.store.events(meeting_id, after=m.event_count):
            apply(m, body.roster, event)
        self.meetings[meeting_id] = m
        self.snapshot_at[meeting_id] = m.event_count if saved else 0
        return m

    def _state_version(self, body: Body) -> str:
        """Snapshots are valid for the code that folds the log and the roster that names people."""
        if body.state_version is None:
            digest = hashlib.sha256(Path(rules_state.__file__).read_bytes())
            digest.update(repr(body.roster).encode())
            body.state_version = digest.hexdigest()[:20]
        return body.state_version

    async def _maybe_snapshot(self, body: Body, m: Meeting) -> None:
        if m.event_count - self.snapshot_at.get(m.id, 0) >= SNAPSHOT_EVERY:
            await self.store.save_snapshot(m.id, m.event_count, self._state_version(body), pickle.dumps(m))
            self.snapshot_at[m.id] = m.event_count

    def latest(self, body: Body) -> Meeting | None:
        return self.meetings[body.meetings[-1]] if body.meetings else None

    def _new_meeting_id(self, body: Body, cmd: Command) -> str:
        assert cmd.convening is not None
        base = f"{body.config.id}-{cmd.convening.start.date().isoformat()}"
        taken = set(self.known)
        return (
            base if base not in taken else next(f"{base}-{i}" for i in range(2, 10_000) if f"{base}-{i}" not in taken)
        )

    async def handle_command(
        self, body: Body, source: str, msg: Message, sender: str, now: datetime, react: bool = True
    ) -> None:
        """One chat message in a body's room: parse, decide, store, answer.

        `react=False` for a command given as a reaction (✅ on a check): it gets no ✅ back.
        """
        async with self.lock:
            if await self.store.is_handled(source):
                return
            await self._tick(body, now)
            try:
                await self._handle(body, source, msg, sender, now, react)
            except Exception:
                # A fault of the bot's own must not stop the meeting: say so, and do nothing.
                log.exception("Fel när %s behandlades", source)
                text = "⚠️ Ett internt fel uppstod; kommandot har inte verkställts. Försök igen eller kontakta IT."
                await self._commit(body, source, now, None, [], [self._notice(body, text, source)])
        self.outbox_wakeup.set()

    async def _handle(self, body: Body, source: str, msg: Message, sender: str, now: datetime, react: bool) -> None:
        parsed = commands.parse(msg, sender)
        if parsed is None:
            return
        slowed = self.limiter.check(sender, now)
        if slowed is not None:
            # Recorded as handled either way; told once per burst, then quietly dropped.
            await self._commit(body, source, now, None, [], [self._notice(body, SLOW_DOWN, source)] if slowed else [])
            return
        m = self.latest(body)
        if isinstance(parsed, commands.Unknown):
            await self._commit(body, source, now, None, [], [self._notice(body, parsed.body, source)])
        elif parsed.name == "hjälp":
            text = commands.help_text(m, body.roster, sender)
            await self._commit(body, source, now, None, [], [self._notice(body, text, source)])
        else:
            if parsed.name == "votering":
                # A tied election is settled by lot (KL 5 kap. 56 §): the rules stay pure, so the
                # shell draws here, from the operating system's CSPRNG; the event keeps the draw.
                parsed = dataclasses.replace(parsed, lot=secrets.randbelow(2**32))
            await self._decide(body, source, m, parsed, now, react)

    async def _decide(
        self, body: Body, source: str, m: Meeting | None, cmd: Command, now: datetime, react: bool
    ) -> None:
        outcome = rules_meeting.decide(m, body.roster, cmd, now)
        if isinstance(outcome, Refused):
            await self._commit(body, source, now, None, [], [self._notice(body, outcome.body, source)])
            return
        if outcome.new_meeting:
            m = Meeting(self._new_meeting_id(body, cmd), body.config.id)
        assert m is not None
        events = [Event(k, now, cmd.actor, d) for k, d in outcome.events]
        await self._commit(body, source, now, m, events, outcome, new=outcome.new_meeting, react=react)

    async def _tick(self, body: Body, now: datetime) -> None:
        """Let time pass for the body's meeting before anything else is decided."""
        m = self.latest(body)
        outcome = rules_meeting.tick(m, body.roster, now)
        if outcome is None or m is None or m.check is None:
            return
        source = f"tick:{m.id}:check:{m.check.id}"
        # The check ended at its deadline, whenever the bot got to notice it.
        events = [Event(k, m.check.deadline, "distansbot", d) for k, d in outcome.events]
        await self._commit(body, source, now, m, events, outcome)

    async def _commit(
        self,
        body: Body,
        source: str,
        now: datetime,
        m: Meeting | None,
        events: list[Event],
        answer: Accepted | list[Outgoing],
        new: bool = False,
        react: bool = True,
    ) -> None:
        """Store events and answers atomically, then fold the events into memory."""
        outgoing = answer
        if isinstance(answer, Accepted):
            outgoing = self._answers(body, source, m, events, answer)
            # An accepted command that gets no reply of its own is confirmed with ✅.
            if react and not any(r.reply for r in answer.replies):
                outgoing.insert(0, Outgoing(body.room_id, "m.reaction", _reaction(source)))
        seq = m.event_count if m is not None and not new else 0
        stored = await self.store.record(
            source,
            body.room_id,
            now,
            events,
            outgoing,
            meeting=(m.id, body.config.id) if new and m else None,
            meeting_id=m.id if m else None,
            next_seq=seq,
        )
        if not stored:
            return
        if m is not None and events:
            if new:
                self.meetings[m.id] = m
                self.known[m.id] = body.config.id
                body.meetings.append(m.id)
            for e in events:
                apply(m, body.roster, e)
            await self._maybe_snapshot(body, m)
        await self._schedule(body)

    def _answers(self, body: Body, source: str, m: Meeting | None, events: list[Event], ok: Accepted) -> list[Outgoing]:
        out = []
        for reply in ok.replies:
            attachment = name = None
            content = message_content(reply, body.roster, source if reply.reply else None)
            if reply.attach and m is not None:
                after = _replayed(m, body.roster, events)
                if reply.attach == "protocol":
                    attachment = minutes.render(after, body.roster, "md")
                    name = f"protokoll-{m.id}.md"
                    if len(attachment) < 30_000:  # a Matrix event holds 64 KiB; the file always has it all
                        content["body"] += "\n\n" + attachment
                        content["formatted_body"] += minutes.html_body(after, body.roster)
                else:
                    attachment = calendar.ics(after, body.roster)
                    name = f"kallelse-{m.id}.ics"
            out.append(Outgoing(body.room_id, "m.room.message", content, name, attachment, reply.tag))
        return out

    def _notice(self, body: Body, text: str, source: str) -> Outgoing:
        return Outgoing(body.room_id, "m.room.message", message_content(Reply(text), body.roster, source))

    # --- time --------------------------------------------------------------------------------

    async def timers(self, body: Body) -> list[tuple[str, datetime]]:
        """What the body's meeting is waiting for, by job id: a running check's deadline (§ 12)
        and the reminders not yet handled. Derived from the stored state, so a restart rebuilds it."""
        m = self.latest(body)
        if m is None:
            return []
        out = []
        if m.check and m.check.running:
            out.append((f"{body.config.id}|check|{m.check.id}", m.check.deadline))
        for rem in schedule.reminders(m, body.roster):
            if not await self.store.is_handled(_reminder_source(m, rem.key)):
                out.append((f"{body.config.id}|reminder|{rem.key}", rem.at))
        return out

    async def _schedule(self, body: Body) -> None:
        if self.scheduler is None:
            return
        m = self.latest(body)
        # The timers follow from these alone; most commands change none of them.
        check = (m.check.id, m.check.running) if m and m.check else None
        shape = (m.id, m.phase, m.start, m.opened_at, check) if m else None
        if shape == body.timers_for:
            return
        body.timers_for = shape
        wanted = dict(await self.timers(body))
        for job_id in body.jobs - wanted.keys():
            if self.scheduler.get_job(job_id):
                self.scheduler.remove_job(job_id)
        body.jobs = set(wanted)
        for job_id, at in wanted.items():
            # One that fell due while the bot was down runs at once (misfire_grace_time=None).
            self.scheduler.add_job(
                self.on_timer,
                "date",
                run_date=at,
                args=[job_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def on_timer(self, job_id: str, now: datetime | None = None) -> None:
        body_id, kind, key = job_id.split("|", 2)
        body = self.bodies[body_id]
        now = now or datetime.now(UTC)
        async with self.lock:
            if kind == "check":
                await self._tick(body, now)
            else:
                await self._remind(body, key, now)
        self.outbox_wakeup.set()

    async def _remind(self, body: Body, key: str, now: datetime) -> None:
        m = self.latest(body)
        if m is None:
            return
        source = _reminder_source(m, key)
        if await self.store.is_handled(source):
            return
        reply = schedule.remind(m, body.roster, key, now)
        # A reminder that no longer matters is recorded all the same, so it is not tried again.
        outgoing = (
            [Outgoing(body.room_id, "m.room.message", message_content(reply, body.roster, None))] if reply else []
        )
        await self._commit(body, source, now, None, [], outgoing)

    # --- Matrix --------------------------------------------------------------------------------

    async def send_outbox(self) -> None:
        """Send every answer owed, in order; each is marked sent only when the server took it."""
        for out in await self.store.unsent():
            try:
                event_id = await self._send(out)
            except SendError as e:
                if not e.permanent:
                    raise
                # The homeserver will never take it (e.g. forbidden): log it, do not block the rest.
                log.error("Svar %s kunde inte skickas och ges upp: %s", out.id, e)
                event_id = f"failed:{e.errcode}"
            await self.store.mark_sent(out.id, event_id)

    async def _send(self, out: Outgoing) -> str:
        from nio import RoomSendResponse, UploadResponse

        content = dict(out.content)
        if out.attachment is not None:
            data = out.attachment.encode()
            mimetype = "text/calendar" if out.attachment_name.endswith(".ics") else "text/markdown"
            resp, keys = await self.client.upload(
                io.BytesIO(data),
                content_type=mimetype,
                filename=out.attachment_name,
                filesize=len(data),
                encrypt=self._encrypted(out.room_id),
            )
            if not isinstance(resp, UploadResponse):
                raise SendError(resp)
            file_content: dict[str, Any] = {
                "msgtype": "m.file",
                "body": out.attachment_name,
                "filename": out.attachment_name,
                "info": {"mimetype": mimetype, "size": len(data)},
            }
            if keys:
                file_content["file"] = {**keys, "url": resp.content_uri}
            else:
                file_content["url"] = resp.content_uri
            if "m.relates_to" in content:
                file_content["m.relates_to"] = content["m.relates_to"]
            await self._room_send(out.room_id, "m.room.message", content, f"distansbot-{out.id}")
            content, out_type, txn = file_content, "m.room.message", f"distansbot-{out.id}-file"
        else:
            out_type, txn = out.kind, f"distansbot-{out.id}"
        resp = await self._room_send(out.room_id, out_type, content, txn)
        assert isinstance(resp, RoomSendResponse)
        return resp.event_id

    async def _room_send(self, room_id: str, kind: str, content: dict, txn: str):
        from nio import RoomSendResponse

        # The transaction id makes a resend after a crash land once on the homeserver.
        resp = await self.client.room_send(room_id, kind, content, tx_id=txn, ignore_unverified_devices=True)
        if not isinstance(resp, RoomSendResponse):
            raise SendError(resp)
        return resp

    def _encrypted(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(room and room.encrypted)

    async def login(self) -> None:
        from nio import LoginResponse

        mx = self.config.matrix
        saved = await self.store.setting("session")
        if saved:
            user_id, device_id, token = saved.split("\n")
            self.client.restore_login(user_id, device_id, token)  # the same device, its keys from the store
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

    async def resolve_rooms(self) -> None:
        from nio import RoomResolveAliasResponse

        for body in self.bodies.values():
            room = body.config.room
            if room.startswith("#"):
                resp = await self.client.room_resolve_alias(room)
                if not isinstance(resp, RoomResolveAliasResponse):
                    log.error("Rummet %s (%s) kunde inte slås upp: %s", room, body.config.name, resp)
                    continue
                room = resp.room_id
            body.room_id = room
            self.by_room[room] = body
            if room not in self.client.rooms:
                await self._join(room)

    async def _join(self, room_id: str) -> None:
        from nio import JoinResponse

        # Commands from the moment of joining count; what was said before is history.
        await self._joined_at(room_id)
        resp = await self.client.join(room_id)
        if isinstance(resp, JoinResponse):
            log.info("Gick med i %s", room_id)
        else:
            log.warning("Kunde inte gå med i %s än (%s): väntar på inbjudan", room_id, getattr(resp, "message", resp))

    async def on_sync(self, resp: Any) -> None:
        """Handle one sync response: invites, then each joined room's timeline in order."""

        for room_id in resp.rooms.invite:
            if room_id in self.by_room:
                await self._join(room_id)
        for room_id, joined in resp.rooms.join.items():
            body = self.by_room.get(room_id)
            if body is None:
                continue
            since = await self._joined_at(room_id)
            events = list(joined.timeline.events)
            if joined.timeline.limited:
                events = await self._backfill(room_id, joined.timeline.prev_batch, since) + events
            for ev in events:
                if ev.sender != self.client.user_id and ev.server_timestamp >= since:
                    await self._on_event(body, ev)

    async def _on_event(self, body: Body, ev: Any) -> None:
        from nio import MegolmEvent, ReactionEvent, RoomMessageText

        now = datetime.fromtimestamp(ev.server_timestamp / 1000, UTC)
        if isinstance(ev, RoomMessageText):
            content = ev.source.get("content", {})
            relates = content.get("m.relates_to") or {}
            if relates.get("rel_type") == "m.replace" or "m.new_content" in content:
                # An edit never runs a command again, nor undoes one: the log keeps what was applied.
                if await self.store.is_handled(relates.get("event_id", "")):
                    await self.handle_note(body, ev.event_id, EDITED, now)
                return
            mention_ids = tuple((content.get("m.mentions") or {}).get("user_ids") or ())
            msg = Message(ev.body or "", ev.formatted_body, mention_ids)
            await self.handle_command(body, ev.event_id, msg, ev.sender, now)
        elif isinstance(ev, ReactionEvent) and ev.key.rstrip("\ufe0f") == "✅":
            tag = await self.store.tag_of(ev.reacts_to)
            if tag and tag.startswith("check:"):
                await self.handle_command(body, ev.event_id, Message("!ok"), ev.sender, now, react=False)
        elif isinstance(ev, MegolmEvent):  # encrypted, and the bot has no key for it
            log.warning("Kunde inte dekryptera %s från %s (session %s)", ev.event_id, ev.sender, ev.session_id)
            await self.handle_note(body, ev.event_id, UNDECRYPTABLE, now)
            try:
                await self.client.request_room_key(ev)
            except Exception as e:  # asking twice, or no device to ask: the answer above stands
                log.info("Nyckelbegäran för %s: %s", ev.event_id, e)

    async def handle_note(self, body: Body, source: str, text: str, now: datetime) -> None:
        """Answer a message that is no command to act on (an edit, one the bot cannot read), once."""
        async with self.lock:
            if not await self.store.is_handled(source):
                await self._commit(body, source, now, None, [], [self._notice(body, text, source)])
        self.outbox_wakeup.set()

    async def _joined_at(self, room_id: str) -> int:
        """Messages from before the bot joined (or first saw) the room are history, not commands.
        Read once per room: it never changes after it is first set."""
        if room_id not in self.joined_at:
            key = f"joined:{room_id}"
            value = await self.store.setting(key)
            if value is None:
                value = str(int(datetime.now(UTC).timestamp() * 1000))
                await self.store.set_setting(key, value)
            self.joined_at[room_id] = int(value)
        return self.joined_at[room_id]

    async def _backfill(self, room_id: str, token: str, since: int) -> list:
        """A limited timeline: page back until events already handled or older than the bot."""
        from nio import RoomMessagesResponse

        older: list = []
        while token:
            resp = await self.client.room_messages(room_id, start=token, limit=100)
            if not isinstance(resp, RoomMessagesResponse) or not resp.chunk:
                break
            done = False
            for ev in resp.chunk:  # newest first
                if ev.server_timestamp < since or await self.store.is_handled(ev.event_id):
                    done = True
                    break
                older.append(ev)
            if done:
                break
            token = resp.end
        return list(reversed(older))

    async def sync_forever(self, stop: asyncio.Event) -> None:
        from nio import SyncResponse

        token = await self.store.setting("sync_token")
        first = token is None
        backoff = 1.0
        # All members are loaded (no lazy loading): encrypted messages must reach every device.
        sync_filter = {"room": {"timeline": {"limit": 100}}}
        while not stop.is_set():
            try:
                resp = await self.client.sync(timeout=30_000, since=token, sync_filter=sync_filter, full_state=first)
            except Exception as e:  # the homeserver is away: try again, slower each time
                log.warning("Synk misslyckades (%s); nytt försök om %.0f s", type(e).__name__, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 60)
                continue
            if not isinstance(resp, SyncResponse):
                log.warning("Synk misslyckades: %s; nytt försök om %.0f s", resp, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 60)
                continue
            backoff = 1.0
            first = False
            try:
                await self.on_sync(resp)
            except Exception:
                # Not stored, so not lost: the same batch comes again, since the token stays.
                log.exception("Synkbatchen kunde inte behandlas; försöker igen om %.0f s", backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 60)
                continue
            await self._keys()
            token = resp.next_batch
            await self.store.set_setting("sync_token", token)
            self.outbox_wakeup.set()

    async def _keys(self) -> None:
        """Keep end-to-end encryption keys flowing (what nio's sync_forever would do)."""
        if self.client.olm is None:
            return
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        await self.client.send_to_device_messages()

    async def outbox_forever(self, stop: asyncio.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            await self.outbox_wakeup.wait()
            self.outbox_wakeup.clear()
            try:
                await self.send_outbox()
                backoff = 1.0
            except Exception as e:  # keep what is owed; it goes out when the server answers
                log.warning("Kunde inte skicka (%s); nytt försök om %.0f s", e, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 60)
                self.outbox_wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        await self.load()
        await self.login()
        # Device keys go up before the bot joins, so that members' clients share their room keys
        # with it from the first message on.
        await self._keys()
        await self.resolve_rooms()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.start()
        for body in self.bodies.values():
            await self._schedule(body)
        self.outbox_wakeup.set()
        log.info("distansbot är igång som %s (enhet %s)", self.client.user_id, self.client.device_id)
        tasks = [asyncio.create_task(self.sync_forever(stop)), asyncio.create_task(self.outbox_forever(stop))]
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in [stopping, *tasks]:
            task.cancel()
        await asyncio.gather(stopping, *tasks, return_exceptions=True)
        for task in done:
            if task is not stopping and task.exception():
                raise task.exception()
        self.scheduler.shutdown(wait=False)


EDITED = (
    "✏️ Ett ändrat kommando verkställs inte, och det som redan verkställts står kvar i protokollet. "
    "Skriv ett nytt kommando i stället."
)
UNDECRYPTABLE = (
    "⚠️ Jag kunde inte dekryptera ditt meddelande, så om det var ett kommando har det inte verkställts. "
    "Skriv det igen; hjälper inte det, verifiera din session eller kontakta IT."
)
SLOW_DOWN = "⏳ Du skickar kommandon för snabbt. Vänta några sekunder; kommandona verkställdes inte."


class RateLimiter:
    """At most `burst` commands per `window` from one person, by the messages' own timestamps, so
    one sender cannot flood the room or crowd out the others."""

    def __init__(self, burst: int, window: timedelta = timedelta(minutes=1)) -> None:
        self.burst, self.window = burst, window
        self.recent: dict[str, deque[datetime]] = {}
        self.told: dict[str, datetime] = {}

    def check(self, sender: str, now: datetime) -> bool | None:
        """None: go ahead. True: slow down, and say so. False: slow down, already said."""
        times = self.recent.setdefault(sender, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.burst:
            times.append(now)
            return None
        last = self.told.get(sender)
        if last is not None and now - last < self.window:
            return False
        self.told[sender] = now
        return True


# A meeting's state is saved every this many events, so a start replays at most that many.
SNAPSHOT_EVERY = 1000


class SendError(Exception):
    """The homeserver did not take a message. Permanent when it answered with an error code
    other than rate limiting; otherwise (no answer, 429) it is worth trying again."""

    def __init__(self, resp: Any) -> None:
        super().__init__(str(resp))
        self.errcode = getattr(resp, "status_code", None) or ""
        self.permanent = bool(self.errcode) and self.errcode != "M_LIMIT_EXCEEDED"


def _reminder_source(m: Meeting, key: str) -> str:
    return f"reminder:{m.id}:{key}"


def _reaction(source: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": source, "key": "✅"}}


def _replayed(m: Meeting, roster: Roster, events: list[Event]) -> Meeting:
    """The meeting as it will be after `events`, without touching `m` (for the protocol file)."""
    after = copy.deepcopy(m)
    for e in events:
        apply(after, roster, e)
    return after


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


# --- command line ------------------------------------------------------------------------------


def _client(config: Config):
    from nio import AsyncClient, AsyncClientConfig

    store = config.storage.e2ee_store
    store.mkdir(parents=True, exist_ok=True)
    return AsyncClient(
        config.matrix.homeserver,
        config.matrix.user_id,
        store_path=str(store),
        config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True),
    )


async def _run(config: Config) -> None:
    store = await Store.open(config.storage.database)
    client = _client(config)
    bot = Bot(config, store, client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await bot.run(stop)
    finally:
        await client.close()
        await store.close()


async def _protocol(config: Config, meeting_id: str | None, fmt: str) -> str:
    store = await Store.open(config.storage.database)
    try:
        bot = Bot(config, store)
        await bot.load()
        if not bot.known:
            raise ConfigError("Databasen innehåller inga sammanträden.")
        meeting_id = meeting_id or list(bot.known)[-1]
        m = await bot.meeting(meeting_id)
        if m is None:
            raise ConfigError(f"Sammanträdet {meeting_id} finns inte. Finns: {', '.join(bot.known)}")
    finally:
        await store.close()
    return minutes.render(m, bot.bodies[m.body_id].roster, fmt)


async def _check(config: Config) -> int:
    from nio import AsyncClient, RoomResolveAliasResponse, WhoamiResponse

    # A device of its own, without the bot's key store: the check must not touch the bot's keys.
    client = AsyncClient(config.matrix.homeserver, config.matrix.user_id)
    mx = config.matrix
    ok = True
    try:
        if mx.access_token:
            client.access_token = mx.access_token.get_secret_value()
            resp = await client.whoami()
        else:
            resp = await client.login(mx.password.get_secret_value(), device_name=f"{mx.device_name} (check)")
        if isinstance(resp, WhoamiResponse) or getattr(resp, "access_token", None):
            print(f"Inloggning som {mx.user_id}: OK")
        else:
            print(f"Inloggning som {mx.user_id}: MISSLYCKADES ({getattr(resp, 'message', resp)})")
            return 1
        await client.sync(timeout=0, full_state=True)
        for body in config.bodies:
            room_id = body.room
            if room_id.startswith("#"):
                r = await client.room_resolve_alias(room_id)
                room_id = r.room_id if isinstance(r, RoomResolveAliasResponse) else ""
            room = client.rooms.get(room_id)
            if room is None:
                print(f"{body.name} ({body.room}): boten är inte med i rummet (bjud in {mx.user_id})")
                ok = False
                continue
            levels = room.power_levels
            can_write = levels.can_user_send_message(mx.user_id, "m.room.message") and levels.can_user_send_message(
                mx.user_id, "m.reaction"
            )
            enc = "krypterat" if room.encrypted else "INTE krypterat (gör rummet krypterat: § 7-ärenden)"
            write = "kan skriva och reagera" if can_write else "KAN INTE SKRIVA: höj botens behörighetsnivå"
            print(
                f"{body.name} ({body.room}): med i rummet, {enc}, "
                f"behörighetsnivå {levels.get_user_level(mx.user_id)}, {write}"
            )
            ok = ok and can_write
        if not mx.access_token:
            await client.logout()
    finally:
        await client.close()
    return 0 if ok else 1


def _warn_if_readable(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        log.warning(
            "Konfigurationsfilen %s kan läsas av andra än botens användare (rättigheter %o) och kan innehålla "
            "lösenord: kör chmod 600 %s",
            path,
            stat.S_IMODE(mode),
            path,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="distansbot – distanssammanträden på Matrix")
    parser.add_argument("action", nargs="?", choices=["run", "protokoll", "check"], default="run")
    parser.add_argument("--config", required=True, help="konfigurationsfil (TOML)")
    parser.add_argument("--meeting", help="sammanträdets id (protokoll); standard: det senaste")
    parser.add_argument("--format", choices=minutes.FORMATS, default="md")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("DISTANSBOT_LOG", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("nio").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        _warn_if_readable(Path(args.config))
        if args.action == "protokoll":
            sys.stdout.write(asyncio.run(_protocol(config, args.meeting, args.format)))
            return 0
        if args.action == "check":
            return asyncio.run(_check(config))
        asyncio.run(_run(config))
        return 0
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
