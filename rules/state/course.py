"""The fold of a meeting's course and its people (`rules.events.course`): convening, opening,
adjourning and closing, presence, transmission and the floor, who serves. Each kind's fold is the
function named after it; `spend_check` and `off_the_floor` are shared with the items' fold
(`rules.state.items`), since a decision spends a check and a jäv takes one off the floor too."""

from __future__ import annotations

from datetime import datetime

from rules.events import EVENTS
from rules.events import course as ev
from rules.model import Item, Meeting, Spent
from rules.roster import Roster
from rules.shown import Shown


def _convened(m: Meeting, r: Roster, d: ev.Convened, at: datetime) -> None:
    m.start = datetime.fromisoformat(d.start)
    m.form = d.form
    m.motivation = d.motivation
    m.items = {i["n"]: Item(i["n"], i["title"], i.get("klass", ""), i.get("dnr", "")) for i in d.agenda}
    m.kallelser += 1
    m.convened_at = at
    m.first_paragraph = d.first_paragraph
    m.numbered = dict(d.numbered) if d.numbered is not None else None


def _cancelled(m: Meeting, r: Roster, d: ev.Cancelled, at: datetime) -> None:
    m.cancel_reason = d.reason


def _opened(m: Meeting, r: Roster, d: ev.Opened, at: datetime) -> None:
    m.opened_at = at
    if d.first_paragraph is not None:  # logs from before: as convened
        m.first_paragraph = d.first_paragraph


def _present(m: Meeting, r: Roster, d: ev.Present, at: datetime) -> None:
    user = d.user
    m.present.setdefault(user, at)
    m.left.pop(user, None)  # one who left and comes back
    if r.is_member(user) and user not in m.substituted:
        m.ever_served.setdefault(user, [])


def _left(m: Meeting, r: Roster, d: ev.Left, at: datetime) -> None:
    user = d.user
    if user in m.serving(r):
        spend_check(m, Spent("left", at, user=user))
    m.left[user] = at
    if m.item is not None:
        off_the_floor(m.item, user)


def _presiding_named(m: Meeting, r: Roster, d: ev.PresidingNamed, at: datetime) -> None:
    m.named_chair = d.user


def _located(m: Meeting, r: Roster, d: ev.Located, at: datetime) -> None:
    users = d.users
    if len(users) == 1:
        m.location[users[0]] = "lokal"
    else:
        a, b = users
        m.location[a], m.location[b] = b, a


def _floor(m: Meeting, r: Roster, d: ev.Floor, at: datetime) -> None:
    if d.n is None:  # a log from before the list was per item
        return
    item = m.items[d.n]
    item.speakers.append(d.user)
    if d.hand:
        item.hands[d.user] = d.hand


def _off_the_list(item: Item, user: str) -> None:
    """The person's place on the speakers' list, and a reply the person asked, are gone."""
    item.speakers = [u for u in item.speakers if u != user]
    item.hands.pop(user, None)
    if item.reply == user:
        item.reply = item.reply_to = None


def off_the_floor(item: Item, user: str) -> None:
    """The person may not speak in the item (the floor taken, jäv, left): off the list, and
    no longer speaking."""
    _off_the_list(item, user)
    if item.speaking == user:
        item.speaking, item.replying, item.replying_to = None, False, None


def _floor_withdrawn(m: Meeting, r: Roster, d: ev.FloorWithdrawn, at: datetime) -> None:
    _off_the_list(m.items[d.n], d.user)


def _reply_asked(m: Meeting, r: Roster, d: ev.ReplyAsked, at: datetime) -> None:
    item = m.items[d.n]
    item.reply, item.reply_to = d.user, d.to


def _floor_given(m: Meeting, r: Roster, d: ev.FloorGiven, at: datetime) -> None:
    item = m.items[d.n]
    item.replying, item.replying_to = d.reply, d.reply_to
    if d.reply:
        item.reply = item.reply_to = None
    elif d.user is not None:
        item.speakers.remove(d.user)
        item.hands.pop(d.user, None)
    item.speaking = d.user


def _streck(m: Meeting, r: Roster, d: ev.Streck, at: datetime) -> None:
    m.items[d.n].closed_list = True


def _streck_withdrawn(m: Meeting, r: Roster, d: ev.StreckWithdrawn, at: datetime) -> None:
    m.items[d.n].closed_list = False


def _muted(m: Meeting, r: Roster, d: ev.Muted, at: datetime) -> None:
    m.muted.add(d.user)
    if d.user in m.serving(r):
        spend_check(m, Spent("muted", at, user=d.user))


def _floor_taken(m: Meeting, r: Roster, d: ev.FloorTaken, at: datetime) -> None:
    item = m.items[d.n]
    item.silenced.add(d.user)
    off_the_floor(item, d.user)


def spend_check(m: Meeting, reason: Spent) -> None:
    check = m.check
    if check and check.passed and check.spent_by is None:
        check.spent_by = reason


def _dropped(m: Meeting, r: Roster, d: ev.Dropped, at: datetime) -> None:
    user, kind = d.user, d.kind
    m.drops.setdefault(user, set()).add(kind)
    if d.via == "media":
        m.media_drops.setdefault(user, {})[kind] = at
    if user in m.serving(r):
        spend_check(m, Spent("dropped", at, user=user, kind=kind))


def _restored(m: Meeting, r: Roster, d: ev.Restored, at: datetime) -> None:
    m.drops.pop(d.user, None)
    m.muted.discard(d.user)
    m.media_drops.pop(d.user, None)
    m.grace_told.pop(d.user, None)


def _adjourned(m: Meeting, r: Roster, d: ev.Adjourned, at: datetime) -> None:
    m.adjourned = True


def _resumed(m: Meeting, r: Roster, d: ev.Resumed, at: datetime) -> None:
    m.adjourned = False
    # Nobody knows who is still connected after a pause (§§ 10, 12).
    spend_check(m, Spent("resumed", at))


def _replaced(m: Meeting, r: Roster, d: ev.Replaced, at: datetime) -> None:
    member, sub = d.member, d.substitute
    served = m.ever_served.setdefault(sub, [])
    if member not in served:
        served.append(member)
    if d.for_item:
        m.items[d.for_item].jav_subs[member] = sub
        return
    m.substituted[member] = sub
    if d.teknikfel:
        out = d.replaces or member  # a serving substitute may be the one replaced
        m.teknikfel[out] = at
        m.replaced_by[out] = sub


def _reinstated(m: Meeting, r: Roster, d: ev.Reinstated, at: datetime) -> None:
    member = d.member
    del m.substituted[member]
    m.teknikfel.pop(member, None)
    m.replaced_by.pop(member, None)
    m.ever_served.setdefault(member, [])


def _closed(m: Meeting, r: Roster, d: ev.Closed, at: datetime) -> None:
    m.closed_at = at
    m.closed_presiding = d.presiding
    m.current = None


def _call(m: Meeting, r: Roster, d: ev.Call, at: datetime) -> None:
    if d.devices:
        m.in_call[d.user] = dict(d.devices)
    else:
        m.in_call.pop(d.user, None)


def _shown(m: Meeting, r: Roster, d: ev.Shown, at: datetime) -> None:
    m.shown[d.user] = Shown(d.camera, d.microphone, d.connected, at)


def _regained(m: Meeting, r: Roster, d: ev.Regained, at: datetime) -> None:
    """A loss the media server registered ends as it shows the camera on again (picture only:
    sound lost is confirmed back with !åter, § 10)."""
    user, kind = d.user, d.kind
    m.drops.get(user, set()).discard(kind)
    if not m.drops.get(user):
        m.drops.pop(user, None)
    m.media_drops.get(user, {}).pop(kind, None)
    if not m.media_drops.get(user):
        m.media_drops.pop(user, None)
    m.grace_told.pop(user, None)


def _grace_passed(m: Meeting, r: Roster, d: ev.GracePassed, at: datetime) -> None:
    m.grace_told[d.user] = at


def _media_unavailable(m: Meeting, r: Roster, d: ev.MediaUnavailable, at: datetime) -> None:
    m.media_down = at
    m.media_spans.append((at, None))


def _media_available(m: Meeting, r: Roster, d: ev.MediaAvailable, at: datetime) -> None:
    m.media_down = None
    if m.media_spans and m.media_spans[-1][1] is None:
        m.media_spans[-1] = (m.media_spans[-1][0], at)


def _forhinder(m: Meeting, r: Roster, d: ev.Forhinder, at: datetime) -> None:
    user = d.user
    m.forhinder[user] = d.by
    m.called.pop(user, None)  # a called or confirmed substitute who cannot passes the call on
    m.confirmed.pop(user, None)


def _forhinder_withdrawn(m: Meeting, r: Roster, d: ev.ForhinderWithdrawn, at: datetime) -> None:
    user = d.user
    del m.forhinder[user]
    for sub in [s for s, member in m.called.items() if member == user]:  # not needed any more
        del m.called[sub]


def _called_in(m: Meeting, r: Roster, d: ev.CalledIn, at: datetime) -> None:
    m.called[d.substitute] = d.member


def _confirmed(m: Meeting, r: Roster, d: ev.Confirmed, at: datetime) -> None:
    m.confirmed[d.substitute] = m.called.pop(d.substitute)


# Each kind's fold is the function named after it (`_{kind}`).
FOLD = {kind: globals()[f"_{kind}"] for kind in EVENTS if f"_{kind}" in globals()}
