"""Items and what may be handled at a distance (§§ 6–8)."""

from typing import Any

from commands.registry import ArgError, Args, command, item_number, no_args, number


def _read_utgår(a: Args) -> dict[str, Any]:
    words = a.rest.split(maxsplit=1)
    if not words:
        raise ArgError("Ange ärendets nummer på föredragningslistan, och gärna skälet efter det.")
    return {"number": item_number(words[:1]), "text": words[1].strip() if len(words) > 1 else ""}


command("ärende", "!ärende N", "tar upp ärende N", number)
command("utgår", "!utgår N [skäl]", "stryker ärende N från föredragningslistan innan det tas upp", _read_utgår)
command("tillåt", "!tillåt N", "tillåter personuppgifter eller sekretess i ärende N (§ 7)", number)
command("godkänn", "!godkänn N", "säkerhetsskyddschefens godkännande av ärende N (§ 8)", number)
command("dagordning", "!dagordning", "visar föredragningslistan och vad som är tillåtet", no_args)
