"""What an administrator asks of the stored log, without the loop running: `bot.py protokoll`
and `bot.py verify` (the chain, every signature, and the anchors the room kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from minutes import protocol
from rules import state as rules_state
from rules.engine import ANCHORED_AT
from rules.roster import Roster
from rules.words import short_fingerprint
from shell.ports import RoomAnchors

if TYPE_CHECKING:
    from storage import Anchor, Break, Chain, Store


class Registry(Protocol):
    """Which meetings the store has (id -> body id) and the roster each was convened with."""

    known: dict[str, str]
    rosters: dict[str, Roster]


async def protocol_text(store: Store, registry: Registry, meeting_id: str | None, fmt: str) -> str | bytes:
    """`bot.py protokoll`: a meeting's protocol from the log alone, checked first as `verify`
    checks the database (its chain, every signature; not the room): a log that does not hold
    is written with what is wrong at its top, and never as justerat."""
    from config import ConfigError

    if not registry.known:
        raise ConfigError("Databasen innehåller inga sammanträden.")
    meeting_id = meeting_id or list(registry.known)[-1]
    if meeting_id not in registry.known:
        raise ConfigError(f"Sammanträdet {meeting_id} finns inte. Finns: {', '.join(registry.known)}")
    body_id = registry.known[meeting_id]
    held, lines = await check_meeting(store, registry, meeting_id, await store.check(body_id))
    doc = protocol.build(meeting_id, body_id, await store.events(meeting_id), registry.rosters[meeting_id])
    if not held:
        faults = [line.removeprefix(f"FEL {meeting_id}: ") for line in lines]
        doc = protocol.unverified(doc, [f[:1].upper() + f[1:] for f in faults])
    return protocol.render_doc(doc, fmt)


async def verify(store: Store, registry: Registry, meeting_id: str | None, room: RoomAnchors) -> tuple[bool, list[str]]:
    """`bot.py verify`: each body's log follows its chain, every signature (on the protocol, or on
    an omedelbart justerad paragraph) is on the events the log has before it, and the log gives
    every anchor the bot posted in the body's room (`room`: per body, its anchors, oldest
    first, or why the room could not be read). True only when all of it holds."""
    if meeting_id and meeting_id not in registry.known:
        return False, [f"Sammanträdet {meeting_id} finns inte."]
    ids = [meeting_id] if meeting_id else list(registry.known)
    ok, lines = True, []
    for body_id in dict.fromkeys(registry.known[mid] for mid in ids):
        chain = await store.check(body_id)
        for mid in (m for m in ids if registry.known[m] == body_id):
            held, found = await check_meeting(store, registry, mid, chain)
            ok = held and ok
            lines += found
        ok = _against_room(body_id, chain, room.get(body_id, "rummet lästes inte"), lines) and ok
    return ok, lines


async def check_meeting(store: Store, registry: Registry, mid: str, chain: Chain) -> tuple[bool, list[str]]:
    """What the database alone shows of one meeting (`chain`: its body's): its events follow the
    chain, and every signature is on the events the log has before it. True when both hold,
    with one OK line; otherwise the faults, one line each (starting "FEL")."""
    body_id = registry.known[mid]
    lines: list[str] = []
    found = _meeting_faults(mid, [b for b in chain.breaks if b.meeting_id == mid], lines)
    events = await store.events(mid)
    state = "ej justerat"
    for k, e in enumerate(events):
        if e.kind not in ("signed", "justerad", "paragraph_justerad"):
            continue
        n, fp = e.data.get("n"), e.data["fingerprint"]
        form = protocol.signed_form(mid, body_id, events[:k], registry.rosters[mid], n, fp)
        if form is None:
            found = True
            lines.append(f"FEL {mid}: {_signing(mid, registry.rosters[mid], events, k)}")
        elif e.kind == "justerad":
            state = f"justerat, fingeravtryck {fp} stämmer" + (
                " (med dagens återgivning av texten, som det signerades på före uppgraderingen)"
                if form == "text"
                else ""
            )
    if found:
        return False, lines
    return True, [f"OK {mid}: {len(events)} händelser, kedjan är hel; protokollet {state}."]


def _meeting_faults(mid: str, breaks: list[Break], lines: list[str]) -> bool:
    for b in breaks[:3]:
        lines.append(f"FEL {mid}: händelse {b.seq} ({b.kind}): {b.why}.")
    if len(breaks) > 3:
        lines.append(f"FEL {mid}: och {len(breaks) - 3} brott till i kedjan.")
    return bool(breaks)


def _signing(mid: str, r: Roster, events: list[rules_state.Event], k: int) -> str:
    """What a signature (event k) that is not on the log before it means, in words."""
    e = events[k]
    n = e.data.get("n")
    paragraph = next((x.data.get("paragraph") for x in events if x.kind == "item_taken" and x.data["n"] == n), n)
    if e.kind == "paragraph_justerad":
        return (
            f"§ {paragraph} stämmer inte med den omedelbart justerade lydelsen: loggen har ändrats efter justeringen."
        )
    if e.kind == "justerad":
        return (
            f"protokollet justerades med fingeravtrycket {e.data['fingerprint']}, men loggen före justeringen ger "
            f"{protocol.fingerprint(mid, events[:k], r)}: den har ändrats efter justeringen."
        )
    what = "protokollet" if n is None else f"§ {paragraph}"
    return f"signaturen av {r.label(e.data['user'])} på {what} (händelse {k}) gäller inte det som loggen har före den."


def _against_room(body_id: str, chain: Chain, anchors: list[Anchor] | str, lines: list[str]) -> bool:
    """The body's chain held against the anchors the bot posted in its room: each must be what
    the database gives at that length (longer is fine: events after the last anchor)."""
    length = len(chain.links)
    if isinstance(anchors, str):
        lines.append(
            f"EJ PRÖVAT MOT RUMMET {body_id}: {anchors}. Endast databasen är kontrollerad, och en databas "
            "som skrivits om i efterhand med kedjan omräknad syns inte utan rummets förankringar."
        )
        return False
    faults = []
    for a in dict.fromkeys(anchors):
        if a.length > length:
            faults.append(
                f"rummet har en förankring av {a.length} händelser, men databasen har bara {length}: "
                "händelser eller sammanträden har tagits bort ur den"
            )
        elif chain.links[a.length - 1] != a.head:
            faults.append(
                f"databasen ger inte rummets förankring av {a.length} händelser (huvud {short_fingerprint(a.head)}): "
                "den har skrivits om i efterhand"
            )
    # Every close and justering since the body-wide chain was posted: the last one's must be there.
    owed = max((i + 1 for i, k in enumerate(chain.kinds) if k in ANCHORED_AT and i >= chain.upgraded), default=0)
    if owed > max((a.length for a in anchors), default=0):
        faults.append(
            f"förankringen efter organets händelse {owed - 1} finns inte i rummet (borttagen ur rummet, "
            "eller inte skickad än)"
        )
    for fault in faults[:3]:
        lines.append(f"FEL {body_id}: {fault}.")
    if faults:
        return False
    if anchors:
        last = max(a.length for a in anchors)
        after = f"; {length - last} händelser efter den senaste" if length > last else ""
        count = len(set(anchors))
        lines.append(
            f"OK {body_id}: organets kedja ({length} händelser) stämmer med rummets {count} "
            f"{'förankring' if count == 1 else 'förankringar'}{after}."
        )
    else:
        lines.append(f"OK {body_id}: organets kedja har {length} händelser; rummet har inga förankringar än.")
    return True
