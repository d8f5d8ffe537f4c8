"""Which media-server room belongs to a Matrix room, and which Matrix user a participant is, the
way Element Call and its token service (element-hq/lk-jwt-service) name them. Pure.

Room names (lk-jwt-service, `LiveKitRoomAliasFor` in helper.go at a375b13; main.go from v0.4.1):
- since v0.4.3: unpadded base64 (standard alphabet) of SHA-256 of the JSON array
  `[room_id, slot_id]` as Go's `json.Marshal` writes it; Element Call asks for slot `m.call#ROOM`
  on both endpoints (`/get_token`, and `/sfu/get` where the service puts in that slot itself);
- v0.4.1 and v0.4.2: the same of the text `room_id|slot_id`;
- up to v0.3: the Matrix room id itself.
Participant identities:
- `@user:server:DEVICE`: `/sfu/get` (every version), which Element Call uses while it writes the
  call membership as state events (matrix-js-sdk `CallMembership.parseFromEvent`: for these
  "session" memberships the backend identity is `sender:device_id`);
- unpadded base64 of SHA-256 of the JSON array `[user, device, member_id]` (lk-jwt-service
  `LiveKitIdentityFor`, matrix-js-sdk `computeRtcIdentityRaw`), where member_id is the
  membership's `membershipID`, or `user:device` without one (`CallMembership.memberId`); for
  Element Call's Matrix 2.0 mode (sticky `org.matrix.msc4143.rtc.member` events, matrix/rtc.py)
  it is the membership's `member.id`, which Element Call sends to `/get_token` with
  `claimed_device_id` (element-call b51a33c, src/livekit/openIDSFU.ts); the service hashes the
  user its OpenID token proves, not the claimed one (handler.go `processSFURequest`);
- v0.4.1 and v0.4.2: the same of `user|device|member_id`;
- the MatrixRTC LiveKit proposal (MSC4195): the same of `[user, member_id]`.
Every hashed form contains the user id, so a participant named by it was given its token for
that user; a name that two users' memberships would both give is nobody's.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable

from media.record import Participant
from shell.ports import CallMember, Camera, Microphone

SLOT = "m.call#ROOM"  # the room call's slot (Element Call, openIDSFU.ts)

# Go's json.Marshal escapes these where Matrix's canonical JSON (and JavaScript) does not: both
# forms are tried, so a device id with "&" maps whichever writer made the hash.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _jsons(items: list[str]) -> set[bytes]:
    plain = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    go = plain
    for char, escape in _GO_ESCAPES.items():
        go = go.replace(char, escape)
    return {plain.encode(), go.encode()}


def _hash(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def room_names(room_id: str) -> list[str]:
    """The names the media server may give the room call of this Matrix room, newest form first."""
    names = [_hash(j) for j in sorted(_jsons([room_id, SLOT]))]
    names += [_hash(f"{room_id}|{SLOT}".encode()), room_id]
    return list(dict.fromkeys(names))


def identities(member: CallMember) -> set[str]:
    """Every participant identity a token service gives this device of this call member."""
    user, device = member.user, member.device
    plain = f"{user}:{device}"
    member_id = member.member_id or plain
    out = {plain, _hash(f"{user}|{device}|{member_id}".encode())}
    for items in ([user, device, member_id], [user, member_id]):
        out |= {_hash(j) for j in _jsons(items)}
    return out


def directory(members: Iterable[CallMember]) -> dict[str, str]:
    """Participant identity -> Matrix user, for the room's call members. An identity that two
    users' memberships would both give is left out: it proves neither."""
    owners: dict[str, set[str]] = {}
    for member in members:
        for identity in identities(member):
            owners.setdefault(identity, set()).add(member.user)
    return {identity: next(iter(users)) for identity, users in owners.items() if len(users) == 1}


def people(participants: Iterable[Participant], members: Iterable[CallMember]) -> tuple[dict, int]:
    """Per Matrix user, (camera, microphone, connected) over their connected participants, and
    how many participants could not be tied to a call member of the room (they count for nobody).
    One device may carry the camera and another the microphone: the person has both."""
    names = directory(members)
    out: dict[str, tuple[Camera, Microphone, bool]] = {}
    unmapped = 0
    for p in participants:
        user = names.get(p.identity)
        if user is None:
            unmapped += 1
            continue
        if not p.connected:
            out.setdefault(user, (Camera.NONE, Microphone.NONE, False))
            continue
        camera, microphone, _ = out.get(user, (Camera.NONE, Microphone.NONE, False))
        out[user] = (_best(camera, p.camera, list(Camera)), _best(microphone, p.microphone, list(Microphone)), True)
    return out, unmapped


def _best(a, b, order: list):
    """The better of two states in their enum's order (on before off/muted before none)."""
    return a if order.index(a) <= order.index(b) else b
