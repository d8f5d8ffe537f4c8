"""The sources every rule check cites: the body's arbetsordning (§§ 1–13) and kommunallagen.

A refusal, a protocol line and a test name all use these strings, so a citation is written
once, here.
"""

import re
from enum import StrEnum


class Rule(StrEnum):
    P1 = "§ 1"
    P2 = "§ 2"
    P3 = "§ 3"
    P4 = "§ 4"
    P5 = "§ 5"
    P6 = "§ 6"
    P7 = "§ 7"
    P8 = "§ 8"
    P9 = "§ 9"
    P10 = "§ 10"
    P11 = "§ 11"
    P12 = "§ 12"
    P13 = "§ 13"
    # A serving substitute has a member's rights; others have none of yrkande or beslut.
    KL_4_22 = "KL 4 kap. 22 §"
    # The chair may not abstain when the chair's vote is needed to decide.
    KL_4_25 = "KL 4 kap. 25 §"
    # Reservation: only one who took part in the decision, announced before the meeting ends.
    KL_4_27 = "KL 4 kap. 27 §"
    # Justering: the chair and at least one justerare check the protocol.
    KL_5_69 = "KL 5 kap. 69 §"
    # Votes: open, except elections and appointments, which are closed (for nämnder via 6:33).
    KL_5_54 = "KL 5 kap. 54 §"
    # Substitutes serve in the order set, first from the member's own party.
    KL_6_17 = "KL 6 kap. 17 §"
    KL_6_27 = "KL 6 kap. 27 §"
    # Jäv: the member takes no part in and is not present at the item.
    KL_6_28 = "KL 6 kap. 28 §"
    # The chair leads the procedure and puts the questions (KL 5 kap. 53–56 §§ for nämnder).
    KL_6_33 = "KL 6 kap. 33 §"
    # The protocol (KL 5 kap. 65–69 §§ for nämnder).
    KL_6_35 = "KL 6 kap. 35 §"
    # The justering is announced on the anslagstavla; the appeal time runs from that day.
    KL_8_12 = "KL 8 kap. 12 §"
    KL_13_5 = "KL 13 kap. 5 §"


def cite(*rules: Rule) -> str:
    """Rules as a protocol cites them, so that none reads as one of the protocol's own
    paragraphs: `12 § arbetsordningen`, `5 och 10 §§ arbetsordningen`, `6 kap. 27 § kommunallagen`.
    (The chat keeps the short `§ 12` and `KL 6 kap. 27 §`.)"""
    own = [rule.value.removeprefix("§ ") for rule in rules if not rule.name.startswith("KL")]
    parts = []
    if own:
        numbers = " och ".join([", ".join(own[:-1]), own[-1]] if len(own) > 1 else own)
        parts.append(f"{numbers} {'§§' if len(own) > 1 else '§'} arbetsordningen")
    parts += [f"{rule.value.removeprefix('KL ')} kommunallagen" for rule in rules if rule.name.startswith("KL")]
    return ", ".join(parts)


_BY_VALUE = {rule.value: rule for rule in Rule}
_KL = re.compile(r"KL (\d+) kap\. (\d+) §")
# A citation of the arbetsordning as the chat writes it, where the bot writes citations: at the
# start of a parenthesis or after its "; " or ", ", up to its end ("(§ 12)", "(…; §§ 5, 10)").
_OWN = re.compile(r"(?:(?<=\()|(?<=; )|(?<=, ))§§? (\d+(?:(?:, | och |–)\d+)*)(?=\))")


def _own(match: re.Match[str]) -> str:
    numbers: list[int] = []
    for part in re.split(r", | och ", match[1]):
        low, _, high = part.partition("–")
        numbers += range(int(low), int(high or low) + 1)
    rules = [_BY_VALUE.get(f"§ {n}") for n in numbers]
    return match[0] if None in rules else cite(*(rule for rule in rules if rule is not None))


def protocol_text(text: str) -> str:
    """A text the bot wrote (never one people wrote) with its citations as the protocol writes
    them (`cite`): for the bot's own words that the chat shares with the protocol."""
    text = _KL.sub(
        lambda m: cite(_BY_VALUE[m[0]]) if m[0] in _BY_VALUE else f"{m[1]} kap. {m[2]} § kommunallagen", text
    )
    return _OWN.sub(_own, text)
