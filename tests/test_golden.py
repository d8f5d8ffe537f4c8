"""The demo meeting's protocol, played through the rules alone, against a golden file, and the
invariants a golden file cannot guard by itself: every time lies within the meeting, and each
item's section speaks only of that item.

Regenerate after an intended change with: UPDATE_GOLDEN=1 pytest tests/test_golden.py, and read
the diff line by line as the secretary who files the protocol would.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import commands
from commands.text import Message
from config import BodyConfig
from rules.actions import Refused
from testing.driver import Driver
from testing.invariants import assert_protocol_invariants
from testing.script import SCRIPT
from testing.stage import ORGANISATION, body_config

GOLDEN = Path(__file__).parent / "golden"


def uid(localpart: str) -> str:
    return f"@{localpart}:localhost"


def play() -> tuple[Driver, list[str]]:
    """The script through the rules; returns the meeting and the rules its refusals cited."""
    # the kommun as Config gives it every body, from the top-level key the demo's file has
    roster = BodyConfig(**body_config("!demo:localhost", video="element-call"), organisation=ORGANISATION).roster()
    d = Driver(roster)
    d.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the kallelse goes out two days ahead, at 09.00
    refused = []
    for who, template, mentioned in SCRIPT:
        if who == "wait":
            d.now += timedelta(seconds=template)
            continue
        if who == "start":
            assert d.m is not None and d.m.start is not None
            d.now = d.m.start - timedelta(seconds=1)  # the next command comes at the time called
            continue
        if who == "called":
            d.until_called()
            continue
        if who in ("call", "leave"):
            for person in mentioned:
                d.call(uid(person), {f"{person}-telefon": None} if who == "call" else {})
            continue
        if who == "hand":  # as the shell hands over a hand on the person's own call membership
            outcome = d.hand(uid(mentioned[0]), f"$hand-{mentioned[0]}")
            assert not isinstance(outcome, Refused), outcome
            continue
        if who == "poll":
            assert d.m is not None and d.m.vote is not None
            cmd = commands.parse(Message(f"!{template}"), uid(mentioned[0]))
            outcome = d.decide(dataclasses.replace(cmd, answers=(d.m.id, d.m.vote.id)))
            assert not isinstance(outcome, Refused), outcome
            continue
        outcome = d.say(uid(who), template.format(*(uid(m) for m in mentioned)))
        if isinstance(outcome, Refused):
            refused.append(outcome.rule.value)
    return d, refused


@pytest.mark.parametrize("fmt", ["md", "html", "json"])  # the PDF is read back in test_pdf
def test_kl_6_35_demo_meeting_protocol_matches_golden_file(fmt):
    d, _ = play()
    text = d.protocol(fmt)
    path = GOLDEN / f"demo-protocol.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_p1_to_p13_demo_script_uses_every_paragraph():
    d, refused = play()
    assert refused == ["§ 8", "§ 9", "§ 12", "§ 6", "KL 6 kap. 17 §", "§ 10", "§ 11", "§ 9", "§ 13", "§ 2"]
    text = d.protocol("md")
    for n in range(1, 14):
        paragraph = f"§ {n}"
        cited = re.search(rf"\b{n}\b[0-9, och]* §§? arbetsordningen", text) or paragraph in refused
        assert cited, paragraph
    assert d.m.phase.value == "avslutat"


def test_kl_6_35_every_time_in_the_protocol_lies_within_the_meeting_and_each_item_speaks_of_itself():
    d, _ = play()
    doc = assert_protocol_invariants(d)
    start, end = doc["öppnat"], doc["avslutat"]
    assert (start[:16], end[:16]) == ("2026-12-03T18:00", "2026-12-03T18:02")  # convened for 18.00
    assert start.endswith("+01:00") and end.endswith("+01:00")  # ISO 8601 with the offset
    assert d.m.start - timedelta(minutes=15) <= d.m.opened_at  # never opened before the kallelse allows
    # the § 7 permission for item 2, given while item 1 was up, is filed under item 2
    item1, item2 = doc["ärenden"][0], doc["ärenden"][1]
    assert not any("tillät" in line for line in item1["förlopp"])
    assert item2["nummer"] == 2 and any("Ordföranden tillät att ärendet med" in line for line in item2["förlopp"])
