"""What every protocol must satisfy, whatever meeting made it: checked beside the golden files
and over random meetings."""

from __future__ import annotations

import json
import re
from datetime import datetime

from minutes import protocol
from minutes.journal import replay
from testing.driver import Driver

_STAMP = re.compile(r"^(?:(\d{4}-\d{2}-\d{2}) kl\. )?(\d{2})\.(\d{2}) ")


def _hm(at: datetime, d: Driver) -> str:
    return at.astimezone(d.roster.tz).strftime("%H.%M")


def assert_protocol_invariants(d: Driver) -> dict:
    """The protocol accounts for every event, files each under its own item, and dates only what
    happened outside the meeting; returns the json protocol."""
    assert d.m is not None
    doc = json.loads(d.protocol("json"))
    _, entries = replay(d.m.id, d.m.body_id, d.log, d.roster)
    assert len(entries) == len(d.log)
    sections = {"före": doc["inledning"], "efter": doc["avslutning"]}
    sections |= {item["nummer"]: item["förlopp"] for item in doc["ärenden"]}
    for entry in entries:  # every event has its line, in the section it concerns
        section = entry.section if entry.section in sections else "före"  # an item never taken up
        assert any(line.endswith(entry.text) for line in sections[section]), entry
    m = d.m
    for item in doc["ärenden"]:
        checks = {c["nr"] for c in item["teknikkontroller"]}
        votes = {v["nr"] for v in item["voteringar"]}
        for line in item["förlopp"]:  # the protocol names items by § number, each its own here
            assert not re.search(r"ärende \d", line, re.IGNORECASE), line
            for n in re.findall(r"(?:mot beslutet i|togs upp som) § (\d+)", line):
                assert int(n) == item["paragraf"], line
            for n in re.findall(r"teknikkontroll (\d+)", line, re.IGNORECASE):
                assert int(n) in checks, line
            for n in re.findall(r"votering (\d+)", line, re.IGNORECASE):
                assert int(n) in votes, line
        # After a rättelse every place that states the decision reads the corrected text.
        texts = {x["beslut"] for x in item["beslut"]} | {x["enligt_förslag"] for x in item["beslut"]}
        for line in item["förlopp"]:
            if line.split(" ", 1)[-1].startswith("Beslut: "):
                assert line.split("Beslut: ", 1)[1] in texts, line
        _assert_who_took_part(d, item)
    numbers = [item["paragraf"] for item in doc["ärenden"]]
    assert numbers == sorted(numbers), "paragraphs out of § order"
    for person in doc["beslutande"] + doc["övriga_närvarande"] + doc["ej_tjänstgörande_ersättare"]:
        for went in person["kom_och_gick"]:  # left during a paragraph of this protocol
            assert went.get("under_paragraf") is None or went["under_paragraf"] in numbers, person
        # KL 5 kap. 66 §: the paragraphs one served or did not serve in are this protocol's
        served = [n for seat in person.get("ersättare_för", []) for n in seat["paragrafer"]]
        assert set(served + (person.get("ej_paragrafer") or [])) <= set(numbers), person
    _assert_times_are_data(doc, m)
    for k, e in enumerate(d.log):  # KL 5 kap. 69 §: an omedelbart justerad paragraph never changes afterwards
        if e.kind == "paragraph_justerad":
            then = json.loads(protocol.render(d.m.id, d.m.body_id, d.log[: k + 1], d.roster, "json"))
            assert _paragraph(then, e.data["n"]) == _paragraph(doc, e.data["n"]), e.data
    if m.opened_at is None:
        return doc
    opened, closed = _hm(m.opened_at, d), _hm(m.closed_at or d.now, d)
    lines = doc["inledning"] + doc["avslutning"] + [x for item in doc["ärenden"] for x in item["förlopp"]]
    for line in lines:
        found = _STAMP.match(line)
        assert found, line
        day, hh, mm = found.groups()
        if day:  # only what happened before the meeting, or after it (justering, rättelse), is dated
            at = datetime.fromisoformat(f"{day}T{hh}:{mm}").replace(tzinfo=d.roster.tz)
            after = m.closed_at is not None and at >= m.closed_at.replace(second=0, microsecond=0)
            assert at <= m.opened_at or after, line
        else:
            assert opened <= f"{hh}.{mm}" <= closed, line
    start = m.opened_at.replace(second=0, microsecond=0)
    end = m.closed_at or d.now
    for item in doc["ärenden"]:
        for x in item["teknikkontroller"] + item["beslut"]:
            assert start <= datetime.fromisoformat(x["tid"]) <= end, x
    return doc


_TIME_KEYS = {"tid", "öppnat", "avslutat", "kallelse", "kallat_till", "signerat", "från", "lämnade", "återkom"}


def _assert_times_are_data(doc: dict, m: object) -> None:
    """The json is data: every time is ISO 8601 with its offset, never a display string."""

    def walk(x: object) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if k in _TIME_KEYS and isinstance(v, str):
                    assert datetime.fromisoformat(v).utcoffset() is not None, (k, v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk({k: v for k, v in doc.items() if k not in ("inledning", "avslutning")})
    walk([{k: v for k, v in item.items() if k != "förlopp"} for item in doc["ärenden"]])


# What the justering itself adds to a paragraph, or what goes on after it (the course of events).
_AFTER_JUSTERING = ("förlopp", "justerad_av", "anslag", "fingeravtryck")


def _paragraph(doc: dict, n: int) -> dict:
    """A paragraph as it reads (rubrik, decision, beslutsgång), whatever its fingerprint covers."""
    item = next(i for i in doc["ärenden"] if i["nummer"] == n)
    return {k: v for k, v in item.items() if k not in _AFTER_JUSTERING}


def _assert_who_took_part(d: Driver, item: dict) -> None:
    """Each open vote lists every voter under the vote they gave, or as not voting; each
    decision lists exactly who took part; a jävig participant is flagged (KL 4 kap. 27 §, 6 kap. 28 §)."""
    m = d.m
    n = item["nummer"]
    for vote, row in zip(m.votes_of(n), item["voteringar"], strict=True):
        if vote.closed:
            continue
        # every voter once, with the vote given or none (never an abstention)
        assert [(x["user"], x["röst"]) for x in row["röster"]] == [(u, vote.ballots.get(u)) for u in vote.voters]
    jav = set(m.items[n].jav)

    def users(people: list) -> list:
        return [p["user"] for p in people]

    for decision, row in zip(m.items[n].decisions, item["beslut"], strict=True):
        assert users(row["deltog"]) == decision.participants
        assert users(row["jäv_efter_beslutet"]) == [u for u in decision.involved if u in jav]
        assert users(row["avstod"]) == decision.abstained
        assert not set(decision.participants) & set(decision.abstained), "KL 4 kap. 25 §: one who abstained took part"
        if decision.vote_id is not None and not m.votes[decision.vote_id - 1].closed:
            ballots = m.votes[decision.vote_id - 1].ballots  # those who voted ja or nej took part, no one else
            assert set(decision.participants) == {u for u, c in ballots.items() if c in ("ja", "nej")}
            assert set(decision.abstained) == {u for u, c in ballots.items() if c == "avstår"}
