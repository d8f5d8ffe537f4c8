"""The demo meeting: Kommunstyrelsen meets at a distance and uses §§ 1–13 on the way.

Each step is (who, message template, people mentioned) with `{}` where a person is mentioned,
("wait", seconds, ()) to let time pass, ("start", 0, ()) where the chair waits until the
meeting may be opened (15 minutes before the time in the kallelse), ("called", 0, ()) where the
time in the kallelse comes and items may be taken up (§ 1), ("call", 0, people) and ("leave", 0,
people) where people join or leave the room's Element Call, ("hand", 0, (who,)) where someone
raises a hand in the call (§ 9), or ("poll", "ja"|"nej"|"avstår", (who,)) where someone answers
the running vote in its poll. The demo plays it through Matrix; the
golden-file test plays it through the rules alone.
"""

from __future__ import annotations

CONVENED_FOR = "2026-12-03 18:00"
KALLA = (
    f"!kalla {CONVENED_FOR} distans\n"
    "Motivering: Risk för smittspridning och stängda vägar efter stormen; ordföranden beslutar om "
    "distanssammanträde (§ 1).\n"
    "1. Budget 2027 (Dnr KS 2026/112)\n"
    "2. Anställning av förvaltningschef [personuppgifter] (Dnr KS 2026/140)\n"
    "3. Skalskydd vid vattenverket [säkerhetsskydd] (Dnr KS 2026/151)\n"
    "4. Val av ombud till kommunförbundet"
)

EVERYONE = ("anna", "bo", "cecilia", "david", "eva", "erik", "frida", "sara", "tina", "sven")
MEMBERS = ("anna", "bo", "cecilia", "david", "eva")
ITEM2 = ("anna", "bo", "erik", "frida", "eva")  # Erik for Cecilia (jäv), Frida for David (§ 11)
LATER = ("anna", "bo", "cecilia", "frida", "eva")


def script_for(start: str) -> list[tuple[str, str | int, tuple[str, ...]]]:
    """The script with the meeting convened for `start` (ÅÅÅÅ-MM-DD HH:MM, the body's clock)."""
    return [(who, t.replace(CONVENED_FOR, start) if isinstance(t, str) else t, m) for who, t, m in SCRIPT]


def _check(serving: tuple[str, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [("anna", "!teknikkontroll", ())] + [(who, "!ok", ()) for who in serving]


SCRIPT: list[tuple[str, str | int, tuple[str, ...]]] = [
    ("anna", KALLA, ()),
    ("anna", "!tillåt 3", ()),  # § 8: the chair cannot
    ("sven", "!godkänn 3", ()),  # § 8: the security chief can
    ("eva", "!förhinder", ()),  # KL 6 kap. 17 §: Erik is called in for her …
    ("eva", "!förhinder återta", ()),  # … and is not needed: she can come after all
    ("start", 0, ()),
    ("call", 0, tuple(who for who in EVERYONE if who != "tina")),  # the Element Call the bot follows
    ("anna", "!öppna", ()),
    ("anna", "!närvarande", ()),
    ("anna", "!lokal {}", ("tina",)),  # § 2: in the chair's room, not in the call
    *[(who, "!närvarande", ()) for who in EVERYONE if who != "anna"],  # §§ 2–4
    ("anna", "!delad {} {}", ("erik", "frida")),  # § 2
    ("anna", "!justerare {}", ("bo",)),  # KL 5 kap. 69 §
    ("anna", "!dagordning", ()),
    ("called", 0, ()),  # the time in the kallelse: from now on items may be taken up (§ 1)
    # Item 1: a short debate from the speakers' list with a reply and a streck (§ 9), motions, a
    # short video drop during discussion (§ 5), a check (§ 12), an open vote (KL 5 kap. 54 §) and
    # a reservation (KL 4 kap. 27 §)
    ("anna", "!ärende 1", ()),
    ("cecilia", "!yrka Bifall till kommunstyrelsens förslag", ()),
    ("bo", "!ordet", ()),
    ("hand", 0, ("david",)),  # David raises his hand in the call: on the list as with !ordet
    ("anna", "!nästa", ()),  # Bo has the floor
    ("bo", "!yrka Återremiss", ()),
    ("bo", "!yrka återta", ()),
    ("bo", "!yrka Avslag", ()),
    ("cecilia", "!replik", ()),  # a reply to Bo, before David
    ("anna", "!nästa", ()),
    ("anna", "!streck", ()),  # streck i debatten: those on the list keep their place
    ("eva", "!ordet", ()),  # § 9: refused, no one new is added
    ("anna", "!nästa", ()),  # David
    ("david", "!avbrott bild", ()),
    ("david", "!åter", ()),
    ("anna", "!beslut Budgeten fastställs", ()),  # § 12: no check yet
    *_check(MEMBERS),
    ("anna", "!votering Bifall till kommunstyrelsens förslag / Avslag", ()),
    ("anna", "!ja", ()),
    ("bo", "!nej", ()),
    ("poll", "ja", ("cecilia",)),  # in the vote's Element poll
    ("david", "!nej", ()),
    ("eva", "!ja", ()),
    ("anna", "!beslut Budgeten för 2027 fastställs enligt kommunstyrelsens förslag", ()),  # the vote's decision, worded
    ("bo", "!reservation Budgeten underskattar kostnaderna för äldreomsorgen.", ()),
    # Item 2: jäv (KL 6 kap. 28 §) and the substitutes' turn (KL 6 kap. 17 §); David loses audio
    # (§ 10), the meeting is adjourned, Frida serves for him (§ 11)
    ("anna", "!ärende 2", ()),  # § 6: personal data, not yet allowed
    ("anna", "!tillåt 2", ()),  # § 7
    ("anna", "!ärende 2", ()),
    ("cecilia", "!jäv", ()),
    ("anna", "!ersätt {} {}", ("cecilia", "frida")),  # not Frida's turn: Erik is of Cecilia's party
    ("anna", "!ersätt {} {}", ("cecilia", "erik")),
    ("david", "!avbrott ljud", ()),
    ("anna", "!ajournera", ()),
    ("anna", "!återuppta", ()),  # § 10: refused, David has no link and nobody serves for him
    ("anna", "!ersätt {} {}", ("david", "frida")),
    ("anna", "!återuppta", ()),
    ("david", "!yrka Avslag", ()),  # § 11: a teknikfelsledamot may not move
    ("sara", "!tysta {}", ("bo",)),  # § 3
    ("bo", "!åter", ()),
    # a check that fails: Eva does not answer in time (§ 12)
    ("anna", "!teknikkontroll", ()),
    *[(who, "!ok", ()) for who in ("anna", "bo", "erik", "frida")],
    ("wait", 10, ()),
    *_check(ITEM2),
    ("anna", "!beslut Sara Lind anställs som förvaltningschef.", ()),
    ("anna", "!omtag", ()),  # § 12: the chair saw Eva's picture freeze during the decision
    *_check(ITEM2),
    ("anna", "!beslut Sara Lind anställs som förvaltningschef.", ()),
    # the appointment takes effect at once: the paragraph is justerat during the meeting
    ("anna", "!justera omedelbart", ()),
    ("bo", "!justera omedelbart", ()),
    ("sara", "!anslag § 2", ()),  # the kansli puts its anslag up at once (KL 8 kap. 12 §)
    # Item 3: protective security, approved by the security chief (§ 8); the floor taken (§ 9)
    ("anna", "!ärende 3", ()),
    ("leave", 0, ("eva",)),  # Eva's call drops: lost audio and video, registered from the call
    ("call", 0, ("eva",)),
    ("eva", "!åter", ()),
    ("anna", "!ordet {}", ("tina",)),  # an official speaks when the chair allows (attendees_speak)
    ("anna", "!nästa", ()),
    ("anna", "!fråntaordet {}", ("tina",)),
    ("tina", "!ordet", ()),  # § 9: refused for the rest of the item
    *_check(LATER),
    ("anna", "!beslut Åtgärderna genomförs enligt säkerhetsskyddschefens bedömning.", ()),
    # Item 4: an election is a closed vote, not possible at a distance (§ 13)
    ("anna", "!ärende 4", ()),
    ("anna", "!votering sluten Cecilia Carlsson / Bo Berg", ()),
    *_check(LATER),
    ("anna", "!beslut Valet bordläggs till ett fysiskt sammanträde.", ()),
    ("mallory", "!närvarande", ()),  # § 2: not on the roster
    ("cecilia", "!status", ()),
    ("anna", "!avsluta", ()),
    # After the meeting: the secretary corrects a wording, the chair and the justerare sign, the
    # bot posts the anslag and the secretary records the day it was put up (KL 5 kap. 69 §, 8 kap. 12 §)
    ("sara", "!rättelse 4 Valet av ombud bordläggs till ett fysiskt sammanträde.", ()),
    ("anna", "!justera", ()),
    ("bo", "!justera", ()),
    ("sara", "!anslag", ()),
]
