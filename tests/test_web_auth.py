"""Who sees the live view (web/auth.py): the bot's own tokens, and the roster. The homeserver's
half (OpenID) is tested against Synapse in tests/integration/test_view.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from testing.driver import CHAIR, OUTSIDER, SECR, Driver
from web import auth

SECRET = b"k" * 32


def grant(meeting: str = "ks-1", user: str = CHAIR, expires: int = 0) -> auth.Grant:
    return auth.Grant("ks", meeting, user, expires)


def test_a_token_reads_back_only_with_the_bots_key_and_unchanged():
    token = auth.sign(SECRET, grant())
    assert auth.read(SECRET, token) == grant()
    with pytest.raises(auth.Refused, match="inte giltig"):
        auth.read(b"x" * 32, token)
    payload, mac = token.split(".")
    forged = auth.sign(b"x" * 32, grant(user=SECR)).split(".")[0] + "." + mac  # another person, same mac
    for bad in (forged, payload, "", "a.b.c", payload + ".!!"):
        with pytest.raises(auth.Refused):
            auth.read(SECRET, bad)


def test_p2_only_people_on_the_roster_see_the_meeting():
    d = Driver().opened()
    auth.admit(grant(user=SECR), d.m, d.roster, d.now)
    with pytest.raises(auth.Refused, match="finns inte i förteckningen"):
        auth.admit(grant(user=OUTSIDER), d.m, d.roster, d.now)


def test_a_vy_link_is_for_its_meeting_only_and_ends_when_the_protocol_is_justerat():
    d = Driver().opened()
    auth.admit(grant(), d.m, d.roster, d.now)
    with pytest.raises(auth.Refused, match="avslutat"):
        auth.admit(grant(meeting="ks-2026-01-01"), d.m, d.roster, d.now)  # another meeting's link
    d.m.justerad_at = d.now  # as the fold leaves it once justerat
    with pytest.raises(auth.Refused, match="avslutat"):
        auth.admit(grant(), d.m, d.roster, d.now)


def test_an_element_session_expires():
    d = Driver().opened()
    soon = int((d.now + timedelta(hours=1)).timestamp())
    auth.admit(grant(meeting="", expires=soon), d.m, d.roster, d.now)
    with pytest.raises(auth.Refused, match="gått ut"):
        auth.admit(grant(meeting="", expires=soon), d.m, d.roster, d.now + timedelta(hours=2))


@pytest.fixture
async def hostile_server():
    """A homeserver that answers every OpenID question, for a user of a server other than itself."""
    from aiohttp import web

    from testing.homeserver import free_port

    async def userinfo(request):
        if request.query.get("access_token") != "token-of-evil":
            return web.json_response({"errcode": "M_UNKNOWN_TOKEN"}, status=401)
        return web.json_response({"sub": "@anna:localhost"})

    app = web.Application()
    app.add_routes([web.get("/_matrix/federation/v1/openid/userinfo", userinfo)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_p2_a_homeserver_cannot_vouch_for_a_user_of_another_server(hostile_server):
    import aiohttp

    servers = {"evil.example": hostile_server}
    async with aiohttp.ClientSession() as s:
        with pytest.raises(auth.Refused, match="kan inte gå i god för @anna:localhost"):
            await auth.openid_user(s, "token-of-evil", "evil.example", servers)
        with pytest.raises(auth.Refused, match="känner inte igen"):
            await auth.openid_user(s, "another-token", "evil.example", servers)
        with pytest.raises(auth.Refused, match="ingen giltig hemserver"):
            await auth.openid_user(s, "token-of-evil", "evil.example/../x", servers)


def test_p2_no_server_is_asked_that_nobody_on_the_roster_belongs_to():
    d = Driver()
    auth.roster_server("ex.se", d.roster)
    for server in ("evil.example", "127.0.0.1:22", None, ["ex.se"]):
        with pytest.raises(auth.Refused, match="Ingen i förteckningen"):
            auth.roster_server(server, d.roster)
