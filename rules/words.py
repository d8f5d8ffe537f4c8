"""Wordings that both the rules' answers and the minutes use, for what events store as codes.

Events keep codes (`"how": "casting"`), never text, so a wording can change here without
touching a stored log.
"""

from __future__ import annotations

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


def anslag_lines(r: Roster, meeting_day: str, justerad_day: str, anslag: dict[str, str]) -> list[str]:
    """The anslag on the anslagstavla (KL 8 kap. 12 §): the same lines in the room and in the
    protocol's bevis block. Dates ÅÅÅÅ-MM-DD."""
    return [
        "ANSLAG – BEVIS OM JUSTERING (KL 8 kap. 12 §)",
        f"Organ: {r.name}",
        f"Sammanträdesdatum: {meeting_day}",
        f"Datum för justering: {justerad_day}",
        f"Datum då anslaget sätts upp: {anslag['anslaget']}",
        f"Sista dag att överklaga (KL 13 kap. 5 §), och sista dag anslaget sitter uppe: "
        f"{anslag['sista_dag_att_överklaga']}",
        f"Datum då anslaget får tas ned: {anslag['får_tas_ned']}",
        f"Förvaringsplats för protokollet: {r.protocol_kept_at}",
    ]
