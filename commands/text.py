"""Reading a chat message as clients send it: the command word, mentions, the rest."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

# No command needs a longer body; a longer one is refused whole, never cut and half-read.
MAX_BODY = 8000

_USER_ID = re.compile(r"@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")
_MATRIX_TO = re.compile(r"^https://matrix\.to/#/(@[^/?]+)")
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o"})


@dataclass(frozen=True)
class Message:
    body: str
    formatted_body: str | None = None
    mention_ids: tuple[str, ...] = ()


def command_key(word: str) -> str:
    """How a command word is looked up: case-folded, å/ä/ö as a/o (`!ersatt` = `!ersätt`)."""
    return unicodedata.normalize("NFC", word).casefold().translate(_FOLD)


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted '> …' lines that older clients put before a reply."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


class _Links(HTMLParser):
    """Collects mentions from formatted_body in order (matrix.to links and typed ids in text),
    and the text outside the links, which is what the command says besides whom it names."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.people: list[str] = []
        self.outside: list[str] = []
        self._in_link = 0
        self._in_reply = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mx-reply":
            self._in_reply += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            found = _MATRIX_TO.match(unquote(href))
            if found and not self._in_reply:
                self.people.append(found.group(1))
                self._in_link += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply" and self._in_reply:
            self._in_reply -= 1
        elif tag == "a" and self._in_link:
            self._in_link -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_link and not self._in_reply:
            self.people.extend(_USER_ID.findall(data))
            self.outside.append(data)


def mentioned(msg: Message, body: str) -> list[str]:
    """The people a message names, in the order it names them."""
    return read_mentions(msg, body)[0]


def read_mentions(msg: Message, body: str) -> tuple[list[str], str]:
    """The people a message names, in order, and what `body` (the text after the command word)
    says besides them. A client that sends only `m.mentions` puts display names in the body,
    which cannot be told from other words, so then nothing is left over."""
    people: list[str] = []
    rest = body
    if msg.formatted_body:
        parser = _Links()
        parser.feed(msg.formatted_body)
        people = parser.people
        if people:  # the formatted text outside the links, after the command word
            words = "".join(parser.outside).split(maxsplit=1)
            rest = words[1] if len(words) > 1 else ""
    if not people:
        people = _USER_ID.findall(body)
        rest = body
    if not people and msg.mention_ids:
        people, rest = list(msg.mention_ids), ""
    return list(dict.fromkeys(people)), _USER_ID.sub(" ", rest).strip()
