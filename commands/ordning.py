"""Order of the meeting: the floor, pauses, status, protocol, the end (§§ 9, 10)."""

from commands.registry import command, no_args, people, word_or_nothing, word_or_people

command(
    "ordet",
    "!ordet | !ordet återta | !ordet @person",
    "sätter dig sist på talarlistan, eller stryker dig; ordföranden kan sätta någon annan där (§ 9)",
    word_or_people("återta", 1),
)
command("nästa", "!nästa", "ger ordet till den första på talarlistan, en begärd replik först (§ 9)", no_args)
command("replik", "!replik", "begär replik på den som har ordet (§ 9)", no_args)
command(
    "streck",
    "!streck | !streck återta",
    "stänger talarlistan (streck i debatten), eller öppnar den igen (§ 9)",
    word_or_nothing("återta"),
)
command("fråntaordet", "!fråntaordet @person", "fråntar personen ordet under ärendet (§ 9)", people(1))
command("ajournera", "!ajournera", "ajournerar sammanträdet (§ 10)", no_args)
command("återuppta", "!återuppta", "återupptar sammanträdet (§ 10)", no_args)
command("status", "!status", "vem som tjänstgör, var sammanträdet står, vad som hindrar beslut", no_args)
command("protokoll", "!protokoll", "protokollet hittills", no_args)
command("avsluta", "!avsluta", "avslutar sammanträdet och lägger fram protokollet", no_args)
command("hjälp", "!hjälp", "de kommandon du kan använda nu", no_args)
command("vy", "!vy", "en länk till sammanträdesvyn, i ett direktmeddelande", no_args)
