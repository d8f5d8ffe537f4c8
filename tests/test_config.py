"""Configuration: the example file loads; a bad file is refused naming the key, in Swedish."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")
WITHOUT_PASSWORD = EXAMPLE.replace('password = "byt-mig"              # eller access_token = "…"\n', "")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads():
    config = load_config(ROOT / "config.example.toml")
    roster = config.bodies[0].roster()
    assert roster.chair == "@anna:example.se" and len(roster.members) == 3
    assert roster.label("@sekr:example.se") == "Sara Sekreterare (nämndsekreterare)"


def test_p9_how_attendees_speak_is_the_bodys_choice(tmp_path):
    """Attendees with närvarorätt speak when the chair puts them on the speakers' list, unless
    the body lets them ask themselves; a secretary listed among them for her name asks herself."""
    roster = load_config(ROOT / "config.example.toml").bodies[0].roster()
    assert roster.attendees_speak == "ordförandens_medgivande"
    assert roster.speaks_by_leave("@tjp:example.se") and not roster.speaks_by_leave("@sekr:example.se")
    assert not roster.speaks_by_leave("@bo:example.se")
    path = write(tmp_path, EXAMPLE.replace('attendees_speak = "ordförandens_medgivande"', 'attendees_speak = "ja"'))
    assert not load_config(path).bodies[0].roster().speaks_by_leave("@tjp:example.se")


def test_secret_from_environment_wins(tmp_path, monkeypatch):
    path = write(tmp_path, WITHOUT_PASSWORD)
    with pytest.raises(ConfigError, match="matrix: ange password eller access_token"):
        load_config(path)
    monkeypatch.setenv("DISTANSBOT_MATRIX__PASSWORD", "från-miljön")
    assert load_config(path).matrix.password.get_secret_value() == "från-miljön"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('chair = "@anna:example.se"', 'chair = "@zed:example.se"'),
            "bodies.0: ordföranden @zed:example.se måste också finnas bland members",
        ),
        (("check_timeout_seconds = 60", "check_timeout_seconds = 1"), "bodies.0.check_timeout_seconds: är för litet"),
        (('name = "Kommunstyrelsen"', 'namn = "Kommunstyrelsen"'), "bodies.0.namn: okänd nyckel"),
        (('user_id = "@distansbot:example.se"', 'user_id = "distansbot"'), "matrix.user_id: har fel form"),
        (('user = "@erik:example.se"', 'user = "@bo:example.se"'), "@bo:example.se står mer än en gång"),
        (("[matrix]", "[matrix"), "inte giltig TOML"),
        (
            ('attendees_speak = "ordförandens_medgivande"', 'attendees_speak = "alltid"'),
            "bodies.0.attendees_speak: har ett värde som inte finns",
        ),
    ],
)
def test_bad_config_names_the_key(tmp_path, change, message):
    path = write(tmp_path, EXAMPLE.replace(*change))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert message in str(refused.value)


def test_bot_refuses_to_start_on_bad_config(tmp_path):
    path = write(tmp_path, EXAMPLE.replace("check_timeout_seconds = 60", 'check_timeout_seconds = "lång"'))
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 78  # EX_CONFIG: the unit does not restart on it (RestartPreventExitStatus)
    assert "bodies.0.check_timeout_seconds: ska vara ett heltal" in done.stderr


def test_a_postgresql_url_is_kept_as_written_and_its_password_may_come_from_the_environment(tmp_path, monkeypatch):
    url = "postgresql://distansbot@db.example.se:5433/distansbot?sslmode=verify-full"
    path = write(tmp_path, EXAMPLE.replace('"/var/lib/distansbot/distansbot.sqlite3"', f'"{url}"'))
    storage = load_config(path).storage
    assert storage.database == url and storage.file is None and storage.secret() is None
    monkeypatch.setenv("DISTANSBOT_STORAGE__PASSWORD", "från-miljön")
    assert load_config(path).storage.secret() == "från-miljön"
    assert load_config(ROOT / "config.example.toml").storage.file == Path("/var/lib/distansbot/distansbot.sqlite3")


def test_a_database_url_of_another_kind_is_refused_naming_the_key(tmp_path):
    path = write(tmp_path, EXAMPLE.replace('"/var/lib/distansbot/distansbot.sqlite3"', '"mysql://db/distansbot"'))
    with pytest.raises(ConfigError, match="storage.database: ska vara en SQLite-fils sökväg eller en PostgreSQL-URL"):
        load_config(path)


def test_a_config_readable_by_others_with_the_databases_password_in_it_is_warned_about(tmp_path):
    from config import readable_by_others

    url = '"postgresql://distansbot:hemligt@db.example.se/distansbot"'
    in_url = WITHOUT_PASSWORD.replace('"/var/lib/distansbot/distansbot.sqlite3"', url)
    assert "lösenord" in readable_by_others(_mode(tmp_path, in_url, 0o644))
    apart = WITHOUT_PASSWORD.replace("[storage]", '[storage]\npassword = "hemligt"')
    assert "lösenord" in readable_by_others(_mode(tmp_path, apart, 0o644))
    without = WITHOUT_PASSWORD.replace('"/var/lib/distansbot/distansbot.sqlite3"', '"postgresql://distansbot@db/d"')
    assert readable_by_others(_mode(tmp_path, without, 0o644)) is None


def test_the_database_and_key_store_are_the_bots_alone_whatever_the_umask(tmp_path):
    from config import StorageConfig, exposed, make_private

    storage = StorageConfig(database=tmp_path / "data" / "db.sqlite3", e2ee_store=tmp_path / "data" / "e2ee")
    old = os.umask(0o022)
    try:
        make_private(storage)
        (storage.e2ee_store / "keys.db").write_text("x")  # as nio creates it, readable by others
        assert exposed(storage) and "keys.db" in exposed(storage)[0]
        make_private(storage)  # put right at the next start
    finally:
        os.umask(old)
    assert stat.S_IMODE(storage.database.stat().st_mode) == 0o600
    assert stat.S_IMODE(storage.e2ee_store.stat().st_mode) == 0o700
    assert stat.S_IMODE((storage.e2ee_store / "keys.db").stat().st_mode) == 0o600
    assert exposed(storage) == []


def _mode(tmp_path: Path, text: str, mode: int) -> Path:
    path = write(tmp_path, text)
    path.chmod(mode)
    return path


def test_config_as_the_unit_installs_it_root_group_0640_is_not_warned_about(tmp_path):
    from config import readable_by_others

    # deploy/distansbot.service: root:distansbot 0640. The bot reads it through its group; "chmod 600"
    # would make it unreadable to the bot.
    assert readable_by_others(_mode(tmp_path, EXAMPLE, 0o640)) is None


def test_config_with_a_password_readable_by_others_is_warned_about_keeping_the_group(tmp_path):
    from config import readable_by_others

    warning = readable_by_others(_mode(tmp_path, EXAMPLE, 0o644))
    assert warning and "kan läsas av alla" in warning and "chmod o-rwx" in warning
    assert "chmod 600" not in warning


def test_config_readable_by_others_without_a_secret_in_it_is_not_warned_about(tmp_path):
    from config import readable_by_others

    # the password comes from the environment or a systemd credential, not the file
    assert readable_by_others(_mode(tmp_path, WITHOUT_PASSWORD, 0o644)) is None


def test_config_writable_by_others_is_warned_about_even_without_a_secret(tmp_path):
    from config import readable_by_others

    warning = readable_by_others(_mode(tmp_path, WITHOUT_PASSWORD, 0o646))
    assert warning and "ändras av alla" in warning


def test_password_from_a_systemd_credential(tmp_path, monkeypatch):
    # LoadCredential=matrix-password:… in deploy/distansbot.service: a file in $CREDENTIALS_DIRECTORY
    path = write(tmp_path, WITHOUT_PASSWORD)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "matrix-password").write_text("från-systemd\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert load_config(path).matrix.password.get_secret_value() == "från-systemd"
    monkeypatch.setenv("DISTANSBOT_MATRIX__PASSWORD", "från-miljön")  # the environment still wins
    assert load_config(path).matrix.password.get_secret_value() == "från-miljön"


def _unit() -> dict[str, list[str]]:
    """deploy/distansbot.service's [Service] keys, each with all its values (systemd repeats keys)."""
    out: dict[str, list[str]] = {}
    section = ""
    for line in (ROOT / "deploy" / "distansbot.service").read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_unit_does_not_restart_on_a_configuration_that_does_not_load():
    from config import EXIT_CONFIG

    unit = _unit()
    assert str(EXIT_CONFIG) in " ".join(unit["RestartPreventExitStatus"]).split()
    assert any(v.startswith("matrix-password:") for v in unit["LoadCredential"])


def test_example_config_keeps_its_state_where_the_unit_may_write():
    config = load_config(ROOT / "config.example.toml")
    state = Path("/var/lib") / _unit()["StateDirectory"][0]
    for path in (config.storage.database, config.storage.e2ee_store):
        assert path.is_absolute() and path.is_relative_to(state), path


LIVEKIT = '[livekit]\nurl = "https://sfu.example.se"\napi_key = "distansbot"\n'


def test_livekit_is_optional_and_the_grace_defaults_to_a_minute(tmp_path):
    config = load_config(write(tmp_path, EXAMPLE.replace("video_grace_seconds = 60", "")))
    assert config.livekit is None and config.bodies[0].video_grace_seconds == 60


def test_p5_the_roster_reads_the_media_server_only_for_a_followed_call_with_livekit(tmp_path):
    body = load_config(write(tmp_path, EXAMPLE.replace("video_grace_seconds = 60", "video_grace_seconds = 30"))).bodies[
        0
    ]
    assert not body.roster(reads_media=True).reads_media  # video = "extern": nothing to read
    body.video = "element-call"
    roster = body.roster(reads_media=True)
    assert roster.reads_media and roster.video_grace_seconds == 30 and not body.roster().reads_media


def test_livekit_secret_from_the_environment(tmp_path, monkeypatch):
    path = write(tmp_path, EXAMPLE.replace("[[bodies]]", LIVEKIT + "\n[[bodies]]", 1))
    with pytest.raises(ConfigError, match="livekit.api_secret: saknas"):
        load_config(path)
    monkeypatch.setenv("DISTANSBOT_LIVEKIT__API_SECRET", "från-miljön")
    livekit = load_config(path).livekit
    assert livekit.url == "https://sfu.example.se" and livekit.api_secret.get_secret_value() == "från-miljön"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('[livekit]\nurl = "sfu.example.se"\napi_key = "k"\napi_secret = "s"\n', "livekit.url: har fel form"),
        ('[livekit]\nurl = "https://sfu.example.se"\napi_key = ""\napi_secret = "s"\n', "livekit.api_key: får inte"),
        ('[livekit]\nurl = "https://sfu.example.se"\napi_key = "k"\napi_secret = ""\n', "livekit.api_secret: får inte"),
        ('[livekit]\nurl = "https://sfu.se"\napi_key = "k"\napi_secret = "s"\nport = 1\n', "livekit.port: okänd"),
    ],
)
def test_bad_livekit_section_names_the_key(tmp_path, section, message):
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, EXAMPLE.replace("[[bodies]]", section + "\n[[bodies]]", 1)))
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("value", "message"), [("-1", "är för litet"), ("3601", "är för stort"), ('"en"', "ska vara ett heltal")]
)
def test_bad_video_grace_names_the_key(tmp_path, value, message):
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, EXAMPLE.replace("video_grace_seconds = 60", f"video_grace_seconds = {value}")))
    assert f"bodies.0.video_grace_seconds: {message}" in str(refused.value)


def test_config_with_a_livekit_secret_readable_by_others_is_warned_about(tmp_path):
    from config import readable_by_others

    text = WITHOUT_PASSWORD.replace("[[bodies]]", LIVEKIT + 'api_secret = "hemlig"\n\n[[bodies]]', 1)
    warning = readable_by_others(_mode(tmp_path, text, 0o644))
    assert warning and "kan läsas av alla" in warning


WEB = '\n[web]\nlisten = "127.0.0.1:8090"\npublic_url = "https://distansbot.example.se/"\n'


def test_web_section_loads_with_the_public_url_without_its_last_slash(tmp_path):
    web = load_config(write(tmp_path, EXAMPLE + WEB)).web
    assert web is not None and web.public_url == "https://distansbot.example.se"
    assert web.host_port == ("127.0.0.1", 8090)
    assert load_config(ROOT / "config.example.toml").web is None  # without it: no widget, no !vy


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('listen = "127.0.0.1:8090"', 'listen = "8090"'), "web.listen: '8090' ska vara värd:port"),
        (('listen = "127.0.0.1:8090"', 'listen = "127.0.0.1:99999"'), "ska vara värd:port"),
        (("public_url = ", "publik = "), "web.publik: okänd nyckel"),
        (('"https://distansbot.example.se/"', '"distansbot.example.se"'), "web.public_url: har fel form"),
        (("public_url", 'openid_servers = {localhost = "127.0.0.1:8008"}\npublic_url'), "web.openid_servers"),
    ],
)
def test_bad_web_section_names_the_key(tmp_path, change, message):
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, EXAMPLE + WEB.replace(*change)))
    assert message in str(refused.value)
