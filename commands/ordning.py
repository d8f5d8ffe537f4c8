"""Order of the meeting: the floor, pauses, status, protocol, the end (§§ 9, 10)."""

from commands.registry import command, no_args, people

command("ordet", "!ordet", "begär ordet", no_args)
command("fråntaordet", "!fråntaordet @person", "fråntar personen ordet under ärendet (§ 9)", people(1))
command("ajournera", "!ajournera", "ajournerar sammanträdet (§ 10)", no_args)
command("återuppta", "!återuppta", "återupptar sammanträdet (§ 10)", no_args)
command("status", "!status", "vem som tjänstgör, var sammanträdet står, vad som hindrar beslut", no_args)
command("protokoll", "!protokoll", "protokollet hittills", no_args)
command("avsluta", "!avsluta", "avslutar sammanträdet och lägger fram protokollet", no_args)
command("hjälp", "!hjälp", "de kommandon du kan använda nu", no_args)
command("vy", "!vy", "en länk till sammanträdesvyn, i ett direktmeddelande", no_args)
