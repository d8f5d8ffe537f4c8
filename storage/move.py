"""`bot.py flytta`: a SQLite database copied whole into PostgreSQL, and the copy proved: every
row read back the same, and each body's chain recomputed from the copy's rows the same as from
the file's (so the anchors in the room verify the copy as they did the file)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rules.words import short_fingerprint
from storage import is_url, open_store
from storage.base import Chain, Dump, Unavailable


def without_password(url: str) -> str:
    """The URL as it may be shown and written in the configuration."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")))


def _same(a: Dump, b: Dump) -> list[str]:
    """The tables whose rows differ (meetings also in their order, which is the bodies' order)."""
    differ = []
    for name, rows in vars(a).items():
        other = getattr(b, name)
        if rows != other if name == "meetings" else sorted(rows, key=repr) != sorted(other, key=repr):
            differ.append(name)
    return differ


async def move(database: Path, url: str, password: str | None, config_path: str) -> tuple[bool, list[str]]:
    """Copy the SQLite file `database` into the (empty) PostgreSQL database at `url`, prove the
    copy, and say what to change in the configuration. True when the copy is proved."""
    if not is_url(url):
        return False, [f"--till ska vara en PostgreSQL-URL (postgresql://användare@värd/databas), inte {url!r}."]
    if not await asyncio.to_thread(Path(database).is_file):  # never an empty new file made by opening it
        return False, [f"SQLite-filen {database} finns inte."]
    source = await open_store(database)
    try:
        dump = await source.dump()
        bodies = list(dict.fromkeys(m[1] for m in dump.meetings))
        before = {b: await source.check(b) for b in bodies}
    finally:
        await source.close()
    shown = without_password(url)
    try:
        target = await open_store(url, password)
    except Unavailable as e:
        return False, [f"Inget kopierades till {shown}: {e}."]
    try:
        try:
            await target.load(dump)
        except ValueError as e:
            return False, [f"Inget kopierades till {shown}: {e}. Flytta till en ny, tom databas."]
        copied = await target.dump()
        after = {b: await target.check(b) for b in bodies}
    finally:
        await target.close()
    c = dump.counts()
    unsent = sum(1 for row in dump.outbox if row[7] is None)
    lines = [
        f"Kopierade {database} till {shown}: {_n(c['meetings'], 'sammanträde', 'sammanträden')}, "
        f"{_n(c['events'], 'händelse', 'händelser')}, "
        f"{_n(c['handled'], 'markering', 'markeringar')} av vad som redan är behandlat, "
        f"{_n(c['outbox'], 'svar', 'svar')} ({unsent} ännu inte skickade), "
        f"{_n(c['settings'], 'inställning', 'inställningar')}, "
        f"{_n(c['snapshots'], 'sparat tillstånd', 'sparade tillstånd')}."
    ]
    faults = [f"FEL: tabellen {name} blev inte densamma i kopian." for name in _same(dump, copied)]
    for body in bodies:
        faults += _chain_lines(body, before[body], after[body], lines)
    if faults:
        return False, lines + faults + ["Kopian stämmer inte: behåll SQLite-filen i konfigurationen."]
    return True, lines + [
        "",
        f"Ändra i konfigurationen ({config_path}), under [storage]:",
        f'    database = "{shown}"',
        "och ge databasens lösenord i miljövariabeln DISTANSBOT_STORAGE__PASSWORD (eller i URL:en), inte i filen.",
        f"Starta sedan boten igen. SQLite-filen {database} ändras inte; spara den som säkerhetskopia,",
        "men starta aldrig boten mot den igen: det som händer efter flytten finns bara i PostgreSQL.",
    ]


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _chain_lines(body: str, before: Chain, after: Chain, lines: list[str]) -> list[str]:
    """The body's chain in the copy against the file's: the OK line (in `lines`), or the faults."""
    if after.links != before.links or after.breaks != before.breaks:
        return [f"FEL {body}: kedjan i kopian är inte densamma som i SQLite-filen."]
    head = f", huvud {short_fingerprint(after.links[-1])}" if after.links else ""
    lines.append(f"OK {body}: kedjan ({len(after.links)} händelser{head}) är densamma i kopian som i SQLite-filen.")
    if before.breaks:  # copied as it is: the copy keeps the evidence, faults and all
        lines.append(
            f"VARNING {body}: kedjan var bruten redan i SQLite-filen ({len(before.breaks)} brott); "
            "kopian har samma brott. Kör bot.py verify."
        )
    return []
