"""What a step says in the room, rendered from the meeting after it: replies, the files they
carry (the protocol, a PDF, a kallelse's calendar file), a vote's poll, the chain's anchor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from config import Config
from matrix import content as shapes
from minutes import calendar, protocol
from rules.actions import Accepted, Reply
from rules.engine import Step
from rules.state import Meeting
from shell.bodies import Body
from shell.ports import Store
from shell.words import TOO_BIG
from storage import Anchor, Outgoing

# The body's chain is anchored in the room when a meeting closes and at every justering, so that
# a database rewritten afterwards (chain and all) shows against what the room kept.
ANCHORED_AT = frozenset({"closed", "justerad", "paragraph_justerad"})


class Answers:
    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        # The room's name as members see it, for the calendar file (the transport's, once started).
        self.room_name: Callable[[str], str] = lambda room_id: ""

    async def of(self, body: Body, source: str, step: Step) -> list[Outgoing]:
        m = step.meeting
        assert m is not None and isinstance(step.outcome, Accepted)
        out = []
        for reply in step.outcome.replies:
            in_reply_to = source if reply.reply else None
            content = shapes.message(reply, body.engine.roster, in_reply_to)
            file: tuple[str, str | bytes] | None = None
            if reply.attach in ("protocol", "pdf") or reply.attach.startswith("extract:"):
                events = [*await self.store.events(m.id), *step.events]
                doc = protocol.build(m.id, m.body_id, events, body.engine.roster)  # the log replayed once
                if reply.attach == "protocol":
                    text, html_text = protocol.render_doc(doc, "md"), protocol.html_body(doc)
                    content = shapes.with_document(content, text, html_text, TOO_BIG)
                    file = (f"protokoll-{m.id}.md", text)
                elif reply.attach == "pdf":  # seconds for a large meeting: off the loop, which keeps syncing
                    file = (f"protokoll-{m.id}.pdf", await asyncio.to_thread(protocol.render_doc, doc, "pdf"))
                else:
                    n = int(reply.attach.split(":")[1])
                    name = f"protokollsutdrag-{m.id}-paragraf-{m.items[n].paragraph}.pdf"
                    file = (name, await asyncio.to_thread(protocol.extract_pdf, doc, n))
            elif reply.attach == "calendar":
                room = body.config.room if body.config.room.startswith("#") else body.room_id  # an alias reads better
                via = self.config.matrix.user_id.partition(":")[2]
                ics = calendar.ics(m, body.engine.roster, room, self.room_name(body.room_id), via)
                file = (f"kallelse-{m.id}.ics", ics)
            out.append(Outgoing(body.room_id, "m.room.message", content, tag=reply.tag))

            if file:
                # A row of its own: the file goes out even if the homeserver refuses the message.
                relates = {"m.relates_to": content["m.relates_to"]} if in_reply_to else {}
                out.append(Outgoing(body.room_id, "file", relates, file[0], file[1]))
        return out + self._polls(body, m, step)

    def _polls(self, body: Body, m: Meeting, step: Step) -> list[Outgoing]:
        """Each open vote is also an Element poll (MSC3381): started with the vote, ended when the
        vote ends (decided or void). A response to it counts as the responder's vote."""
        out = []
        for e in step.events:
            if e.kind == "vote_started" and not e.data.get("closed"):
                vote = m.votes[-1]  # one vote starts at a time: the one this step began
                start = shapes.poll_start(f"Votering {vote.id} i ärende {vote.item}", vote.a, vote.b)
                out.append(Outgoing(body.room_id, shapes.POLL_START, start, tag=f"poll:{m.id}:{vote.id}"))
            elif e.kind == "vote_ended" and not m.votes[e.data["id"] - 1].closed:
                end = shapes.poll_end(f"tag:poll:{m.id}:{e.data['id']}", "Voteringen är avslutad.")
                out.append(Outgoing(body.room_id, shapes.POLL_END, end))
        return out

    def anchor(self, body: Body, anchor: Anchor) -> Outgoing:
        """The body's chain as it stands, posted in the room, where the homeserver keeps it."""
        r = body.engine.roster
        text = protocol.anchor_text(r, anchor.length, anchor.head)
        return Outgoing(body.room_id, "m.room.message", shapes.anchor(Reply(text), r, anchor.length, anchor.head))

    def notice(self, body: Body, text: str, source: str) -> Outgoing:
        return Outgoing(body.room_id, "m.room.message", shapes.message(Reply(text), body.engine.roster, source))

    def reminder(self, body: Body, reply: Reply) -> Outgoing:
        return Outgoing(body.room_id, "m.room.message", shapes.message(reply, body.engine.roster, None))

    def confirm(self, body: Body, source: str) -> Outgoing:
        return Outgoing(body.room_id, "m.reaction", shapes.reaction(source))
