"""The demo: a whole remote meeting of Kommunstyrelsen on a homeserver started here.

    python demo.py [--keep] [--out DIR]

Starts Synapse on loopback, registers the demo body's people, creates the room, starts the bot
and plays the script in `testing/script.py` through real Matrix clients, printing the
conversation. The protocol is written to DIR (default demo-out/). With --keep, the homeserver
and the bot keep running so that you can log in with Element as anyone of the body.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

from matrix.content import POLL_START
from matrix.rtc import RAISED_HAND
from rules.roster import STOCKHOLM as TZ
from testing.actors import ROOT, call_membership, react, respond, set_call, text_of
from testing.script import script_for
from testing.stage import CAST, PASSWORD, Stage, web_config

NAMES = {f"@{lp}:localhost": name for lp, name, _, _ in CAST} | {"@distansbot:localhost": "distansbot"}


def show(ev: dict) -> None:
    kind = ev.get("type")
    who = NAMES.get(ev.get("sender", ""), ev.get("sender", ""))
    stamp = datetime.now(TZ).strftime("%H:%M:%S")
    if kind == "m.reaction":
        print(f"{stamp}  {who} reagerar {text_of(ev)}")
    elif kind == POLL_START:
        print(f"{stamp}  {who} lägger ut omröstningen: {ev['content'].get('org.matrix.msc1767.text', '')!r}")
    elif kind == "org.matrix.msc3381.poll.end":
        print(f"{stamp}  {who} avslutar omröstningen")
    elif kind == "m.room.message":
        content = ev.get("content", {})
        if content.get("msgtype") == "m.file":
            print(f"{stamp}  {who} bifogar filen {content.get('filename')}")
            return
        body = text_of(ev)
        if len(body) > 1500:  # the protocol is written to a file; the screen gets its start
            body = body[:1500] + "\n[…]"
        lines = body.split("\n")
        print(f"{stamp}  {who}: {lines[0]}")
        for line in lines[1:]:
            print(textwrap.indent(line, " " * 12) if line else "")


def write_protocols(config: Path, out: Path) -> None:
    """The protocol as the secretary gets it offline: `bot.py protokoll`, in every format."""
    for fmt in ("md", "html", "json", "pdf"):
        done = subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), "protokoll", "--config", str(config), "--format", fmt],
            capture_output=True,
            check=True,
        )
        (out / f"protokoll.{fmt}").write_bytes(done.stdout)


def stop_on_signals() -> None:
    """SIGTERM (kill, a service manager) and SIGHUP (the terminal closed) end the demo as Ctrl-C
    does: the running task is cancelled, and on the way out it stops what it started (Synapse and
    the bot), which would otherwise run on. A second signal while stopping is not let cut that short."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def cancel() -> None:
        if not task.cancelling():
            task.cancel()

    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, cancel)


async def play(out: Path, keep: bool) -> int:
    stop_on_signals()
    print(f"Startar en Synapse-server på 127.0.0.1 och registrerar {len(CAST)} användare …")
    stage = await Stage.open(out / "stage")
    try:
        assert stage.observer
        # With the live view: !öppna adds it to the room as a widget (the bot is a moderator there).
        view = web_config(stage.hs.url)
        await stage.new_meeting_room(check_timeout=8, video="element-call", web=view, bot_moderator=True)
        print(f"Rummet {stage.room_id} är skapat och boten är med. Sammanträdet börjar.\n")
        stage.observer.on_event = show
        # The demo meeting is convened for a couple of minutes from now, in Swedish time.
        soon = stage.kalla_for(timedelta(seconds=40))
        memberships: dict[str, str] = {}  # each person's call membership event, that a hand relates to
        for who, template, mentioned in script_for(soon):
            if who == "start":  # convened a minute ahead: it may be opened now
                continue
            if who == "called":  # no item is taken up before the time in the kallelse (§ 1)
                assert stage.called_for is not None
                print(f"          (väntar till kl. {stage.called_for:%H.%M}, den tid ledamöterna är kallade till …)")
                await stage.until_called()
                continue
            if who == "wait":
                print(f"          (ingen svarar på {template} sekunder …)")
                await stage.wait_for(lambda ev: "är inte godkänd" in text_of(ev), timeout=60)
                continue
            if who in ("call", "leave"):  # as Element Call writes the room's call state
                for person in mentioned:
                    device = f"{person.upper()}TELEFON"
                    content = call_membership(stage[person], device) if who == "call" else {}
                    print(f"          ({person} {'ansluter till' if who == 'call' else 'tappar'} videosamtalet)")
                    memberships[person] = await set_call(stage[person], stage.room_id, device, content)
                if who == "leave":
                    await stage.wait_for(lambda ev: "lämnat videosamtalet" in text_of(ev), timeout=30)
                continue
            if who == "hand":  # a hand raised in the call, as Element Call raises it
                print(f"          ({mentioned[0]} räcker upp handen i videosamtalet)")
                hand = await react(stage[mentioned[0]], stage.room_id, memberships[mentioned[0]], RAISED_HAND)
                await stage.observer.answer(hand)
                await asyncio.sleep(0.3)
                continue
            if who == "poll":  # an answer in the vote's Element poll
                poll = await stage.wait_for(lambda ev: ev.get("type") == POLL_START, timeout=30)
                print(f"          ({mentioned[0]} svarar {template} i omröstningen)")
                await respond(stage[mentioned[0]], stage.room_id, poll["event_id"], template.replace("å", "a"))
                await asyncio.sleep(0.5)
                continue
            await stage.ask(who, template, *mentioned)
            await asyncio.sleep(0.3)  # let the answers print before the next line
        await stage.wait_for(lambda ev: ev.get("content", {}).get("msgtype") == "m.file", timeout=60)
        await asyncio.sleep(0.5)
        stage.observer.on_event = None
        assert stage.config_path
        await asyncio.to_thread(write_protocols, stage.config_path, out)
        print(f"\nProtokollet är skrivet till {out / 'protokoll.md'} (även .html, .json och .pdf, PDF/A).")
        if keep:
            print(
                f"\nHemservern och boten fortsätter att köra. Logga in med Element (eller annan klient):\n"
                f"  hemserver: {stage.hs.url}\n"
                f"  användare: anna (ordförande), bo, cecilia, david, eva (ledamöter), erik, frida "
                f"(ersättare), sara (sekreterare), tina, sven\n"
                f"  lösenord:  {PASSWORD}\n"
                f"  rum:       {stage.room_id}\n"
                f"  botens konfiguration: {stage.config_path}\n"
                f"  sammanträdesvyn: widgeten i rummet (till protokollet är justerat), eller !vy; "
                f"boten serverar den på {view['public_url']}\n"
                "Avsluta med Ctrl-C (eller kill, SIGTERM): då stoppas hemservern och boten."
            )
            await asyncio.Event().wait()  # until Ctrl-C
        return 0
    finally:
        await stage.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="distansbot: ett helt distanssammanträde som demo")
    parser.add_argument("--keep", action="store_true", help="låt hemservern och boten köra efteråt")
    parser.add_argument("--out", default=str(ROOT / "demo-out"), help="katalog för protokoll och data")
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    try:
        return asyncio.run(play(out, args.keep))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM, SIGHUP: all stopped
        print("\nDemon är avbruten; hemservern och boten är stoppade.")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
