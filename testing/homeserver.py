"""A real Synapse homeserver on loopback, for the tests, the demo and the benchmarks.

It is the `matrix-synapse` package from PyPI, run as its own process with SQLite, rate limits
raised (tests send fast), passwords hashed cheaply, and users registered through the shared-secret
admin API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SERVER_NAME = "localhost"
_FAST = {"per_second": 10_000, "burst_count": 10_000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    """SIGTERM, and SIGKILL if it does not end in time."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Homeserver:
    def __init__(self, workdir: Path, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.dir = Path(workdir)
        self.env = env  # None: this process's environment (the real clock)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.proc: subprocess.Popen | None = None
        self.config_path = self.dir / "homeserver.yaml"

    def _write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        config = {
            "server_name": SERVER_NAME,
            "pid_file": str(self.dir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # openid: the federation API's /openid/userinfo, which the live view asks (issue 23)
                    "resources": [{"names": ["client", "openid"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(self.dir / "homeserver.db")}},
            "media_store_path": str(self.dir / "media"),
            "signing_key_path": str(self.dir / "signing.key"),
            "log_config": str(self.dir / "log.yaml"),
            "registration_shared_secret": self.secret,
            # bcrypt's fewest rounds: every registration and password login (the cast's, and each
            # fresh bot's) otherwise costs the homeserver most of a second of CPU; a wrong password
            # is refused all the same.
            "bcrypt_rounds": 4,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "enable_registration": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "enable_metrics": False,
            "presence": {"enabled": False},
            "rc_message": _FAST,
            "rc_registration": _FAST,
            "rc_login": {"address": _FAST, "account": _FAST, "failed_attempts": _FAST},
            "rc_joins": {"local": _FAST, "remote": _FAST},
            "rc_joins_per_room": _FAST,
            "rc_invites": {"per_room": _FAST, "per_user": _FAST, "per_issuer": _FAST},
            "rc_admin_redaction": _FAST,
            "rc_key_requests": _FAST,
            "rc_3pid_validation": _FAST,
            "rc_presence": {"per_user": _FAST},
            "rc_delayed_event_mgmt": _FAST,
            "rc_reports": _FAST,
            "rc_room_creation": _FAST,
            "rc_media_create": _FAST,
            # Element Call has the server send a call member's leave when a client vanishes
            # (delayed events, MSC4140): off unless a longest delay is set.
            "max_event_delay_duration": "24h",
            # and, in its Matrix 2.0 mode, writes the membership as sticky events (MSC4354)
            "experimental_features": {"msc4354_enabled": True},
        }
        # YAML is a superset of JSON: no YAML writer needed.
        self.config_path.write_text(json.dumps(config, indent=2))
        log = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "plain",
                    "filename": str(self.dir / "homeserver.log"),
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (self.dir / "log.yaml").write_text(json.dumps(log))

    def start(self, timeout: float = 90) -> None:
        if not self.config_path.exists():
            self._write_config()
            subprocess.run(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path), "--generate-keys"],
                check=True,
                capture_output=True,
            )
        out = open(self.dir / "stdout.log", "ab")  # noqa: SIM115  (the process keeps it)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Synapse stopped at start; see {self.dir / 'stdout.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"Synapse did not answer within {timeout} s")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def register(self, localpart: str, password: str, admin: bool = False) -> str:
        """Register a user through the shared-secret admin API; returns the Matrix id."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint, timeout=10) as r:
            nonce = json.load(r)["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"])
        )
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()}
        request = urllib.request.Request(
            endpoint, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return json.load(r)["user_id"]
        except urllib.error.HTTPError as e:
            if e.code == 400 and b"M_USER_IN_USE" in e.read():
                return f"@{localpart}:{SERVER_NAME}"
            raise
