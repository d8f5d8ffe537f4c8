"""The benchmarks at tiny sizes, so that they keep working (the real run is `python bench/run.py`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_at_smoke_sizes(tmp_path):
    """Every part runs and reports well-formed figures. How fast is the report's to say (its
    targets, "late" among them), never this test's: a timing assertion fails on a loaded machine."""
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    for heading in (
        "## 1. Latency",
        "## 2. Load",
        "## 3. Start-up and replay",
        "## 4. Protocol",
        "## 5. The live view",
        "## 6. PostgreSQL beside SQLite",
        "## Targets",
    ):
        assert heading in text
    assert "| distansbot |" in text and "| echo bot (floor) |" in text
    assert "| echo bot, encryption and a durable store |" in text
    assert "| SQLite |" in text and "| PostgreSQL |" in text
    targets = [
        line for line in text[text.index("## Targets") :].splitlines() if line.startswith("| ") and "|---" not in line
    ]
    assert len(targets) == 19 and all(line.endswith(("| met |", "| MISSED |")) for line in targets[1:]), targets
    raw = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    for ld in (raw["load"], raw["view"]["load"], raw["postgresql"]["load"]):
        assert ld["commands"] > 0 and ld["lost"] == 0 and 0 < ld["steps"] <= ld["commands"], ld
    assert raw["view"]["load"]["viewers"] == 2 * 2 and raw["view"]["load"]["views_received"] > 0
    one, many = raw["view"]["runs"]
    assert (one["pages"], many["pages"]) == (1, 4)
    for run in (one, many):
        # every command recorded a step, and the page was told of each
        assert run["steps"] >= 18 and run["not_shown"] == 0 and run["lost"] == 0, run
        assert 0 < run["page_p50"] <= run["page_p99"] <= run["last_page_p99"], run
    for store in ("sqlite", "postgresql"):
        assert raw["postgresql"][store]["n"] >= 20 and raw["postgresql"][store]["lost"] == 0


def test_fuzzing_a_smaller_run_of_the_soak_generator_raises_nothing_and_changes_nothing_refused():
    sys.path.insert(0, str(ROOT / "bench"))
    import fuzz

    counts = fuzz.run(4000, seed=7)
    assert counts["inputs"] == 4000 and counts["refused"] > 0 and counts["accepted"] > 0
