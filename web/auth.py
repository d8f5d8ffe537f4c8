"""Who may see the live view: an OpenID token from Element checked with the person's homeserver,
or a link of the bot's own (`!vy`); and only people on the body's roster.

OpenID (the widget API's `get_openid`, the Matrix server-server API's
`GET /_matrix/federation/v1/openid/userinfo`): the page hands over the token and the server
name Element gave with it; the bot asks that server who the token belongs to, and takes the
answer only for a user id on that same server, so that one homeserver cannot vouch for
another's users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime

import aiohttp

from rules.roster import Roster
from rules.state import Meeting, Phase

_MXID = re.compile(r"^@[a-z0-9._=\-/+]+:([A-Za-z0-9.\-]+(:\d{1,5})?)$")
_SERVER = re.compile(r"^[A-Za-z0-9.\-]{1,255}(:\d{1,5})?$")
_OPENID_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=\-]{1,512}$")
# How long the homeserver gets to answer about a token.
USERINFO_SECONDS = 10
# A view opened through Element lasts this long before the page asks Element again.
SESSION_SECONDS = 12 * 3600


class Refused(Exception):
    """Why the view is not shown, in Swedish, for the page to say."""


@dataclass(frozen=True)
class Grant:
    """What a token lets its holder see: the body's meeting (`meeting` "": whichever is current)."""

    body: str
    meeting: str
    user: str
    expires: int  # unix seconds; 0: with the meeting


def sign(secret: bytes, grant: Grant) -> str:
    payload = json.dumps([grant.body, grant.meeting, grant.user, grant.expires], separators=(",", ":")).encode()
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def read(secret: bytes, token: str) -> Grant:
    """The grant a token of the bot's own carries; Refused if the bot did not make it."""
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except ValueError:
        raise Refused("Länken är inte giltig.") from None
    if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
        raise Refused("Länken är inte giltig.")
    body, meeting, user, expires = json.loads(payload)
    return Grant(body, meeting, user, expires)


def admit(grant: Grant, m: Meeting | None, r: Roster, now: datetime) -> None:
    """Refused unless the grant is good now: the person is on the roster, and a link made for a
    meeting is for the body's meeting now, which has not been cancelled or justerat since."""
    if r.person(grant.user) is None:
        raise Refused(f"{grant.user} finns inte i förteckningen för {r.name} och ser inte sammanträdet.")
    if grant.expires and now.timestamp() > grant.expires:
        raise Refused("Inloggningen har gått ut. Ladda om sidan.")
    if grant.meeting and (
        m is None or m.id != grant.meeting or m.phase is Phase.CANCELLED or m.justerad_at is not None
    ):
        raise Refused("Länken gällde ett sammanträde som är avslutat. Skriv !vy i rummet för en ny.")


def roster_server(server: object, r: Roster) -> None:
    """Refused unless someone on the roster has a user id on `server`."""
    if not isinstance(server, str) or server not in {u.partition(":")[2] for u in r.everyone}:
        raise Refused(f"Ingen i förteckningen för {r.name} har sitt konto på {str(server)[:100]}.")


async def openid_user(session: aiohttp.ClientSession, access_token: str, server: str, servers: dict[str, str]) -> str:
    """The Matrix user an OpenID token belongs to, as the server named with it answers; Refused
    when the server does not know it, or answers for a user of another server."""
    if not isinstance(server, str) or not _SERVER.match(server):
        raise Refused("Element angav ingen giltig hemserver.")
    if not isinstance(access_token, str) or not _OPENID_TOKEN.match(access_token):
        raise Refused("Element gav ingen giltig OpenID-token.")
    base = servers.get(server) or await _federation_base(session, server)
    url = f"{base}/_matrix/federation/v1/openid/userinfo"
    try:
        async with session.get(
            url, params={"access_token": access_token}, timeout=aiohttp.ClientTimeout(total=USERINFO_SECONDS)
        ) as resp:
            if resp.status != 200:
                raise Refused(f"Hemservern {server} känner inte igen inloggningen.")
            answer = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        raise Refused(f"Hemservern {server} svarade inte på frågan om inloggningen.") from None
    sub = answer.get("sub") if isinstance(answer, dict) else None
    found = _MXID.match(sub) if isinstance(sub, str) else None
    if found is None:
        raise Refused(f"Hemservern {server} gav inget giltigt Matrix-id.")
    if found.group(1) != server:
        raise Refused(f"Hemservern {server} kan inte gå i god för {sub}, som hör till en annan server.")
    return sub


async def _federation_base(session: aiohttp.ClientSession, server: str) -> str:
    """Where a server's federation API is: its /.well-known/matrix/server delegation, else port
    8448 (the server-server API's discovery, without SRV records)."""
    if ":" in server:
        return f"https://{server}"
    try:
        async with session.get(
            f"https://{server}/.well-known/matrix/server", timeout=aiohttp.ClientTimeout(total=USERINFO_SECONDS)
        ) as resp:
            if resp.status == 200:
                delegated = (await resp.json(content_type=None)).get("m.server")
                if isinstance(delegated, str) and _SERVER.match(delegated):
                    return f"https://{delegated if ':' in delegated else delegated + ':8448'}"
    except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError):
        pass
    return f"https://{server}:8448"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_\-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
