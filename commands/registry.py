"""Commands are declared with their usage, help text and argument shape, in one registry.

Each family module (`kallelse`, `narvaro`, `arenden`, `beslut`, `ordning`) calls `command(...)`
at import; the usage line of a refusal and the `!hjälp` listing are made from the declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commands.text import command_key

# An argument reader gets the text after the command word and the people mentioned, and
# returns the Command fields, or raises ArgError with what is wrong.
ArgReader = Callable[[str, list[str]], dict[str, Any]]


class ArgError(ValueError):
    pass


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


def no_args(rest: str, people: list[str]) -> dict[str, Any]:
    return {}


def people(count: int, optional: bool = False) -> ArgReader:
    def read(rest: str, found: list[str]) -> dict[str, Any]:
        if optional and not found:
            return {}
        if len(found) != count:
            want = "en person" if count == 1 else f"{count} personer"
            raise ArgError(f"Nämn {want} (skriv @ och välj namnet).")
        return {"people": tuple(found)}

    return read


def text(required: bool = True) -> ArgReader:
    def read(rest: str, found: list[str]) -> dict[str, Any]:
        if required and not rest.strip():
            raise ArgError("Skriv texten efter kommandot.")
        return {"text": rest.strip()}

    return read


def number(rest: str, found: list[str]) -> dict[str, Any]:
    word = rest.split(maxsplit=1)[0] if rest.split() else ""
    if not word.isascii() or not word.isdigit():
        raise ArgError("Ange ärendets nummer på föredragningslistan.")
    return {"number": int(word)}


def word_then_person(choices: tuple[str, ...]) -> ArgReader:
    def read(rest: str, found: list[str]) -> dict[str, Any]:
        words = rest.split()
        first = command_key(words[0]) if words else ""
        match = next((c for c in choices if command_key(c) == first), None)
        if match is None:
            raise ArgError(f"Ange {' eller '.join(choices)}.")
        if len(found) > 1:
            raise ArgError("Nämn högst en person.")
        return {"word": match, "people": tuple(found)}

    return read
