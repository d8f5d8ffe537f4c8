"""The sources every rule check cites: the body's arbetsordning (§§ 1–13) and kommunallagen.

A refusal, a protocol line and a test name all use these strings, so a citation is written
once, here.
"""

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
