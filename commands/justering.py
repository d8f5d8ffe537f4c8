"""Justering and anslag (KL 5 kap. 69 §, 8 kap. 12 §)."""

import re
from datetime import date
from typing import Any

from commands.registry import ArgError, Args, command, item_number, not_understood, people
from commands.text import command_key


def _read_justerare(a: Args) -> dict[str, Any]:
    if len(a.people) == 2:
        return people(2)(a)
    return people(1)(a)


def _read_justera(a: Args) -> dict[str, Any]:
    """[omedelbart] [FINGERAVTRYCK]: the fingerprint's first 8 or more hex digits, as the room
    shows it (in groups) or written together."""
    words = a.rest.split()
    out: dict[str, Any] = {}
    if words and command_key(words[0]) == command_key("omedelbart"):
        out["word"] = "omedelbart"
        words = words[1:]
    if not words:
        return out
    typed = "".join(words).lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", typed):
        raise ArgError(
            f"{not_understood(' '.join(words))} Ange fingeravtrycket med minst 8 hexadecimala tecken "
            "(0–9, a–f), som det står i protokollet."
        )
    return out | {"typed_fingerprint": typed}


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _read_anslag(a: Args) -> dict[str, Any]:
    """[§ N] [ÅÅÅÅ-MM-DD]: the paragraph (an omedelbart justerad one) and the day put up."""
    rest = a.rest.strip()
    out: dict[str, Any] = {}
    paragraph = re.match(r"§\s*(\d+)\b\s*", rest)
    if paragraph:
        out["number"] = int(paragraph.group(1))
        rest = rest[paragraph.end() :]
    if rest:
        if not _DATE.fullmatch(rest):
            raise ArgError(f"{not_understood(rest)} Ange dagen som ÅÅÅÅ-MM-DD, och paragrafen som § N.")
        try:
            date.fromisoformat(rest)
        except ValueError:
            raise ArgError(f"{rest} är inget datum.") from None
        out["text"] = rest
    return out


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
    "!justera [FINGERAVTRYCK] | !justera omedelbart [FINGERAVTRYCK]",
    "signerar protokollet efter sammanträdet, eller paragrafen som är uppe för omedelbar justering; "
    "med fingeravtrycket (minst 8 tecken) bara den lydelse du har läst",
    _read_justera,
)
command(
    "anslag",
    "!anslag [§ N] [ÅÅÅÅ-MM-DD]",
    "antecknar dagen då anslaget om justeringen sattes upp på kommunens anslagstavla (i dag om inget "
    "datum anges), för protokollet eller för en omedelbart justerad § N (sekreteraren)",
    _read_anslag,
)
command(
    "rättelse",
    "!rättelse N TEXT",
    "rättar lydelsen av beslutet i ärende N före justeringen (sekreteraren)",
    _read_rättelse,
)
