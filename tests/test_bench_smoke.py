"""The benchmarks at tiny sizes, so that they keep working (the real run is `python bench/run.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_at_smoke_sizes(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    for heading in ("## 1. Latency", "## 2. Load", "## 3. Start-up and replay", "## 4. Protocol"):
        assert heading in text
    assert "| distansbot |" in text and "| echo bot (floor) |" in text
    assert "| echo bot, encryption and a durable store |" in text
    assert "| 0 | 0 |" in text  # the load part lost no answer and none was late


def test_fuzzing_a_smaller_run_of_the_soak_generator_raises_nothing_and_changes_nothing_refused():
    sys.path.insert(0, str(ROOT / "bench"))
    import fuzz

    counts = fuzz.run(4000, seed=7)
    assert counts["inputs"] == 4000 and counts["refused"] > 0 and counts["accepted"] > 0
