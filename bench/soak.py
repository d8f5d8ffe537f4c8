"""The crash soak (outside CI, like the benchmarks): the demo meeting played through a real
Synapse again and again while the bot is killed with SIGKILL after every second step, with
commands sent while it is down, until at least --kills kills. Counts what was lost or answered
twice and whether each meeting's protocol equals the one the rules alone give (times aside).
CI keeps the same loop with a kill every seventh step (tests/integration/test_crash.py).

    .venv/bin/python bench/soak.py [--kills 200]

Writes bench/SOAK.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.crash import play_with_kills  # noqa: E402
from testing.stage import Stage  # noqa: E402


async def soak(kills: int, seed: int) -> dict:
    rng = random.Random(seed)
    total = {"meetings": 0, "kills": 0, "commands": 0, "lost": 0, "doubled": 0, "different_protocols": 0}
    with tempfile.TemporaryDirectory(prefix="distansbot-soak-") as work:
        stage = await Stage.open(Path(work))
        try:
            while total["kills"] < kills:
                result = await play_with_kills(stage, rng, every=2)
                total["meetings"] += 1
                for key in ("kills", "commands", "lost", "doubled"):
                    total[key] += result[key]
                total["different_protocols"] += not result["same_protocol"]
                print(total, flush=True)
        finally:
            await stage.close()
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    start = time.perf_counter()
    t = asyncio.run(soak(args.kills, args.seed))
    minutes = (time.perf_counter() - start) / 60
    lines = [
        "# Crash soak",
        "",
        f"`bench/soak.py --kills {args.kills} --seed {args.seed}`: the demo meeting's commands through a real",
        "Synapse on loopback, the bot killed with SIGKILL after every second step (after 0–250 ms, so",
        "while it reads, handles, stores or sends), one or two commands sent while it is down, then",
        "restarted; a fresh room per meeting, repeated until the kills were reached.",
        "",
        "| meetings | kills | commands | lost | answered twice | protocols not as uninterrupted | minutes |",
        "|---|---|---|---|---|---|---|",
        f"| {t['meetings']} | {t['kills']} | {t['commands']} | {t['lost']} | {t['doubled']} | "
        f"{t['different_protocols']} | {minutes:.1f} |",
        "",
    ]
    Path(__file__).with_name("SOAK.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
