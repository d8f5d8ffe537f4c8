"""The words of the rules' replies and refusals, by code: what `rules.words.say` says.

The rules name what they say and its facts (`say("jav.already", r, user=..., n=...)`); the words
are here, family by family as the rules' sections are, and are registered in `rules.words.WORDING`
when `minutes` is imported. People come as user ids and are written with their labels here.
"""

from __future__ import annotations

from collections.abc import Callable

from minutes.words import (
    MEDIA_DOWN,
    SHOWN,
    anslag_lines,
    names,
    paragraphs_text,
    shown_words,
    signer_roles,
    spent_text,
    vote_how,
)
from rules.citations import Rule
from rules.convening import agenda_line
from rules.decisions import blockers, reasons_text
from rules.forhinder import forhinder_lines
from rules.model import Item, Meeting, Phase, date_time, hm, hms
from rules.roster import Roster
from rules.seats import between_items, next_in_turn
from rules.signers import Paragraph
from rules.transmission import followed, shown_for
from rules.words import WORDING, short_fingerprint

# --- jäv (KL 6 kap. 28–30 §§; rules/jav.py) ----------------------------------------------------


def _jav_declared(
    r: Roster,
    user: str,
    n: int,
    motions_fall: bool,
    took_part: bool,
    presided: bool,
    after: str | None,
    turn: str | None,
) -> str:
    text = (
        f"{r.label(user)} har jäv i ärende {n} och får varken delta i eller närvara vid behandlingen (KL 6 kap. 28 §)."
    )
    if motions_fall:
        text += " Hens yrkanden i ärendet faller."
    if took_part:
        text += (
            f" {r.label(user)} deltog i beslutet i ärendet, som därför ska tas om: !omtag, ny "
            "!teknikkontroll och nytt beslut. Jäv som upptäcks efter beslutet gör det angripbart "
            "(KL 13 kap. 8 §)."
        )
    if presided:
        text += (
            f" {r.label(after)} är ordförande i ärendet."
            if after
            else " Ingen vice ordförande kan leda ärendet: ordföranden eller sekreteraren utser en "
            "tjänstgörande ledamot med !ordförande @ledamot (KL 6 kap. 33 §)."
        )
    if turn:
        text += f" {r.label(turn)} står på tur att tjänstgöra under ärendet (!ersätt)."
    return text


JAV: dict[str, Callable[..., str]] = {
    "jav.retake_first": lambda r, n, users: (
        f"Beslutet i ärende {n} fattades med {names(r, users)}, som har jäv i ärendet. Det ska tas om "
        "först: !omtag, ny !teknikkontroll och nytt beslut (KL 13 kap. 8 §)."
    ),
    "jav.no_item": lambda r: "Inget ärende är uppe. Jäv anmäls för det ärende som behandlas.",
    "jav.one_person": lambda r: "Nämn högst en person: !jäv @person.",
    "jav.only_chair_for_others": lambda r: (
        "Bara ordföranden kan anteckna jäv för någon annan; anmäl ditt eget med !jäv."
    ),
    "jav.already": lambda r, user, n: f"Jäv för {r.label(user)} i ärende {n} är redan antecknat.",
    "jav.declared": _jav_declared,
    "jav.none_to_withdraw": lambda r, n: f"Du har inget jäv antecknat i ärende {n}.",
    "jav.recorded_by_another": lambda r, by: (
        f"Jävet antecknades av {r.label(by)}, inte av dig; bara den egna anmälan kan återtas."
    ),
    "jav.decided_already": lambda r, n: f"Ärende {n} är redan beslutat; jävet kan inte återtas efter beslutet.",
    "jav.withdrawn": lambda r, user, n: (
        f"{r.label(user)} har återtagit sin jävsanmälan i ärende {n} och deltar i ärendet."
    ),
}


# --- förhinder before the meeting (KL 6 kap. 17 §; rules/forhinder.py) ---------------------------


def _forhinder_withdrawn(r: Roster, member: str, served: str | None) -> str:
    text = f"{r.label(member)} har återtagit sitt förhinder."
    if served:
        text += (
            f" {r.label(served)} har redan bekräftat och tjänstgör från början; du tar över från nästa ärende "
            "sedan du anmält närvaro, som en ledamot som kommer senare (KL 6 kap. 17 §)."
        )
    return text


FORHINDER: dict[str, Callable[..., str]] = {
    "forhinder.none_left_to_call": lambda r, member: (
        f"Ingen ersättare finns kvar att kalla in för {r.label(member)}. Ordföranden och sekreteraren: "
        "sammanträdet hålls med de ledamöter som kommer; beslutförheten räknas vid uppropet (KL 6 kap. 27 §)."
    ),
    "forhinder.called_in": lambda r, sub, member, start: (
        f"{r.label(sub)}: du kallas in att tjänstgöra för {r.label(member)} vid {r.name}s sammanträde "
        f"{date_time(start, r.tz) if start else ''}. Svara !tjänstgör om du kan, annars !förhinder."
    ),
    "forhinder.only_leaders_for_others": lambda r: (
        "Bara ordföranden eller sekreteraren kan anmäla förhinder för någon annan."
    ),
    "forhinder.not_called": lambda r, user: (
        f"{r.label(user)} är varken ledamot eller inkallad ersättare; förhinder anmäls av den som är kallad."
    ),
    "forhinder.already": lambda r, user: f"Förhinder för {r.label(user)} är redan anmält.",
    "forhinder.present": lambda r, user: f"{r.label(user)} är närvarande. Den som går antecknas med !lämnar.",
    "forhinder.reported": lambda r, user, then: f"{r.label(user)} har anmält förhinder. {then}",
    "forhinder.none_reported": lambda r: "Du har inget förhinder anmält.",
    "forhinder.withdrawn": _forhinder_withdrawn,
    "forhinder.not_needed": lambda r, sub, member: (
        f"{r.label(sub)}: du behöver inte tjänstgöra för {r.label(member)}, som har återtagit sitt förhinder. "
        "Inkallelsen gäller inte längre."
    ),
    "forhinder.serves_until_next": lambda r, sub, member: (
        f"{r.label(sub)}: {r.label(member)} har återtagit sitt förhinder. Du har bekräftat och tjänstgör för hen "
        "till nästa ärende sedan hen har anmält närvaro; då tar hen över (KL 6 kap. 17 §)."
    ),
    "forhinder.confirmed_already": lambda r: "Du har redan bekräftat.",
    "forhinder.not_called_in": lambda r: (
        "Du är inte inkallad. Sekreteraren kallar in ersättare i tur när någon har förhinder."
    ),
    "forhinder.serves_from_start": lambda r, sub, member: (
        f"{r.label(sub)} tjänstgör för {r.label(member)} vid sammanträdet: anmäl närvaro med !närvarande vid "
        "uppropet, så tjänstgör du från början (KL 6 kap. 17 §)."
    ),
    "forhinder.list": lambda r, users: "Förhinder: " + names(r, users),
    "forhinder.confirmed_line": lambda r, sub, member: f"{r.label(sub)} tjänstgör för {r.label(member)} (bekräftat)",
    "forhinder.called_line": lambda r, sub, member: f"{r.label(sub)} är inkallad för {r.label(member)} (inte svarat)",
}


# --- items and their classes (§§ 6–8, KL 6 kap. 33 §; rules/items.py) ----------------------------

ITEMS: dict[str, Callable[..., str]] = {
    "items.which_item": lambda _r, numbers: f"Ange ett ärendenummer från föredragningslistan ({numbers}).",
    "items.before_called_time": lambda r, what, start: (
        f"Ledamöterna är kallade till kl. {hm(start, r.tz)}, och inget ärende behandlas före den tiden. "
        f"{what} från kl. {hm(start, r.tz)}; uppropet kan göras redan nu."
    ),
    "items.what_take_up": lambda r, n: f"Ärende {n} kan tas upp",
    "items.struck": lambda r, n: f"Ärende {n} har utgått från föredragningslistan och kan inte tas upp.",
    "items.needs_security_chief": lambda r, n: (
        f"Ärende {n} innehåller säkerhetsskyddsuppgifter. Det får behandlas på distans "
        f"bara om säkerhetsskyddschefen bedömer att det kan ske (!godkänn {n}); "
        "ordföranden kan inte tillåta det."
    ),
    "items.needs_permission": lambda r, n, klass: (
        f"Ärende {n} innehåller {klass}. Bara ärenden med triviala personuppgifter och "
        f"utan sekretess får behandlas på distans, om inte ordföranden tillåter det med "
        f"!tillåt {n} (§ 7)."
    ),
    "items.up_already": lambda r, n: f"Ärende {n} är redan uppe.",
    "items.what_cannot_take_up": lambda r, n: f"Ärende {n} kan inte tas upp",
    "items.taken_up": lambda r, n, paragraph, title: f"Ärende {n}: {title} (§ {paragraph})",
    "items.late_member_serves": lambda r, member, sub: (
        f"{r.label(member)} tjänstgör från detta ärende i stället för {r.label(sub)}."
    ),
    "items.confirmed_serves": lambda r, sub, member: (
        f"{r.label(sub)} tjänstgör från detta ärende för {r.label(member)}."
    ),
    "items.only_security_chief": lambda r, n: (
        f"Ärende {n} innehåller säkerhetsskyddsuppgifter. Bara säkerhetsskyddschefen kan "
        f"godkänna att det behandlas på distans (!godkänn {n})."
    ),
    "items.no_permission_needed": lambda r, n: (
        f"Ärende {n} har inga personuppgifter eller sekretess; inget tillstånd behövs."
    ),
    "items.allowed_already": lambda r, n: f"Ärende {n} är redan tillåtet.",
    "items.allowed": lambda r, n, klass: (
        f"Ordföranden tillåter att ärende {n} med {klass} behandlas under sammanträdet (§ 7)."
    ),
    "items.not_security": lambda r, n: f"Ärende {n} är inte klassat som säkerhetsskydd; ditt godkännande behövs inte.",
    "items.approved_already": lambda r, n: f"Ärende {n} är redan godkänt.",
    "items.approved": lambda r, n: f"Säkerhetsskyddschefen bedömer att ärende {n} kan behandlas på distans (§ 8).",
    "items.unencrypted_room": lambda _r, n, text: (
        f"⚠ {Rule.P2}: Rummet är inte end-to-end-krypterat. Ingen obehörig får ta del av handlingar, "
        f"bild eller ljud, men här kan den som driver hemservern läsa allt som skrivs i ärende {n}. "
        "Håll ärendet i ett krypterat rum om det går; protokollet antecknar att tillståndet gavs "
        f"i ett okrypterat rum.\n{text}"
    ),
}


# --- convening (§ 1, KL 5 kap. 65 §; rules/convening.py) ---------------------------------------


def _agenda_line(_r, n: int, title: str, klass: str, dnr: str, allowed: str | None, approved: str | None) -> str:
    head = f"{n}. {title}" + (f" ({dnr})" if dnr else "")
    if not klass:
        return head
    if klass == "säkerhetsskydd":
        state = "godkänt av säkerhetsskyddschefen" if approved else "kräver säkerhetsskyddschefens !godkänn"
        return f"{head} [säkerhetsskydd – {state} (§ 8)]"
    state = "tillåtet av ordföranden" if allowed else "kräver ordförandens !tillåt"
    return f"{head} [{klass} – {state} (§ 7)]"


def _kallelse(r: Roster, replacing: bool, form: str, start, motivation: str, agenda: list[str]) -> str:
    lines = [
        ("NY KALLELSE (ersätter den tidigare)" if replacing else "KALLELSE")
        + f" till {r.name}s {form}sammanträde {date_time(start, r.tz)}",
        f"Motivering (§ 1): {motivation}",
        "",
        "Föredragningslista:",
        *agenda,
        "",
        "Anslut i enrum, så att ingen obehörig kan se eller höra (§ 2). Ledamöter och "
        "tjänstgörande ersättare deltar med ljud och rörlig bild (§ 3); sekreterare och "
        "övriga med ljud (§ 4).",
        "Kalenderfil bifogas (.ics).",
    ]
    return "\n".join(lines)


CONVENING: dict[str, Callable[..., str]] = {
    "convening.no_such_time": lambda r, start: (
        f"Klockslaget {start:%H.%M} finns inte den dagen (sommartiden börjar). Välj en annan tid."
    ),
    "convening.time_passed": lambda r, start: (
        f"Tiden {date_time(start, r.tz)} har redan varit. Kalla till en kommande tid."
    ),
    "convening.kallelse": _kallelse,
    "convening.agenda_line": _agenda_line,
    "convening.cancelled": lambda r, start, reason: (
        (f"{r.name}s sammanträde {date_time(start, r.tz)} är INSTÄLLT." if start else "")
        + (f" Skäl: {reason}" if reason else "")
    ),
    "convening.chair_opens": lambda r, start: (
        "Ordföranden öppnar sammanträdet. En vice ordförande kan öppna det när ordföranden inte "
        f"kan, från kl. {hm(start, r.tz)} då ledamöterna är kallade."
    ),
    "convening.too_early": lambda r, start, earliest: (
        f"Sammanträdet är kallat till {date_time(start, r.tz)}. Det kan öppnas tidigast "
        f"kl. {hm(earliest, r.tz)}, eftersom ledamöterna är kallade till den tiden. "
        "Vill du hålla det tidigare: kalla på nytt med !kalla."
    ),
    "convening.opened": lambda r, at: (
        f"{r.name}s sammanträde är öppnat kl. {hm(at, r.tz)}. UPPROP: svara !närvarande "
        "(ordföranden också: den som leder sammanträdet ska själv vara anmäld och tjänstgöra).\n"
        "Ledamöter och ersättare intygar därmed att ni är uppkopplade i enrum med fungerande "
        "ljud och bild (§§ 2–3); sekreterare och övriga intygar enrum och ljud (§§ 2, 4)."
    ),
    "convening.taken_up_already": lambda r, n, paragraph: (
        f"Ärende {n} har redan tagits upp (§ {paragraph}) och kan inte utgå."
    ),
    "convening.struck_already": lambda r, n: f"Ärende {n} har redan utgått.",
    "convening.struck": lambda r, n, title, reason: (
        f"Ärende {n} ({title}) utgår från föredragningslistan." + (f" Skäl: {reason}" if reason else "")
    ),
}


# --- who serves (§ 11, KL 6 kap. 17, 33 §§; rules/seats.py) ------------------------------------


def _replaced(r: Roster, sub: str, at, member: str, holder: str | None, left: bool) -> str:
    text = f"{r.label(sub)} tjänstgör från kl. {hm(at, r.tz)} i stället för "
    if holder is None:
        gone = "som har lämnat sammanträdet" if left else "som inte är närvarande"
        return text + f"{r.label(member)}, {gone}. Om ledamoten kommer tar hen över vid nästa ärende."
    if holder != member:
        text += f"{r.label(holder)}, som tjänstgjorde för {r.label(member)} och "
    else:
        text += f"{r.label(member)}, som "
    text += (
        "är teknikfelsledamot under återstoden av sammanträdet och får yttra sig men "
        "inte yrka eller delta i beslut (§ 11)."
    )
    if holder == member:
        text += " Ordföranden kan låta ledamoten tjänstgöra igen med !återinträd."
    return text


def _leaves(r: Roster, user: str, at, n: int | None, member: str | None, counted: int, turn: str | None) -> str:
    where = f" under ärende {n}" if n is not None else ""
    text = f"{r.label(user)} lämnar sammanträdet kl. {hm(at, r.tz)}{where}."
    if member is not None:
        text += " Hen tjänstgör inte längre och räknas inte i beslutförheten (KL 6 kap. 27 §)."
        if counted * 2 <= len(r.members):
            text += f" Organet är inte beslutfört: {counted} av {len(r.members)} ledamöter tjänstgör."
        if turn:
            text += f" {r.label(turn)} står på tur att tjänstgöra för {r.label(member)} (!ersätt)."
    return text


SEATS: dict[str, Callable[..., str]] = {
    "seats.confirmed_serves_from_next": lambda r, sub, member: (
        f"{r.label(sub)} tjänstgör för {r.label(member)}, som har anmält förhinder, från nästa ärende: "
        "tjänstgöringen ändras inte mitt i ett ärende (KL 6 kap. 17 §)."
    ),
    "seats.confirmed_serves": lambda r, sub, member: (
        f"{r.label(sub)} tjänstgör för {r.label(member)}, som har anmält förhinder (KL 6 kap. 17 §)."
    ),
    "seats.name_member_and_substitute": lambda r: "Nämn ledamoten och sedan ersättaren: !ersätt @ledamot @ersättare.",
    "seats.no_seat": lambda r, user: (
        f"{r.label(user)} är varken ledamot eller tjänstgörande ersättare. Nämn ledamoten "
        "(eller ersättaren som tjänstgör för hen) först."
    ),
    "seats.not_a_substitute": lambda r, sub: f"{r.label(sub)} finns inte bland {r.name}s ersättare.",
    "seats.serves_already": lambda r, sub: f"{r.label(sub)} tjänstgör redan.",
    "seats.substitute_not_present": lambda r, sub: (
        f"{r.label(sub)} är inte närvarande (!närvarande) och kan inte tjänstgöra."
    ),
    "seats.transmission_works": lambda r, holder, member: (
        f"{r.label(holder)}{f' tjänstgör för {r.label(member)} och' if holder != member else ''} har fungerande "
        "överföring och kan inte ersättas. § 11 gäller "
        "den som har återkommande svårigheter med överföringen: anteckna avbrottet först "
        "(!avbrott ljud|bild @person). Den som går antecknas med !lämnar; sedan kan en ersättare "
        "tjänstgöra."
    ),
    "seats.mid_item": lambda r: (
        "Tjänstgöringen ändras mellan ärenden eller under ajournering, inte mitt i ett ärende. "
        "Ajournera först (!ajournera) om ledamoten inte kan fortsätta (§ 10)."
    ),
    "seats.not_in_turn": lambda r, turn, member: (
        (f"Det är {r.label(turn)} som står på tur" if turn else "Ingen ersättare kan tjänstgöra")
        + f" att tjänstgöra för {r.label(member)}: först ersättare från samma parti, "
        "sedan de andra, i den ordning fullmäktige bestämt."
    ),
    "seats.serves_for_jav": lambda r, sub, n, regular: (
        f"{r.label(sub)} tjänstgör under ärende {n} i stället för {r.label(regular)} (jäv, KL 6 kap. 28 §)."
    ),
    "seats.replaced": _replaced,
    "seats.name_member_to_reinstate": lambda r: "Nämn ledamoten: !återinträd @ledamot.",
    "seats.not_replaced": lambda r, member: f"{r.label(member)} är inte ersatt.",
    "seats.member_not_present": lambda r, member: f"{r.label(member)} är inte närvarande (!närvarande).",
    "seats.still_lacking": lambda r, member: (
        f"{r.label(member)} saknar fortfarande godtagbar överföring. Skriv !åter när den fungerar."
    ),
    "seats.reinstated": lambda r, member, at, sub: (
        f"{r.label(member)} tjänstgör åter från kl. {hm(at, r.tz)}; {r.label(sub)} tjänstgör inte längre (§ 11)."
    ),
    "seats.leaves": _leaves,
    "seats.name_member_to_preside": lambda r: "Nämn ledamoten: !ordförande @ledamot.",
    "seats.jav_in_choice": lambda r, n: (
        f"Du har jäv i ärende {n} och får inte delta i organets val av vem som leder det. "
        "Sekreteraren antecknar valet med !ordförande @ledamot."
    ),
    "seats.not_at_meeting": lambda r: (
        "Du är inte med på sammanträdet. Valet görs av organet på sammanträdet; sekreteraren "
        "antecknar det med !ordförande @ledamot."
    ),
    "seats.presides_by_office": lambda r, user: (
        f"{r.label(user)} tjänstgör och är ordförande. !ordförande används bara när varken "
        "ordföranden eller en vice ordförande kan leda ärendet (jäv, frånvaro, teknikfel)."
    ),
    "seats.cannot_preside": lambda r, user: (
        f"{r.label(user)} tjänstgör inte nu och kan inte vara ordförande. Nämn en tjänstgörande ledamot."
    ),
    "seats.presiding_named": lambda r, user: (
        f"{r.label(user)} är ordförande och leder sammanträdet så länge varken ordföranden eller en "
        "vice ordförande kan; hen har utslagsrösten vid lika röstetal (KL 6 kap. 33 §, 5 kap. 56 §)."
    ),
}


# --- presence and transmission (§§ 2–5, 9, 10; rules/presence.py) -----------------------------


def _moved_to_chairs_room(r: Roster, user: str, at, drops: list[str]) -> str:
    text = f"{r.label(user)} deltar från kl. {hm(at, r.tz)} i ordförandens lokal, och dessförinnan på distans (§ 2)."
    if drops:
        text += f" Avbrottet i {' och '.join(drops)} står kvar tills hen bekräftar med !åter (§ 10)."
    return text


PRESENCE: dict[str, Callable[..., str]] = {
    "presence.present_already": lambda r, since: f"Du är redan antecknad som närvarande sedan kl. {hm(since, r.tz)}.",
    "presence.back": lambda r, user, at: f"{r.label(user)} är tillbaka kl. {hm(at, r.tz)}.",
    "presence.came_despite_forhinder": lambda r, user: (
        f"{r.label(user)} har kommit trots anmält förhinder, som därmed inte gäller längre."
    ),
    "presence.substitute_until_next": lambda r, sub: (
        f"{r.label(sub)} tjänstgör för hen till nästa ärende, då hen tar över (KL 6 kap. 17 §)."
    ),
    "presence.not_present": lambda r, user: f"{r.label(user)} är inte närvarande (!närvarande).",
    "presence.in_chairs_room_already": lambda r, user: f"{r.label(user)} deltar redan i ordförandens lokal.",
    "presence.shares_already": lambda r, user, other: f"{r.label(user)} delar redan överföring med {r.label(other)}.",
    "presence.name_one_for_lokal": lambda r: "Nämn en person: !lokal @person.",
    "presence.in_chairs_room": lambda r, user: f"{r.label(user)} deltar i ordförandens lokal (§ 2).",
    "presence.moved_to_chairs_room": _moved_to_chairs_room,
    "presence.name_two_for_delad": lambda r: "Nämn två olika personer: !delad @person @person.",
    "presence.shared": lambda r, a, b: (
        f"{r.label(a)} och {r.label(b)} delar ljud- och bildöverföring (§ 2). "
        "Ordföranden ansvarar för att likvärdigheten mellan ledamöterna bibehålls."
    ),
    "presence.drop_already": lambda r, kind, user: (
        f"Avbrottet i {kind} för {r.label(user)} är redan antecknat. Skriv !åter när det fungerar."
    ),
    "presence.drop_recorded": lambda r, kind, user: f"Avbrott i {kind} för {r.label(user)} antecknat.",
    "presence.no_drop": lambda r, user: f"Inget avbrott är antecknat för {r.label(user)}.",
    "presence.name_one_for_tysta": lambda r: "Nämn en person: !tysta @person.",
    "presence.muted": lambda r, user: (
        f"Ljudet för {r.label(user)} är avstängt (§ 3). Skriv !åter när det slås på igen."
    ),
    "presence.silence_no_item": lambda r: "Inget ärende är uppe. Ordet kan fråntas under ett ärende.",
    "presence.name_one_to_silence": lambda r: "Nämn en person: !fråntaordet @person.",
    "presence.silenced_already": lambda r, user, n: f"{r.label(user)} har redan fråntagits ordet under ärende {n}.",
    "presence.silenced": lambda r, user, n: f"{r.label(user)} fråntas ordet under resten av ärende {n} (§ 9).",
    "presence.adjourned_already": lambda r: "Sammanträdet är redan ajournerat. Återuppta med !återuppta.",
    "presence.adjourned": lambda r, at: f"Sammanträdet är ajournerat kl. {hm(at, r.tz)} (§ 10).",
    "presence.not_adjourned": lambda r: "Sammanträdet är inte ajournerat.",
    "presence.cannot_resume": lambda r, users: (
        f"{names(r, users)} saknar godtagbar överföring. Sammanträdet återupptas först "
        "när kontakten är återupprättad (!åter) eller en ersättare har trätt in (!ersätt)."
    ),
    "presence.resumed": lambda r, at: f"Sammanträdet återupptas kl. {hm(at, r.tz)} (§ 10).",
}


# --- the speakers' list (§ 9; rules/presence.py) --------------------------------------------------


def _floor_given(r: Roster, user: str, reply: bool, to: str | None, waiting: list[str]) -> str:
    text = f"{r.label(user)} har ordet"
    if reply:
        text += f" för en replik på {r.label(to)}" if to else " för en replik"
    text += " (§ 9)."
    return text + (f" Näst på tur: {r.label(waiting[0])}." if waiting else "")


FLOOR: dict[str, Callable[..., str]] = {
    "floor.no_item": lambda r: "Inget ärende är uppe. Talarlistan hör till ärendet som är uppe.",
    "floor.roll_call_first": lambda r, user, you: (
        "Anmäl närvaro med !närvarande först." if you else f"{r.label(user)} är inte närvarande."
    ),
    "floor.left": lambda r, user, you: (
        "Du har lämnat sammanträdet. Anmäl närvaro med !närvarande om du är tillbaka."
        if you
        else f"{r.label(user)} har lämnat sammanträdet."
    ),
    "floor.silenced": lambda r, user, you, n: (
        f"Ordföranden har fråntagit {'dig' if you else r.label(user)} ordet under resten av ärende {n}."
    ),
    "floor.jav": lambda r, user, you, n: (
        f"{'Du har' if you else r.label(user) + ' har'} jäv i ärende {n} och får inte delta i det, "
        "inte heller yttra sig."
    ),
    "floor.by_leave": lambda r, user: (
        "Övriga med närvarorätt yttrar sig med ordförandens medgivande: be ordföranden sätta dig "
        f"på talarlistan (!ordet @{r.name_of(user)})."
    ),
    "floor.only_chair_names": lambda r: (
        "Bara ordföranden sätter någon annan på talarlistan. Begär ordet själv med !ordet."
    ),
    "floor.on_it_already": lambda r, user, you, place: (
        f"{'Du står' if you else r.label(user) + ' står'} redan på talarlistan, som nummer {place}."
    ),
    "floor.list_closed": lambda r, n: (
        f"Talarlistan för ärende {n} är stängd (streck i debatten): ingen ny läggs till. "
        "Ordföranden kan öppna den igen med !streck återta."
    ),
    "floor.placed": lambda r, user, place: f"{r.label(user)} står på talarlistan som nummer {place}.",
    "floor.not_on_it": lambda r, n: f"Du står inte på talarlistan för ärende {n}.",
    "floor.ended": lambda r, n: f"Talarlistan för ärende {n} är tom: ingen har ordet nu.",
    "floor.empty": lambda r, n: f"Talarlistan för ärende {n} är tom: ingen har begärt ordet (!ordet).",
    "floor.given": _floor_given,
    "floor.reply_nobody_speaks": lambda r: (
        "Ingen har ordet nu: replik begärs på den som talar. Begär ordet med !ordet."
    ),
    "floor.reply_to_oneself": lambda r: "Du har själv ordet.",
    "floor.reply_to_a_reply": lambda r, speaker: (
        f"{r.label(speaker)} har ordet för en replik, och en replik på en replik ges inte. Begär ordet med !ordet."
    ),
    "floor.reply_asked_already": lambda r, user, speaker: (
        f"{r.label(user)} har redan begärt replik på {r.label(speaker)}, och replikerna ges en i taget. "
        "Begär ordet med !ordet."
    ),
    "floor.reply_asked": lambda r, user, speaker: (
        f"{r.label(user)} begär replik på {r.label(speaker)}; ordföranden ger ordet med !nästa."
    ),
    "floor.list_open": lambda r, n: f"Talarlistan för ärende {n} är inte stängd.",
    "floor.list_reopened": lambda r, n: (
        f"Strecket i debatten är borttaget: talarlistan för ärende {n} är öppen igen (§ 9)."
    ),
    "floor.streck_already": lambda r, n: (
        f"Streck i debatten är redan satt i ärende {n}. Öppna listan med !streck återta."
    ),
    "floor.streck": lambda r, n, users: (
        f"Streck i debatten: talarlistan för ärende {n} är stängd (§ 9). "
        + (f"På listan står {names(r, users)}." if users else "Ingen står på listan.")
    ),
}


# --- the followed call and a lost transmission (§§ 3–5, 10, 12; rules/call.py) -----------------


def _lost(r: Roster, user: str, kinds: list[str], serving: bool, void: int | None, spends: bool) -> str:
    """What a lost transmission means for the chair ("" when nothing: one who does not serve)."""
    who = r.label(user)
    lost = {("ljud",): "ljudet", ("bild",): "bilden"}.get(tuple(kinds), "ljud och bild")
    if not serving:
        text = ""
    elif "ljud" in kinds:
        text = (
            f"{who} har förlorat {lost}. Ljudet måste fungera för tjänstgörande ledamöter (§ 5). "
            "Sammanträdet kan ajourneras med !ajournera och återupptas först när överföringen "
            "fungerar (!åter) eller en ersättare har trätt in (!ersätt) (§ 10)."
        )
    else:
        text = (
            f"{who} har förlorat bilden. Kortvariga bilduppehåll godtas under diskussionen, "
            "men inte när ordföranden ställer proposition och beslut fattas (§ 5)."
        )
    if void is not None:
        voided = f"Votering {void} är ogiltig: gör en ny teknikkontroll och votera igen (§§ 5, 12)."
        return f"{text} {voided}" if text else f"{who} har förlorat {lost}. {voided}"
    if spends:
        text += " Den godkända teknikkontrollen gäller inte längre: gör en ny före beslut (§ 12)."
    return text


CALL: dict[str, Callable[..., str]] = {
    "call.left_call": lambda r, who, user, at: (
        f"{r.label(who)}: "
        + (
            "du har lämnat videosamtalet"
            if who == user
            else f"du delar överföring med {r.label(user)}, som har lämnat videosamtalet"
        )
        + f" kl. {hm(at, r.tz)}; det antecknas som förlorat ljud och bild (§§ 5, 10). Anslut igen och skriv !åter."
    ),
    "call.to_chair": lambda r, chair, text: f"{r.label(chair)}: {text}",
    "call.not_in_call": lambda r, user, actor, then: (
        ("Du är" if user == actor else f"{r.label(user)} är")
        + f" inte med i rummets videosamtal ({r.call_name}). Anslut till samtalet och skriv sedan {then}."
    ),
    "call.lost": _lost,
}


# --- sound and picture as the call's media server shows them (§§ 3–5, 10, 12; rules/transmission.py)


def _shown(s) -> str:
    """A person's `rules.model.Shown` (None: nothing shown) in words."""
    return shown_words(s.camera, s.microphone, s.connected) if s is not None else SHOWN["connection:none"]


def _media_refused(r: Roster, user: str, actor: str, shown, picture: bool, then: str) -> str:
    who = "dig" if user == actor else r.label(user)
    asked, how = ("rörlig bild och ljud", "kameran på och ") if picture else ("ljud", "")
    return (
        f"Samtalet visar för {who}: {_shown(shown)}. Deltagandet kräver {asked} ({how}en mikrofon i samtalet; "
        f"att tysta den går bra). Rätta det och skriv sedan {then}."
    )


def _names_since(r: Roster, users, shown: dict) -> str:
    """People, each lacking what the call's server shows, with what and since when it has shown so."""
    out = []
    for u in users:
        if u in shown:
            missing, since = shown[u]
            what = " och ".join(SHOWN[code] for code in missing)
            out.append(f"{r.label(u)} ({what} sedan kl. {hm(since, r.tz)} enligt samtalet)")
        else:
            out.append(r.label(u))
    return ", ".join(out)


def media_status(m: Meeting, r: Roster) -> list[str]:
    """!status: camera, microphone and connection per serving member, as the call shows them."""
    if not followed(r):
        return []
    if m.media_down is not None:
        return [f"Samtalets ljud och bild kan inte läsas sedan kl. {hm(m.media_down, r.tz)}: boten godtar intyganden."]
    return ["Enligt samtalet: " + "; ".join(f"{r.label(u)}: {_shown(shown_for(m, u))}" for u in m.serving(r))]


TRANSMISSION: dict[str, Callable[..., str]] = {
    "transmission.refused": _media_refused,
    "transmission.lost_sound": lambda r, user, shown, at: (
        f"{r.label(user)}: från kl. {hm(at, r.tz)} visar samtalet {_shown(shown)} för dig; det antecknas "
        "som förlorat ljud (§§ 5, 10). Rätta det och skriv !åter."
    ),
    "transmission.grace_passed": lambda r, chair, user, since: (
        f"{r.label(chair)}: {r.label(user)} har varit utan rörlig bild sedan kl. {hm(since, r.tz)}, längre än "
        f"{r.video_grace_seconds} sekunder. Kortvariga bilduppehåll godtas under diskussionen, men inte vid "
        "proposition och beslut (§ 5)."
    ),
    "transmission.unavailable": lambda r, chair, at, reason: (
        f"{r.label(chair)}: samtalets ljud och bild kan inte läsas från kl. {hm(at, r.tz)} ({MEDIA_DOWN[reason]}). "
        "Tills vidare godtar boten vad var och en intygar (!närvarande, !ok, !avbrott), och protokollet "
        "anger tiden (§§ 3, 12)."
    ),
    "transmission.available": lambda r, since, at: (
        f"Samtalets ljud och bild kan läsas igen från kl. {hm(at, r.tz)}; mellan kl. {hm(since, r.tz)} "
        f"och kl. {hm(at, r.tz)} godtog boten intyganden (§§ 3, 12)."
    ),
}


# --- motions, checks and decisions (§§ 5, 12, KL 4 kap. 22 §, 6 kap. 27 §; rules/decisions.py) --


def _decided(r: Roster, n: int, text: str, participants: list[str], abstained: list[str]) -> str:
    out = f"BESLUT i ärende {n}: {text}\nDeltog i beslutet: {names(r, participants)}."
    if abstained:
        out += f"\nAvstod från att delta i beslutet (KL 4 kap. 25 §): {names(r, abstained)}."
    return out


def _retaken(r: Roster, n: int, text: str, reserved: tuple[str, ...]) -> str:
    out = f"Beslutet i ärende {n} tas om (§ 12) och gäller inte: {text}\n"
    if reserved:
        out += (
            f"Reservationerna mot det beslutet faller: {names(r, reserved)}. Den som vill reservera sig "
            "mot det nya beslutet anmäler det på nytt med !reservation (KL 4 kap. 27 §).\n"
        )
    return out + "Gör en ny !teknikkontroll och fatta beslutet igen."


DECISIONS: dict[str, Callable[..., str]] = {
    "decisions.motion_no_item": lambda r: "Inget ärende är uppe. Yrkanden görs under ett ärende.",
    "decisions.no_motion_to_withdraw": lambda r, n: f"Du har inget yrkande att återta i ärende {n}.",
    "decisions.motion_withdrawn": lambda r, text: f"Yrkandet är återtaget: {text}",
    "decisions.what_motions": lambda r: "Yrkanden kan inte göras",
    "decisions.motion": lambda r, k, n, user, text: f"Yrkande {k} i ärende {n} av {r.label(user)}: {text}",
    "decisions.quorum_missing": lambda r, serving, needed: (
        f"beslutförhet saknas: {serving} av {len(r.members)} ledamöter tjänstgör, minst {needed} krävs"
    ),
    "decisions.no_quorum": lambda r, what, missing: (
        f"{what}: {missing} (ledamöter med förlorat ljud räknas inte). Ersättare kan träda in med !ersätt."
    ),
    "decisions.check_no_item": lambda r: "Ta upp ett ärende med !ärende N först; kontrollen föregår ett beslut.",
    "decisions.check_lacking": lambda r, users, shown: (
        f"{_names_since(r, users, shown)} saknar ljud eller bild. Ingen kontroll kan godkännas förrän "
        "överföringen fungerar (!åter) eller en ersättare har trätt in (!ersätt, § 11)."
    ),
    "decisions.nobody_serves": lambda r: "Ingen ledamot tjänstgör. Ledamöterna anmäler närvaro med !närvarande.",
    "decisions.check_started": lambda r, n, deadline: (
        f"TEKNIKKONTROLL (§ 12) inför beslut i ärende {n}. Tjänstgörande ledamöter: svara "
        f"!ok (eller reagera ✅ på detta meddelande) senast kl. {hms(deadline, r.tz)} "
        "om ni ser och hör sammanträdet och själva syns och hörs."
    ),
    "decisions.no_check": lambda r: "Ingen teknikkontroll pågår. Ordföranden startar en med !teknikkontroll.",
    "decisions.earlier_check": lambda r, id: (
        f"Din reaktion gäller en tidigare teknikkontroll, inte den som pågår (nr {id}). "
        "Svara !ok, eller reagera ✅ på den pågående kontrollens meddelande."
    ),
    "decisions.not_expected": lambda r: "Du tjänstgjorde inte när kontrollen startade; ordföranden gör en ny kontroll.",
    "decisions.answered_already": lambda r: "Ditt svar är redan antecknat.",
    "decisions.your_drop": lambda r: (
        "Ditt avbrott är antecknat. Skriv !åter när ljud och bild fungerar, och svara sedan !ok."
    ),
    "decisions.check_passed": lambda r, id, expected: (
        f"Teknikkontroll {id} är godkänd: alla {expected} tjänstgörande ledamöter "
        "deltar med godtagbar överföring (§ 12). Beslut kan fattas."
    ),
    "decisions.check_failed": lambda r, id, missing: (
        f"⛔ § 12: Teknikkontroll {id} är inte godkänd. Svarade inte: {names(r, missing)}. "
        "Ordföranden kan göra en ny !teknikkontroll, ajournera (§ 10) eller ersätta ledamoten (§ 11)."
    ),
    "decisions.blocked_no_item": lambda r: "inget ärende är uppe (!ärende N)",
    "decisions.blocked_adjourned": lambda r: "sammanträdet är ajournerat (!återuppta)",
    "decisions.blocked_not_permitted": lambda r, n: f"ärende {n} är inte tillåtet på distans",
    "decisions.blocked_justerad": lambda r, paragraph: f"§ {paragraph} är omedelbart justerad",
    "decisions.blocked_nobody_presides": lambda r: "ingen leder ärendet (!ordförande @ledamot)",
    "decisions.blocked_lacking": lambda r, user, kinds, shown: (
        f"{_names_since(r, [user], shown)} saknar {' och '.join(kinds)}"
    ),
    "decisions.blocked_vote": lambda r, id: f"votering {id} pågår",
    "decisions.blocked_no_check": lambda r: "ingen teknikkontroll har gjorts i ärendet (!teknikkontroll)",
    "decisions.blocked_check_running": lambda r, id: f"teknikkontroll {id} pågår",
    "decisions.blocked_check_failed": lambda r, id: f"teknikkontroll {id} blev inte godkänd; gör en ny",
    "decisions.blocked_check_spent": lambda r, id, spent: (
        f"teknikkontroll {id} gäller inte längre ({spent_text(spent, r)}); gör en ny"
    ),
    "decisions.blocked_serving_changed": lambda r: "tjänstgöringen har ändrats sedan teknikkontrollen; gör en ny",
    "decisions.justerad_cannot_word": lambda r, paragraph: f"§ {paragraph} är omedelbart justerad och kan inte ändras.",
    "decisions.worded": lambda r, n, vote, proposal, text: (
        f"BESLUT i ärende {n}, efter votering {vote} enligt förslaget ”{proposal}”: {text}"
    ),
    "decisions.blocked": lambda r, found: f"Beslut kan inte fattas nu: {reasons_text(found)}.",
    "decisions.all_abstain": lambda r: "Alla tjänstgörande har anmält att de avstår; ingen deltar i ett beslut.",
    "decisions.decided": _decided,
    "decisions.nothing_to_retake": lambda r: "Det finns inget beslut i det aktuella ärendet att ta om.",
    "decisions.retaken": _retaken,
}


# --- votes and reservations (KL 4 kap. 25–27 §§, 5 kap. 53–56 §§, § 13; rules/votes.py) ---------


def _result(
    r: Roster, vote: int, n: int, a: str, b: str, won: str, how: str, presiding: str | None, ja, nej, avstod, silent
) -> str:
    text = (
        f"RESULTAT av votering {vote} i ärende {n}: {len(ja)} ja, {len(nej)} nej, "
        f"{len(avstod)} avstod. Beslut enligt: {won} ({vote_how(how, {}, None, r, presiding)}).\n"
        f"Ja ({a}): {names(r, ja) or '–'}\nNej ({b}): {names(r, nej) or '–'}\n"
        f"Avstod: {names(r, avstod) or '–'}"
    )
    if silent:
        text += f"\nRöstade inte och deltog inte i beslutet: {names(r, silent)}"
    return text


VOTES: dict[str, Callable[..., str]] = {
    "votes.tie_needs_casting_vote": lambda r, ja, nej, presiding: (
        f"Lika röstetal ({ja}–{nej}). Ordföranden ({r.label(presiding) if presiding else 'ordföranden'}) har "
        "utslagsröst och får inte "
        "avstå när rösten behövs för att avgöra: ordföranden röstar med !ja eller !nej "
        "(efter !avstår återta, om hen har anmält att hen avstår)."
    ),
    "votes.result": _result,
    "votes.no_open_vote": lambda r: "Ingen öppen votering pågår.",
    "votes.not_all_voted": lambda r, voted, voters, until: (
        f"Alla tjänstgörande ska hinna rösta: {voted} av {voters} har röstat. "
        f"Voteringen kan avslutas med !votering klar från kl. {hms(until, r.tz)}, "
        "eller när alla har röstat."
    ),
    "votes.no_item": lambda r: "Inget ärende är uppe. Ta upp ärendet med !ärende N först.",
    "votes.closed_needs_chairs_room": lambda r, remote: (
        "Sluten omröstning får inte genomföras på distans när valhemligheten inte kan "
        f"upprätthållas. {names(r, remote)} deltar inte i ordförandens lokal. Omröstningen kan "
        "hållas med valsedlar när alla tjänstgörande sitter i ordförandens lokal (!lokal)."
    ),
    "votes.blocked": lambda r, found: f"Voteringen kan inte börja nu: {reasons_text(found)}.",
    "votes.closed_started": lambda r, vote, n, a, b: (
        f"SLUTEN OMRÖSTNING {vote} i ärende {n} (§ 13, KL 5 kap. 54 §): alla tjänstgörande "
        f"sitter i ordförandens lokal, så omröstningen hålls med valsedlar på papper. A = {a}, B = {b}. "
        "Räkna valsedlarna och skriv !votering sluten resultat A=n B=m blanka=k."
    ),
    "votes.started": lambda r, vote, n, a, b: (
        f"VOTERING {vote} i ärende {n} (KL 5 kap. 54 §): Ja = {a}, Nej = {b}. "
        "Tjänstgörande ledamöter: svara !ja, !nej eller !avstår. Rösten kan ändras tills resultatet "
        "är klart; en förlorad överföring under voteringen gör den ogiltig (§§ 5, 12)."
    ),
    "votes.no_closed_vote": lambda r: "Ingen sluten omröstning pågår. Den börjar med !votering sluten A / B.",
    "votes.ballots_miscounted": lambda r, cast, voters: (
        f"Antalet valsedlar ({cast}) ska vara lika med antalet som röstade ({voters}). Räkna om."
    ),
    "votes.closed_result": lambda r, vote, n, a, b, counts, won, how, lot: (
        f"RESULTAT av sluten omröstning {vote} i ärende {n}: {a} {counts['a']}, "
        f"{b} {counts['b']}, blanka {counts['blanka']}. Vald/beslut: {won} "
        f"({vote_how(how, {}, lot, r)})."
    ),
    "votes.earlier_vote": lambda r, vote: (
        f"Ditt svar gäller en tidigare votering, inte den som pågår (nr {vote}). Svara i den "
        "pågående voteringens omröstning, eller med !ja, !nej eller !avstår."
    ),
    "votes.not_a_voter": lambda r: "Du tjänstgjorde inte när voteringen började.",
    "votes.you_abstain": lambda r, n: (
        f"Du har anmält att du avstår från att delta i beslutet i ärende {n}. Vill du rösta: "
        "återta anmälan med !avstår återta först."
    ),
    "votes.voted_already": lambda r, choice: f"Din röst ({choice}) är redan antecknad.",
    "votes.abstain_in_closed_vote": lambda r: "En sluten omröstning pågår: den som avstår lämnar en blank valsedel.",
    "votes.abstain_no_item": lambda r: "Inget ärende är uppe. Att avstå gäller beslutet i ärendet som är uppe.",
    "votes.abstain_after_decision": lambda r, n: (
        f"Ärende {n} är redan beslutat. Att avstå anmäls, och återtas, före beslutet."
    ),
    "votes.no_abstention": lambda r, n: f"Du har inte anmält att du avstår i ärende {n}.",
    "votes.abstention_withdrawn": lambda r, user, n, votes: (
        f"{r.label(user)} deltar i beslutet i ärende {n}." + (" Rösta med !ja, !nej eller !avstår." if votes else "")
    ),
    "votes.abstains_already": lambda r, n: (
        f"Att du avstår i ärende {n} är redan antecknat. Vill du delta: !avstår återta."
    ),
    "votes.reservation_no_item": lambda r: "Inget ärende är uppe. Ange ärendet: !reservation ärende N [motivering].",
    "votes.nothing_to_reserve_against": lambda r, n: (
        f"Det finns inget beslut i ärende {n} att reservera sig mot. Gäller det ett annat ärende: "
        "!reservation ärende N [motivering]."
    ),
    "votes.jav_no_reservation": lambda r, n: (
        f"Du har jäv i ärende {n} och deltar inte i det, inte heller med reservation."
    ),
    "votes.reservation_after_leaving": lambda r: "Du har lämnat sammanträdet; en reservation anmäls på sammanträdet.",
    "votes.abstained_no_reservation": lambda r: (
        "Du avstod från att delta i beslutet och kan därför inte reservera dig mot det (KL 4 kap. 25 §)."
    ),
    "votes.took_no_part": lambda r: (
        "Endast den som deltog i beslutet får reservera sig mot det; den som inte röstade deltog inte."
    ),
    "votes.reserved_already": lambda r: "Din reservation mot beslutet är redan antecknad.",
    "votes.reserved": lambda r, user, n: f"{r.label(user)} reserverar sig mot beslutet i ärende {n} (KL 4 kap. 27 §).",
}


# --- justering and anslag (KL 5 kap. 69 §, 6 kap. 35 §, 8 kap. 12 §; rules/justering.py) -------


def signers_text(r: Roster, plan: list[Paragraph]) -> str:
    return ", ".join(f"{r.label(u)} ({role})" for u, role in signer_roles(plan).items())


def why_not(m: Meeting, r: Roster, p: Paragraph) -> str:
    """Why no justerare may justera a paragraph (or, with none, the protocol)."""
    jav = m.items[p.item].jav if p.item in m.items else {}
    led = "ledde ärendet" if p.item in m.items else "ledde sammanträdet"
    reasons = [f"{r.label(u)} {'har jäv i ärendet' if u in jav else led}" for u in m.justerare]
    what = f"§ {p.number}" if p.number is not None else "protokollet"
    return f"{what}: {', '.join(reasons or ['ingen justerare är utsedd'])}"


def lacking_text(m: Meeting, r: Roster, plan: list[Paragraph]) -> str:
    lacking = [p for p in plan if not p.justerare]
    if not lacking:
        return ""
    return (
        " ⚠ KL 5 kap. 69 §: ingen justerare kan justera "
        + "; ".join(why_not(m, r, p) for p in lacking)
        + ". En paragraf justeras av den som ledde den och en justerare som varken ledde den eller "
        "hade jäv: ordföranden utser ytterligare en justerare med !justerare @person @person."
    )


def _changes_since(m: Meeting, r: Roster, seq: int) -> list[str]:
    """What changed in the protocol after the log's event `seq`, in words."""
    out = []
    for a in m.amendments:
        if a.seq <= seq:
            continue
        when = date_time(a.at, r.tz)
        if a.kind == "corrected":
            item = m.items[a.data["n"]]
            out.append(
                f"rättelse av beslutet i § {item.paragraph}, {when} av {r.label(a.by)}: «{a.data['new']}» "
                f"(tidigare: «{a.data['old']}»)"
            )
        else:
            before = names(r, a.data["before"]) or "inga"
            out.append(f"justerare utsedda {when}: {names(r, a.data['users'])} (tidigare: {before})")
    return out


def _chosen(r: Roster, users, m: Meeting, plan: list[Paragraph] | None, resign: bool) -> str:
    text = f"Utses att justera protokollet: {names(r, users)} (KL 5 kap. 69 §)."
    if plan is not None:
        text += f" Protokollet justeras av {signers_text(r, plan)}." + lacking_text(m, r, plan)
        if resign:
            text += " Signaturer som gavs före ändringen gäller inte längre: signera på nytt med !justera."
    return text


def _stale(r: Roster, typed: str, fp: str, at_once: bool, m: Meeting, seen) -> str:
    what = "paragrafens lydelse" if at_once else "den lydelse"
    text = (
        f"Fingeravtrycket du angav ({short_fingerprint(typed)}) är inte {what} som ska signeras nu "
        f"({short_fingerprint(fp)})."
    )
    if seen is not None:
        changes = _changes_since(m, r, seen.seq)
        if changes:
            text += f" Ändrat sedan den lydelsen visades {date_time(seen.at, r.tz)}: " + "; ".join(changes) + "."
    else:
        text += " Det stämmer inte med någon lydelse som har visats i rummet."
    cmd_text = "!justera omedelbart" if at_once else "!justera"
    return f"{text} Läs den (!protokoll) och signera med {cmd_text} {short_fingerprint(fp)}."


def _signed(r: Roster, m: Meeting, n: int | None, actor: str, at, fp: str, late, missing: list[str], plan, due) -> str:
    what = "Protokollet" if n is None else f"§ {m.items[n].paragraph} (ärende {n})"
    text = f"{what} är signerat av {r.label(actor)} kl. {hm(at, r.tz)}. Fingeravtryck: {short_fingerprint(fp)}"
    if n is None:
        if m.postings and (changes := _changes_since(m, r, m.postings[-1].seq)):
            text += "\nÄndrat sedan protokollet senast visades i rummet: " + "; ".join(changes) + "."
        if late is not None:
            text += (
                f"\n⚠ KL 6 kap. 35 §: protokollet skulle ha justerats senast {late}, fjorton dagar efter "
                "sammanträdet. Den sena justeringen antecknas i protokollet."
            )
    if due is None:
        if missing:
            text += f"\nÅterstår att signera: {names(r, missing)} (!justera{' omedelbart' if n else ''})."
        return text + lacking_text(m, r, plan)
    ask = (
        f"Anslaget ska sättas upp på kommunens anslagstavla senast {due} (KL 8 kap. 12 §); sekreteraren "
        f"antecknar dagen det sattes upp med !anslag{f' § {m.items[n].paragraph}' if n is not None else ''} "
        "[ÅÅÅÅ-MM-DD]."
    )
    if n is not None:
        return text + f"\n{what} är omedelbart justerad (KL 5 kap. 69 §). Protokollsutdrag och anslag följer. {ask}"
    return text + f"\nPROTOKOLLET ÄR JUSTERAT (KL 5 kap. 69 §). Det bifogas som PDF/A. Anslaget följer. {ask}"


def _anslag(r: Roster, day, before: str | None, late, meeting_day, justerad_day, numbers, at_once: bool) -> str:
    text = f"Anslaget är uppsatt {day} (KL 8 kap. 12 §)."
    if before:
        text += f" Det ersätter {before}, som angavs tidigare."
    if late is not None:
        text += f"\n⚠ KL 8 kap. 12 §: anslaget skulle ha satts upp senast {late}, andra dagen efter justeringen."
    return text + "\n" + _anslag_notice(r, meeting_day, justerad_day, numbers, at_once, posted=day)


def _anslag_notice(r: Roster, meeting_day, justerad_day, numbers, at_once: bool, posted=None) -> str:
    """The anslag on the anslagstavla (KL 8 kap. 12 §), as the protocol has it too."""
    listed = paragraphs_text(numbers)
    posted_on = posted.isoformat() if posted is not None else None
    return "\n".join(anslag_lines(r, meeting_day.isoformat(), justerad_day.isoformat(), posted_on, listed, at_once))


def _corrected(r: Roster, paragraph: int, n: int, actor: str, new: str, old: str, fp: str, signed: list[str]) -> str:
    text = (
        f"Beslutet i § {paragraph} (ärende {n}) är rättat av {r.label(actor)}: «{new}» "
        f"(tidigare: «{old}»). Det rättade protokollet bifogas"
    )
    text += f", fingeravtryck {short_fingerprint(fp)}." if fp else "."
    if signed:
        text += (
            f" Signaturerna som gavs före rättelsen gäller inte längre: {names(r, signed)} signerar den nya "
            "lydelsen med !justera."
        )
    return text


JUSTERING: dict[str, Callable[..., str]] = {
    "justering.justerat_already": lambda r: "Protokollet är redan justerat.",
    "justering.not_serving": lambda r, user: (
        f"{r.label(user)} tjänstgör inte och kan inte vara justerare: välj tjänstgörande ledamöter eller ersättare."
    ),
    "justering.presiding_alone": lambda r, user: (
        f"{r.label(user)} leder sammanträdet och justerar som ordförande de paragrafer hen leder; "
        "en justerare justerar med ordföranden. Välj någon annan, eller två justerare."
    ),
    "justering.cannot_justera_any": lambda r, user: (
        f"{r.label(user)} ledde eller hade jäv i varje paragraf och kan inte justera någon av dem."
    ),
    "justering.chosen": _chosen,
    "justering.stale": _stale,
    "justering.justerat_on": lambda r, at: f"Protokollet är redan justerat {at.astimezone(r.tz):%Y-%m-%d}.",
    "justering.no_justerare": lambda r: "Inga justerare är utsedda. Ordföranden utser dem med !justerare @person.",
    "justering.signers_only": lambda r, plan: (
        f"Protokollet justeras av {signers_text(r, plan)}; sekreteraren som var med på sammanträdet får också signera."
    ),
    "justering.at_once_needs_decision": lambda r: (
        "Omedelbar justering gäller ärendet som är uppe, efter att beslutet i det har fattats."
    ),
    "justering.justerad_already": lambda r, paragraph: f"§ {paragraph} är redan omedelbart justerad.",
    "justering.must_retake": lambda r, paragraph, jav, check: (
        f"Beslutet i § {paragraph} ska tas om ("
        + (
            f"{names(r, jav)} deltog i beslutet men har jäv i ärendet"
            if jav
            else f"teknikkontroll {check} efter beslutet blev inte godkänd"
        )
        + ") och kan inte justeras omedelbart: !omtag, ny !teknikkontroll och nytt beslut (KL 5 kap. 69 §)."
    ),
    "justering.nobody_may_justera": lambda r, m, p: (
        f"Ingen justerare kan justera paragrafen ({why_not(m, r, p)}). Den justeras av den som ledde "
        "ärendet och en justerare som varken ledde det eller hade jäv: ordföranden utser ytterligare "
        "en justerare med !justerare @person @person."
    ),
    "justering.at_once_signers": lambda r, plan: f"Paragrafen justeras omedelbart av {signers_text(r, plan)}.",
    "justering.chair_first": lambda r, chairs, changed: (
        f"Ordföranden i ärendet ({names(r, chairs)}) begär först omedelbar justering med "
        "!justera omedelbart." + (" Paragrafen har ändrats sedan ordföranden signerade." if changed else "")
    ),
    "justering.no_fingerprint": lambda r: "Protokollets fingeravtryck kunde inte beräknas. Försök igen.",
    "justering.signed_already": lambda r, fp: (
        f"Du har redan signerat den här lydelsen (fingeravtryck {short_fingerprint(fp)})."
    ),
    "justering.signed": _signed,
    "justering.anslag_not_at_once": lambda r, paragraph: (
        f"§ {paragraph} är inte omedelbart justerad; dess anslag sätts upp med protokollets (!anslag)."
    ),
    "justering.anslag_not_justerad": lambda r: (
        "Protokollet är inte justerat än; anslaget sätts upp efter justeringen. För en omedelbart "
        "justerad paragraf: !anslag § N [ÅÅÅÅ-MM-DD]."
    ),
    "justering.anslag_before_justering": lambda r, day: f"Anslaget kan inte ha satts upp före justeringen ({day}).",
    "justering.anslag_in_future": lambda r, today: (
        f"Ange dagen då anslaget sattes upp, inte en kommande dag (i dag är {today})."
    ),
    "justering.anslag": _anslag,
    "justering.anslag_notice": _anslag_notice,
    "justering.justerat_no_correction": lambda r: "Protokollet är redan justerat och kan inte rättas här.",
    "justering.nothing_to_correct": lambda r, n: f"Ärende {n} har inget beslut att rätta.",
    "justering.voted_no_correction": lambda r, paragraph, text: (
        f"Beslutet i § {paragraph} fattades genom votering: beslutet är det förslag som vann "
        f"(«{text}») och kan inte rättas. En ändring i sak är ett nytt beslut på ett sammanträde."
    ),
    "justering.corrected": _corrected,
}


# --- what the meeting shows and its close (KL 6 kap. 35 §; rules/views.py) ---------------------
# The agenda and the status are renderings of the meeting's state, read with the rules' own
# helpers (who serves, whose turn it is, what blocks a decision).


def _not_convened(r: Roster) -> str:
    return f"Inget sammanträde är kallat för {r.name}."


def _agenda(r: Roster, m: Meeting | None) -> str:
    if m is None:
        return f"{_not_convened(r)} Föredragningslistan kommer med kallelsen."
    lines = [f"Föredragningslista, {r.name} {date_time(m.start, r.tz) if m.start else ''}:"]
    for item in m.items.values():
        mark = " ← uppe nu" if item.n == m.current else ""
        if item.struck is not None:
            mark = " – utgår" + (f" ({item.struck})" if item.struck else "")
        lines.append(agenda_line(item.n, item.title, item.klass, item.dnr, item.allowed_by, item.approved_by) + mark)
    lines += forhinder_lines(m, r)
    return "\n".join(lines)


def _status(r: Roster, m: Meeting | None) -> str:
    if m is None:
        return _not_convened(r)
    lines = [f"{r.name}: sammanträdet {m.phase.value}" + (" (ajournerat)" if m.adjourned else "") + "."]
    lines += forhinder_lines(m, r) if m.phase in (Phase.CONVENED, Phase.OPEN) else []
    if m.phase is not Phase.OPEN:
        return "\n".join(lines)
    serving = m.serving(r)
    lines.append(
        f"Tjänstgör ({len(serving)} av {len(r.members)}): "
        + (", ".join(_serving_label(m, r, u) for u in serving) or "ingen")
    )
    presiding = m.presiding(r)
    if presiding != r.chair:
        lines.append(
            f"Ordförande (KL 6 kap. 33 §): {r.label(presiding)}"
            if presiding
            else "Ingen leder sammanträdet: utse en tjänstgörande ledamot med !ordförande @ledamot (KL 6 kap. 33 §)"
        )
    if m.teknikfel:
        lines.append("Teknikfelsledamöter (§ 11): " + ", ".join(r.label(u) for u in m.teknikfel))
    absent = [p.label for p in r.members if p.user not in m.present and p.user not in m.substituted]
    if absent:
        lines.append("Ej närvarande ledamöter: " + ", ".join(absent))
    lines += _empty_seats(m, r)
    if m.left:
        lines.append("Har lämnat sammanträdet: " + names(r, m.left))
    drops = [f"{r.label(u)} ({' och '.join(sorted(k))})" for u, k in m.drops.items() if k]
    if drops:
        lines.append("Avbrott: " + ", ".join(drops))
    if r.follows_call:
        lines.append("I videosamtalet: " + (names(r, [u for u in m.in_call if m.in_call[u]]) or "ingen"))
    lines += media_status(m, r)
    item = m.item
    if item:
        lines.append(f"Uppe: ärende {item.n}. {item.title}")
        motions = [f"{x.id}) {r.label(x.user)}: {x.text}" for x in item.motions if not (x.withdrawn or x.fallen)]
        if motions:
            lines.append("Yrkanden: " + "; ".join(motions))
        lines += _debate(r, item)
        if item.jav:
            lines.append("Jäv (KL 6 kap. 28 §): " + names(r, item.jav))
        check = m.check
        if check and check.item == item.n:
            state = "pågår" if check.running else ("godkänd" if check.passed else "ej godkänd")
            lines.append(f"Teknikkontroll {check.id}: {state}")
        if m.vote:
            lines.append(f"Votering {m.vote.id}: {len(m.vote.ballots)} av {len(m.vote.voters)} har röstat")
    found = blockers(m, r)
    if found:
        lines.append("Hindrar beslut: " + reasons_text(found))
    else:
        lines.append("Beslut kan fattas: teknikkontrollen är godkänd och organet är beslutfört.")
    return "\n".join(lines)


def _debate(r: Roster, item: Item) -> list[str]:
    """Who has the floor, a reply asked, and the speakers' list in its order (§ 9)."""
    lines = []
    if item.speaking:
        reply = f" (replik på {r.label(item.replying_to)})" if item.replying and item.replying_to else ""
        lines.append(f"Har ordet: {r.label(item.speaking)}" + (reply or (" (replik)" if item.replying else "")))
    if item.reply:
        lines.append(f"Begär replik: {r.label(item.reply)}")
    streck = " (streck i debatten: ingen ny läggs till)" if item.closed_list else ""
    if item.speakers or streck:
        lines.append("Talarlista: " + (names(r, item.speakers) or "ingen") + streck)
    return lines


def _empty_seats(m: Meeting, r: Roster) -> list[str]:
    """For each member's seat nobody fills, the substitute here whose turn it is, as the !ersätt
    the chair may give (KL 6 kap. 17 §), one substitute per seat; none for a seat a confirmed
    substitute takes at the next item."""
    lines: list[str] = []
    proposed: list[str] = []
    for p in r.members:
        if m.seat(p.user) is not None or any(of == p.user and m.here(s) for s, of in m.confirmed.items()):
            continue
        sub = next_in_turn(m, r, p.user, skip=proposed)
        if sub is None:
            continue
        proposed.append(sub)
        # Who serves changes between items; a seat emptied by jäv is filled for the item at once.
        jav = m.item is not None and (m.substituted.get(p.user) or p.user) in m.item.jav
        when = "" if jav or between_items(m) else " (när ärendet är beslutat, eller under ajournering)"
        lines.append(
            f"Tom plats: {p.label}. {r.label(sub)} står på tur att tjänstgöra (KL 6 kap. 17 §): "
            f"!ersätt {p.user} {sub}{when}"
        )
    return lines


def _serving_label(m: Meeting, r: Roster, user: str) -> str:
    member = m.serving_for(user, r)
    return f"{r.label(user)} (för {r.name_of(member)})" if member else r.label(user)


def _closed(r: Roster, at, fp: str, deadline, m: Meeting, plan: list[Paragraph] | None) -> str:
    text = f"Sammanträdet är avslutat kl. {hm(at, r.tz)}. Protokollet bifogas."
    if fp:
        text += f" Fingeravtryck: {short_fingerprint(fp)}."
    if plan is not None:
        return (
            text
            + (
                f" Det justeras senast {deadline} (KL 6 kap. 35 §) av {signers_text(r, plan)}: var och en "
                "signerar med !justera (KL 5 kap. 69 §)."
            )
            + lacking_text(m, r, plan)
        )
    return text + (
        f" Ordföranden utser justerare med !justerare @person; sedan justeras det senast {deadline} "
        "med !justera (KL 5 kap. 69 §, 6 kap. 35 §)."
    )


VIEWS: dict[str, Callable[..., str]] = {
    "views.agenda": _agenda,
    "views.status": _status,
    "views.protocol": lambda r, closed, fp: (
        f"{'Protokollet' if closed else 'Protokollet hittills'} för {r.name}s sammanträde bifogas."
        + (f" Signera den här lydelsen med !justera {short_fingerprint(fp)} (dess fingeravtryck)." if fp else "")
    ),
    "views.what_close": lambda r: "Sammanträdet kan avslutas",
    "views.untouched": lambda r, numbers: (
        f"Ärende {', '.join(str(n) for n in numbers)} har varken tagits upp eller utgått, och protokollet ska "
        "redovisa varje ärende. "
        "Ta upp det med !ärende N eller stryk det med !utgår N [skäl] innan sammanträdet avslutas."
    ),
    "views.closed": _closed,
}


# --- who may act, and the dispatcher (§§ 1, 2, 10, 12, KL 5 kap. 54 §, 69 §, 6 kap. 27, 28,
# 33 §§; rules/who.py, rules/tables.py, rules/meeting.py) ----------------------------------------

# Who may use a command (`rules.tables.Who`), as a refusal names them.
WHO_WORDS = {
    "CHAIR": "ordföranden",
    "CHAIR_OR_SECRETARY": "ordföranden eller sekreteraren",
    "CHAIR_OR_VICE": "ordföranden eller en vice ordförande",
    "APPOINTER": "ordföranden (även när hen inte kan leda ärendet) eller sekreteraren",
    "SECURITY_CHIEF": "säkerhetsskyddschefen",
    "SECRETARY": "sekreteraren",
    "SERVING": "tjänstgörande ledamöter",
    "SELF_OR_LEADER": "den det gäller, ordföranden eller sekreteraren",
    "ROSTER": "alla i organets förteckning",
}

# What a busy state (`rules.tables.Busy`) says to a command it blocks.
BUSY_WORDS = {
    "ADJOURNED": (
        "Sammanträdet är ajournerat. Under ajourneringen går bara det som hör till pausen "
        "(!återuppta, !ersätt, !återinträd, !åter, !avbrott, !närvarande, !lämnar, !ordförande), "
        "!reservation (den anmäls före sammanträdets slut, KL 4 kap. 27 §) och det "
        "som visar läget "
        "(!status, !dagordning, !protokoll). Återuppta med !återuppta först."
    ),
    "CHECK": "En teknikkontroll pågår. Vänta på resultatet.",
    "VOTE": "En votering pågår. Vänta på resultatet (eller !votering klar).",
}

PHASE_TEXT = {
    None: "inget sammanträde är kallat",
    Phase.CONVENED: "sammanträdet är kallat men inte öppnat",
    Phase.OPEN: "sammanträdet pågår",
    Phase.CLOSED: "sammanträdet är avslutat",
    Phase.CANCELLED: "sammanträdet är inställt",
}

PHASE_HINT = {
    "kalla": "Avsluta det pågående sammanträdet med !avsluta först.",
    "inställ": "Bara ett kallat sammanträde som inte har öppnats kan ställas in.",
    "öppna": "Kalla först med !kalla.",
    "protokoll": "Protokollet finns när sammanträdet har öppnats.",
    "justera": "Protokollet justeras efter !avsluta; under sammanträdet justeras en paragraf med !justera omedelbart.",
    "rättelse": "Rättelse görs efter !avsluta och före justeringen.",
    "anslag": "Anslaget sätts upp efter justeringen.",
}

# Why a change is refused in an omedelbart justerad paragraph, for the commands that need saying.
FINAL_WHY = {
    "reservation": " En reservation mot ett beslut som justeras omedelbart anmäls före justeringen "
    "(KL 4 kap. 27 §); efter den står paragrafen som den justerades.",
    "jäv": " Jäv i ärendet anmäls före justeringen; ett jäv som upptäcks nu kan bara prövas vid ett "
    "överklagande (KL 13 kap. 8 §) eller genom ett nytt beslut på ett sammanträde.",
    "rättelse": " En ändring i sak är ett nytt beslut på ett sammanträde.",
}


def _not_presiding(r: Roster, why: str, n: int | None, presiding: str | None) -> str:
    because = {
        "jav": f"Du har jäv i ärende {n} och får inte leda det.",
        "teknikfel": "Du är teknikfelsledamot och tjänstgör inte.",
        "left": "Du har lämnat sammanträdet.",
        "not_serving": "Du tjänstgör inte nu (anmäl närvaro med !närvarande).",
        "": "",
    }[why]
    if presiding is None:
        return (
            f"{because} Ingen leder sammanträdet just nu: varken ordföranden eller en vice ordförande "
            "tjänstgör. Ordföranden eller sekreteraren utser en tjänstgörande ledamot med "
            "!ordförande @ledamot (KL 6 kap. 33 §).".strip()
        )
    return f"{because} Det är {r.label(presiding)} som är ordförande nu.".strip()


WHO: dict[str, Callable[..., str]] = {
    "who.only_the_chair": lambda r: "Endast ordföranden får det (§ 1).",
    "who.not_presiding": _not_presiding,
    "who.jav_takes_no_part": lambda r, n: f"Du har jäv i ärende {n} och deltar inte i det.",
    "who.teknikfel": lambda r: (
        "Du är teknikfelsledamot och får yttra dig men inte yrka eller besluta. "
        "Ordföranden kan låta dig tjänstgöra igen med !återinträd."
    ),
    "who.only_serving": lambda r: (
        "Endast tjänstgörande ledamöter och ersättare får det. "
        "Anmäl närvaro med !närvarande; en ersättare tjänstgör först efter !ersätt."
    ),
    "who.only_the_chair_convenes": lambda r, name: f"Endast ordföranden får använda !{name} (§ 1).",
    "who.only": lambda r, who, name: f"Endast {WHO_WORDS[who]} får använda !{name}.",
    "who.not_now": lambda r, phase, name: (
        f"Det går inte nu: {PHASE_TEXT[phase]}. "
        + PHASE_HINT.get(name, "Det går när ordföranden har öppnat sammanträdet.")
    ),
    "who.busy": lambda r, busy: BUSY_WORDS[busy],
    "who.at_most_one": lambda r: "Nämn högst en person.",
    "who.only_leaders_for_others": lambda r: "Bara ordföranden eller sekreteraren får anmäla detta för någon annan.",
    "who.not_reported_present": lambda r, user: f"{r.label(user)} har inte anmält närvaro (!närvarande).",
    "who.has_left": lambda r, user: f"{r.label(user)} har lämnat sammanträdet.",
    "meeting.not_on_roster": lambda r: (
        f"Du finns inte i {r.name}s förteckning över ledamöter, ersättare och "
        "övriga med närvarorätt. Kontakta sekreteraren om det är fel."
    ),
    "meeting.named_not_on_roster": lambda r, user: (
        f"{user} finns inte i {r.name}s förteckning. Nämn en person som gör det."
    ),
    "meeting.final_paragraph": lambda _r, paragraph, n, name: (
        f"§ {paragraph} (ärende {n}) är omedelbart justerad och kan inte längre ändras." + FINAL_WHY.get(name, "")
    ),
}


# --- reminders (§§ 1–3; rules/schedule.py) ----------------------------------------------------


def _human(minutes: float) -> str:
    if minutes >= 1440 and minutes % 1440 == 0:
        days = int(minutes // 1440)
        return "i morgon" if days == 1 else f"om {days} dagar"
    if minutes >= 60 and minutes % 60 == 0:
        hours = int(minutes // 60)
        return f"om {hours} timme" if hours == 1 else f"om {hours} timmar"
    return "om 1 minut" if minutes == 1 else f"om {minutes:g} minuter"


SCHEDULE: dict[str, Callable[..., str]] = {
    "schedule.before": lambda r, form, minutes, start: (
        f"PÅMINNELSE: {r.name}s {form}sammanträde börjar {_human(minutes)}, "
        f"{date_time(start, r.tz)}. Anslut i enrum i god tid och kontrollera att ljud och bild "
        "fungerar (§§ 2–3). Kallelsen och föredragningslistan: !dagordning."
    ),
    "schedule.not_opened": lambda r, start: (
        f"Sammanträdet skulle ha börjat kl. {hm(start, r.tz)} men är inte öppnat. "
        "Öppna det med !öppna, eller ställ in det med !inställ [skäl]."
    ),
    "schedule.still_open": lambda r, end: (
        f"Sammanträdet pågår fortfarande, mer än en timme efter beräknat slut kl. "
        f"{hm(end, r.tz)}. Glöm inte att avsluta med !avsluta, så att protokollet blir klart."
    ),
}


def register(*families: dict[str, Callable[..., str]]) -> None:
    for family in families:
        for code, wording in family.items():
            if WORDING.get(code, wording) is not wording:
                raise ValueError(f"two wordings for {code!r}")
            WORDING[code] = wording


register(
    JAV,
    FORHINDER,
    ITEMS,
    CONVENING,
    SEATS,
    PRESENCE,
    FLOOR,
    CALL,
    TRANSMISSION,
    DECISIONS,
    VOTES,
    JUSTERING,
    VIEWS,
    WHO,
    SCHEDULE,
)
