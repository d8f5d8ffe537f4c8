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
    """Serve until stopped. With PostgreSQL, a process that another took over from (standby,
    `storage.lease`) stands by again with a new store, shell and transport: nothing of the old
    one is kept, since what it held in memory may be behind the log the other wrote."""
    from matrix.client import Transport

    os.umask(0o077)  # what the bot creates from now on (its database, nio's key store) is its own
    make_private(config.storage)  # and what an earlier version created is put right
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rereads: set[asyncio.Task] = set()  # held, so that a running one is not collected
    shells: list[Shell] = []  # the one running, for SIGHUP

    def on_hup() -> None:
        if shells:
            task = asyncio.create_task(reread(path, shells[0]))
            rereads.add(task)
            task.add_done_callback(rereads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    while not stop.is_set():
        async with _opened(config) as store:
            transport = Transport(config, store)
            shells[:] = [shell := Shell(config, store, transport.encode)]
            if config.livekit is not None:  # the call's media server, read for sound and picture
                from media.livekit import LiveKitServer

                lk = config.livekit
                shell.media.server = LiveKitServer(lk.url, lk.api_key, lk.api_secret.get_secret_value())
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


async def _check(config: Config, warnings: list[str]) -> int:
    """`bot.py check`: with PostgreSQL, which process serves and which stand by, as the lease
    has it (never a process's own word); then the homeserver and the rooms (matrix.client.check),
    then the call's media server when one is configured (it answers and takes the key)."""
    from matrix.client import check

    also = None
    if config.livekit is not None:
        from media.livekit import report

        lk = config.livekit
        also = functools.partial(report, lk.url, lk.api_key, lk.api_secret.get_secret_value())

    faults = 0
    if config.storage.file is None:
        from storage.lease import LEASE_SECONDS
        from storage.move import without_password

        shown = without_password(str(config.storage.database))
        try:
            async with _opened(config) as store:
                found = await asyncio.wait_for(store.lease.processes(), 10)
        except Exception as e:  # the database's own words, whatever went wrong
            print(f"Databasen {shown}: svarar inte ({type(e).__name__}: {e})")
            faults += 1
        else:
            print(f"Databasen {shown}: OK")
            for holder, host, pid, serving, heard in found:
                if heard > LEASE_SECONDS and not serving:
                    continue  # killed or stopped without a word: a standby is heard from twice a second
                role = "tjänar" if serving else "i beredskap"
                print(f"  {role}: {host} (process {pid}, senast hörd för {heard:.0f} s sedan) [{holder}]")
            if not any(serving for *_, serving, _ in found):
                print("  ingen process tjänar: boten är stoppad, eller en process i beredskap tar över inom 15 s")
                faults += 1
    return max(await check(config, warnings, also), 1 if faults else 0)


async def _move(config: Config, path: str, url: str | None) -> int:
    from storage.move import move

    if not url:
        print("Ange vart databasen ska flyttas: --till postgresql://användare@värd/databas")
        return 2
    if config.storage.file is None:
        print(f"Konfigurationen {path} använder redan PostgreSQL; flytta kopierar en SQLite-fil dit.")
        return 2
    ok, lines = await move(config.storage.file, url, config.storage.secret(), path)
    if ok:
        lines.insert(lines.index(""), await _move_keys(config, url))  # before the advice
    print("\n".join(lines))
    return 0 if ok else 1


async def _move_keys(config: Config, url: str) -> str:
    """nio's key store copied in beside the log (matrix.keystore), for a standby to take over with."""
    from matrix.client import saved_session
    from matrix.keystore import KeyCopy, path_of

    store = await open_store(url, config.storage.secret())
    try:
        saved = await saved_session(store)
        path = path_of(config.storage.e2ee_store, saved[0], saved[1]) if saved else None
        if saved is None or path is None or not await asyncio.to_thread(path.is_file):
            return f"Inget nyckellager att kopiera i {config.storage.e2ee_store} (boten har inte loggat in med det)."
        await KeyCopy(store, path).save()
    finally:
        await store.close()
    return (
        f"Botens nyckellager för enheten {saved[1]} är kopierat in i databasen: boten, och en process i "
        "beredskap på en annan dator, fortsätter som samma enhet."
    )


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
