"""What a step says in the room, rendered from the meeting after it as the transport's neutral
records (`shell.ports`), and encoded by the transport into the rows the outbox keeps: replies,
the files they carry (`Reply.attach`: the protocol, a PDF, an extract, a kallelse's calendar
file), what the engine's `Step.effects` ask for (a vote's poll, the chain's anchor, !vy's direct
message), and with [web] the live view's widget in the room."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from minutes import calendar, protocol
from rules.actions import Accepted, Reply
from rules.engine import Step
from rules.roster import Roster
from rules.state import Event
from shell.bodies import Body
from shell.ports import DirectMessage, File, Notice, Out, PollEnd, PollStart, Reaction, View
from shell.words import APPLIED_AFTER_ALL, NOT_RECORDED, TOO_BIG

if TYPE_CHECKING:
    from storage import Anchor, Outgoing, Store

Encode = Callable[[str, Out], "Outgoing"]


def _mentions(roster: Roster, users: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((user, roster.name_of(user)) for user in dict.fromkeys(users))


class Answers:
    def __init__(self, store: Store, encode: Encode) -> None:
        self.store, self.encode = store, encode
        # The room's name as members see it and a link that opens it, for the calendar file (the
        # transport's, once started).
        self.room_name: Callable[[str], str] = lambda room_id: ""
        self.room_link: Callable[[str], str] = lambda room_id: ""
        self.view: View | None = None  # the live view, with [web]: the room's widget follows the meeting
        # May the bot set a kind of room state (the transport's, once started)?
        self.can_set_state: Callable[[str, str], bool] = lambda room_id, kind: True

    async def of(self, body: Body, source: str, step: Step, before: Sequence[Event] | None = None) -> list[Outgoing]:
        """The step's answers; `before` is the meeting's events before it, when already read."""
        m = step.meeting
        assert m is not None and isinstance(step.outcome, Accepted)
        r = body.engine.roster
        out: list[Out] = []
        if step.effects.direct:  # !vy's link, to the person alone
            out.append(DirectMessage(*step.effects.direct))
        doc: dict[str, Any] | None = None
        for reply in step.outcome.replies:
            reply_to = source if reply.reply else ""
            notice = Notice(reply.text, _mentions(r, reply.mentions), reply_to, reply.tag)
            file: tuple[str, str | bytes] | None = None
            if reply.attach in ("protocol", "pdf") or reply.attach.startswith("extract:"):
                if doc is None:  # the log read and replayed once, whatever the replies attach
                    if before is None:
                        before = await self.store.events(m.id)
                    doc = protocol.build(m.id, m.body_id, [*before, *step.events], r)
                if reply.attach == "protocol":
                    text = protocol.render_doc(doc, "md")
                    notice = dataclasses.replace(notice, document=(text, protocol.html_body(doc)), too_big=TOO_BIG)
                    file = (f"protokoll-{m.id}.md", text)
                elif reply.attach == "pdf":  # seconds for a large meeting: off the loop, which keeps syncing
                    file = (f"protokoll-{m.id}.pdf", await asyncio.to_thread(protocol.render_doc, doc, "pdf"))
                else:
                    n = int(reply.attach.split(":")[1])
                    name = f"protokollsutdrag-{m.id}-paragraf-{m.items[n].paragraph}.pdf"
                    file = (name, await asyncio.to_thread(protocol.extract_pdf, doc, n))
            elif reply.attach == "calendar":
                link, name = self.room_link(body.room_id), self.room_name(body.room_id)
                file = (f"kallelse-{m.id}.ics", calendar.ics(m, r, link, name))
            out.append(notice)
            if file:
                out.append(File(file[0], file[1], reply_to))
        if step.effects.poll:  # an open vote is also a poll; an answer to it is that person's vote
            vote = m.votes[step.effects.poll[0] - 1]
            out.append(PollStart(f"Votering {vote.id} i ärende {vote.item}", vote.a, vote.b, step.effects.poll[1]))
        out += [PollEnd(tag, "Voteringen är avslutad.") for tag in step.effects.polls_ended]
        if self.view is not None and step.events:
            out += self.view.widget(body.config.id, step.events, lambda kind: self.can_set_state(body.room_id, kind))
        return [self.encode(body.room_id, o) for o in out]

    def anchor(self, body: Body, anchor: Anchor) -> Outgoing:
        """The body's chain as it stands, posted in the room, where the server keeps it."""
        r = body.engine.roster
        text = protocol.anchor_text(r, anchor.length, anchor.head)
        return self.encode(body.room_id, Notice(text, anchor=(r.body_id, anchor.length, anchor.head)))

    def notice(self, body: Body, text: str, source: str) -> Outgoing:
        return self.encode(body.room_id, Notice(text, reply_to=source))

    def not_recorded(self, body: Body, source: str) -> tuple[Outgoing, Outgoing] | None:
        """A person's command (not the clock's) told "not recorded", and what corrects that
        should the store then show it applied after all."""
        if not source.startswith("$"):
            return None
        return self.notice(body, NOT_RECORDED, source), self.notice(body, APPLIED_AFTER_ALL, source)

    def reminder(self, body: Body, reply: Reply) -> Outgoing:
        return self.encode(body.room_id, Notice(reply.text, _mentions(body.engine.roster, reply.mentions)))

    def confirm(self, body: Body, source: str) -> Outgoing:
        return self.encode(body.room_id, Reaction(source))
