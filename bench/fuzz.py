"""Fuzzing at scale (outside CI, like the benchmarks): generated chat inputs through the parser and
the engine, meeting after meeting, as the bot gets them: text, typed and linked mentions, HTML,
answers given by reaction or in a poll. Each input either is no command, is refused with a
citation and changes nothing, or is accepted; no input may raise. The driver checks that
`decide` never changes the meeting, and each meeting's protocol is built and checked.

    .venv/bin/python bench/fuzz.py [--inputs 100000] [--seed 2026]

Writes bench/FUZZ.md. The tests keep a smaller run of the same generator (test_bench_smoke).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import commands  # noqa: E402
from commands.text import Message  # noqa: E402
from matrix import rtc  # noqa: E402
from rules.actions import Refused  # noqa: E402
from testing.driver import CHAIR, KALLA, MEMBERS, OUTSIDER, ROSTER, SECR, SSC, SUB1, SUB2, TJP, Driver  # noqa: E402
from testing.invariants import assert_protocol_invariants  # noqa: E402

PEOPLE = (*MEMBERS, SUB1, SUB2, SECR, TJP, SSC, OUTSIDER)
WORDS = [spec.usage.split()[0] for spec in commands.SPECS.values()] + ["!", "!!", "!okänt", "! ja", "!JA", "!Ersatt"]
NOISE = [
    "",
    " ",
    "återta",
    "omedelbart",
    "klar",
    "sluten",
    "ärende",
    "1",
    "99",
    "-3",
    "ljud",
    "bild",
    "A / B",
    "A=1 B=2 blanka=0",
    "<b>x</b>",
    "]",
    "[sekretess]",
    "(Dnr KS 1)",
    "\n",
    "\u202e",
    "ä" * 50,
    "😀",
    "§ 12",
    "@anna:ex.se",
    "@d\u0430vid:ex.se",
    "David Dahl",
    "@",
    ":",
    "återta @eva:ex.se",
]
CALL = dataclasses.replace(ROSTER, call_name="Element Call")
# Call membership content as a member's client may write it, readable or not (rtc.devices).
TIMES = [None, 14_400_000, 0, -1, 10**15, -(10**15), 1.5, float("nan"), float("inf"), True, "60000", [1]]
DEVICE_IDS = ["dev", "other", "", 7, None, ["dev"], "d" * 300, "a\nb"]


def _membership(rng: random.Random) -> object:
    entry = {"application": rng.choice(["m.call", "m.call", "m.other", 1]), "device_id": rng.choice(DEVICE_IDS)}
    for key in ("expires", "created_ts", "expires_ts", "scope"):
        if rng.random() < 0.3:
            entry[key] = rng.choice(TIMES) if key != "scope" else rng.choice(["m.room", "m.user", 0])
    return rng.choice([entry, entry, {}, {"memberships": [entry, entry]}, {"memberships": entry}, [entry], "x"])


def _input(rng: random.Random) -> tuple[str, Message]:
    """One generated message from someone: a command word with random arguments and mentions."""
    sender = rng.choice(PEOPLE)
    word = rng.choice(WORDS)
    args = " ".join(rng.choice(NOISE) for _ in range(rng.randint(0, 4)))
    mentioned = rng.sample(PEOPLE, rng.randint(0, 2))
    body = f"{word} {args} " + " ".join(p for p in mentioned)
    formatted = None
    if mentioned and rng.random() < 0.5:  # as Element sends a mention: a link, the name in the body
        links = " ".join(f'<a href="https://matrix.to/#/{p}">{p[1:4]}</a>' for p in mentioned)
        formatted = f"{word} {args} {links}"
        body = f"{word} {args} " + " ".join(p[1:4] for p in mentioned)
    if rng.random() < 0.05:
        body = KALLA if rng.random() < 0.5 else KALLA.replace("1. Budget", f"1. Budget {rng.choice(NOISE)}")
    return sender, Message(body, formatted, tuple(mentioned) if rng.random() < 0.3 else ())


def run(inputs: int, seed: int, per_meeting: int = 400) -> dict:
    rng = random.Random(seed)
    counts = {"inputs": 0, "no command": 0, "unknown": 0, "refused": 0, "accepted": 0, "meetings": 0, "unreadable": 0}
    start = time.perf_counter()
    while counts["inputs"] < inputs:
        d = Driver(CALL if counts["meetings"] % 2 else ROSTER)
        counts["meetings"] += 1
        d.ok(CHAIR, KALLA)
        d.ok(CHAIR, "!öppna")
        for user in (*MEMBERS, SUB1, SUB2, SECR):
            d.call(user, {"dev": None})
            d.say(user, "!närvarande")
        d.until_called()
        for _ in range(min(per_meeting, inputs - counts["inputs"])):
            counts["inputs"] += 1
            roll = rng.random()
            if roll < 0.04:  # the call changes, as the state event a member's client wrote says
                user = rng.choice(PEOPLE)
                try:
                    found = rtc.devices(f"_{user}_dev", _membership(rng), user, int(d.now.timestamp() * 1000))
                except rtc.Unreadable:  # ignored, as the shell does
                    counts["unreadable"] += 1
                    continue
                d.call(user, {x.device: x.expires for x in found if x.expires is None or x.expires > d.now})
                continue
            sender, msg = _input(rng)
            cmd = commands.parse(msg, sender)
            if cmd is None:
                counts["no command"] += 1
                continue
            if isinstance(cmd, commands.Unknown):
                counts["unknown"] += 1
                continue
            if roll < 0.10 and d.m is not None:  # given as a ✅ on a check or in a vote's poll
                cmd = dataclasses.replace(cmd, answers=(d.m.id, rng.randint(0, 3)))
            outcome = d.decide(cmd)  # the driver asserts decide changed nothing
            if isinstance(outcome, Refused):
                assert outcome.body.startswith("⛔ ") and "§" in outcome.body, outcome
                counts["refused"] += 1
            else:
                counts["accepted"] += 1
            d.now += timedelta(seconds=rng.choice([0, 1, 5, 70]))
        if d.m is not None:
            assert_protocol_invariants(d)
    counts["seconds"] = round(time.perf_counter() - start, 1)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    counts = run(args.inputs, args.seed)
    lines = [
        "# Fuzzing at scale",
        "",
        f"`bench/fuzz.py --inputs {args.inputs} --seed {args.seed}`: generated messages (command words with",
        "random arguments, typed and linked mentions, look-alike letters, HTML, kallelser with damaged",
        "agenda lines, answers given by reaction or in a poll to random checks and votes) and call",
        "changes (call membership content as a member may write it, hostile or not, read by the",
        f"bot's parser: {counts['unreadable']} unreadable and ignored), through the parser and the",
        "engine, in meetings of 400 inputs each, half of them with the call followed. Each accepted",
        "command's meeting before it was compared with the meeting `decide` left (no change); each",
        "meeting's protocol was built and its invariants checked.",
        "",
        "| inputs | meetings | no command | unknown word | refused | accepted | crashes | seconds |",
        "|---|---|---|---|---|---|---|---|",
        f"| {counts['inputs']} | {counts['meetings']} | {counts['no command']} | {counts['unknown']} | "
        f"{counts['refused']} | {counts['accepted']} | 0 | {counts['seconds']} |",
        "",
    ]
    out = Path(__file__).with_name("FUZZ.md")
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
