"""Motions, who serves, the technical check and decisions (§§ 11–13)."""

from typing import Any

from commands.registry import ArgError, command, no_args, people
from commands.text import command_key


def _read_yrka(rest: str, found: list[str]) -> dict[str, Any]:
    if command_key(rest.strip()) == command_key("återta"):
        return {"word": "återta"}
    if not rest.strip():
        raise ArgError("Skriv yrkandet efter !yrka, eller !yrka återta.")
    return {"text": rest.strip()}


def _read_beslut(rest: str, found: list[str]) -> dict[str, Any]:
    if not rest.strip():
        raise ArgError("Skriv beslutet efter !beslut.")
    return {"text": rest.strip()}


def _read_votering(rest: str, found: list[str]) -> dict[str, Any]:
    words = rest.split()
    return {"word": "sluten" if words and command_key(words[0]) == "sluten" else "", "text": rest.strip()}


command("yrka", "!yrka TEXT | !yrka återta", "lägger ett yrkande i ärendet, eller återtar ditt", _read_yrka)
command("ersätt", "!ersätt @ledamot @ersättare", "ersättaren tjänstgör i stället för ledamoten (§ 11)", people(2))
command("återinträd", "!återinträd @ledamot", "en ersatt ledamot tjänstgör igen (§ 11)", people(1))
command("teknikkontroll", "!teknikkontroll", "teknikfunktionskontroll före beslut (§ 12)", no_args)
command("ok", "!ok", "svarar på teknikkontrollen: du ser, hör, syns och hörs (§ 12)", no_args)
command("beslut", "!beslut TEXT", "antecknar beslutet i ärendet", _read_beslut)
command("omtag", "!omtag", "förklarar att senaste beslutet tas om (§ 12)", no_args)
command("votering", "!votering FÖRSLAG A / FÖRSLAG B", "votering (sluten omröstning: § 13)", _read_votering)
