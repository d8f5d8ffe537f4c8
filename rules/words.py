"""The port through which the rules say what their replies and refusals say, and the short
form of a fingerprint (a format the shell and the minutes share).

A reply or refusal is said with `say(code, roster, **facts)`: the rules name what they say and
its facts, and the words are those `minutes.replies` registers for the code in `WORDING` when
`minutes` is imported (the rules import nothing outside `rules/`, so minutes plugs its words in,
as a transport plugs in its records). Events keep codes (`"how": "casting"`), never text; their
wordings are `minutes.words`'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules.roster import Roster


def short_fingerprint(fp: str) -> str:
    """A fingerprint as the room shows it: the first 16 hex digits in groups of four (fewer
    when fewer were typed)."""
    return " ".join(fp[i : i + 4] for i in range(0, min(len(fp), 16), 4))


WORDING: dict[str, Callable[..., str]] = {}


def say(code: str, r: Roster, **facts: Any) -> str:
    """The words of reply or refusal `code` with its facts (people as user ids, numbers)."""
    wording = WORDING.get(code)
    if wording is None:
        raise LookupError(f"no words for {code!r}: minutes.replies registers them when minutes is imported")
    return wording(r, **facts)
