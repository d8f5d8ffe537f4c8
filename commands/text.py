"""Reading a chat message as clients send it: the command word, mentions, the rest."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

# A body longer than this is cut before parsing: no command needs more.
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
    """Collects mentions from formatted_body in order: matrix.to links and typed ids in text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.people: list[str] = []
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


def mentioned(msg: Message, body: str) -> list[str]:
    """The people a message names, in the order it names them."""
    people: list[str] = []
    if msg.formatted_body:
        parser = _Links()
        parser.feed(msg.formatted_body[:MAX_BODY])
        people = parser.people
    if not people:
        people = _USER_ID.findall(body)
    if not people:
        people = list(msg.mention_ids)
    seen: list[str] = []
    for user in people:
        if user not in seen:
            seen.append(user)
    return seen
