"""distansbot: the command line.

    python bot.py --config PATH                          run the bot (SIGHUP: reread PATH)
    python bot.py protokoll --config PATH [--meeting ID] [--format md|html|json|pdf]
    python bot.py check --config PATH                    validate, log in, report on rooms
    python bot.py verify --config PATH [--meeting ID]    the log unbroken, as the room's anchors have it, and
                                                         every signature on the events before it
    python bot.py ny-enhet --config PATH                 its key store lost: log in anew as a new device
    python bot.py flytta --config PATH --till URL        copy the SQLite database into PostgreSQL (bot stopped)

The bot itself is `shell.Shell` (what happens to a command) over `matrix.client.Transport`
(the homeserver), with every rule in `rules/`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from config import EXIT_CONFIG, Config, ConfigError, load_config, make_private, readable_by_others
from minutes import protocol
from shell import Shell, verify
from shell.admin import protocol_text
from shell.bodies import Bodies
from storage import Store, open_store

log = logging.getLogger("distansbot")


@contextlib.asynccontextmanager
async def _opened(config: Config) -> AsyncIterator[Store]:
    """The bot's database, open for the run or one command-line action, closed after it."""
    store = await open_store(config.storage.database, config.storage.secret())
    try:
        yield store
    finally:
        await store.close()


async def reread(path: str, shell: Shell) -> bool:
    """SIGHUP: the configuration file read again. One that does not load is refused, and the
    one in use stays, with the reason in the log."""
    try:
        new = load_config(path)
    except ConfigError as e:
        log.error("Konfigurationen lästes inte om; den som gällde gäller fortfarande. %s", e)
        return False
    for line in await shell.reconfigure(new):
        log.info("Konfigurationen omläst: %s", line)
    log.info("Konfigurationen är omläst från %s", path)
    return True


async def _run(config: Config, path: str) -> None:
    from matrix.client import Transport

    os.umask(0o077)  # what the bot creates from now on (its database, nio's key store) is its own
    make_private(config.storage)  # and what an earlier version created is put right
    async with _opened(config) as store:
        transport = Transport(config, store)
        shell = Shell(config, store, transport.encode)
        if config.livekit is not None:  # the call's media server, read for sound and picture
            from media.livekit import LiveKitServer

            lk = config.livekit
            shell.media.server = LiveKitServer(lk.url, lk.api_key, lk.api_secret.get_secret_value())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        rereads: set[asyncio.Task] = set()  # held, so that a running one is not collected

        def on_hup() -> None:
            task = asyncio.create_task(reread(path, shell))
            rereads.add(task)
            task.add_done_callback(rereads.discard)

        loop.add_signal_handler(signal.SIGHUP, on_hup)
        if config.web is not None:  # the live view: its server, and the shell's widget and !vy
            from web.server import ViewServer

            shell.view = ViewServer(shell, config.web)
            unsubscribe = shell.bus.subscribe(shell.view.on_step)  # every committed step reaches open pages
            await shell.view.start()
        try:
            await shell.run(transport, stop)
        finally:
            if shell.view is not None:
                unsubscribe()
                await shell.view.stop()
            await transport.close()


async def _check(config: Config, warnings: list[str]) -> int:
    """`bot.py check`: the homeserver and rooms (matrix.client.check), then the call's media
    server when one is configured (it answers and takes the key)."""
    from matrix.client import check

    also = None
    if config.livekit is not None:
        from media.livekit import report

        lk = config.livekit
        also = functools.partial(report, lk.url, lk.api_key, lk.api_secret.get_secret_value())
    return await check(config, warnings, also)


async def _loaded(config: Config, store: Store) -> Bodies:
    """The bodies and their meetings as the store has them, for an action on the log alone."""
    bodies = Bodies(config, store)
    await bodies.load()
    return bodies


async def _protocol(config: Config, meeting_id: str | None, fmt: str) -> str | bytes:
    async with _opened(config) as store:
        return await protocol_text(store, await _loaded(config, store), meeting_id, fmt)


async def _verify(config: Config, meeting_id: str | None) -> int:
    from matrix.client import anchors

    async with _opened(config) as store:
        ok, lines = await verify(store, await _loaded(config, store), meeting_id, await anchors(config, store))
        print("\n".join(lines))
        return 0 if ok else 1


async def _new_device(config: Config) -> int:
    from matrix.client import new_device

    async with _opened(config) as store:
        return await new_device(config, store)


async def _move(config: Config, path: str, url: str | None) -> int:
    from storage.move import move

    if not url:
        print("Ange vart databasen ska flyttas: --till postgresql://användare@värd/databas")
        return 2
    if config.storage.file is None:
        print(f"Konfigurationen {path} använder redan PostgreSQL; flytta kopierar en SQLite-fil dit.")
        return 2
    ok, lines = await move(config.storage.file, url, config.storage.secret(), path)
    print("\n".join(lines))
    if ok:
        print(
            f"Botens nyckellager ({config.storage.e2ee_store}) är en katalog och flyttas inte: den ligger kvar "
            "där boten körs."
        )
    return 0 if ok else 1


# Libraries that say at INFO what they do (fontTools every table of every font it subsets for a
# PDF, nio every request, apscheduler every job) are heard only when something is wrong: the log
# is the bot's one line per command (shell/loop.py) and what needs the administrator.
QUIET_LIBRARIES = ("fontTools", "nio", "apscheduler")


def configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("DISTANSBOT_LOG", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("nio.client.async_client").setLevel(logging.ERROR)  # its retries: said by the bot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="distansbot – distanssammanträden på Matrix")
    parser.add_argument(
        "action", nargs="?", choices=["run", "protokoll", "check", "verify", "ny-enhet", "flytta"], default="run"
    )
    parser.add_argument("--config", required=True, help="konfigurationsfil (TOML)")
    parser.add_argument("--meeting", help="sammanträdets id (protokoll); standard: det senaste")
    parser.add_argument("--format", choices=protocol.FORMATS, default="md")
    parser.add_argument("--till", help="flytta: PostgreSQL-databasens URL (postgresql://användare@värd/databas)")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        config = load_config(args.config)
        warning = readable_by_others(Path(args.config))
        if args.action == "check":  # a fault it reports, among the others
            return asyncio.run(_check(config, [warning] if warning else []))
        if warning:
            log.warning(warning)
        if args.action == "protokoll":
            out = asyncio.run(_protocol(config, args.meeting, args.format))
            if isinstance(out, bytes):  # pdf
                sys.stdout.buffer.write(out)
            else:
                sys.stdout.write(out)
            return 0
        if args.action == "verify":
            return asyncio.run(_verify(config, args.meeting))
        if args.action == "ny-enhet":
            return asyncio.run(_new_device(config))
        if args.action == "flytta":
            return asyncio.run(_move(config, args.config, args.till))
        asyncio.run(_run(config, args.config))
        return 0
    except ConfigError as e:
        print(e, file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    raise SystemExit(main())
