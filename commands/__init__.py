"""Chat text -> a command object (`rules.actions.Command`), and the help listing.

Pure: no Matrix, no I/O. The shell hands in what the client sent (body, formatted_body,
m.mentions) and the sender's Matrix id, the only identity the bot trusts.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands import arenden, beslut, justering, kallelse, narvaro, ordning  # noqa: F401  (they register)
from commands.registry import SPECS, ArgError, Args, lookup
from commands.text import MAX_BODY, Message, read_mentions, strip_reply_fallback
from rules.actions import Command
from rules.meeting import may_use
from rules.roster import Roster
from rules.state import Meeting, Phase


@dataclass(frozen=True)
class Unknown:
    word: str

    @property
    def body(self) -> str:
        return f"❓ Okänt kommando «{self.word[:40]}». Skriv !hjälp för de kommandon du kan använda."


def parse(msg: Message, actor: str) -> Command | Unknown | None:
    """None when the message is no command (it does not start with '!')."""
    body = strip_reply_fallback(msg.body).strip()
    if not body.startswith("!") or len(body) < 2:
        return None
    head, _, rest = body[1:].partition("\n")
    word, _, first_rest = head.partition(" ")
    rest = first_rest + ("\n" + rest if rest else "")
    spec = lookup(word.strip()[:40])
    if spec is None:
        return Unknown("!" + word.strip())
    if len(body) > MAX_BODY or len(msg.formatted_body or "") > 4 * MAX_BODY:
        return Command(
            spec.name,
            actor,
            error=f"Meddelandet är för långt ({len(body)} tecken, högst {MAX_BODY}) och har inte lästs. Dela upp det.",
        )
    people, plain = read_mentions(msg, rest)
    try:
        fields = spec.read(Args(rest, tuple(people), plain))
    except ArgError as e:
        example = f"\nExempel:\n{e.example}" if e.example else ""
        return Command(spec.name, actor, error=f"{e} Så här: {spec.usage}{example}")
    return Command(spec.name, actor, **fields)


def _viewable(m: Meeting | None, roster: Roster, actor: str) -> bool:
    """!vy (the shell's, not the rules'): for someone on the roster while there is a meeting to view."""
    return roster.person(actor) is not None and m is not None and m.phase is not Phase.CANCELLED and not m.justerad_at


def help_text(m: Meeting | None, roster: Roster, actor: str, *, view: bool = False) -> str:
    """The commands `actor` may use now; `view`: the live view is served ([web]), without which
    !vy only says it is not switched on."""
    names = [
        name
        for name in SPECS
        if may_use(m, roster, actor, name) and (name != "vy" or (view and _viewable(m, roster, actor)))
    ]
    lines = ["Kommandon du kan använda nu:"]
    lines += [f"{SPECS[n].usage} – {SPECS[n].help}" for n in names]
    if roster.person(actor) is None:
        lines.append("Du finns inte i organets förteckning; kontakta sekreteraren om det är fel.")
    return "\n".join(lines)
