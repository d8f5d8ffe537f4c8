"""The demo meeting's protocol, played through the rules alone, against a golden file.

Regenerate after an intended change with: UPDATE_GOLDEN=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot import BodyConfig
from rules import minutes
from rules.actions import Refused
from testing.script import SCRIPT
from testing.stage import body_config
from tests.driver import Driver

GOLDEN = Path(__file__).parent / "golden"


def uid(localpart: str) -> str:
    return f"@{localpart}:localhost"


def play() -> tuple[Driver, list[str]]:
    """The script through the rules; returns the meeting and the rules its refusals cited."""
    roster = BodyConfig(**body_config("!demo:localhost")).roster()
    d = Driver(roster)
    refused = []
    for who, template, mentioned in SCRIPT:
        if who == "wait":
            d.now += timedelta(seconds=template)
            continue
        outcome = d.say(uid(who), template.format(*(uid(m) for m in mentioned)))
        if isinstance(outcome, Refused):
            refused.append(outcome.rule.value)
    return d, refused


@pytest.mark.parametrize("fmt", minutes.FORMATS)
def test_kl_6_35_demo_meeting_protocol_matches_golden_file(fmt):
    d, _ = play()
    text = minutes.render(d.m, d.roster, fmt)
    path = GOLDEN / f"demo-protocol.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_p1_to_p13_demo_script_uses_every_paragraph():
    d, refused = play()
    assert refused == ["§ 8", "§ 12", "§ 6", "KL 6 kap. 17 §", "§ 10", "§ 11", "§ 9", "§ 13", "§ 2"]
    protocol = minutes.render(d.m, d.roster, "md")
    for n in range(1, 14):
        paragraph = f"§ {n}"
        cited = re.search(rf"§§? [0-9, –]*\b{n}\b", protocol) or paragraph in refused
        assert cited, paragraph
    assert d.m.phase.value == "avslutat"
