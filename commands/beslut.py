"""Motions, who serves, the technical check and decisions (§§ 11–13)."""

import re
from typing import Any

from commands.registry import (
    ArgError,
    Args,
    command,
    item_number,
    no_args,
    people,
    word_or_nothing,
    word_or_people,
)
from commands.text import command_key


def _read_yrka(a: Args) -> dict[str, Any]:
    rest = a.rest.strip()
    if command_key(rest) == command_key("återta"):
        return {"word": "återta"}
    if not rest:
        raise ArgError("Skriv yrkandet efter !yrka, eller !yrka återta.")
    return {"text": rest}


def _read_beslut(a: Args) -> dict[str, Any]:
    if not a.rest.strip():
        raise ArgError("Skriv beslutet efter !beslut.")
    return {"text": a.rest.strip()}


def _read_reservation(a: Args) -> dict[str, Any]:
    """`[ärende N] [motivering]`: against the current item's decision, or item N's."""
    words = a.rest.split(maxsplit=2)
    if words and command_key(words[0]) == command_key("ärende"):
        return {"number": item_number(words[1:2]), "text": words[2].strip() if len(words) > 2 else ""}
    return {"text": a.rest.strip()}


_COUNT = re.compile(r"^(a|b|blanka)\s*=\s*(\d{1,4})$", re.IGNORECASE)


def _read_votering(a: Args) -> dict[str, Any]:
    rest = a.rest
    words = rest.split()
    keys = [command_key(w) for w in words]
    if keys == ["klar"]:
        return {"word": "klar"}
    closed = bool(keys) and keys[0] == "sluten"
    if closed and len(keys) > 1 and keys[1] == "resultat":
        counts = {}
        for word in words[2:]:
            match = _COUNT.match(word)
            if not match:
                raise ArgError(
                    "Skriv resultatet som A=n B=m blanka=k, t.ex. !votering sluten resultat A=4 B=3 blanka=0."
                )
            counts[match.group(1).lower()] = int(match.group(2))
        if set(counts) != {"a", "b", "blanka"}:
            raise ArgError("Ange alla tre: A=n B=m blanka=k.")
        return {"word": "resultat", "counts": tuple(counts.items())}
    text = rest.strip()[len(words[0]) :] if closed else rest
    options = tuple(part.strip() for part in text.split("/"))
    if len(options) != 2 or not all(options):
        raise ArgError("Skriv de två förslagen åtskilda av /: Ja = det första, Nej = det andra.")
    return {"word": "sluten" if closed else "", "options": options}


command("yrka", "!yrka TEXT | !yrka återta", "lägger ett yrkande i ärendet, eller återtar ditt", _read_yrka)
command("ersätt", "!ersätt @ledamot @ersättare", "ersättaren tjänstgör i stället för ledamoten (§ 11)", people(2))
command("återinträd", "!återinträd @ledamot", "en ersatt ledamot tjänstgör igen (§ 11)", people(1))
command("teknikkontroll", "!teknikkontroll", "teknikfunktionskontroll före beslut (§ 12)", no_args)
command("ok", "!ok", "svarar på teknikkontrollen: du ser, hör, syns och hörs (§ 12)", no_args)
command("beslut", "!beslut TEXT", "antecknar beslutet i ärendet", _read_beslut)
command("omtag", "!omtag", "förklarar att senaste beslutet tas om (§ 12)", no_args)
command(
    "votering",
    "!votering FÖRSLAG A / FÖRSLAG B | !votering klar | !votering sluten A / B | "
    "!votering sluten resultat A=n B=m blanka=k",
    "öppen votering (Ja = A, Nej = B), dess resultat, eller sluten omröstning i ordförandens lokal (§ 13)",
    _read_votering,
)
command("ja", "!ja", "röstar ja i voteringen", no_args)
command("nej", "!nej", "röstar nej i voteringen", no_args)
command(
    "avstår",
    "!avstår | !avstår återta",
    "avstår från att rösta, eller utan votering från att delta i beslutet i ärendet (återta före beslutet)",
    word_or_nothing("återta"),  # outside a vote: !avstår, or !avstår återta
)
command(
    "reservation",
    "!reservation [ärende N] [motivering]",
    "reserverar dig mot beslutet i ärendet som är uppe, eller i ärende N",
    _read_reservation,
)
command(
    "jäv",
    "!jäv | !jäv @person | !jäv återta",
    "anmäler jäv i ärendet som är uppe, eller återtar ditt eget",
    word_or_people("återta", 1),
)
command(
    "ordförande",
    "!ordförande @ledamot",
    "utser en tjänstgörande ledamot att vara ordförande i ärendet när varken ordföranden eller "
    "en vice ordförande kan (KL 6 kap. 33 §)",
    people(1),
)
