"""The configuration: the TOML file (and DISTANSBOT_ environment variables) as validated
settings, with errors in Swedish that name the key. See config.example.toml."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from rules.roster import STOCKHOLM, Person, Role, Roster
from storage import is_url

# sysexits.h EX_CONFIG: a configuration that does not load. The service unit does not restart on
# it (RestartPreventExitStatus), since the same file would fail the same way every few seconds.
EXIT_CONFIG = 78

# systemd credentials (LoadCredential=NAME:PATH) by file name in $CREDENTIALS_DIRECTORY, and the key
# each one sets: the secret is read as root by systemd and never sits in the file or the environment.
CREDENTIALS = {"matrix-password": "password", "matrix-access-token": "access_token"}

# The calls the bot can follow, by the configuration's `video`, as the room's people know them.
_CALL_NAMES = {"element-call": "Element Call"}
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


class LiveKitConfig(_Strict):
    """The LiveKit server (SFU) that the rooms' Element Call uses: read for camera, microphone and
    connection (contract, "Sound and picture from the call")."""

    url: str = Field(pattern=r"^(https?|wss?)://[^\s/]+")
    api_key: str = Field(min_length=1)
    api_secret: SecretStr  # or DISTANSBOT_LIVEKIT__API_SECRET

    @field_validator("api_secret")
    @classmethod
    def _secret(cls, secret: SecretStr) -> SecretStr:
        if not secret.get_secret_value():
            raise ValueError("får inte vara tom (eller DISTANSBOT_LIVEKIT__API_SECRET)")
        return secret


class StorageConfig(_Strict):
    # A SQLite file, or a PostgreSQL URL (postgresql://user@host/db), whose password may also be
    # given apart (`password`, DISTANSBOT_STORAGE__PASSWORD), so that the URL holds no secret.
    database: Path | str = Path("data/distansbot.sqlite3")
    password: SecretStr | None = None
    e2ee_store: Path = Path("data/e2ee")

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: Any) -> Any:
        if not isinstance(value, str) or is_url(value):
            return value
        if "://" in value:
            raise ValueError("ska vara en SQLite-fils sökväg eller en PostgreSQL-URL (postgresql://…)")
        return Path(value)

    @property
    def file(self) -> Path | None:
        """The SQLite file, or None when the database is a PostgreSQL server."""
        return None if is_url(self.database) else Path(self.database)

    def secret(self) -> str | None:
        return self.password.get_secret_value() if self.password else None


class WebConfig(_Strict):
    """The live view (`[web]`): where the bot's web server listens and how browsers reach it."""

    listen: str = "127.0.0.1:8090"
    public_url: str = Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # Where to ask a homeserver about a person's OpenID token, by server name, when it is not
    # found the usual way (its /.well-known/matrix/server, else port 8448): a server on loopback.
    openid_servers: dict[str, str] = {}

    @field_validator("listen")
    @classmethod
    def _listen(cls, listen: str) -> str:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{listen!r} ska vara värd:port, t.ex. 127.0.0.1:8090")
        return listen

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str) -> str:
        return url.rstrip("/")

    @field_validator("openid_servers")
    @classmethod
    def _servers(cls, servers: dict[str, str]) -> dict[str, str]:
        for name, url in servers.items():
            if not re.match(r"^https?://[^\s/]+$", url):
                raise ValueError(f"{name}: {url!r} ska vara en adress som http://127.0.0.1:8008, utan sökväg")
        return {name: url.rstrip("/") for name, url in servers.items()}

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


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
    first_paragraph: int = Field(1, ge=1)  # the first protocol paragraph number this calendar year
    protocol_kept_at: str = Field("Kommunkansliet", min_length=1)  # named in the anslag
    video: Literal["extern", "element-call"] = "extern"
    place: str = ""  # the chair's room, for the protocol's plats; empty: held at a distance only
    # With [livekit]: how long a camera may be off in discussion before the chair is told (§ 5).
    video_grace_seconds: int = Field(60, ge=0, le=3600)
    # How attendees with närvarorätt speak: when the chair puts them on the speakers' list, or
    # asking for the floor themselves as members do (the body's choice; rules.roster).
    attendees_speak: Literal["ordförandens_medgivande", "ja"] = "ordförandens_medgivande"
    # The kommun the protocol's head names: the top-level `organisation`, which the Config gives
    # every body (kept with the body, so a meeting's stored roster keeps it too).
    organisation: str = ""

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

    def roster(self, tz: ZoneInfo = STOCKHOLM, reads_media: bool = False) -> Roster:
        """The body's roster; `reads_media` when [livekit] is configured (the Config knows)."""
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
            first_paragraph=self.first_paragraph,
            protocol_kept_at=self.protocol_kept_at,
            video=self.video,
            call_name=_CALL_NAMES.get(self.video, ""),
            chair_room=self.place,
            organisation=self.organisation,
            reads_media=reads_media and self.video == "element-call",
            video_grace_seconds=self.video_grace_seconds,
            attendees_speak=self.attendees_speak,
        )


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISTANSBOT_", env_nested_delimiter="__", extra="forbid")

    matrix: MatrixConfig
    storage: StorageConfig = StorageConfig()
    livekit: LiveKitConfig | None = None  # without it, nothing is read from the call's media server
    timezone: str = "Europe/Stockholm"  # the clock of kallelser, reminders and protocols
    commands_per_minute: int = Field(60, ge=5)  # from one person; more is slowed (flooding)
    bodies: list[BodyConfig] = Field(min_length=1)
    organisation: str = ""  # the kommun, named in every protocol's head ("Exempelby kommun")
    web: WebConfig | None = None  # the live view; without it, no widget and no !vy

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"okänd tidszon {name!r} (t.ex. Europe/Stockholm)") from None
        return name

    @model_validator(mode="after")
    def _organisation(self) -> Config:
        for b in self.bodies:
            b.organisation = b.organisation or self.organisation
        return self

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
        # The environment and systemd's credentials win over the file, so secrets need not be written in it.
        return (init_settings, env_settings, _Credentials(settings_cls), TomlConfigSettingsSource(settings_cls))


class _Credentials(PydanticBaseSettingsSource):
    """The secrets systemd hands over as files (LoadCredential=, see deploy/distansbot.service)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # not used: __call__ gives everything at once

    def __call__(self) -> dict[str, Any]:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            return {}
        found = {}
        for name, key in CREDENTIALS.items():
            path = Path(directory) / name
            if path.is_file():
                found[key] = path.read_text(encoding="utf-8").strip()
        return {"matrix": found} if found else {}


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
    "string_too_short": "får inte vara tom",
    "list_type": "ska vara en lista",
    "literal_error": "har ett värde som inte finns (se config.example.toml)",
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


_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def make_private(storage: StorageConfig) -> None:
    """The database (it holds the access token and the log) and the key store are the bot's
    user's alone, whatever the umask: created so, and put right at every start."""
    storage.e2ee_store.mkdir(parents=True, exist_ok=True)
    for path in [storage.e2ee_store, *storage.e2ee_store.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    db = storage.file
    if db is None:  # a PostgreSQL server: its access is its roles' (see the README)
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if path.exists():
            path.chmod(0o600)


def exposed(storage: StorageConfig) -> list[str]:
    """What of the bot's secrets others on the machine can read or write (for `bot.py check`)."""
    out = []
    db = storage.file
    files = (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if db else ()
    for path in (*files, storage.e2ee_store, *storage.e2ee_store.rglob("*")):
        if path.exists() and path.stat().st_mode & _OTHERS:
            out.append(
                f"{path} kan nås av andra än botens användare (rättigheter {stat.S_IMODE(path.stat().st_mode):o}); "
                "boten rättar det vid start, eller: chmod -R go-rwx på katalogen"
            )
    return out


def readable_by_others(path: Path) -> str | None:
    """A warning when anyone on the machine can change the file, or read a secret in it. Its group
    is not "anyone": the service unit installs it root:distansbot 0640 so that the bot reads it by
    its group and cannot change it. A secret from the environment or a credential is not in it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fix = f"kör chmod o-rwx {path}"
    if mode & stat.S_IWOTH:
        return f"Konfigurationsfilen {path} kan ändras av alla på datorn (rättigheter {mode:o}): {fix}"
    if mode & stat.S_IROTH and _holds_secret(path):
        return (
            f"Konfigurationsfilen {path} kan läsas av alla på datorn (rättigheter {mode:o}) och innehåller "
            f"lösenord, åtkomsttoken eller api_secret: {fix}, eller ta det ur filen (se deploy/distansbot.service)"
        )
    return None


def _holds_secret(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # cannot tell: warn
    matrix, storage = data.get("matrix", {}), data.get("storage", {})
    if isinstance(storage, dict) and (storage.get("password") or _url_password(storage.get("database"))):
        return True
    livekit = data.get("livekit", {})
    if isinstance(livekit, dict) and livekit.get("api_secret"):
        return True
    return isinstance(matrix, dict) and any(matrix.get(key) for key in CREDENTIALS.values())


def _url_password(database: Any) -> bool:
    try:
        return isinstance(database, str) and is_url(database) and bool(urlsplit(database).password)
    except ValueError:
        return True
