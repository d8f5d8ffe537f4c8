"""Wordings that both the rules' answers and the minutes use, for what events store as codes.

Events keep codes (`"how": "casting"`), never text, so a wording can change here without
touching a stored log.
"""

from __future__ import annotations

from datetime import date

from rules.anslag import anslag_dates, last_day_to_post
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
