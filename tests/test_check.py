"""`bot.py check` against a homeserver that accepts the connection and never answers: every step
is bounded (10 s), says what did not answer, and exits non-zero."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Takes the connection and the request, answers nothing, until the client gives up."""
    try:
        while await reader.read(65536):
            pass
    finally:
        writer.close()


async def test_check_against_a_homeserver_that_never_answers_returns_within_the_bound_and_fails(tmp_path):
    server = await asyncio.start_server(_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(
        EXAMPLE.replace('homeserver = "http://127.0.0.1:8008"', f'homeserver = "http://127.0.0.1:{port}"').replace(
            "/var/lib/distansbot/", f"{tmp_path}/"
        ),
        encoding="utf-8",
    )
    config.chmod(0o600)
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "check",
        "--config",
        str(config),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 40)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        server.close()
    took = time.monotonic() - began
    said = out.decode() + err.decode()
    assert proc.returncode == 1, said
    assert took < 25, took  # one step (the login), 10 s, and the interpreter's start
    assert "Hemservern http://127.0.0.1:" in said and "svarade inte på inloggningen" in said, said
    assert "inget svar på 10 s" in said, said
    assert "byt-mig" not in said
