"""Convening, opening, cancelling (§ 1)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from commands.registry import ArgError, Args, command, no_args, text
from commands.text import command_key
from rules.actions import AgendaItem, Convening

_KLASSES = ("personuppgifter", "sekretess", "säkerhetsskydd")
# N. Rubrik [klass] (Dnr …): the rubrik holds no bracket, so a class is read where it stands
# or the line is refused; a Dnr is the last thing on the line.
_AGENDA = re.compile(r"^\s*(\d{1,3})\s*[.)]\s*([^\[\]]+?)\s*(?:\[([^\[\]]*)\])?\s*(?:\((dnr\b[^()]*)\))?\s*$", re.I)
_MISPLACED_DNR = re.compile(r"\(\s*dnr\b", re.I)
_MOTIVATION = re.compile(r"^\s*motivering\s*:\s*(.*)$", re.IGNORECASE)
_EXAMPLE = (
    "!kalla 2026-12-03 18:00 distans\nMotivering: smittspridning i kommunen\n"
    "1. Budget 2027 (Dnr KS 2026/12)\n2. Anställning av förvaltningschef [personuppgifter]"
)


def _read_kalla(a: Args) -> dict[str, Any]:
    first, _, more = a.rest.partition("\n")
    words = first.split()
    if len(words) != 3:
        raise ArgError("Skriv datum, tid och form på första raden.", _EXAMPLE)
    day, clock, form = words
    try:
        start = datetime.strptime(f"{day} {clock.replace('.', ':')}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise ArgError("Datum och tid skrivs ÅÅÅÅ-MM-DD HH:MM.", _EXAMPLE) from None
    form = form.casefold()
    if form not in ("distans", "hybrid"):
        raise ArgError("Formen är distans eller hybrid.")
    motivation = ""
    agenda: list[AgendaItem] = []
    for line in more.split("\n"):
        if not line.strip():
            continue
        if m := _MOTIVATION.match(line):
            motivation = m.group(1).strip()
            continue
        m = _AGENDA.match(line)
        if not m or _MISPLACED_DNR.search(m.group(2)):
            raise ArgError(
                f"Raden «{line.strip()[:80]}» kunde inte läsas helt. Ett ärende skrivs «N. Rubrik», "
                "eventuellt följt av [klass] och sist (Dnr …); rubriken får inte innehålla [ ]. "
                "Kallelsen är inte skickad."
            )
        klass = ""
        if m.group(3) is not None:
            key = command_key(m.group(3).strip())
            klass = next((k for k in _KLASSES if command_key(k) == key), "")
            if not klass:
                raise ArgError(f"Okänd klass «{m.group(3)}»: ange {', '.join(_KLASSES)} eller ingen.")
        n = int(m.group(1))
        if any(i.n == n for i in agenda):
            raise ArgError(f"Ärende {n} finns två gånger på föredragningslistan.")
        dnr = " ".join(m.group(4).split()) if m.group(4) else ""
        agenda.append(AgendaItem(n, m.group(2), klass, "Dnr" + dnr[3:] if dnr else ""))
    if not motivation:
        raise ArgError(
            "Kallelsen ska innehålla en motivering för skälen till distanssammanträdet: "
            "lägg till en rad «Motivering: …».",
            _EXAMPLE,
        )
    if not agenda:
        raise ArgError("Föredragningslistan saknas: lägg till rader «1. Rubrik».", _EXAMPLE)
    return {"convening": Convening(start, form, motivation, tuple(agenda))}


command(
    "kalla",
    "!kalla ÅÅÅÅ-MM-DD HH:MM distans|hybrid, en rad «Motivering: …», ärenden «N. Rubrik [klass] (Dnr …)»",
    "kallar till distans- eller hybridsammanträde",
    _read_kalla,
)
command("inställ", "!inställ [skäl]", "ställer in ett kallat sammanträde", text(required=False))
command("öppna", "!öppna", "öppnar sammanträdet och förrättar upprop", no_args)
