"""Presence, place and transmission (§§ 2–5, 10)."""

from commands.registry import command, no_args, people, word_or_people, word_then_person

command(
    "närvarande",
    "!närvarande",
    "anmäler närvaro: i enrum, med fungerande ljud (och bild för ledamöter)",
    no_args,
)
command("lokal", "!lokal @person", "personen deltar i ordförandens lokal (§ 2)", people(1))
command("delad", "!delad @person @person", "två personer delar ljud- och bildöverföring (§ 2)", people(2))
command("tysta", "!tysta @person", "antecknar att personens ljud stängts av (§ 3)", people(1))
command(
    "avbrott",
    "!avbrott ljud|bild [@person]",
    "antecknar förlorat ljud eller bild (§§ 5, 10)",
    word_then_person(("ljud", "bild")),
)
command("åter", "!åter [@person]", "överföringen fungerar igen (§ 10)", people(1, optional=True))
command(
    "lämnar",
    "!lämnar [@person]",
    "antecknar att du (eller personen) lämnar sammanträdet från nu (KL 6 kap. 27 §)",
    people(1, optional=True),
)
command(
    "förhinder",
    "!förhinder | !förhinder @person | !förhinder återta",
    "anmäler att du (eller personen) inte kan delta; en ersättare kallas in i tur (KL 6 kap. 17 §)",
    word_or_people("återta", 1),
)
command("tjänstgör", "!tjänstgör", "bekräftar att du som inkallad ersättare tjänstgör vid sammanträdet", no_args)
