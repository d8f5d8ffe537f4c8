"""Every command × every role: accepted or refused, as the rules say.

Each row sets up a meeting where the command makes sense, then lets each role try it from that
same state. The roles: chair, vice chair (while the chair is present: a member), member, serving
substitute, substitute not serving, teknikfelsledamot, secretary, attendee, security chief and
someone off the roster.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules.actions import Accepted
from rules.tables import PERMISSIONS
from testing.driver import CHAIR, KALLA, M3, M4, M5, OUTSIDER, SECR, SSC, SUB1, SUB2, TJP, VICE, Driver

ROLES = {
    "chair": CHAIR,
    "vice_chair": VICE,
    "member": M4,
    "serving_substitute": SUB1,
    "substitute": SUB2,
    "teknikfelsledamot": M3,
    "secretary": SECR,
    "attendee": TJP,
    "security_chief": SSC,
    "outsider": OUTSIDER,
}
ROSTER = set(ROLES) - {"outsider"}
SERVING = {"chair", "vice_chair", "member", "serving_substitute"}
LEADERS = {"chair", "secretary"}
EVERYONE_PRESENT = (CHAIR, VICE, M3, M4, M5, SUB1, SUB2, SECR, TJP, SSC)


def fresh(d: Driver) -> None:
    pass


def convened(d: Driver) -> None:
    d.ok(CHAIR, KALLA)


def opened_empty(d: Driver) -> None:
    convened(d)
    d.ok(CHAIR, "!öppna")
    d.until_called()


def in_item(d: Driver) -> None:
    """Open, everyone present, Cecilia replaced by Erik (teknikfel), item 1 up."""
    opened_empty(d)
    for user in EVERYONE_PRESENT:
        d.ok(user, "!närvarande")
    d.ok(M3, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")
    d.ok(CHAIR, f"!ersätt {M3} {SUB1}")
    d.ok(M3, "!åter")
    d.ok(CHAIR, "!återuppta")
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 1")


def on_the_list(d: Driver) -> None:
    """Item 1 up, everyone here on its speakers' list: attendees put there by the chair (§ 9)."""
    in_item(d)
    for user in EVERYONE_PRESENT:
        d.ok(CHAIR if user in (TJP, SSC) else user, f"!ordet {user}" if user in (TJP, SSC) else "!ordet")


def speaking(d: Driver) -> None:
    """Eva has the floor in item 1."""
    in_item(d)
    d.ok(M5, "!ordet")
    d.ok(CHAIR, "!nästa")


def streck(d: Driver) -> None:
    in_item(d)
    d.ok(CHAIR, "!streck")


def adjourned(d: Driver) -> None:
    in_item(d)
    d.ok(CHAIR, "!ajournera")


def adjourned_after_drop(d: Driver) -> None:
    in_item(d)
    d.ok(M5, "!avbrott ljud")
    d.ok(CHAIR, "!ajournera")


def leaderless(d: Driver) -> None:
    """Both the chair and the vice chair are jävig in the item: nobody leads it by office."""
    in_item(d)
    d.ok(CHAIR, "!jäv")
    d.ok(VICE, "!jäv")


def called_in(d: Driver) -> None:
    convened(d)
    d.ok(M3, "!förhinder")  # Erik (S) is called in for Cecilia (S)


def rest_struck(d: Driver) -> None:
    """Item 1 up, the items after it struck from the agenda (!utgår): the meeting may end."""
    in_item(d)
    for n in (2, 3, 4):
        d.ok(CHAIR, f"!utgår {n}")


def closed(d: Driver) -> None:
    decided(d)
    d.ok(CHAIR, f"!justerare {M4}")
    d.close()


def justerat(d: Driver) -> None:
    closed(d)
    d.ok(CHAIR, "!justera")
    d.ok(M4, "!justera")


def justerad_paragraph_up(d: Driver) -> None:
    decided(d)
    d.ok(CHAIR, f"!justerare {M4}")
    d.ok(CHAIR, "!justera omedelbart")


def dropped(d: Driver) -> None:
    in_item(d)
    d.ok(M5, "!avbrott bild")


def checking(d: Driver) -> None:
    in_item(d)
    d.ok(CHAIR, "!teknikkontroll")


def checked(d: Driver) -> None:
    checking(d)
    for user in (CHAIR, VICE, M4, M5, SUB1):
        d.ok(user, "!ok")


def decided(d: Driver) -> None:
    checked(d)
    d.ok(CHAIR, "!beslut Bifall")


def voting(d: Driver) -> None:
    checked(d)
    d.ok(CHAIR, "!votering A / B")


def voted(d: Driver) -> None:
    voting(d)
    d.ok(CHAIR, "!ja")
    d.now += timedelta(seconds=60)


TABLE = [
    # command, setup, roles that are accepted
    (KALLA, fresh, {"chair"}),  # § 1: the ordförande convenes
    ("!inställ", convened, {"chair"}),
    ("!öppna", convened, {"chair"}),  # a vice chair only from the time called to
    ("!närvarande", opened_empty, ROSTER),
    (f"!lokal {M5}", in_item, {"chair"}),
    (f"!delad {M4} {M5}", in_item, {"chair"}),
    ("!ärende 2", in_item, {"chair"}),
    ("!tillåt 4", in_item, {"chair"}),
    ("!godkänn 3", in_item, {"security_chief"}),
    ("!yrka Bifall", in_item, SERVING),
    ("!ordet", in_item, ROSTER - {"attendee", "security_chief"}),  # they speak when the chair allows
    (f"!ordet {M5}", in_item, {"chair"}),
    ("!ordet återta", on_the_list, ROSTER),
    ("!nästa", on_the_list, {"chair"}),
    ("!replik", speaking, ROSTER - {"attendee", "security_chief"}),
    ("!streck", in_item, {"chair"}),
    ("!streck återta", streck, {"chair"}),
    (f"!tysta {M5}", in_item, LEADERS),
    (f"!fråntaordet {M5}", in_item, {"chair"}),
    ("!avbrott bild", in_item, ROSTER),
    (f"!avbrott ljud {M5}", in_item, LEADERS),
    (f"!åter {M5}", dropped, LEADERS),
    ("!ajournera", in_item, {"chair"}),
    ("!återuppta", adjourned, {"chair"}),
    (f"!ersätt {M5} {SUB2}", adjourned_after_drop, {"chair"}),
    (f"!återinträd {M3}", adjourned, {"chair"}),
    ("!teknikkontroll", in_item, {"chair"}),
    ("!ok", checking, SERVING),
    ("!beslut Bifall", checked, {"chair"}),
    ("!omtag", decided, {"chair"}),
    ("!votering A / B", checked, {"chair"}),
    ("!ja", voting, SERVING),
    ("!nej", voting, SERVING),
    ("!avstår", voting, SERVING),
    ("!votering klar", voted, {"chair"}),
    ("!reservation", decided, SERVING),
    ("!jäv", in_item, ROSTER),
    (f"!jäv {M5}", in_item, {"chair"}),
    ("!dagordning", in_item, ROSTER),
    ("!status", in_item, ROSTER),
    ("!protokoll", in_item, LEADERS),
    ("!avsluta", rest_struck, {"chair"}),
    ("!utgår 3 Beredning saknas", in_item, {"chair"}),
    ("!lämnar", in_item, ROSTER),
    (f"!lämnar {M5}", in_item, LEADERS),
    (f"!ordförande {M4}", leaderless, {"secretary"}),  # the ordförande is jävig here (KL 6 kap. 28 §)
    (f"!justerare {M4}", in_item, {"chair"}),
    ("!justera", closed, {"chair", "member", "secretary"}),  # the chair, the justerare (David), a secretary
    ("!justera omedelbart", justerad_paragraph_up, {"member"}),  # after the chair: the justerare
    ("!rättelse 1 Bifall med ändringen", closed, {"secretary"}),
    ("!anslag", justerat, {"secretary"}),
    ("!förhinder", convened, {"chair", "vice_chair", "member", "teknikfelsledamot"}),  # members (M3 is one here)
    (f"!förhinder {M5}", convened, {"chair", "secretary"}),
    ("!tjänstgör", called_in, {"serving_substitute"}),  # Erik, who was called in
]


def test_kl_6_33_table_covers_every_command():
    covered = {row[0].split()[0].lstrip("!") for row in TABLE}
    assert covered == {name.split()[0] for name in PERMISSIONS}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize(("command", "setup", "accepted"), TABLE, ids=[row[0].split("\n")[0] for row in TABLE])
def test_authorization_table(command, setup, accepted, role):
    d = Driver()
    setup(d)
    outcome = d.say(ROLES[role], command)
    if role in accepted:
        assert isinstance(outcome, Accepted), outcome
    else:
        assert not isinstance(outcome, Accepted), f"{role} may not {command}"
        assert outcome.body.startswith("⛔ ") and "§" in outcome.body
