"""The words of the rules' replies and refusals, by code: what `rules.words.say` says.

The rules name what they say and its facts (`say("jav.already", r, user=..., n=...)`); the words
are here, family by family as the rules' sections are, and are registered in `rules.words.WORDING`
when `minutes` is imported. People come as user ids and are written with their labels here.
"""

from __future__ import annotations

from collections.abc import Callable

from rules.citations import Rule
from rules.model import date_time, hm
from rules.roster import Roster
from rules.words import WORDING, names

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
    "presence.roll_call_first": lambda r: "Anmäl närvaro med !närvarande först.",
    "presence.you_left": lambda r: "Du har lämnat sammanträdet. Anmäl närvaro med !närvarande om du är tillbaka.",
    "presence.you_are_silenced": lambda r, n: f"Ordföranden har fråntagit dig ordet under resten av ärende {n}.",
    "presence.jav_no_floor": lambda r, n: f"Du har jäv i ärende {n} och får inte delta i det, inte heller yttra dig.",
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


def register(*families: dict[str, Callable[..., str]]) -> None:
    for family in families:
        for code, wording in family.items():
            if WORDING.get(code, wording) is not wording:
                raise ValueError(f"two wordings for {code!r}")
            WORDING[code] = wording


register(JAV, FORHINDER, ITEMS, CONVENING, SEATS, PRESENCE, CALL)
