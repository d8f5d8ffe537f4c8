"""A real, throwaway PostgreSQL server for the tests: Debian's `postgresql` package (./test.sh
installs it as root where it is missing), a cluster made by initdb in a temporary directory,
listening on a loopback port and a socket of its own, with password authentication (scram), so
that the password's way from the configuration to the server is tested too.

PostgreSQL refuses to run as root: as root (a CI machine) the cluster is made and run as the
`postgres` user that the package creates. Nothing of it outlives the tests: `stop` removes it.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.homeserver import free_port

USER = "distansbot"


class Missing(Exception):
    """What this machine lacks to run a PostgreSQL server, in words."""


def binaries() -> Path:
    """The directory of initdb and pg_ctl: Debian keeps them out of PATH, per major version."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise Missing("PostgreSQL saknas (pg_ctl): installera Debians paket postgresql (./test.sh gör det som root)")
    return Path(versions[-1]).parent


class PostgresServer:
    def __init__(self) -> None:
        self.bin = binaries()
        self.runas: list[str] = []
        owner = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise Missing("körs som root men användaren postgres saknas (paketet postgresql skapar den)") from None
            self.runas = ["runuser", "-u", "postgres", "--"]
        # Not under pytest's tmp_path: as root that is root's alone, and the server runs as postgres.
        self.dir = Path(tempfile.mkdtemp(prefix="distansbot-pg-"))
        if owner:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.host = "127.0.0.1"
        self.started = False
        self.durable = False  # set by `start`
        self.databases = 0

    def url(self, database: str = "postgres", password: bool = False) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql://{USER}{secret}@{self.host}:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        """One of PostgreSQL's programs, as the user the server runs as."""
        subprocess.run([*self.runas, str(self.bin / tool), *args], check=True, capture_output=True, cwd=self.dir)

    def start(self, durable: bool = False) -> PostgresServer:
        """`durable`: every commit flushed to disk, as a production server does (the benchmarks,
        beside SQLite's synchronous=FULL); otherwise none is, for the tests' speed."""
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password)
        if self.runas:
            shutil.chown(pwfile, "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--pwfile",
            str(pwfile),
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        self.durable = durable
        self.resume()
        return self

    def resume(self) -> None:
        """The server (made by `start`) running, on its port: again, after `halt`."""
        options = f"-p {self.port} -h {self.host} -k {self.dir}"
        if not self.durable:  # the tests' server: no durability needed across a crash of the machine
            options += " -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "start")
        self.started = True

    def halt(self) -> None:
        """The server gone, as a machine lost or a crash would leave it (its data kept, for `resume`)."""
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.started = False

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def database(self) -> str:
        """A new, empty database on the server: its URL (without the password)."""
        import asyncpg

        self.databases += 1
        name = f"t{self.databases}"
        conn = await asyncpg.connect(self.url(password=True))
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session (a new database per test: `database()`).
    Where PostgreSQL is missing it is skipped, except in CI (CI set), where it fails."""
    try:
        server = PostgresServer()
    except Missing as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL-testerna kan inte köras: {e}")
        pytest.skip(str(e))
    try:
        server.start()
    except subprocess.CalledProcessError as e:
        server.stop()
        pytest.fail(f"PostgreSQL startade inte: {e.cmd}: {e.stderr.decode(errors='replace')}")
    try:
        yield server
    finally:
        server.stop()
