"""The live view's data (minutes/view.py): what the page shows, and what it must never show.

§§ 7–8: an item with personal data, secrecy or säkerhetsskydd shows its rubrik and class only,
as the kallelse does; nothing said in the room about it (motions, what was put to the vote, the
decision's wording) reaches the page, which is read outside the encrypted room.
"""

from __future__ import annotations

import json

from minutes.view import privileged, view
from rules.actions import Command
from shell.facts import engine_ports
from testing.driver import CHAIR, M3, M4, M5, MEMBERS, SECR, SSC, SUB1, TJP, VICE, Driver

SECRET = "Hemlig-uppgift-om-skyddsobjektet"
OPEN_TEXT = "Budgeten-antas-enligt-förslaget"


def pill(user: str) -> str:
    return f'<a href="https://matrix.to/#/{user}">X</a>'


def everything(d: Driver) -> str:
    """The view as every kind of viewer sees it, as the page gets it."""
    return json.dumps([view(d.m, d.roster, p) for p in (True, False)], ensure_ascii=False)


def test_p8_a_sakerhetsskydd_items_motions_vote_and_decision_never_reach_the_view():
    d = Driver().opened()
    d.ok(SSC, "!godkänn 3")
    d.ok(CHAIR, "!ärende 3")
    d.ok(M3, f"!yrka {SECRET} A")
    d.ok(M4, f"!yrka {SECRET} B")
    seen = [everything(d)]
    d.checked(3)
    d.ok(CHAIR, f"!votering {SECRET} A / {SECRET} B")
    seen.append(everything(d))
    for u in MEMBERS:
        d.ok(u, "!ja")
    seen.append(everything(d))
    d.ok(CHAIR, f"!beslut {SECRET} beslut")
    seen.append(everything(d))
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, f"!yrka {OPEN_TEXT}")
    d.checked(1)
    d.ok(CHAIR, f"!votering {OPEN_TEXT} / Avslag")
    for u in MEMBERS:
        d.ok(u, "!ja")
    d.ok(CHAIR, f"!beslut {OPEN_TEXT}")
    assert d.close().__class__.__name__ == "Accepted"
    seen.append(everything(d))
    assert all(SECRET not in s for s in seen)
    assert "Skyddsobjekt" in seen[0] and "säkerhetsskydd" in seen[0]  # its rubrik and class are shown
    assert OPEN_TEXT in seen[-1]  # an item without class: its decision is in the draft (the test can fail)


def test_p7_a_personuppgifter_items_vote_shows_who_voted_but_not_what_was_put():
    d = Driver().opened()
    d.ok(CHAIR, "!tillåt 2")
    d.ok(CHAIR, "!ärende 2")
    d.checked(2)
    d.ok(CHAIR, f"!votering {SECRET} / Avslag")
    d.ok(M3, "!ja")
    v = view(d.m, d.roster, True)
    assert v["vote"]["voted"] == ["Cecilia Carlsson (S)"] and "proposals" not in v["vote"]
    assert "Bo Berg (M)" in v["vote"]["missing"] and "missing" not in view(d.m, d.roster, False)["vote"]
    assert v["item"]["permission"] == "tillåtet av ordföranden (§ 7)"
    assert SECRET not in everything(d)


def test_p12_the_chair_and_secretaries_see_who_has_not_answered_the_check_others_do_not():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    d.ok(M3, "!ok")
    assert privileged(d.m, d.roster, CHAIR) and privileged(d.m, d.roster, SECR) and privileged(d.m, d.roster, VICE)
    assert not privileged(d.m, d.roster, M4) and not privileged(d.m, d.roster, TJP)
    chair, member = view(d.m, d.roster, True), view(d.m, d.roster, False)
    assert chair["check"]["count"] == "1 av 5 har svarat" == member["check"]["count"]
    assert "David Dahl (C)" in chair["check"]["missing"] and "missing" not in member["check"]
    assert member["check"]["answered"] == ["Cecilia Carlsson (S)"]


def test_kl_6_27_the_view_says_quorum_and_what_blocks_a_decision_as_status_does():
    d = Driver().opened(present=(CHAIR, VICE, M3, SUB1, SECR))
    d.ok(CHAIR, "!ärende 1")
    v = view(d.m, d.roster, False)
    assert v["phase_text"] == "Pågår" and v["quorum"]["ok"]
    assert v["quorum"]["text"].startswith("Beslutfört: 3 av 5 ledamöter tjänstgör")
    assert any("teknikkontroll" in b and "(§ 12)" in b for b in v["blockers"]) and not v["decidable"]
    rows = {row["name"]: row for row in v["people"]}
    assert rows["Eva Ek (V)"]["states"] == ["inte närvarande"] and rows["Eva Ek (V)"]["level"] == "bad"
    d.ok(M3, "!avbrott bild")
    rows = {row["name"]: row for row in view(d.m, d.roster, False)["people"]}
    assert "bild saknas" in rows["Cecilia Carlsson (S)"]["states"] and rows["Cecilia Carlsson (S)"]["level"] == "bad"
    d.ok(CHAIR, "!ajournera")
    assert view(d.m, d.roster, False)["phase_text"] == "Ajournerat"
    d.ok(CHAIR, f"!ersätt {pill(M5)} {pill(SUB1)}", f"!ersätt {pill(M5)} {pill(SUB1)}")
    rows = {row["name"]: row for row in view(d.m, d.roster, False)["people"]}
    assert rows["Erik Ek (S)"]["role"] == "tjänstgör för Eva Ek"


def test_p2_vy_is_answered_by_the_engines_port_and_is_no_step_of_the_meeting():
    """!vy goes through the engine as !hjälp does (`Ports.view`): a reply, no event, and a
    direct message only for someone on the roster while the view is served."""
    d = Driver().opened()
    events = len(d.log)
    outcome = d.say(M3, "!vy")
    assert "inte påslagen" in outcome.replies[0].text and len(d.log) == events
    assert d.say("@mallory:ex.se", "!vy").replies[0].text.startswith("⛔ § 2")

    class Served:
        def link(self, body: str, meeting: str, user: str) -> str:
            return f"https://vy.example.se/vy?t={body}.{meeting}.{user}"

    engine = d.engine
    engine.ports = engine_ports(lambda r, cmd: f"{r.body_id}-1", view=Served)
    step = engine.step(Command("vy", M3), d.now)
    assert step.events == () and step.effects.direct is not None
    user, text = step.effects.direct
    assert user == M3 and f"https://vy.example.se/vy?t={d.roster.body_id}.{d.m.id}.{M3}" in text
    assert engine.step(Command("vy", "@mallory:ex.se"), d.now).effects.direct is None


def test_hjalp_lists_vy_only_where_the_view_is_on():
    """!hjälp gives the commands this person may use now: without [web] !vy only says the view
    is not switched on, so it is not listed; with it, it is, for someone on the roster."""

    class Served:
        def link(self, body: str, meeting: str, user: str) -> str:
            return "https://vy.example.se/vy?t=x"

    d = Driver().opened()
    assert "!vy" not in d.say(M3, "!hjälp").replies[0].text
    d.engine.ports = engine_ports(lambda r, cmd: f"{r.body_id}-1", view=Served)
    said = d.engine.step(Command("hjälp", M3), d.now).outcome.replies[0].text
    assert "!vy – en länk till sammanträdesvyn, i ett direktmeddelande" in said.splitlines()
    assert "!vy" not in d.engine.step(Command("hjälp", "@mallory:ex.se"), d.now).outcome.replies[0].text


def test_p9_the_view_shows_who_has_the_floor_a_reply_waiting_and_the_streck():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(M3, "!ordet")
    d.ok(M4, "!ordet")
    assert view(d.m, d.roster, False)["floor"] == {
        "speaking": None,
        "reply": False,
        "reply_waiting": None,
        "closed": False,
    }
    d.ok(CHAIR, "!nästa")
    d.ok(M5, "!replik")
    d.ok(CHAIR, "!streck")
    floor = view(d.m, d.roster, False)["floor"]
    assert floor == {
        "speaking": d.roster.label(M3),
        "reply": False,
        "reply_waiting": d.roster.label(M5),
        "closed": True,
    }
    assert view(d.m, d.roster, False)["speakers"] == [d.roster.label(M4)]
