"""What the bot sends, as Matrix event content: notices with plain and HTML bodies, mentions
as pills and in `m.mentions`, replies, reactions and files. No I/O."""

from __future__ import annotations

import html
import json
from typing import Any

from rules.actions import Reply
from rules.roster import Roster

# A whole Matrix event may be at most 64 KiB (spec, "Size limits"), counted in bytes of its JSON;
# the homeserver adds sender, room, ids, timestamps and signatures, so the content keeps a margin.
MAX_CONTENT_BYTES = 65_536 - 4_096


def _pill(user: str, name: str) -> str:
    return f'<a href="https://matrix.to/#/{html.escape(user)}">{html.escape(name)}</a>'


def message(reply: Reply, roster: Roster, in_reply_to: str | None) -> dict[str, Any]:
    """A notice with plain and HTML body; mentioned people's names become pills in the HTML."""
    formatted = html.escape(reply.text)
    for user in dict.fromkeys(reply.mentions):
        name = roster.name_of(user)
        if name != user:
            formatted = formatted.replace(html.escape(name), _pill(user, name), 1)
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": reply.text,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted.replace("\n", "<br>"),
        "m.mentions": {"user_ids": list(dict.fromkeys(reply.mentions))},
    }
    if in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
    return content


def size(content: dict[str, Any]) -> int:
    """The content's size as the homeserver counts it: bytes of its JSON."""
    return len(json.dumps(content, ensure_ascii=False).encode())


def with_document(content: dict[str, Any], text: str, html_text: str, too_big_note: str) -> dict[str, Any]:
    """The message with a document (the protocol) shown in it, when the event can hold it;
    otherwise the message with `too_big_note`, since the attached file has it all anyway."""
    full = {
        **content,
        "body": content["body"] + "\n\n" + text,
        "formatted_body": content["formatted_body"] + html_text,
    }
    if size(full) <= MAX_CONTENT_BYTES:
        return full
    return {
        **content,
        "body": content["body"] + "\n\n" + too_big_note,
        "formatted_body": content["formatted_body"] + "<br><br>" + html.escape(too_big_note),
    }


def reaction(event_id: str, key: str = "✅") -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}


def file(name: str, mimetype: str, size_bytes: int, url: str, keys: dict | None, relates: dict | None) -> dict:
    """An m.file message; `keys` for an encrypted upload (then the url goes inside `file`)."""
    content: dict[str, Any] = {
        "msgtype": "m.file",
        "body": name,
        "filename": name,
        "info": {"mimetype": mimetype, "size": size_bytes},
    }
    if keys:
        content["file"] = {**keys, "url": url}
    else:
        content["url"] = url
    if relates:
        content["m.relates_to"] = relates
    return content
