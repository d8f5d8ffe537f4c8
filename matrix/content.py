"""What the bot sends, as Matrix event content: notices with plain and HTML bodies, mentions
as pills and in `m.mentions`, replies, reactions and files, made from the shell's neutral
records (`encode`) into the outbox rows they are kept as until sent. No I/O."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

from shell.ports import DirectMessage, File, Notice, Out, PollEnd, PollStart, Reaction, StateEvent
from storage import Outgoing

# A whole Matrix event may be at most 64 KiB (spec, "Size limits"), counted in bytes of its JSON;
# the homeserver adds sender, room, ids, timestamps and signatures, so the content keeps a margin.
MAX_CONTENT_BYTES = 65_536 - 4_096


def room_link(room: str, via: str = "") -> str:
    """A matrix.to link that opens the room (an id or an alias) in a member's client (`via`: a
    server in it, which a room id without a server part needs)."""
    link = f"https://matrix.to/#/{quote(room, safe='!:@')}"
    return f"{link}?via={quote(via)}" if via and room.startswith("!") else link


def _pill(user: str, name: str) -> str:
    return f'<a href="https://matrix.to/#/{html.escape(user)}">{html.escape(name)}</a>'


def encode(room_id: str, out: Out) -> Outgoing:
    """A record the shell owes as the outbox row it is kept as: the rows are what they were
    before the records (Matrix event types and content), so an outbox written then still sends."""
    if isinstance(out, Notice):
        content = message(out.text, out.mentions, out.reply_to or None)
        if out.document:
            content = with_document(content, *out.document, out.too_big)
        if out.anchor:
            body_id, length, head = out.anchor
            content = {**content, ANCHOR: {"organ": body_id, "händelser": length, "huvud": head}}
        return Outgoing(room_id, "m.room.message", content, tag=out.tag)
    if isinstance(out, Reaction):
        return Outgoing(room_id, "m.reaction", reaction(out.to))
    if isinstance(out, File):
        # A row of its own: the file goes out even if the homeserver refuses the message.
        relates = {"m.relates_to": {"m.in_reply_to": {"event_id": out.reply_to}}} if out.reply_to else {}
        return Outgoing(room_id, "file", relates, out.name, out.data)
    if isinstance(out, StateEvent):
        return Outgoing(room_id, "state", {"type": out.kind, "state_key": out.key, "content": out.content})
    if isinstance(out, DirectMessage):  # sent in the bot's direct room with the person (the transport finds it)
        return Outgoing("", "dm", {"user": out.user, "content": message(out.text, (), None)})
    if isinstance(out, PollStart):
        return Outgoing(room_id, POLL_START, poll_start(out.question, out.a, out.b), tag=out.tag)
    assert isinstance(out, PollEnd)
    # The poll's event id is known once it was sent: the transport puts it in at sending (`TAG`).
    return Outgoing(room_id, POLL_END, poll_end(TAG + out.poll, out.text))


# A relation to a message of the bot's by its tag, not yet by its event id.
TAG = "tag:"


def message(text: str, mentions: tuple[tuple[str, str], ...], in_reply_to: str | None) -> dict[str, Any]:
    """A notice with plain and HTML body; mentioned people's names (user id, name) become pills
    in the HTML."""
    formatted = html.escape(text)
    for user, name in dict.fromkeys(mentions):
        if name != user:
            formatted = formatted.replace(html.escape(name), _pill(user, name), 1)
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": text,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted.replace("\n", "<br>"),
        "m.mentions": {"user_ids": list(dict.fromkeys(user for user, _ in mentions))},
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


def redacted(source: dict[str, Any]) -> str | None:
    """The event a redaction (`m.room.redaction`) withdraws: `redacts` in its content (room
    version 11) or beside it (earlier versions); None for any other event or a malformed one."""
    if source.get("type") != "m.room.redaction":
        return None
    content = source.get("content")
    redacts = (content.get("redacts") if isinstance(content, dict) else None) or source.get("redacts")
    return redacts if isinstance(redacts, str) and 0 < len(redacts) <= 255 else None


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


# --- votes as Element polls (MSC3381, with the unstable names Element sends today) -------------

POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSES = ("org.matrix.msc3381.poll.response", "m.poll.response")
POLL_END = "org.matrix.msc3381.poll.end"
_TEXT = "org.matrix.msc1767.text"
# The answers' ids are the votes they stand for (the rules' words), their texts begin so too.
POLL_CHOICES = {"ja": "ja", "nej": "nej", "avstar": "avstår"}


def poll_start(question: str, a: str, b: str) -> dict[str, Any]:
    answers = [("ja", f"Ja – {a}"), ("nej", f"Nej – {b}"), ("avstar", "Avstår")]
    fallback = "\n".join([question, *(f"{i}. {text}" for i, (_, text) in enumerate(answers, 1))])
    return {
        POLL_START: {
            "question": {_TEXT: question, "body": question, "msgtype": "m.text"},
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "answers": [{"id": answer_id, _TEXT: text} for answer_id, text in answers],
        },
        _TEXT: fallback,
    }


def poll_end(poll_event_id: str, text: str) -> dict[str, Any]:
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event_id},
        "org.matrix.msc3381.poll.end": {},
        _TEXT: text,
    }


def poll_answer(event_type: str, content: Any) -> tuple[str, str] | None:
    """(the poll it answers, the vote chosen: ja, nej or avstår) of a poll response, if it is one.
    Anyone may send one, with anything in it: what is not a response read whole is none."""
    if event_type not in POLL_RESPONSES:
        return None
    relates = _object(content, "m.relates_to")
    poll, answers = relates.get("event_id"), _object(content, event_type).get("answers")
    if relates.get("rel_type") != "m.reference" or not _event_id(poll) or not isinstance(answers, list) or not answers:
        return None
    choice = POLL_CHOICES.get(answers[0]) if isinstance(answers[0], str) else None
    return (poll, choice) if choice else None


# The data of an anchor notice (the body's chain: its length and head), for `bot.py verify`:
# people read the text, verify the data.
ANCHOR = "se.distansbot.anchor"


def anchor_of(content: Any, body_id: str) -> tuple[int, str] | None:
    """An anchor of `body_id` in a message's content (length, head), or None: read strictly,
    since the content is whatever the event says."""
    data = content.get(ANCHOR) if isinstance(content, dict) else None
    if not isinstance(data, dict) or data.get("organ") != body_id:
        return None
    length, head = data.get("händelser"), data.get("huvud")
    if type(length) is not int or length < 1 or not isinstance(head, str) or len(head) != 64:
        return None
    if any(c not in "0123456789abcdef" for c in head):
        return None
    return length, head


# --- what the bot reads from others' messages --------------------------------------------------

# A mention list longer than a roster is no mention list; more ids than this are not read.
MAX_MENTIONS = 50


def _object(content: Any, key: str) -> dict[str, Any]:
    """A field that must be a JSON object; anything else reads as an empty one."""
    value = content.get(key) if isinstance(content, dict) else None
    return value if isinstance(value, dict) else {}


def _event_id(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$") and len(value) <= 255


def reply_to(content: Any) -> str | None:
    """The event a message replies to, if it names one it could."""
    replied = _object(_object(content, "m.relates_to"), "m.in_reply_to").get("event_id")
    return replied if _event_id(replied) else None


def edit_of(content: Any) -> str | None:
    """The event an edit replaces (empty if it names none it could), or None: no edit."""
    relates = _object(content, "m.relates_to")
    if relates.get("rel_type") != "m.replace" and not (isinstance(content, dict) and "m.new_content" in content):
        return None
    replaced = relates.get("event_id")
    return replaced if _event_id(replaced) else ""


def mentioned(content: Any) -> tuple[str, ...]:
    """The user ids in `m.mentions`, as far as they are ids (text starting with @)."""
    ids = _object(content, "m.mentions").get("user_ids")
    if not isinstance(ids, list):
        return ()
    return tuple(u for u in ids[:MAX_MENTIONS] if isinstance(u, str) and u.startswith("@") and len(u) <= 255)
