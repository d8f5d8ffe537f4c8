"""Items and what may be handled at a distance (§§ 6–8)."""

from commands.registry import command, no_args, number

command("ärende", "!ärende N", "tar upp ärende N", number)
command("tillåt", "!tillåt N", "tillåter personuppgifter eller sekretess i ärende N (§ 7)", number)
command("godkänn", "!godkänn N", "säkerhetsskyddschefens godkännande av ärende N (§ 8)", number)
command("dagordning", "!dagordning", "visar föredragningslistan och vad som är tillåtet", no_args)
