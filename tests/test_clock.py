"""The meeting's clock and the seams of the rules: one `due()` for what the meeting waits for,
one table of handlers, and rules that name no call product."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from rules import clock, meeting, register
from rules.tables import PERMISSIONS
from testing.driver import CHAIR, KALLA, M5, MEMBERS, Driver
from tests.test_call import call_meeting

ROOT = Path(__file__).resolve().parent.parent


def test_p12_due_names_the_running_checks_deadline_before_any_reminder():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    at, key = clock.due(d.m, d.roster)
    assert (at, key) == (d.m.check.deadline, f"check:{d.m.check.id}")
    assert clock.due(d.m, d.roster, kinds=("reminder",))[1].startswith("reminder:pågår:")


def test_p1_before_the_meeting_due_is_the_first_reminder_not_done():
    d = Driver()
    d.now -= timedelta(days=2)
    d.ok(CHAIR, KALLA)
    first = clock.due(d.m, d.roster)
    assert first is not None and first[1].startswith("reminder:före:1440:")
    second = clock.due(d.m, d.roster, done={first[1]})
    assert second is not None and second[1].startswith("reminder:före:15:") and second[0] > first[0]
    assert clock.due(d.m, d.roster, kinds=clock.ENDS) is None  # nothing for the clock itself to end


def test_p12_tick_ends_what_due_names_and_nothing_before_it():
    d = call_meeting()
    expires = d.now + timedelta(seconds=30)
    d.call(M5, {"short": expires})
    at, key = clock.due(d.m, d.roster, kinds=clock.ENDS)
    assert at == expires and key == clock.call_key(M5, "short", expires.isoformat())
    assert meeting.tick(d.m, d.roster, expires - timedelta(seconds=1)) is None
    fell_due = meeting.tick(d.m, d.roster, expires + timedelta(seconds=5))
    assert fell_due is not None and fell_due[:2] == (expires, key)


def test_every_command_of_the_tables_has_one_handler_and_every_handler_a_row():
    assert register.HANDLERS.keys() == {name.split()[0] for name in PERMISSIONS}
    with pytest.raises(ValueError, match="two handlers"):
        register.handles("kalla")(lambda m, r, cmd, now: None)


def test_p3_the_rules_name_no_call_product_and_import_nothing_outside_rules():
    sources = {p: p.read_text(encoding="utf-8") for p in (ROOT / "rules").rglob("*.py")}
    assert not [p.name for p, text in sources.items() if "element-call" in text.lower()]
    code = (
        "import sys, rules.meeting, rules.engine; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'commands', 'minutes', 'matrix', 'storage', 'shell'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_p3_a_roster_without_a_followed_call_ignores_the_call():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    assert not d.roster.follows_call
    assert d.call(MEMBERS[1], {"dev": None}) is None
