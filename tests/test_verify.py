"""The protocol as evidence (KL 5 kap. 69 §): `verify` over a real SQLite store and the shell.

One chain per body across its meetings, anchored in the room at every close and justering, so
that a database rewritten afterwards, chain and all, shows against what the room kept; and a
signature on the events themselves, so that a later version's wording never makes an earlier
justering read as false. The room's anchors here are those the bot owes the room (its outbox);
`tests/integration/test_justering.py` reads them from Synapse through `bot.py verify`.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import sqlite3
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

import bot as cli
from commands.text import Message
from matrix import content as shapes
from minutes import journal, protocol
from rules.words import short_fingerprint
from shell import verify
from storage import Anchor, Outgoing, chain, open_store
from storage.sqlite import MIGRATIONS
from testing.driver import Driver, started
from tests.test_schedule import STOCKHOLM_18

ANNA, BO, CECILIA = "@anna:localhost", "@bo:localhost", "@cecilia:localhost"
EVERYONE = ("anna", "bo", "cecilia", "david", "eva")
_SOURCES = itertools.count()  # each command its own Matrix event id


def kalla(day: str = "2026-12-03") -> str:
    return f"!kalla {day} 18:00 distans\nMotivering: smittspridning i kommunen\n1. Budget 2027\n2. Taxor 2027"


async def say(bot, who: str, text: str, now) -> None:
    await bot.handle(bot.bodies["ks"], f"$cmd-{next(_SOURCES)}", Message(text), who, now)


async def held(bot, day=STOCKHOLM_18, omedelbart: bool = False, close: bool = True):
    """A meeting on `day` with both items decided (item 1 justerad at once if asked), closed."""
    before = day - timedelta(minutes=5)
    await say(bot, ANNA, kalla(day.date().isoformat()), before - timedelta(days=7))
    await say(bot, ANNA, "!öppna", before)
    for who in EVERYONE:
        await say(bot, f"@{who}:localhost", "!närvarande", before)
    now = day + timedelta(minutes=1)
    await say(bot, ANNA, f"!justerare {CECILIA}", now)
    for n in (1, 2):
        await say(bot, ANNA, f"!ärende {n}", now)
        await say(bot, ANNA, "!teknikkontroll", now)
        for who in EVERYONE:
            await say(bot, f"@{who}:localhost", "!ok", now)
        await say(bot, ANNA, "!beslut Bifall" if n == 1 else "!beslut Taxorna fastställs.", now)
        if n == 1 and omedelbart:
            await say(bot, ANNA, "!justera omedelbart", now)
            await say(bot, CECILIA, "!justera omedelbart", now)
    if close:
        await say(bot, ANNA, "!avsluta", now)
    return now


async def justerat(bot, day=STOCKHOLM_18, omedelbart: bool = False):
    now = await held(bot, day, omedelbart)
    await say(bot, ANNA, "!justera", now)
    await say(bot, CECILIA, "!justera", now)
    assert bot.bodies["ks"].engine.meeting.justerad_at is not None
    return now


async def posted(bot) -> list[Anchor]:
    """The anchors the bot owes the room, oldest first: what the room will have."""
    found = [shapes.anchor_of(o.content, "ks") for o in await bot.store.unsent()]
    return [Anchor(*a) for a in found if a]


async def room_of(bot) -> dict:
    return {"ks": await posted(bot)}


async def rechain(bot) -> None:
    """What one with the database in hand does after a change: every link and position
    recomputed, so that the database alone shows nothing."""
    db = bot.store.db
    rows = await db.execute_fetchall(
        "SELECT meeting_id, seq, kind, at, actor, source, data FROM events ORDER BY pos NULLS LAST, rowid"
    )
    head = ""
    for pos, row in enumerate(rows):
        head = chain(head, *row)
        await db.execute("UPDATE events SET pos = ?, link = ? WHERE meeting_id = ? AND seq = ?", (pos, head, *row[:2]))
    await db.commit()


async def set_decision(bot, old: str, new: str) -> None:
    changed = await bot.store.db.execute(
        "UPDATE events SET data = json_set(data, '$.text', ?) "
        "WHERE kind = 'decided' AND json_extract(data, '$.text') = ?",
        (new, old),
    )
    assert changed.rowcount == 1
    await bot.store.db.commit()


def faults(lines: list[str]) -> str:
    return "\n".join(line for line in lines if not line.startswith("OK"))


# --- anchors -------------------------------------------------------------------------------------


async def test_kl_5_69_the_chain_is_anchored_in_the_room_at_the_close_and_at_every_justering(config):
    bot = await started(config)
    try:
        await justerat(bot, omedelbart=True)
        anchors = await posted(bot)
        # the omedelbar justering of § 1, the close, the justering of the whole protocol
        assert len(anchors) == 3 and anchors[0].length < anchors[1].length < anchors[2].length
        chain_now = await bot.store.check("ks")
        assert chain_now.breaks == [] and anchors[-1] == Anchor(len(chain_now.links), chain_now.links[-1])
        texts = [o.content["body"] for o in await bot.store.unsent() if shapes.ANCHOR in o.content]
        assert texts[-1].startswith(
            f"Förankring av protokollskedjan för Kommunstyrelsen: {anchors[-1].length} händelser"
        )
        assert short_fingerprint(anchors[-1].head) in texts[-1]
        ok, lines = await verify(bot.store, bot, None, await room_of(bot))
        assert ok, lines
        assert any(line.startswith("OK ks:") and "3 förankringar" in line for line in lines)
    finally:
        await bot.store.close()


async def test_kl_5_69_verify_finds_a_justerat_decision_changed_with_its_chain_recomputed(config):
    bot = await started(config)
    try:
        await justerat(bot)
        room = await room_of(bot)
        await set_decision(bot, "Taxorna fastställs.", "Taxorna avslås.")
        await rechain(bot)
        assert (await bot.store.check("ks")).breaks == []  # the database alone shows nothing wrong
        ok, lines = await verify(bot.store, bot, None, room)
        assert not ok
        assert "ändrats efter justeringen" in faults(lines)  # the signature is on the events
        assert "den har skrivits om i efterhand" in faults(lines)  # and the room's anchors differ

        # The signatures rewritten too, to the fingerprint of the changed log: the room still shows it.
        m = bot.bodies["ks"].engine.meeting
        events = await bot.store.events(m.id)
        fp = protocol.fingerprint(m.id, events, bot.rosters[m.id])
        await bot.store.db.execute(
            "UPDATE events SET data = json_set(data, '$.fingerprint', ?) WHERE kind IN ('signed', 'justerad')", (fp,)
        )
        await bot.store.db.commit()
        await rechain(bot)
        ok, lines = await verify(bot.store, bot, None, room)
        assert not ok and "den har skrivits om i efterhand" in faults(lines)
        assert "ändrats efter justeringen" not in faults(lines)
    finally:
        await bot.store.close()


async def test_kl_5_69_verify_finds_the_signatures_cut_off_the_end_after_which_a_rattelse_is_accepted(config):
    bot = await started(config)
    try:
        await justerat(bot)
        room = await room_of(bot)
        m = bot.bodies["ks"].engine.meeting
        await bot.store.db.execute("DELETE FROM events WHERE kind IN ('signed', 'justerad')")
        await bot.store.db.commit()
        assert (await bot.store.check("ks")).breaks == []  # cut at the end: the chain that is left is whole
        # Restarted on the cut database, the protocol is open to a rättelse again.
        again = await started(config)
        try:
            now = m.closed_at + timedelta(minutes=5)
            await again.handle(
                again.bodies["ks"], "$rätt", Message("!rättelse 2 Taxorna avslås."), "@sara:localhost", now
            )
            assert again.bodies["ks"].engine.meeting.items[2].decisions[-1].text == "Taxorna avslås."
            ok, lines = await verify(again.store, again, None, room)
            assert not ok
            assert "den har skrivits om i efterhand" in faults(lines) or "databasen har bara" in faults(lines)
        finally:
            await again.store.close()
        # Without the rättelse, the database is shorter than the room's last anchor.
        ok, lines = await verify(bot.store, bot, None, room)
        assert not ok and "databasen har bara" in faults(lines)
    finally:
        await bot.store.close()


async def test_kl_5_69_verify_finds_an_unsigned_meetings_tail_cut(config):
    bot = await started(config)
    try:
        await held(bot)  # closed, not justerat: anchored at the close
        room = await room_of(bot)
        assert len(room["ks"]) == 1
        m = bot.bodies["ks"].engine.meeting
        await bot.store.db.execute("DELETE FROM events WHERE meeting_id = ? AND seq >= ?", (m.id, m.event_count - 4))
        await bot.store.db.commit()
        assert (await bot.store.check("ks")).breaks == []
        ok, lines = await verify(bot.store, bot, None, room)
        assert not ok and "databasen har bara" in faults(lines) and "tagits bort" in faults(lines)
    finally:
        await bot.store.close()


async def test_kl_5_69_verify_finds_an_earlier_meeting_deleted(config):
    bot = await started(config)
    try:
        await justerat(bot)
        await justerat(bot, STOCKHOLM_18 + timedelta(days=14))
        room = await room_of(bot)
        first, second = bot.bodies["ks"].meetings
        ok, lines = await verify(bot.store, bot, None, room)
        assert ok, lines
        await bot.store.db.execute("DELETE FROM events WHERE meeting_id = ?", (first,))
        await bot.store.db.execute("DELETE FROM snapshots WHERE meeting_id = ?", (first,))
        await bot.store.db.execute("DELETE FROM meetings WHERE id = ?", (first,))
        await bot.store.db.commit()
        again = await started(config)
        try:
            assert list(again.known) == [second]
            # The next meeting's first event is chained to the deleted one's last: the database shows it.
            ok, lines = await verify(again.store, again, None, {"ks": "rummet lästes inte"})
            assert not ok and f"FEL {second}: händelse 0 (convened)" in faults(lines)
            assert "saknas (borttagen, med sitt sammanträde?)" in faults(lines)
            # Recomputed, the database alone is whole again; the room is not fooled.
            await rechain(again)
            ok, lines = await verify(again.store, again, None, room)
            assert not ok and f"OK {second}" in "\n".join(lines)
            assert "den har skrivits om i efterhand" in faults(lines)
        finally:
            await again.store.close()
    finally:
        await bot.store.close()


async def test_kl_5_69_verify_says_when_it_checked_the_database_alone(config):
    bot = await started(config)
    try:
        await justerat(bot)
        ok, lines = await verify(bot.store, bot, None, {"ks": "hemservern svarade inte"})
        assert not ok  # not all was checked
        assert any(line.startswith("OK ks-2026-12-03") for line in lines)
        assert "EJ PRÖVAT MOT RUMMET ks: hemservern svarade inte. Endast databasen är kontrollerad" in faults(lines)
        # An anchor the log says was posted and the room does not have is named.
        ok, lines = await verify(bot.store, bot, None, {"ks": (await posted(bot))[:1]})
        assert not ok and "finns inte i rummet" in faults(lines)
    finally:
        await bot.store.close()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@given(
    st.one_of(
        _JSON,
        st.fixed_dictionaries(
            {
                shapes.ANCHOR: st.fixed_dictionaries(
                    {"organ": st.sampled_from(["ks", "bn"]), "händelser": _JSON, "huvud": _JSON}
                )
            }
        ),
    )
)
def test_kl_5_69_an_anchor_is_read_strictly_from_whatever_a_message_holds(content):
    """What `verify` reads from the room is whatever the events hold: an anchor or nothing,
    never an exception, never a length or head of the wrong shape."""
    found = shapes.anchor_of(content, "ks")
    if found is not None:  # only from a content of the anchor's own shape
        length, head = found
        assert type(length) is int and length >= 1 and len(head) == 64 and set(head) <= set("0123456789abcdef")


def test_kl_5_69_an_anchor_of_another_body_or_shape_is_no_anchor():
    head = "ab" * 32
    assert shapes.anchor_of({shapes.ANCHOR: {"organ": "ks", "händelser": 3, "huvud": head}}, "ks") == (3, head)
    for bad in (
        {"organ": "bn", "händelser": 3, "huvud": head},  # another body's
        {"organ": "ks", "händelser": True, "huvud": head},  # a bool is no count
        {"organ": "ks", "händelser": 0, "huvud": head},
        {"organ": "ks", "händelser": 3, "huvud": head.upper()},
        {"organ": "ks", "händelser": 3, "huvud": head[:16]},
    ):
        assert shapes.anchor_of({shapes.ANCHOR: bad}, "ks") is None, bad


# --- what a signature covers ------------------------------------------------------------------------


async def test_kl_5_69_a_justering_still_verifies_when_a_wording_changes_but_not_when_an_event_does(
    config, monkeypatch
):
    bot = await started(config)
    try:
        await justerat(bot, omedelbart=True)
        room = await room_of(bot)
        m = bot.bodies["ks"].engine.meeting
        before = protocol.render(m.id, "ks", await bot.store.events(m.id), bot.rosters[m.id])
        # A later version words the journal differently (here: how a decision's line reads).
        decided = journal._LINE["decided"]
        monkeypatch.setitem(journal._LINE, "decided", lambda m, r, d: "Beslutet blev: " + decided(m, r, d))
        after = protocol.render(m.id, "ks", await bot.store.events(m.id), bot.rosters[m.id])
        assert after != before and "Beslutet blev: " in after
        ok, lines = await verify(bot.store, bot, None, room)
        assert ok, lines
        assert any(line.startswith(f"OK {m.id}") and "justerat, fingeravtryck" in line for line in lines)

        # An event changed (the chain recomputed, so only what was signed can tell): not OK.
        await set_decision(bot, "Bifall", "Avslag")
        await rechain(bot)
        ok, lines = await verify(bot.store, bot, None, {"ks": []})
        assert not ok
        assert "§ 1 stämmer inte med den omedelbart justerade lydelsen" in faults(lines)
        assert "ändrats efter justeringen" in faults(lines)
    finally:
        await bot.store.close()


async def test_kl_5_69_a_justering_signed_on_the_text_before_the_upgrade_still_verifies(config):
    """Protocols justerade before the events were signed carry the fingerprint of the protocol's
    text: verify still recognises it (with today's renderer, and says so)."""
    bot = await started(config)
    try:
        await justerat(bot)
        m = bot.bodies["ks"].engine.meeting
        events = await bot.store.events(m.id)
        k = next(i for i, e in enumerate(events) if e.kind == "signed")
        content = [e for e in events[:k] if e.kind not in protocol.NOT_SIGNED]
        old = protocol._sha256(protocol._doc(m.id, "ks", content, bot.rosters[m.id], ""))
        await bot.store.db.execute(
            "UPDATE events SET data = json_set(data, '$.fingerprint', ?) WHERE kind IN ('signed', 'justerad')", (old,)
        )
        await bot.store.db.commit()
        await rechain(bot)
        ok, lines = await verify(bot.store, bot, m.id, {"ks": []})
        assert any(f"justerat, fingeravtryck {old} stämmer (med dagens återgivning" in line for line in lines), lines
    finally:
        await bot.store.close()


# --- the upgrade ---------------------------------------------------------------------------------------


def _old_database(path, body_rows: dict[str, list[tuple]]) -> None:
    """A database as the version before the body-wide chain left it: each meeting chained alone."""
    db = sqlite3.connect(path)
    db.executescript("".join(MIGRATIONS[:4]) + "PRAGMA user_version = 4;")
    for mid, rows in body_rows.items():
        db.execute("INSERT INTO meetings (id, body_id, created_at) VALUES (?, 'ks', '2026-01-01')", (mid,))
        prev = ""
        for seq, (kind, data) in enumerate(rows):
            fields = (mid, seq, kind, "2026-01-01T17:00:00+00:00", "@anna:localhost", f"${mid}{seq}", json.dumps(data))
            prev = chain(prev, *fields)
            db.execute(
                "INSERT INTO events (meeting_id, seq, kind, at, actor, source, data, hash) VALUES (?,?,?,?,?,?,?,?)",
                (*fields, prev),
            )
    db.commit()
    db.close()


async def test_kl_5_69_an_upgrade_links_a_bodys_meetings_into_one_chain_and_hides_no_earlier_change(tmp_path, caplog):
    path = tmp_path / "old.sqlite3"
    _old_database(path, {"a": [("k", {"x": 1}), ("k", {"x": 2})], "b": [("k", {"x": 3})]})
    store = await open_store(path)
    try:
        found = await store.check("ks")
        assert found.breaks == [] and len(found.links) == 3 and found.upgraded == 3
        rows = await store.db.execute_fetchall("SELECT meeting_id, seq, pos FROM events ORDER BY pos")
        assert rows == [("a", 0, 0), ("a", 1, 1), ("b", 0, 2)]
    finally:
        await store.close()

    # One changed before the upgrade (its meeting's own hash no longer fits) is still found after
    # it, though the new chain was computed over the changed row.
    path = tmp_path / "changed.sqlite3"
    _old_database(path, {"a": [("k", {"x": 1}), ("k", {"x": 2})]})
    db = sqlite3.connect(path)
    db.execute("""UPDATE events SET data = '{"x": 9}' WHERE seq = 0""")
    db.commit()
    db.close()
    with caplog.at_level(logging.WARNING, logger="distansbot"):
        store = await open_store(path)
    assert any("bruten före uppgraderingen" in r.message for r in caplog.records)
    try:
        (found,) = (await store.check("ks")).breaks
        assert (found.meeting_id, found.seq) == ("a", 0) and "sammanträdets kedja" in found.why
    finally:
        await store.close()


async def test_kl_6_35_answers_marked_sent_while_a_command_is_stored_share_the_connection_safely(tmp_path):
    """The outbox marks what the homeserver took while the next command is being stored, on the
    same connection: neither transaction may start inside the other (a close owes several
    answers, its anchor among them, so this happens at every close)."""
    d = Driver()
    d.ok("@anna:ex.se", "!kalla 2026-12-03 18:00 distans\nMotivering: x\n1. Budget")
    store = await open_store(tmp_path / "db.sqlite3")
    try:
        owed = [Outgoing("!r", "m.room.message", {"body": str(i)}) for i in range(3)]
        await store.record("$1", "!r", d.now, d.log, owed, meeting=(d.m.id, "ks", None), meeting_id=d.m.id)
        ids = [o.id for o in await store.unsent()]
        for round in range(20):
            marks = {i: f"$sent{round}-{i}" for i in ids}
            stored, _ = await asyncio.gather(
                store.record(f"$cmd{round}", "!r", d.now, [], owed[:1]), store.mark_sent(marks)
            )
            assert stored
        assert len(await store.unsent()) == 20  # each command's answer, none of the marked ones
    finally:
        await store.close()


# --- bot.py protokoll checks the log first ----------------------------------------------------------


async def _protokoll(config, fmt: str) -> str:
    """What `bot.py protokoll --format fmt` prints (its own action), as text."""
    out = await cli._protocol(config, None, fmt)
    return out if isinstance(out, str) else "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(out)).pages)


def _justerat_in(md: str, doc: dict) -> bool:
    """Anything of the protocol that reads as justerat: in the md, or in the json's fields."""
    return (
        "Justeringens plats och tid: Digitalt" in md
        or "Signerat digitalt" in md
        or "BEVIS OM JUSTERING" in md
        or "Paragrafen justerades omedelbart" in md
        or doc["status"] == "justerat"
        or doc["justering"] is not None
        or doc["anslag"] is not None
        or any(x["signerat"] or x["händelse"] for x in doc["underskrifter"])
        or any(i["omedelbart_justerad"] or i["justerad_av"] or i["anslag"] for i in doc["ärenden"])
    )


async def test_kl_5_69_protokoll_of_a_tampered_log_warns_at_its_top_and_is_never_justerat(config):
    """`bot.py protokoll` reads the database as `verify` does before it writes: a justerat
    decision changed with the chain recomputed (only the signatures show it), or changed
    without (the chain shows it), gives the protocol with the faults at its top, in every
    format, and nothing in it reads as justerat."""
    bot = await started(config)
    try:
        await justerat(bot, omedelbart=True)
    finally:
        await bot.store.close()
    md, doc = await _protokoll(config, "md"), json.loads(await _protokoll(config, "json"))
    assert _justerat_in(md, doc) and "VARNING" not in md and "varning" not in doc  # the log as it was: justerat

    for rechained in (True, False):
        bot = await started(config)
        try:
            await set_decision(
                bot, *(("Taxorna fastställs.", "Taxorna avslås.") if rechained else ("Bifall", "Avslag"))
            )
            if rechained:
                await rechain(bot)
                assert (await bot.store.check("ks")).breaks == []
        finally:
            await bot.store.close()
        md, doc = await _protokoll(config, "md"), json.loads(await _protokoll(config, "json"))
        first = md.split("\n\n", 1)[0]
        assert first.startswith("VARNING"), md[:300]
        fault = "ändrats efter justeringen" if rechained else "händelse"
        assert fault in md.split("# Protokoll", 1)[0]
        assert doc["varning"] and any(fault in x for x in doc["varning"])
        assert not any(x.startswith("FEL ") for x in doc["varning"])
        assert not _justerat_in(md, doc), md
        for fmt in ("html", "pdf"):
            text = await _protokoll(config, fmt)
            assert "VARNING" in text and text.index("VARNING") < text.index("Plats och tid"), fmt
            assert "Signerat digitalt" not in text and "BEVIS OM JUSTERING" not in text, fmt


async def test_kl_5_69_a_justering_reads_the_log_once_for_its_fingerprint_and_the_protocol_it_posts(config):
    bot = await started(config)
    now = await held(bot)
    reads = []
    original = bot.store.events

    async def counting(meeting_id, after=0):
        reads.append(meeting_id)
        return await original(meeting_id, after)

    bot.store.events = counting
    await say(bot, ANNA, "!justera", now)
    await say(bot, CECILIA, "!justera", now)
    assert bot.bodies["ks"].engine.meeting.justerad_at is not None
    assert len(reads) == 2  # one per !justera: the fingerprint and the posted protocol share it
    posted_now = [o for o in await bot.store.unsent() if "justerat" in o.content.get("body", "").lower()]
    assert posted_now, "the justering posts the protocol"
    await bot.store.close()
