"""Events declared once (`rules.events`): what the rules emit is declared, old logs still fold,
and the state keeps codes where it kept sentences."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minutes import journal
from rules import events, state
from rules.actions import Accepted
from rules.model import Spent
from rules.words import WORDING
from testing.driver import CHAIR, M4, M5, Driver

AT = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def _blocking(d: Driver) -> str:
    lines = d.ok(CHAIR, "!status").replies[0].text.splitlines()
    return next(line for line in lines if line.startswith("Hindrar beslut:"))


def test_p12_a_spent_check_is_kept_as_a_code_and_reads_as_before():
    d = Driver().opened().checked()
    d.ok(M5, "!lämnar")
    spent = d.m.check.spent_by
    assert isinstance(spent, Spent) and (spent.code, spent.user) == ("left", M5)
    assert _blocking(d) == (
        "Hindrar beslut: teknikkontroll 1 gäller inte längre (Eva Ek lämnade sammanträdet kl. 18.00); gör en ny (§ 12)"
    )
    d = Driver().opened().checked()
    d.ok(M4, "!avbrott bild")
    assert d.m.check.spent_by.kind == "bild"
    assert "(David Dahl förlorade bild kl. 18.00); gör en ny (§ 12)" in _blocking(d)
    d = Driver().opened().checked()
    d.ok(CHAIR, "!beslut Bifall")
    assert d.refused(CHAIR, "!beslut Igen").text == (
        "Beslut kan inte fattas nu: teknikkontroll 1 gäller inte längre (beslut fattat kl. 18.00); gör en ny (§ 12)."
    )


def test_every_event_the_rules_emit_is_declared():
    with pytest.raises(ValueError, match="undeclared fields"):
        Accepted([("present", {"user": CHAIR, "mood": "glad"})])
    with pytest.raises(ValueError, match="missing fields"):
        Accepted([("motion", {"n": 1, "user": CHAIR})])
    with pytest.raises(ValueError, match="undeclared event kind"):
        Accepted([("vote_rigged", {})])


def test_the_fold_and_the_journal_cover_every_declared_kind_or_do_not_import():
    assert set(state._APPLY) == set(journal._LINE) == set(events.EVENTS)
    with pytest.raises(RuntimeError, match="missing"):
        events.covers("a renderer", list(events.EVENTS)[1:])
    with pytest.raises(RuntimeError, match="undeclared"):
        events.covers("a renderer", [*events.EVENTS, "vote_rigged"])


def test_kl_5_56_an_old_void_votes_end_keeps_who_presided_and_an_unknown_field_is_left_out():
    m = state.Meeting("ks-1", "ks")
    stored = [
        (
            "convened",
            {"start": AT.isoformat(), "form": "distans", "motivation": "x", "agenda": [{"n": 1, "title": "A"}]},
        ),
        ("opened", {}),
        ("vote_started", {"n": 1, "a": "Ja", "b": "Nej", "voters": [CHAIR], "presiding": CHAIR}),
        ("vote_ended", {"id": 1, "how": "void", "cause": {"code": "adjourned"}, "from_an_older_version": 1}),
    ]
    roster = Driver().roster
    for kind, data in stored:
        state.apply(m, roster, state.Event(kind, AT, CHAIR, data))
    assert m.first_paragraph == 1 and m.numbered is None  # as a log from before numbering meant
    assert m.votes[0].presiding == CHAIR and m.votes[0].how == "void"


def test_every_code_the_rules_say_has_its_words_in_minutes_and_every_wording_a_use():
    root = Path(__file__).resolve().parent.parent
    said = {m for p in (root / "rules").rglob("*.py") for m in re.findall(r'say\(\s*"([\w.]+)"', p.read_text("utf-8"))}
    assert said and said == set(WORDING), (sorted(said - set(WORDING)), sorted(set(WORDING) - said))
