"""Who serves (§ 11, KL 6 kap. 17 §, 33 §): substitutes in their turn, the teknikfelsledamot and
her return, one who leaves, and the member chosen to preside.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from rules.actions import Accepted, Command, Outcome, Refused, Reply
from rules.citations import Rule
from rules.register import handles
from rules.roster import Roster
from rules.state import Meeting, hm
from rules.who import target


def next_in_turn(m: Meeting, r: Roster, member: str, skip: Collection[str] = ()) -> str | None:
    """The substitute whose turn it is to serve for `member` (KL 6 kap. 17 §): first the
    member's own party in list order, then the others in list order, among those here, with
    working transmission, not serving, not replaced for teknikfel and without jäv on the
    current item (nor in `skip`: already proposed for another seat)."""
    serving = {*m.serving(r), *skip}
    item = m.item
    free = [
        s
        for s in r.substitutes
        if m.here(s.user)
        and not m.drops.get(s.user)
        and s.user not in serving
        and s.user not in m.teknikfel
        and not (item and s.user in item.jav)
    ]
    return first_in_turn(r, member, free)


def first_in_turn(r: Roster, member: str, free: list) -> str | None:
    """Of the substitutes free to serve, the first of the member's own party in list order,
    else the first on the list (KL 6 kap. 17 §): one order for !ersätt and for förhinder."""
    person = r.person(member)
    own = [s for s in free if person and person.party and s.party == person.party]
    return (own or free)[0].user if free else None


def between_items(m: Meeting) -> bool:
    """Who serves changes between items or during an ajournering, not in the middle of an item."""
    item = m.item
    return item is None or m.adjourned or bool(item.valid_decisions)


_MID_ITEM = (
    "Tjänstgöringen ändras mellan ärenden eller under ajournering, inte mitt i ett ärende. "
    "Ajournera först (!ajournera) om ledamoten inte kan fortsätta (§ 10)."
)


def takes_seat(m: Meeting, r: Roster, sub: str, member: str, arriving: bool = False) -> bool:
    """Whether a substitute confirmed (!tjänstgör) for a member with förhinder takes the member's
    seat (KL 6 kap. 17 §): she is here (or `arriving`) with working transmission and does not
    serve already, and the seat is empty: the member is not here and nobody else fills it."""
    if member in m.substituted or m.here(member) or m.seat(member) is not None:
        return False
    return (arriving or m.here(sub)) and not m.drops.get(sub) and sub not in m.teknikfel and sub not in m.serving(r)


def confirmed_serves(m: Meeting, r: Roster, sub: str, member: str) -> tuple[list, str]:
    """A confirmed substitute here takes the empty seat: at once between items, else from the next."""
    if not between_items(m):
        return [], (
            f"{r.label(sub)} tjänstgör för {r.label(member)}, som har anmält förhinder, från nästa ärende: "
            "tjänstgöringen ändras inte mitt i ett ärende (KL 6 kap. 17 §)."
        )
    text = f"{r.label(sub)} tjänstgör för {r.label(member)}, som har anmält förhinder (KL 6 kap. 17 §)."
    return [("replaced", {"member": member, "substitute": sub, "teknikfel": False})], text


@handles("ersätt")
def _ersätt(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 2:
        return Refused(Rule.P11, "Nämn ledamoten och sedan ersättaren: !ersätt @ledamot @ersättare.")
    first, sub = cmd.people
    # The seat is a member's; the one replaced is whoever fills it: the member or a substitute.
    member = first if r.is_member(first) else m.serving_for(first, r)
    if member is None:
        return Refused(
            Rule.P11,
            f"{r.label(first)} är varken ledamot eller tjänstgörande ersättare. Nämn ledamoten "
            "(eller ersättaren som tjänstgör för hen) först.",
        )
    holder = m.seat(member)
    if not r.is_substitute(sub):
        return Refused(Rule.P11, f"{r.label(sub)} finns inte bland {r.name}s ersättare.")
    if sub in m.serving(r):
        return Refused(Rule.P11, f"{r.label(sub)} tjänstgör redan.")
    if not m.here(sub):
        return Refused(Rule.P11, f"{r.label(sub)} är inte närvarande (!närvarande) och kan inte tjänstgöra.")
    item = m.item
    regular = m.substituted.get(member) or (member if m.here(member) else None)
    for_jav = item is not None and holder is None and regular is not None and regular in item.jav
    if holder is not None and not m.drops.get(holder):
        also = f" tjänstgör för {r.label(member)} och" if holder != member else ""
        return Refused(
            Rule.P11,
            f"{r.label(holder)}{also} har fungerande överföring och kan inte ersättas. § 11 gäller "
            "den som har återkommande svårigheter med överföringen: anteckna avbrottet först "
            "(!avbrott ljud|bild @person). Den som går antecknas med !lämnar; sedan kan en ersättare "
            "tjänstgöra.",
        )
    if not for_jav and not between_items(m):
        return Refused(Rule.KL_6_17, _MID_ITEM)
    turn = next_in_turn(m, r, member)
    if turn != sub:
        whose = f"Det är {r.label(turn)} som står på tur" if turn else "Ingen ersättare kan tjänstgöra"
        return Refused(
            Rule.KL_6_17,
            f"{whose} att tjänstgöra för {r.label(member)}: först ersättare från samma parti, "
            "sedan de andra, i den ordning fullmäktige bestämt.",
        )
    if for_jav:
        assert item is not None and regular is not None
        text = f"{r.label(sub)} tjänstgör under ärende {item.n} i stället för {r.label(regular)} (jäv, KL 6 kap. 28 §)."
        return Accepted(
            [("replaced", {"member": member, "substitute": sub, "teknikfel": False, "for_item": item.n})],
            [Reply(text, mentions=(sub,))],
        )
    data = {"member": member, "substitute": sub, "teknikfel": holder is not None}
    text = f"{r.label(sub)} tjänstgör från kl. {hm(now, r.tz)} i stället för "
    if holder is None:
        gone = "som har lämnat sammanträdet" if member in m.left else "som inte är närvarande"
        text += f"{r.label(member)}, {gone}. Om ledamoten kommer tar hen över vid nästa ärende."
    else:
        if holder != member:
            data["replaces"] = holder
            text += f"{r.label(holder)}, som tjänstgjorde för {r.label(member)} och "
        else:
            text += f"{r.label(member)}, som "
        text += (
            "är teknikfelsledamot under återstoden av sammanträdet och får yttra sig men "
            "inte yrka eller delta i beslut (§ 11)."
        )
        if holder == member:
            text += " Ordföranden kan låta ledamoten tjänstgöra igen med !återinträd."
    return Accepted([("replaced", data)], [Reply(text, mentions=tuple(u for u in (holder, sub) if u))])


@handles("återinträd")
def _återinträd(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.P11, "Nämn ledamoten: !återinträd @ledamot.")
    member = cmd.people[0]
    if member not in m.substituted:
        return Refused(Rule.P11, f"{r.label(member)} är inte ersatt.")
    if not m.here(member):
        return Refused(Rule.P11, f"{r.label(member)} är inte närvarande (!närvarande).")
    if m.drops.get(member):
        return Refused(
            Rule.P11,
            f"{r.label(member)} saknar fortfarande godtagbar överföring. Skriv !åter när den fungerar.",
        )
    if not between_items(m):
        return Refused(Rule.KL_6_17, _MID_ITEM)
    sub = m.substituted[member]
    return Accepted(
        [("reinstated", {"member": member})],
        [
            Reply(
                f"{r.label(member)} tjänstgör åter från kl. {hm(now, r.tz)}; "
                f"{r.label(sub)} tjänstgör inte längre (§ 11).",
                mentions=(member, sub),
            )
        ],
    )


@handles("lämnar")
def _lämnar(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    user = target(m, r, cmd, Rule.KL_6_27)
    if isinstance(user, Refused):
        return user
    where = f" under ärende {m.current}" if m.current is not None else ""
    text = f"{r.label(user)} lämnar sammanträdet kl. {hm(now, r.tz)}{where}."
    member = next((p.user for p in r.members if m.seat(p.user) == user), None)
    if member is not None:
        text += " Hen tjänstgör inte längre och räknas inte i beslutförheten (KL 6 kap. 27 §)."
        counted = m.counted(r, excluding=user)
        if len(counted) * 2 <= len(r.members):
            text += f" Organet är inte beslutfört: {len(counted)} av {len(r.members)} ledamöter tjänstgör."
        turn = next_in_turn(m, r, member)
        if turn:
            text += f" {r.label(turn)} står på tur att tjänstgöra för {r.label(member)} (!ersätt)."
    chair = m.presiding(r, excluding=user) or r.chair
    mentions = tuple(dict.fromkeys((chair, user) if user != cmd.actor else (chair,)))
    return Accepted([("left", {"user": user, "n": m.current})], [Reply(text, mentions=mentions)])


@handles("ordförande")
def _ordförande(m: Meeting, r: Roster, cmd: Command, now: datetime) -> Outcome:
    if len(cmd.people) != 1:
        return Refused(Rule.KL_6_33, "Nämn ledamoten: !ordförande @ledamot.")
    user = cmd.people[0]
    item = m.item
    if item is not None and cmd.actor in item.jav:
        return Refused(
            Rule.KL_6_28,
            f"Du har jäv i ärende {item.n} och får inte delta i organets val av vem som leder det. "
            "Sekreteraren antecknar valet med !ordförande @ledamot.",
        )
    if not m.here(cmd.actor) and not r.is_secretary(cmd.actor):
        return Refused(
            Rule.KL_6_33,
            "Du är inte med på sammanträdet. Valet görs av organet på sammanträdet; sekreteraren "
            "antecknar det med !ordförande @ledamot.",
        )
    serving = m.serving(r)
    by_office = next((u for u in (r.chair, *r.vice_chairs) if u in serving), None)
    if by_office is not None:
        return Refused(
            Rule.KL_6_33,
            f"{r.label(by_office)} tjänstgör och är ordförande. !ordförande används bara när varken "
            "ordföranden eller en vice ordförande kan leda ärendet (jäv, frånvaro, teknikfel).",
        )
    if user not in serving:
        return Refused(
            Rule.KL_6_33,
            f"{r.label(user)} tjänstgör inte nu och kan inte vara ordförande. Nämn en tjänstgörande ledamot.",
        )
    text = (
        f"{r.label(user)} är ordförande och leder sammanträdet så länge varken ordföranden eller en "
        "vice ordförande kan; hen har utslagsrösten vid lika röstetal (KL 6 kap. 33 §, 5 kap. 56 §)."
    )
    named = {"user": user, "n": m.current, "by": cmd.actor}
    return Accepted([("presiding_named", named)], [Reply(text, mentions=(user,))])
