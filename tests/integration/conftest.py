"""One real Synapse per test session (started here, on loopback); a fresh room and bot per test."""

from __future__ import annotations

import pytest_asyncio

from testing.stage import Stage


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stage(tmp_path_factory):
    stage = await Stage.open(tmp_path_factory.mktemp("stage"), movable_clock=True)
    yield stage
    await stage.close()


@pytest_asyncio.fixture(loop_scope="session")
async def room(stage):
    """A new room with the bot running in it; the bot is stopped after the test."""
    await stage.new_meeting_room()
    yield stage
    if stage.bot:
        stage.bot.stop()
