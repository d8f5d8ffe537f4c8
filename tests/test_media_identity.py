"""The media server's names for Matrix rooms and users, as Element Call's token service forms
them (element-hq/lk-jwt-service helper.go at a375b13, its test vectors in helper_test.go), and how
participants are tied to the room's call members (a name nobody's membership gives counts for
nobody, § 3)."""

from __future__ import annotations

from media.identity import _hash, _jsons, directory, identities, people, room_names
from media.record import Participant
from shell.ports import CallMember, Camera, Microphone


def test_room_name_as_lk_jwt_service_derives_it_matches_its_test_vector():
    # LiveKitRoomAliasFor("!roomid:example.com", "slot1234") in lk-jwt-service's helper_test.go
    assert {_hash(j) for j in _jsons(["!roomid:example.com", "slot1234"])} == {
        "O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc"
    }


def test_room_names_newest_first_then_the_pipe_form_then_the_room_id_itself():
    names = room_names("!abc:example.se")
    assert names[0] == _hash(b'["!abc:example.se","m.call#ROOM"]')
    assert names[1:] == [_hash(b"!abc:example.se|m.call#ROOM"), "!abc:example.se"]
    assert all("=" not in n for n in names[:2])  # unpadded


def test_hashed_identity_matches_lk_jwt_service_test_vector_and_the_legacy_form_is_kept():
    found = identities(CallMember("@alice:example.com", "DEVICE123", "memberABC"))
    assert "J+T45tGruxc+HrUOqJJlyQSV33m728Cme4+vt8/SWrU" in found  # LiveKitIdentityFor test vector
    assert "@alice:example.com:DEVICE123" in found  # /sfu/get, and state-event memberships


def test_member_id_defaults_to_user_colon_device_as_matrix_js_sdk_does():
    assert _hash(b'["@a:x","D","@a:x:D"]') in identities(CallMember("@a:x", "D"))


def test_go_and_canonical_json_both_tried_where_they_differ():
    assert len(_jsons(["@a:x", "D&<"])) == 2 and len(_jsons(["@a:x", "D"])) == 1


def test_p3_identity_two_members_would_both_give_is_nobodys():
    # "@a:x:8448" + ":D" and "@a:x" + ":8448:D" write the same legacy identity
    names = directory([CallMember("@a:x:8448", "D"), CallMember("@a:x", "8448:D")])
    assert "@a:x:8448:D" not in names
    assert _hash(b'["@a:x","8448:D","@a:x:8448:D"]') in names  # the hashed forms still tell them apart


def test_p3_a_participant_not_of_the_rooms_call_members_counts_for_nobody():
    anna = CallMember("@anna:x", "PHONE")
    found, unmapped = people(
        [
            Participant("@anna:x:LAPTOP", True, Camera.ON, Microphone.ON),  # a device not in the call
            Participant("@eve:x:E", True, Camera.ON, Microphone.ON),
        ],
        [anna],
    )
    assert found == {} and unmapped == 2


def test_p3_camera_on_one_device_and_microphone_on_another_is_both():
    members = [CallMember("@anna:x", "LAPTOP"), CallMember("@anna:x", "PHONE")]
    found, unmapped = people(
        [
            Participant("@anna:x:LAPTOP", True, Camera.ON, Microphone.NONE),
            Participant("@anna:x:PHONE", True, Camera.OFF, Microphone.MUTED),
        ],
        members,
    )
    assert found == {"@anna:x": (Camera.ON, Microphone.MUTED, True)} and unmapped == 0


def test_p5_a_disconnected_participant_carries_no_camera_or_microphone():
    found, _ = people([Participant("@anna:x:D", False, Camera.ON, Microphone.ON)], [CallMember("@anna:x", "D")])
    assert found == {"@anna:x": (Camera.NONE, Microphone.NONE, False)}
