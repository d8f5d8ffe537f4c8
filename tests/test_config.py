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


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads():
    config = load_config(ROOT / "config.example.toml")
    roster = config.bodies[0].roster()
    assert roster.chair == "@anna:example.se" and len(roster.members) == 3
    assert roster.label("@sekr:example.se") == "Sara Sekreterare (nämndsekreterare)"


def test_secret_from_environment_wins(tmp_path, monkeypatch):
    path = write(tmp_path, EXAMPLE.replace('password = "byt-mig"              # eller access_token = "…"\n', ""))
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
    assert done.returncode == 2
    assert "bodies.0.check_timeout_seconds: ska vara ett heltal" in done.stderr


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
