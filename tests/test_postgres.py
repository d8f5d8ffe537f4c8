"""The bot over PostgreSQL is the bot over SQLite (KL 5 kap. 69 §: the log is the protocol's
evidence, wherever it is kept): the same commands give the same rows, the same chain, the same
protocol and the same `verify`; snapshots read back the same; and `bot.py flytta` copies a
SQLite database of a real meeting into PostgreSQL, where it verifies against the room's anchors.

A real PostgreSQL server (testing/postgres.py); in CI these never skip.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

from config import Config
from shell import bodies, verify
from testing.driver import started
from tests import test_verify
from tests.test_verify import justerat, room_of

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")


def on(config: Config, database: str | Path) -> Config:
    return config.model_copy(update={"storage": config.storage.model_copy(update={"database": database})})


async def meeting(config: Config, monkeypatch) -> tuple:
    """A meeting justerat (§ 1 at once), its sources numbered from 0 on every backend alike,
    snapshots every 7 events; what the store and the shell then hold."""
    monkeypatch.setattr(test_verify, "_SOURCES", itertools.count())
    monkeypatch.setattr(bodies, "SNAPSHOT_EVERY", 7)
    bot = await started(config)
    try:
        await justerat(bot, omedelbart=True)
        m = bot.bodies["ks"].engine.meeting
        ok, lines = await verify(bot.store, bot, None, await room_of(bot))
        text = await bot.protocol_text(None, "md")
        return await bot.store.dump(), await bot.store.check("ks"), (ok, lines), text, m
    finally:
        await bot.store.close()


async def test_kl_5_69_a_meeting_on_postgresql_is_stored_chained_and_verified_as_on_sqlite(
    config, postgres_server, monkeypatch
):
    on_sqlite = await meeting(config, monkeypatch)
    url = (await postgres_server.database()).replace("distansbot@", f"distansbot:{postgres_server.password}@")
    on_pg = await meeting(on(config, url), monkeypatch)
    dump_s, chain_s, verified_s, text_s, m_s = on_sqlite
    dump_p, chain_p, verified_p, text_p, m_p = on_pg
    assert dump_p.counts() == dump_s.counts() and dump_s.counts()["snapshots"] == 1
    for table in ("meetings", "events", "settings", "snapshots"):
        assert getattr(dump_p, table) == getattr(dump_s, table), table
    assert without_pdfs(dump_p.outbox) == without_pdfs(dump_s.outbox)
    assert sorted(dump_p.handled) == sorted(dump_s.handled)
    assert chain_p == chain_s and chain_p.breaks == [] and len(chain_p.links) == dump_p.counts()["events"]
    assert verified_p == verified_s and verified_p[0], verified_p[1]
    assert text_p == text_s and m_p == m_s
    # a start on PostgreSQL reads the snapshot and the events after it to the same meeting
    again = await started(on(config, url))
    try:
        assert again.registry.snapshot_at[m_p.id] > 0 and again.bodies["ks"].engine.meeting == m_p
    finally:
        await again.store.close()


def without_pdfs(outbox: list[tuple]) -> list[tuple]:
    """The outbox with each PDF's bytes left out: a PDF carries the time it was made."""
    return [(*r[:5], type(r[5]) if isinstance(r[5], bytes) else r[5], *r[6:]) for r in outbox]


def flytta(config_path: Path, url: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "flytta", "--config", str(config_path), "--till", url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )


async def test_flytta_copies_a_real_meetings_database_into_postgresql_where_it_verifies(
    config, postgres_server, monkeypatch, tmp_path
):
    dump, chain, verified, text, m = await meeting(config, monkeypatch)
    path = tmp_path / "bot.toml"
    path.write_text(EXAMPLE.replace("/var/lib/distansbot/distansbot.sqlite3", str(config.storage.database)))
    path.chmod(0o600)
    url = await postgres_server.database()
    env = {"PATH": "/usr/bin:/bin", "DISTANSBOT_STORAGE__PASSWORD": postgres_server.password}
    done = flytta(path, url, env)
    assert done.returncode == 0, done.stdout + done.stderr
    counts = dump.counts()
    assert f": 1 sammanträde, {counts['events']} händelser, {counts['handled']} markeringar" in done.stdout
    assert f"OK ks: kedjan ({len(chain.links)} händelser" in done.stdout
    assert f'    database = "{url}"' in done.stdout and "DISTANSBOT_STORAGE__PASSWORD" in done.stdout
    # the copy is the meeting: verified against the room's anchors, the same protocol, and the
    # bot goes on from it (the chain goes on where the file's ended)
    copy = on(config, url.replace("distansbot@", f"distansbot:{postgres_server.password}@"))
    bot = await started(copy)
    try:
        assert await bot.store.check("ks") == chain
        assert await verify(bot.store, bot, None, await room_of(bot)) == verified and verified[0]
        assert await bot.protocol_text(None, "md") == text
        assert bot.bodies["ks"].engine.meeting == m
        assert [o.id for o in await bot.store.unsent()] == [row[0] for row in dump.outbox if row[7] is None]
    finally:
        await bot.store.close()
    # a second flytta into it is refused, and changes nothing
    again = flytta(path, url, env)
    assert again.returncode == 1 and "måldatabasen är inte tom" in again.stdout
    bot = await started(copy)
    try:
        assert (await bot.store.dump()).counts() == counts
    finally:
        await bot.store.close()


async def test_flytta_with_a_wrong_password_copies_nothing_and_says_so(config, postgres_server, monkeypatch, tmp_path):
    dump, *_ = await meeting(config, monkeypatch)
    path = tmp_path / "bot.toml"
    path.write_text(EXAMPLE.replace("/var/lib/distansbot/distansbot.sqlite3", str(config.storage.database)))
    path.chmod(0o600)
    url = await postgres_server.database()
    done = flytta(path, url, {"PATH": "/usr/bin:/bin", "DISTANSBOT_STORAGE__PASSWORD": "fel"})
    assert done.returncode == 1 and done.stderr == ""
    assert f"Inget kopierades till {url}: PostgreSQL kunde inte nås" in done.stdout
    assert "password authentication failed" in done.stdout
    done = flytta(path, url.replace("distansbot@", "distansbot:fel@"), {"PATH": "/usr/bin:/bin"})
    assert done.returncode == 1 and f"Inget kopierades till {url}:" in done.stdout  # the password is not shown
    bot = await started(config)
    try:
        assert await bot.store.dump() == dump  # the file is as it was
    finally:
        await bot.store.close()
