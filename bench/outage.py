"""A long homeserver outage while the bot runs (outside CI, like the benchmarks): a meeting is
opened, a command is sent, and Synapse is stopped for --minutes, with the bot's CPU and log
watched; then Synapse is started again and what the bot owed must arrive, once, and the meeting
go on. CI keeps an 8-second version (tests/integration/test_crash.py).

    .venv/bin/python bench/outage.py [--minutes 5]

Writes bench/OUTAGE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import process_cpu_and_peak  # noqa: E402
from testing.actors import text_of  # noqa: E402
from testing.crash import no_duplicate_answers  # noqa: E402
from testing.meeting import check_passes, open_meeting  # noqa: E402
from testing.stage import Stage  # noqa: E402


async def outage(minutes: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="distansbot-outage-") as work:
        stage = await Stage.open(Path(work))
        try:
            await stage.new_meeting_room()
            assert stage.observer and stage.bot and stage.bot.proc
            await open_meeting(stage)
            await stage.ask("anna", "!ärende 1")
            status_id = await stage.say("cecilia", "!status")
            log_lines = len(stage.bot.log.read_text(errors="replace").splitlines())
            cpu0 = process_cpu_and_peak(stage.bot.proc.pid)[0]
            stage.hs.stop()
            await asyncio.sleep(minutes * 60)
            cpu = process_cpu_and_peak(stage.bot.proc.pid)[0] - cpu0
            running = stage.bot.running
            during = stage.bot.log.read_text(errors="replace").splitlines()[log_lines:]
            stage.hs.start()
            restarted = time.time()
            answer = await stage.observer.answer(status_id, timeout=180)
            back = answer["origin_server_ts"] / 1000 - restarted  # when the homeserver took it
            await check_passes(stage)
            decided = (await stage.ask("anna", "!beslut Bifall", timeout=60)).startswith("BESLUT")
            await asyncio.sleep(2)
            return {
                "minutes": minutes,
                "running": running,
                "cpu_seconds": cpu,
                "log_lines": len(during),
                "warnings": [line for line in during if "WARNING" in line or "ERROR" in line],
                "owed_answered": "Uppe: ärende 1" in text_of(answer),
                "answered_once": no_duplicate_answers(stage.observer.answers_to(status_id)),
                "seconds_to_answer_after_restart": back,
                "meeting_goes_on": decided,
            }
        finally:
            await stage.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5)
    args = parser.parse_args()
    r = asyncio.run(outage(args.minutes))
    lines = [
        "# Homeserver outage while the bot runs",
        "",
        f"`bench/outage.py --minutes {args.minutes:g}`: a meeting opened through a real Synapse on loopback,",
        "`!status` sent, and Synapse stopped at once (so the answer may still be owed) for the whole",
        "outage, then started again.",
        "",
        "| | |",
        "|---|---|",
        f"| outage | {r['minutes']:g} min |",
        f"| bot still running at its end | {'yes' if r['running'] else 'NO'} |",
        f"| bot CPU during the outage | {r['cpu_seconds']:.2f} s "
        f"({r['cpu_seconds'] / (r['minutes'] * 60) * 100:.2f} % of a core) |",
        f"| log lines during the outage | {r['log_lines']} |",
        f"| the owed answer arrived | {'yes' if r['owed_answered'] else 'NO'}, "
        + (
            f"{r['seconds_to_answer_after_restart']:.0f} s after Synapse was started (its time stamp) |"
            if r["seconds_to_answer_after_restart"] > 0
            else "sent before the homeserver stopped |"
        ),
        f"| answered once | {'yes' if r['answered_once'] else 'NO'} |",
        f"| the meeting went on (a check, a decision) | {'yes' if r['meeting_goes_on'] else 'NO'} |",
        "",
        "The warnings logged during the outage:",
        "",
        "```",
        *(w.split(" ", 2)[-1][:200] for w in r["warnings"]),
        "```",
        "",
    ]
    out = Path(__file__).with_name("OUTAGE.md")
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
