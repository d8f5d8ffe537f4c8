"""Wordings that both the rules' answers and the minutes use, for what events store as codes,
and the port through which the rules say what their replies and refusals say.

Events keep codes (`"how": "casting"`), never text, so a wording can change here without
touching a stored log. A reply or refusal that has moved its words to `minutes.replies` is said
with `say(code, roster, **facts)`: the rules name what they say and its facts, and the words are
those `minutes.replies` registers for the code in `WORDING` when `minutes` is imported (the rules
import nothing outside `rules/`, so minutes plugs its words in, as a transport plugs in its
records).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rules.anslag import anslag_dates, last_day_to_post
from rules.model import Spent, hm
from rules.roster import Roster

# Why a running check or vote was ended before its time.
ABORTED = {
    "adjourned": "avbröts av ajournering",
    "closed": "avbröts när sammanträdet avslutades",
}

VOTE_HOW = {
    "majority": "enkel majoritet",
    "casting": "lika röstetal, ordförandens utslagsröst",
    "most": "flest röster",
}


def vote_how(how: str, cause: dict, lot: int | None, r: Roster, presiding: str | None = None) -> str:
    """How a vote ended: its rule of decision, or why it is void. A tie is settled by whoever
    presided (KL 5 kap. 56 §), named when that was not the ordförande."""
    if how == "casting" and presiding and presiding != r.chair:
        return f"lika röstetal, utslagsröst av {r.name_of(presiding)} som ordförande i ärendet"
    if how == "lot":
        return f"lika röstetal, avgjort genom lottning (kryptografiskt säker slump, lott {lot})"
    if how == "void":
        if cause.get("code") == "dropped":
            return f"{r.name_of(cause['user'])} förlorade {cause['kind']} (§§ 5, 12)"
        return ABORTED[cause["code"]]
    return VOTE_HOW[how]


def anslag_lines(
    r: Roster, meeting_day: str, justerad_day: str, posted: str | None, paragraphs: str, at_once: bool = False
) -> list[str]:
    """The anslag on the anslagstavla (KL 8 kap. 12 §) of a justering: of the protocol, or of an
    omedelbart justerad paragraph. The same lines in the room and in the protocol. Until the
    secretary has recorded the day it was put up (!anslag), it says by when it must be; the time to
    appeal runs from that day (KL 13 kap. 5 §). Dates ÅÅÅÅ-MM-DD."""
    lines = [
        "ANSLAG – BEVIS OM JUSTERING (KL 8 kap. 12 §)",
        f"Organ: {r.name}",
        f"Sammanträdesdatum: {meeting_day}",
        f"Paragrafer: {paragraphs}" + (" (omedelbart justerad)" if at_once else ""),
        f"Datum för justering: {justerad_day}",
    ]
    if posted is None:
        due = last_day_to_post(date.fromisoformat(justerad_day)).isoformat()
        lines += [
            f"Anslaget är ännu inte uppsatt på kommunens anslagstavla; det ska sättas upp senast {due}.",
            "Sista dag att överklaga (KL 13 kap. 5 §): tre veckor från den dag anslaget sätts upp.",
        ]
    else:
        dates = anslag_dates(date.fromisoformat(posted))
        lines += [
            f"Datum då anslaget sattes upp på kommunens anslagstavla: {posted}",
            f"Sista dag att överklaga (KL 13 kap. 5 §), och sista dag anslaget sitter uppe: "
            f"{dates['sista_dag_att_överklaga']}",
            f"Datum då anslaget får tas ned: {dates['får_tas_ned']}",
        ]
    return [*lines, f"Förvaringsplats för protokollet: {r.protocol_kept_at}"]


def paragraphs_text(numbers: list[int]) -> str:
    """Paragraph numbers as a protocol writes them: § 3, §§ 1–2, §§ 1, 3–4."""
    numbers = sorted(set(numbers))
    if not numbers:
        return "–"
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(f"{run[0]}–{run[-1]}" if len(run) > 1 else f"{run[0]}" for run in runs)
    return f"§ {text}" if len(numbers) == 1 else f"§§ {text}"


def short_fingerprint(fp: str) -> str:
    """A fingerprint as the room shows it: the first 16 hex digits in groups of four (fewer
    when fewer were typed)."""
    return " ".join(fp[i : i + 4] for i in range(0, min(len(fp), 16), 4))


def names(r: Roster, users) -> str:
    """People by their labels, as a list in a sentence."""
    return ", ".join(r.label(u) for u in users)


# What made a passed check no longer cover the meeting (§ 12), by `Spent.code`.
_SPENT = {
    "left": "{who} lämnade sammanträdet kl. {at}",
    "item_taken": "ärende {n} togs upp kl. {at}",
    "muted": "ljudet för {who} stängdes av kl. {at}",
    "dropped": "{who} förlorade {kind} kl. {at}",
    "resumed": "sammanträdet återupptogs kl. {at}",
    "decided": "beslut fattat kl. {at}",
}


def spent_text(spent: Spent, r: Roster) -> str:
    who = r.name_of(spent.user) if spent.user else ""
    return _SPENT[spent.code].format(who=who, at=hm(spent.at, r.tz), n=spent.n, kind=spent.kind)


WORDING: dict[str, Callable[..., str]] = {}


def say(code: str, r: Roster, **facts: Any) -> str:
    """The words of reply or refusal `code` with its facts (people as user ids, numbers)."""
    wording = WORDING.get(code)
    if wording is None:
        raise LookupError(f"no words for {code!r}: minutes.replies registers them when minutes is imported")
    return wording(r, **facts)
