"""The crash loop: the demo meeting's whole command sequence played against the bot while it is
killed with SIGKILL at many points, with commands sent while it is down; the final protocol is
held against the one the rules alone give for the same commands, times aside. Used by the crash
test and the soak benchmark."""

from __future__ import annotations

import asyncio
import difflib
import json
import random
import re
from datetime import datetime, timedelta

from config import BodyConfig
from testing.actors import text_of
from testing.driver import Driver
from testing.meeting import protocol_offline
from testing.script import script_for
from testing.stage import ORGANISATION, body_config

# Times as the protocol's json has them (ISO 8601 with offset) and as its words do (18.05).
_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}|\b\d{2}\.\d{2}(\.\d{2})?\b")


def without_times(doc: dict) -> str:
    """The protocol without what depends on the clock or on Matrix event ids: times, and the
    fingerprints (whole, or short in groups as the room shows them) and signatures that cover them."""
    text = json.dumps({k: v for k, v in doc.items() if k not in ("tid", "sammanträde")}, ensure_ascii=False)
    text = re.sub(r'"(kl|från|händelse)": "[^"]*"|\b[0-9a-f]{16,64}\b|\b[0-9a-f]{4}(?: [0-9a-f]{4}){3}\b', "", text)
    return _TIME.sub("T", text)


def _typed(step: str, template) -> str:
    """A poll answer or a hand raised in the call, as the command typed in a room that follows no call."""
    return f"!{template}" if step == "poll" else "!ordet"


def reference(script, start: datetime) -> dict:
    """The protocol of the same commands through the rules alone, no crashes."""
    d = Driver(BodyConfig(**body_config("!r:localhost"), organisation=ORGANISATION).roster())
    d.room_encrypted = False  # as the stage's room is: the permissions note it (§ 2)
    d.now = start
    for who, template, mentioned in script:
        if who == "wait":
            d.now += timedelta(seconds=template)
        elif who in ("poll", "hand"):  # the same vote or request for the floor, typed (no call here)
            d.say(f"@{mentioned[0]}:localhost", _typed(who, template))
        elif who == "called":
            d.until_called()
        elif who not in ("start", "call", "leave"):  # convened minutes ahead: opened at once
            d.say(f"@{who}:localhost", template.format(*(f"@{m}:localhost" for m in mentioned)))
    return json.loads(d.protocol("json"))


def _difference(expected: str, got: str) -> str:
    """Where the protocol after the kills differs from the one the rules alone give (for the failure)."""
    lines = [difflib.unified_diff(expected.split(", "), got.split(", "), lineterm="", n=2)]
    return "\n".join(list(lines[0])[:60])


def no_duplicate_answers(answers: list[dict]) -> bool:
    kinds = [(ev["type"], ev.get("content", {}).get("msgtype")) for ev in answers]
    return len(kinds) == len(set(kinds))


async def play_with_kills(stage, rng: random.Random, every: int) -> dict:
    """The demo meeting played in a fresh room while the bot is killed with SIGKILL after every
    `every`-th step (after a random short delay), with one or two commands sent while it is down.
    Returns the kills, the commands sent, how many were lost or answered twice, and whether the
    protocol equals the one the rules alone give."""
    await stage.new_meeting_room()
    assert stage.observer and stage.bot
    begin = stage.now()
    script = script_for(stage.kalla_for(timedelta(minutes=10)))  # may be opened at once (15 minutes before)
    sent: list[str] = []
    kills = 0
    down = 0  # commands still to send while the bot is down
    for step, (who, template, mentioned) in enumerate(script):
        if who in ("start", "call", "leave"):  # the call is not followed in this room
            continue
        if who == "called":
            await stage.until_called()
            continue
        if who in ("poll", "hand"):
            who, template, mentioned = mentioned[0], _typed(who, template), ()
        if who == "wait":
            if down:
                down = 0
                await stage.start_bot()
            await stage.wait_for(lambda ev: "är inte godkänd" in text_of(ev), timeout=60)
            continue
        event_id = await stage.say(who, template, *mentioned)
        sent.append(event_id)
        if down:
            down -= 1
            if not down:
                await stage.start_bot()
                for earlier in sent:
                    await stage.observer.answer(earlier, timeout=60)
            continue
        if step % every == 3 % every and step < len(script) - 3:
            await asyncio.sleep(rng.choice([0, 0.005, 0.02, 0.05, 0.1, 0.25]))
            stage.bot.kill()
            kills += 1
            down = rng.choice([1, 2])
            continue
        await stage.observer.answer(event_id)
    if down:
        await stage.start_bot()
    lost = 0
    for event_id in sent:
        try:
            await stage.observer.answer(event_id, timeout=60)
        except TimeoutError:
            lost += 1
    await stage.wait_for(lambda ev: ev.get("content", {}).get("filename", "").startswith("protokoll"))
    await asyncio.sleep(1)  # anything sent twice would have arrived by now
    doubled = sum(not no_duplicate_answers(stage.observer.answers_to(event_id)) for event_id in sent)
    got = json.loads(protocol_offline(stage))
    expected = reference(script, begin)
    stage.bot.stop()
    return {
        "kills": kills,
        "commands": len(sent),
        "lost": lost,
        "doubled": doubled,
        "same_protocol": without_times(got) == without_times(expected),
        "difference": _difference(without_times(expected), without_times(got)),
    }
