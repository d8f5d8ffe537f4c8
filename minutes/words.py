"""Wordings the protocol, the journal and the replies share, for what events and the state keep
as codes: how a vote ended, why a check was aborted, the anslag, paragraph numbers, what spent a
check, who signs as what. A wording can change here without touching a stored log.
"""

from __future__ import annotations

from datetime import date

from rules.anslag import anslag_dates, last_day_to_post
from rules.model import Spent, hm
from rules.roster import Roster
from rules.signers import Paragraph, required_signers

# Why a running check or vote was ended before its time.
ABORTED = {
    "adjourned": "avbröts av ajournering",
    "closed": "avbröts när sammanträdet avslutades",
}

# What the call's media server shows (codes of rules.transmission: "camera:off", "connection:none"),
# and why it could not be read.
SHOWN = {
    "camera:on": "kameran på",
    "camera:off": "kameran avstängd",
    "camera:none": "ingen kamera",
    "microphone:on": "mikrofonen på",
    "microphone:muted": "mikrofonen tystad",
    "microphone:none": "ingen mikrofon",
    "connection:none": "ingen anslutning",
}
MEDIA_DOWN = {
    "unreachable": "servern svarar inte",
    "refused": "servern godtar inte botens nyckel",
    "error": "servern svarar med fel",
}


def shown_words(camera: str, microphone: str, connected: bool = True) -> str:
    """What the call's server shows of one person: "kameran på, mikrofonen tystad"."""
    if not connected:
        return SHOWN["connection:none"]
    return f"{SHOWN['camera:' + camera]}, {SHOWN['microphone:' + microphone]}"


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


def signer_roles(plan: list[Paragraph]) -> dict[str, str]:
    """What each signer justerar, in words: "ordförande", or with the §§ when not all of them."""
    everything = [p.number for p in plan if p.number is not None]
    out: dict[str, str] = {}
    for user in required_signers(plan):
        roles = []
        for role, of in (("ordförande", "chairs"), ("justerare", "justerare")):
            numbers = [p.number for p in plan if user in getattr(p, of) and p.number is not None]
            if any(user in getattr(p, of) for p in plan):
                roles.append(role if numbers == everything else f"{role} {paragraphs_text(numbers)}")
        out[user] = ", ".join(roles)
    return out
