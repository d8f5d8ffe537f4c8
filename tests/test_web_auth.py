"""Who sees the live view (web/auth.py): the bot's own tokens, and the roster. The homeserver's
half (OpenID) is tested against Synapse in tests/integration/test_view.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.driver import CHAIR, OUTSIDER, SECR, Driver
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
