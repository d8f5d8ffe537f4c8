"""Commands are declared with their usage, help text and argument shape, in one registry.

Each family module (`kallelse`, `narvaro`, `arenden`, `beslut`, `ordning`) calls `command(...)`
at import; the usage line of a refusal and the `!hjälp` listing are made from the declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commands.text import command_key


@dataclass(frozen=True)
class Args:
    """What follows the command word: the text as written, the people it mentions, and the
    text besides the mentions (`plain`), which a command that takes people must not have."""

    rest: str
    people: tuple[str, ...] = ()
    plain: str = ""


# An argument reader returns the Command fields, or raises ArgError with what is wrong. A
# command is read whole: a reader refuses words it does not take, it never guesses.
ArgReader = Callable[[Args], dict[str, Any]]


class ArgError(ValueError):
    """What is wrong, and optionally an example of the command written right (several lines,
    given last, on lines of its own)."""

    def __init__(self, text: str, example: str = "") -> None:
        super().__init__(text)
        self.example = example


def not_understood(extra: str) -> ArgError:
    return ArgError(f"Jag förstod inte «{extra[:60]}».")


@dataclass(frozen=True)
class Spec:
    name: str
    usage: str
    help: str
    read: ArgReader


SPECS: dict[str, Spec] = {}
_BY_KEY: dict[str, Spec] = {}


def command(name: str, usage: str, help: str, read: ArgReader) -> None:
    spec = Spec(name, usage, help, read)
    SPECS[name] = spec
    _BY_KEY[command_key(name)] = spec


def lookup(word: str) -> Spec | None:
    return _BY_KEY.get(command_key(word))


# --- argument shapes --------------------------------------------------------------------------


def no_args(a: Args) -> dict[str, Any]:
    if a.rest.strip():
        raise ArgError(f"Jag förstod inte «{a.rest.strip()[:60]}»: kommandot tar inga tillägg.")
    return {}


_NAME_IT = "Nämn personen med @ och välj namnet i listan (ett namn utan @ räcker inte)."


def people(count: int, optional: bool = False) -> ArgReader:
    def read(a: Args) -> dict[str, Any]:
        if a.plain:
            raise ArgError(f"{not_understood(a.plain)} {_NAME_IT}")
        if optional and not a.people:
            return {}
        if len(a.people) != count:
            want = "en person" if count == 1 else f"{count} personer"
            raise ArgError(f"Nämn {want} (skriv @ och välj namnet).")
        return {"people": a.people}

    return read


def text(required: bool = True) -> ArgReader:
    def read(a: Args) -> dict[str, Any]:
        if required and not a.rest.strip():
            raise ArgError("Skriv texten efter kommandot.")
        return {"text": a.rest.strip()}

    return read


def item_number(words: list[str]) -> int:
    """An item's number, the one word given; anything else is not understood."""
    if len(words) != 1 or not words[0].isascii() or not words[0].isdigit():
        raise ArgError("Ange ärendets nummer på föredragningslistan, och inget mer.")
    return int(words[0])


def number(a: Args) -> dict[str, Any]:
    return {"number": item_number(a.rest.split())}


def word_then_person(choices: tuple[str, ...]) -> ArgReader:
    def read(a: Args) -> dict[str, Any]:
        words = a.plain.split()
        first = command_key(words[0]) if words else ""
        match = next((c for c in choices if command_key(c) == first), None)
        if match is None:
            raise ArgError(f"Ange {' eller '.join(choices)}.")
        if len(words) > 1:
            raise ArgError(f"{not_understood(' '.join(words[1:]))} {_NAME_IT}")
        if len(a.people) > 1:
            raise ArgError("Nämn högst en person.")
        return {"word": match, "people": a.people}

    return read


def word_or_nothing(word: str) -> ArgReader:
    """`word` alone (`!streck återta`), or nothing."""

    def read(a: Args) -> dict[str, Any]:
        rest = a.rest.strip()
        if not rest:
            return {}
        if command_key(rest) == command_key(word):
            return {"word": word}
        raise not_understood(rest)

    return read


def word_or_people(word: str, count: int) -> ArgReader:
    """`word` alone (`!jäv återta`), or up to `count` people (`!jäv @person`), or nothing."""
    by_people = people(count, optional=True)

    def read(a: Args) -> dict[str, Any]:
        if command_key(a.plain) == command_key(word):
            if a.people:
                raise ArgError(f"«{word}» gäller det du själv har anmält: nämn ingen person.")
            return {"word": word}
        return by_people(a)

    return read
