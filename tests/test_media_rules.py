"""Sound and picture as the call's media server shows them (rules/transmission.py), driven
through the engine as the shell drives it: § 3 (members and substitutes: camera on and a
microphone track), § 4 (secretaries and attendees: a microphone track), § 5 (a microphone muted
by its owner is sound; a track gone or the connection lost is not; a camera off is lost picture,
tolerated in discussion up to the grace, never at a check or decision), §§ 10, 12 (the
consequences of a loss), and the span when the server cannot be read."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from rules.citations import Rule
from rules.engine import poll_tag
from testing.driver import CHAIR, KALLA, M3, M4, MEMBERS, ROSTER, SECR, SUB1, TJP, VICE, Driver

MEDIA = dataclasses.replace(
    ROSTER, video="element-call", call_name="Element Call", reads_media=True, video_grace_seconds=60
)
EVERYONE = (*MEMBERS, SECR)


def convened(roster=MEDIA) -> Driver:
    d = Driver(roster)
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    return d


def joined(d: Driver, user: str, camera: str = "on", microphone: str = "on") -> None:
    d.call(user, {"DEV": None})
    d.media(user, camera, microphone)


def meeting(roster=MEDIA) -> Driver:
    """Opened, everyone in the call with camera and microphone on, the roll call made."""
    d = convened(roster)
    for user in EVERYONE:
        joined(d, user)
        d.ok(user, "!närvarande")
    d.until_called()
    return d


def test_p3_roll_call_refused_with_the_camera_off_and_accepted_after_it_is_turned_on():
    d = convened()
    joined(d, M3, camera="off")
    refusal = d.refused(M3, "!närvarande")
    assert refusal.rule is Rule.P3 and "kameran avstängd" in refusal.text and "mikrofonen på" in refusal.text
    d.media(M3, "on", "on")
    d.ok(M3, "!närvarande")
    assert "Samtalet visade kameran på, mikrofonen på" in d.protocol()


def test_p3_roll_call_refused_without_a_microphone_track_and_a_muted_one_is_enough():
    d = convened()
    joined(d, M3, microphone="none")
    assert "ingen mikrofon" in d.refused(M3, "!närvarande").text
    d.media(M3, "on", "muted")
    d.ok(M3, "!närvarande")


def test_p3_a_substitute_needs_the_camera_as_a_member_does():
    d = convened()
    joined(d, SUB1, camera="none")
    assert d.refused(SUB1, "!närvarande").rule is Rule.P3


def test_p3_in_the_call_but_not_on_its_media_server_is_no_connection():
    d = convened()
    d.call(M3, {"DEV": None})  # a call membership, and nothing on the server for it
    assert "ingen anslutning" in d.refused(M3, "!närvarande").text


def test_p4_secretary_and_attendee_need_a_microphone_track_and_no_camera():
    d = convened()
    joined(d, SECR, camera="none", microphone="none")
    assert d.refused(SECR, "!närvarande").rule is Rule.P4
    d.media(SECR, "none", "muted")
    d.ok(SECR, "!närvarande")
    joined(d, TJP, camera="none")
    d.ok(TJP, "!närvarande")


def test_p5_microphone_muted_by_its_owner_is_not_lost_sound():
    d = meeting()
    assert d.media(M4, "on", "muted").replies == []
    assert M4 not in d.m.drops
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")


def test_p5_p10_microphone_track_gone_is_lost_sound_with_the_consequences_of_avbrott_ljud():
    d = meeting()
    d.checked()
    out = d.media(M4, "on", "none")
    assert d.m.drops[M4] == {"ljud"}
    assert out.replies[0].mentions == (M4,) and out.replies[1].mentions == (CHAIR,)
    assert "Den godkända teknikkontrollen gäller inte längre" in out.replies[1].text
    assert d.m.check.spent_by
    assert d.refused(CHAIR, "!beslut Bifall").rule is Rule.P5
    assert M4 not in d.m.counted(MEDIA)  # KL 6 kap. 27 §: one without sound does not count
    assert d.refused(M4, "!åter").rule is Rule.P3  # the call still shows no microphone
    d.media(M4, "on", "muted")
    d.ok(M4, "!åter")
    assert "enligt samtalet: kameran på, ingen mikrofon" in d.protocol()


def test_p5_connection_lost_is_lost_sound_and_picture():
    d = meeting()
    d.media(M3, "on", "on", connected=False)
    assert d.m.drops[M3] == {"ljud", "bild"}


def test_p5_camera_off_in_discussion_is_tolerated_and_the_chair_told_after_the_grace():
    d = meeting()
    d.ok(CHAIR, "!ärende 1")
    out = d.media(M3, "off", "on")
    assert out.replies == [] and d.m.drops[M3] == {"bild"}  # tolerated in discussion: nobody told yet
    d.now += timedelta(seconds=30)
    d.tick()
    assert M3 not in d.m.grace_told
    d.now += timedelta(seconds=40)
    before = len(d.log)
    d.tick()
    told = [e for e in d.log[before:] if e.kind == "grace_passed"]
    assert told and told[0].at == d.m.media_drops[M3]["bild"] + timedelta(seconds=60)  # on time, whenever noticed
    d.tick()
    assert [e.kind for e in d.log[before:]].count("grace_passed") == 1  # once
    d.media(M3, "on", "on")
    assert M3 not in d.m.drops  # a camera on again ends a picture loss the server registered
    md = d.protocol()
    assert "har rörlig bild igen enligt samtalet" in md and "längre än 60 sekunder" in md


def test_p5_grace_message_reaches_the_chair():
    d = meeting()
    d.media(M3, "off", "on")
    d.now += timedelta(seconds=61)
    step = d.engine.tick(d.now)
    assert step is not None and step.outcome.replies[0].mentions[0] == CHAIR
    assert "längre än 60 sekunder" in step.outcome.replies[0].text


def test_p5_p12_camera_off_between_check_and_decision_spends_the_check_and_blocks_the_decision():
    d = meeting()
    d.checked()
    out = d.media(VICE, "off", "on")
    assert out.replies and out.replies[0].mentions == (CHAIR,)  # at a check's validity: told at once
    refusal = d.refused(CHAIR, "!beslut Bifall")
    assert refusal.rule is Rule.P5 and "kameran avstängd sedan kl." in refusal.text
    d.media(VICE, "on", "on")
    assert d.refused(CHAIR, "!beslut Bifall").rule is Rule.P12  # the check stays spent
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")


def test_p5_p12_camera_off_during_a_vote_voids_it():
    d = meeting()
    d.checked()
    d.ok(CHAIR, "!votering Bifall / Avslag")
    d.media(M3, "off", "on")
    assert d.m.vote is None and d.m.votes[-1].how == "void"


def test_p5_p12_camera_off_during_a_vote_voids_it_and_ends_its_poll():
    """The void vote's poll is ended in the room too: the step of what the server shows carries
    the effects of its events, as a command's step does."""
    d = meeting()
    d.checked()
    d.ok(CHAIR, "!votering Bifall / Avslag")
    vote = d.m.vote.id
    step = d.engine.media(M3, "off", "on", True, d.now + timedelta(seconds=1))
    assert d.m.vote is None and step.effects.polls_ended == (poll_tag(d.m.id, vote),)


def test_p12_teknikkontroll_refused_names_who_and_what_since_when():
    d = meeting()
    d.ok(CHAIR, "!ärende 1")
    d.media(M4, "none", "on")
    refusal = d.refused(CHAIR, "!teknikkontroll")
    assert refusal.rule is Rule.P5 and "David Dahl" in refusal.text and "ingen kamera sedan kl." in refusal.text


def test_p12_camera_off_during_a_running_check_blocks_the_answer_and_the_decision():
    d = meeting()
    d.ok(CHAIR, "!ärende 1")
    d.ok(CHAIR, "!teknikkontroll")
    d.media(M3, "off", "on")
    assert d.refused(M3, "!ok").rule is Rule.P5


def test_p12_protocol_records_what_the_call_showed_at_the_check_and_the_decision():
    d = meeting()
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    md = d.protocol()
    paragraph = md.split("## § 1")[1].split("## Underskrifter")[0]  # the paragraph itself, not the bilaga
    assert "Vid kontrollen hade samtliga tjänstgörande ljud och rörlig bild enligt samtalet." in paragraph
    assert "Vid beslutet hade samtliga tjänstgörande ljud och rörlig bild enligt samtalet." in paragraph
    assert "- 18.00 Beslut: Bifall. Vid beslutet hade samtliga" in md  # and in the course of the meeting
    (decision,) = json.loads(d.protocol("json"))["ärenden"][0]["beslut"]
    assert decision["samtalet"] == "shown"


def test_p12_a_protocol_without_the_media_server_reads_and_is_fingerprinted_as_before():
    d = meeting(dataclasses.replace(MEDIA, reads_media=False))
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    md = d.protocol()
    assert "enligt samtalet" not in md and '"samtalet"' not in d.protocol("json")


def test_p3_p12_server_unreadable_is_said_at_once_falls_back_to_attestations_and_the_protocol_names_it():
    d = convened()
    joined(d, M3, camera="off")
    out = d.media_down("unreachable")
    assert out.replies and out.replies[0].mentions == (CHAIR,) and "kan inte läsas" in out.replies[0].text
    assert d.media_down() is None  # said once
    d.ok(M3, "!närvarande")  # attested, as without the server
    back = d.media_up()
    assert "godtog boten intyganden" in back.replies[0].text
    assert d.m.media_spans and d.m.media_spans[0][1] is not None
    d.media(M3, "on", "on")
    for user in EVERYONE:
        if user != M3:
            joined(d, user)
            d.ok(user, "!närvarande")
    d.until_called()
    d.media_down("refused")
    d.media(M4, "off", "none")  # not read: nothing registered from it
    assert M4 not in d.m.drops
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    md = d.protocol()
    assert "kunde inte läsas (servern svarar inte)" in md and "kunde läsas igen" in md
    assert "Vid beslutet kunde samtalets ljud och bild inte läsas; ledamöternas intyganden godtogs" in md


def test_p3_without_the_media_server_nothing_changes():
    d = convened(dataclasses.replace(MEDIA, reads_media=False))
    d.call(M3, {"DEV": None})
    assert d.media(M3, "off", "none") is None and d.media_down() is None
    d.ok(M3, "!närvarande")


def test_p2_one_in_the_chairs_room_is_not_held_to_the_calls_camera():
    d = meeting()
    d.ok(CHAIR, f"!lokal {M3}")
    d.media(M3, "none", "none", connected=False)
    assert M3 not in d.m.drops


def test_p3_status_shows_camera_microphone_and_connection_per_serving_member():
    d = meeting()
    d.media(M4, "on", "muted")
    text = d.ok(M3, "!status").replies[0].text
    assert "Enligt samtalet:" in text and "David Dahl (C): kameran på, mikrofonen tystad" in text


def test_p3_hostile_values_from_the_server_change_nothing():
    d = meeting()
    assert d.media(M3, "blurred", "on") is None and d.media(M3, "on", "loud") is None
    assert d.media("@mallory:ex.se", "on", "on") is None


def test_p3_p5_one_who_attested_while_the_server_could_not_be_read_is_held_to_it_once_it_can():
    d = meeting()
    d.media_down()
    d.media(M3, "off", "on")  # not read: nothing follows from it
    assert M3 not in d.m.drops
    out = d.media_up()  # read again: what it shows counts from now
    assert d.m.drops[M3] == {"bild"} and out.replies[0].text.startswith("Samtalets ljud och bild kan läsas igen")


def test_p3_p5_a_state_recorded_while_unreadable_counts_once_the_server_can_be_read():
    d = convened()
    joined(d, M3, camera="off")
    d.media_down()
    d.ok(M3, "!närvarande")  # attested
    for user in EVERYONE:
        if user != M3:
            joined(d, user)
            d.ok(user, "!närvarande")
    d.until_called()
    d.ok(CHAIR, "!ärende 1")
    d.media_up()  # the server shows her camera off, as before: a picture loss from now
    assert d.m.drops[M3] == {"bild"} and "bild" in d.m.media_drops[M3]
    assert d.refused(CHAIR, "!teknikkontroll").rule is Rule.P5


def test_p2_p12_with_one_in_the_chairs_room_the_record_speaks_of_those_at_a_distance():
    d = meeting()
    d.ok(CHAIR, f"!lokal {M3}")
    d.media(M3, "none", "none", connected=False)
    d.checked()
    d.ok(CHAIR, "!beslut Bifall")
    assert "Vid beslutet hade samtliga tjänstgörande på distans ljud och rörlig bild enligt samtalet." in d.protocol()
