"""Justering and anslag (KL 5 kap. 69 §, 8 kap. 12 §)."""

from typing import Any

from commands.registry import ArgError, Args, command, item_number, not_understood, people
from commands.text import command_key


def _read_justerare(a: Args) -> dict[str, Any]:
    if len(a.people) == 2:
        return people(2)(a)
    return people(1)(a)


def _read_justera(a: Args) -> dict[str, Any]:
    words = a.rest.split()
    if not words:
        return {}
    if [command_key(w) for w in words] == [command_key("omedelbart")]:
        return {"word": "omedelbart"}
    raise not_understood(" ".join(words))


def _read_rättelse(a: Args) -> dict[str, Any]:
    words = a.rest.split(maxsplit=1)
    number = item_number(words[:1])
    if len(words) < 2 or not words[1].strip():
        raise ArgError("Skriv beslutets nya lydelse efter ärendets nummer.")
    return {"number": number, "text": words[1].strip()}


command(
    "justerare",
    "!justerare @person [@person]",
    "utser den eller de som justerar protokollet med ordföranden (KL 5 kap. 69 §)",
    _read_justerare,
)
command(
    "justera",
    "!justera | !justera omedelbart",
    "signerar protokollet efter sammanträdet, eller paragrafen som är uppe för omedelbar justering",
    _read_justera,
)
command(
    "rättelse",
    "!rättelse N TEXT",
    "rättar lydelsen av beslutet i ärende N före justeringen (sekreteraren)",
    _read_rättelse,
)
