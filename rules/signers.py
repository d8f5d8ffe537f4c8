"""Who justerar the protocol and each paragraph (KL 5 kap. 69 §, 6 kap. 35 §): the plan that the
justering's handlers, the close and the protocol's signature block read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rules.model import Item, Meeting
from rules.roster import Roster


@dataclass(frozen=True)
class Paragraph:
    """Who justerar one paragraph (KL 5 kap. 69 §): whoever presided over it signs it as its
    ordförande, and every justerare who neither presided over it nor was jävig in it justerar it
    with them, so that a paragraph always has two different people; it needs at least one."""

    item: int
    number: int | None
    chairs: tuple[str, ...]
    justerare: tuple[str, ...]
    presided: tuple[str, ...]  # who presided over it, jävig or not (a jävig one signs nothing)


def paragraph_signers(m: Meeting, r: Roster, item: Item) -> Paragraph:
    """Who presided over the paragraph: over each decision that stands, or without one, over the
    item when it was last up (`Item.led_by`)."""
    presided = tuple(dict.fromkeys(d.presiding or r.chair for d in item.valid_decisions)) or (item.led_by or r.chair,)
    chairs = tuple(u for u in presided if u not in item.jav)
    justerare = tuple(u for u in m.justerare if u not in presided and u not in item.jav)
    return Paragraph(item.n, item.paragraph, chairs, justerare, presided)


def justering_plan(m: Meeting, r: Roster, closed_presiding: str | None = None) -> list[Paragraph]:
    """The signers of every paragraph the protocol's justering covers, in § order: each one taken
    up and not omedelbart justerad already. With no such paragraph, whoever presided at the close
    signs as the ordförande."""
    items = [i for i in m.items.values() if i.taken_up and i.justerad is None]
    plan = [paragraph_signers(m, r, i) for i in sorted(items, key=lambda i: (i.paragraph or 0, i.n))]
    if plan:
        return plan
    chair = closed_presiding or m.closed_presiding or r.chair
    return [Paragraph(0, None, (chair,), tuple(u for u in m.justerare if u != chair), (chair,))]


def required_signers(plan: list[Paragraph]) -> list[str]:
    """Everyone whose signature the justering needs: each paragraph's ordförande and justerare."""
    return list(dict.fromkeys([*(u for p in plan for u in p.chairs), *(u for p in plan for u in p.justerare)]))


def day_of_meeting(m: Meeting, r: Roster, now: datetime) -> date:
    return (m.opened_at or m.start or now).astimezone(r.tz).date()
