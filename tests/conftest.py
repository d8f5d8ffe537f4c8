"""Fixtures shared by the unit tests that run the shell over a real SQLite store."""

from __future__ import annotations

import pytest

from config import BodyConfig, Config
from testing.postgres import postgres_server  # noqa: F401  (a fixture)
from testing.stage import body_config


def pytest_collection_modifyitems(items):
    """The tests of the call's media server run last: ./test.sh builds the LiveKit server in the
    background meanwhile (testing/livekit.py), and they wait for it."""
    items.sort(key=lambda item: "sfu" in getattr(item, "fixturenames", ()))


@pytest.fixture
def config(tmp_path):
    body = body_config("!room:localhost", check_timeout=60)
    return Config.model_validate(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@distansbot:localhost", "password": "x"},
            "storage": {"database": str(tmp_path / "db.sqlite3"), "e2ee_store": str(tmp_path / "e2ee")},
            "bodies": [BodyConfig(**body).model_dump()],
        }
    )
