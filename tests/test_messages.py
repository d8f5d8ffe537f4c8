"""What a member reads in the room (issue 20, case 18): a message says one thing, to whoever must
act, with the mentions that reach them; a question is answered, not refused; a citation is
given once; a fingerprint is shown short."""

from __future__ import annotations

import re

import commands
from commands.registry import SPECS
from commands.text import Message
from rules.actions import Accepted, Command, Refused
from rules.citations import Rule
from rules.meeting import decide
from rules.tables import PERMISSIONS
from testing.driver import (
    CHAIR,
    KALLA,
    M3,
    M4,
    M5,
    MEMBERS,
    OUTSIDER,
    ROSTER,
    SECR,
    SUB1,
    SUB2,
    TJP,
    VICE,
    Driver,
    started,
)
from tests.test_call import CALL, _in_call
from tests.test_schedule import STOCKHOLM_18

# --- a question before any kallelse (KL 6 kap. 33 §: nothing to refuse) -------------------------------


def test_kl_6_33_status_without_a_meeting_is_answered_not_refused():
    d = Driver()
    for who in (CHAIR, M3, SUB1, SECR, TJP):
        out = d.say(who, "!status")
        assert isinstance(out, Accepted), (who, out)
        assert out.replies[0].text == "Inget sammanträde är kallat för Kommunstyrelsen."
    assert d.m is None  # a question changes nothing
    assert isinstance(d.say(OUTSIDER, "!status"), Refused)  # not on the roster: still refused (§ 2)


async def test_kl_6_33_the_bot_answers_status_without_a_meeting_in_reply_to_it(config):
    bot = await started(config)
    try:
        await bot.handle(bot.bodies["ks"], "$q1", Message("!status"), "@cecilia:localhost", STOCKHOLM_18)
        (answer,) = [o.content for o in await bot.store.unsent()]
        assert answer["body"] == "Inget sammanträde är kallat för Kommunstyrelsen."
        assert answer["m.relates_to"]["m.in_reply_to"]["event_id"] == "$q1" and not answer["body"].startswith("⛔")
        assert bot.bodies["ks"].engine.meeting is None and bot.known == {}
    finally:
        await bot.store.close()


def test_p6_dagordning_without_a_meeting_is_answered_not_refused():
    d = Driver()
    out = d.say(M3, "!dagordning")
    assert isinstance(out, Accepted) and "Inget sammanträde är kallat för Kommunstyrelsen" in out.replies[0].text


def _listed(text: str) -> set[str]:
    return {line.split()[0] for line in text.splitlines()[1:] if line.startswith("!")}


def test_p1_hjalp_before_a_kallelse_lists_what_each_may_use_then():
    assert _listed(commands.help_text(None, ROSTER, CHAIR)) == {"!kalla", "!status", "!dagordning", "!hjälp"}
    for who in (M3, SUB1, SECR, TJP):
        assert _listed(commands.help_text(None, ROSTER, who)) == {"!status", "!dagordning", "!hjälp"}, who
    # What it lists, it accepts: each command listed for a member is answered, not refused.
    d = Driver()
    for word in ("!status", "!dagordning"):
        assert isinstance(d.say(M3, word), Accepted), word


# --- a malformed !kalla: the example on lines of its own ------------------------------------------------


def test_p1_a_malformed_kallelse_gives_its_example_on_lines_of_its_own():
    d = Driver()
    for bad in (
        "!kalla 2026-12-03 18.00",  # no form
        "!kalla 2026-12-03 18:00 distans\n1. Budget",  # no motivation
        "!kalla 2026-12-03 18:00 distans\nMotivering: x",  # no agenda
    ):
        text = d.refused(CHAIR, bad).text
        lines = text.splitlines()
        start = lines.index("Exempel:")
        example = lines[start + 1 :]
        assert example[0] == "!kalla 2026-12-03 18:00 distans" and example[1].startswith("Motivering: ")
        assert all(re.fullmatch(r"\d+\. .+", line) for line in example[2:]), example  # agenda lines only
        assert "Så här:" in "\n".join(lines[:start]) and not any("Så här" in line for line in example)
        # The example as written is a kallelse the bot accepts.
        assert isinstance(Driver().say(CHAIR, "\n".join(example)), Accepted)


# --- a refusal cites its rule once ------------------------------------------------------------------


def _own_citation_repeated(refusal: Refused) -> bool:
    outside_quotes = re.sub(r"«[^»]*»", "", refusal.body.split(": ", 1)[1])
    return f"({refusal.rule})" in outside_quotes


def test_p12_a_refusal_names_its_rule_once():
    d = Driver().opened()
    d.ok(CHAIR, "!ärende 1")
    beslut = d.refused(CHAIR, "!beslut Bifall")  # no check: § 12
    assert beslut.rule is Rule.P12 and beslut.body.count("§ 12") == 1, beslut.body
    assert "ingen teknikkontroll har gjorts i ärendet" in beslut.body
    kalla = Driver().refused(M3, KALLA)  # only the ordförande convenes: § 1
    assert kalla.rule is Rule.P1 and kalla.body.count("§ 1") == 1, kalla.body
    # Another rule's citation stays where it stands.
    d.ok(M4, "!avbrott ljud")
    two = d.refused(CHAIR, "!beslut Bifall")
    assert two.rule is Rule.P5 and two.body.count("§ 5") == 1 and two.body.endswith("(§ 12)."), two.body


def test_p1_what_a_person_wrote_is_quoted_as_written_even_when_it_cites_the_rule():
    bad = Driver().refused(CHAIR, "!kalla 2026-12-03 18:00 distans\nMotivering: x\n1. Budget (§ 1) [x] y")
    assert bad.rule is Rule.P1 and "«1. Budget (§ 1) [x] y»" in bad.body, bad.body


def test_p1_to_p13_no_refusal_in_any_phase_repeats_its_own_citation():
    """Every command from every kind of person, before a kallelse, convened, open with an item up
    and closed: no refusal ends with (or holds) the rule it starts with."""
    setups = [Driver(), Driver(), Driver().opened(), Driver().opened()]
    setups[1].ok(CHAIR, KALLA)
    setups[3].ok(CHAIR, "!ärende 1")
    closed = Driver().opened()
    closed.close()
    setups.append(closed)
    seen = 0
    for d in setups:
        for name in SPECS.keys() & PERMISSIONS.keys():  # !hjälp is the shell's
            for who in (CHAIR, VICE, M3, SUB1, SECR, TJP):
                cmd = commands.parse(commands.Message(f"!{name}"), who)
                if not isinstance(cmd, Command):
                    continue
                out = decide(d.m, d.roster, cmd, d.now)
                if isinstance(out, Refused):
                    seen += 1
                    assert not _own_citation_repeated(out), out.body
    assert seen > 100  # the sweep reached the refusals


# --- förhinder withdrawn: the substitute hears it -----------------------------------------------------


def test_kl_6_17_a_withdrawn_forhinder_tells_the_called_substitute_he_is_not_needed():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(M5, "!förhinder")
    assert d.m.called == {SUB1: M5}
    out = d.ok(M5, "!förhinder återta")
    to_sub = [x for x in out.replies if SUB1 in x.mentions]
    assert len(to_sub) == 1 and to_sub[0].text.startswith("Erik Ek (S): ")
    assert "behöver inte tjänstgöra" in to_sub[0].text and "Eva Ek (V)" in to_sub[0].text
    assert d.m.called == {}


def test_kl_6_17_a_withdrawn_forhinder_tells_the_confirmed_substitute_he_serves_until_the_next_item():
    d = Driver()
    d.ok(CHAIR, KALLA)
    d.ok(M5, "!förhinder")
    d.ok(SUB1, "!tjänstgör")
    out = d.ok(M5, "!förhinder återta")
    to_sub = [x for x in out.replies if SUB1 in x.mentions]
    assert len(to_sub) == 1 and to_sub[0].text.startswith("Erik Ek (S): ")
    assert "till nästa ärende" in to_sub[0].text and "behöver inte" not in to_sub[0].text
    to_member = [x for x in out.replies if SUB1 not in x.mentions]
    assert to_member and "från nästa ärende" in to_member[0].text
    # and so it is: Erik serves from the upprop, Eva takes over at the next item
    d.ok(CHAIR, "!öppna")
    d.until_called()
    for user in (CHAIR, VICE, M3, M4, SUB1, M5):
        d.ok(user, "!närvarande")
    assert d.m.seat(M5) == SUB1
    d.ok(CHAIR, "!ärende 1")
    assert d.m.seat(M5) == M5


# --- !status suggests the substitute whose turn it is ---------------------------------------------------


def test_kl_6_17_status_suggests_the_substitute_in_turn_for_an_empty_seat():
    d = Driver().opened(present=(CHAIR, VICE, M3, SUB2, SUB1, SECR))  # David (C) and Eva (V) absent
    text = d.ok(M3, "!status").replies[0].text
    # No C or V substitute: the list order, one substitute per seat.
    assert f"!ersätt {M4} {SUB1}" in text and f"!ersätt {M5} {SUB2}" in text, text
    suggested = re.findall(r"!ersätt (\S+) (\S+)", text)
    assert "när ärendet är beslutat" not in text  # between items: now
    d.ok(CHAIR, "!ärende 1")  # mid-item, who serves does not change: the suggestion says when
    later = d.ok(M3, "!status").replies[0].text
    assert re.findall(r"!ersätt (\S+) (\S+)", later) == suggested and "när ärendet är beslutat" in later
    assert d.refused(CHAIR, f"!ersätt {M4} {SUB1}").rule is Rule.KL_6_17
    d.ok(CHAIR, "!ajournera")
    for member, sub in suggested:  # what it suggests, the chair may do
        d.ok(CHAIR, f"!ersätt {member} {sub}")
    assert d.m.seat(M4) == SUB1 and d.m.seat(M5) == SUB2
    assert "!ersätt" not in d.ok(M3, "!status").replies[0].text  # no empty seat left


def test_kl_6_17_status_suggests_the_own_partys_substitute_and_none_when_none_is_free():
    d = Driver().opened(present=(CHAIR, VICE, M4, M5, SUB2, SUB1, SECR))  # Cecilia (S) absent
    text = d.ok(M3, "!status").replies[0].text
    assert f"!ersätt {M3} {SUB1}" in text and SUB2 not in re.findall(r"!ersätt \S+ (\S+)", text)
    d = Driver().opened(present=(CHAIR, VICE, M4, M5, SECR))  # no substitute here
    assert "!ersätt" not in d.ok(M4, "!status").replies[0].text


# --- fingerprints in the room: short ---------------------------------------------------------------------

_LONG_HEX = re.compile(r"(?<![0-9a-f])(?=[0-9a-f]*\d)[0-9a-f]{5,}(?![0-9a-f])")


def test_kl_5_69_every_reply_shows_a_fingerprint_in_its_short_form():
    d = Driver().opened()
    d.ok(CHAIR, f"!justerare {M3}")
    texts: list[str] = []
    d.checked()
    texts += [r.text for r in d.ok(CHAIR, "!beslut Bifall").replies]
    texts += [r.text for r in d.ok(CHAIR, "!justera omedelbart").replies]
    texts += [r.text for r in d.ok(M3, "!justera omedelbart").replies]
    texts += [r.text for r in d.close().replies]
    texts += [r.text for r in d.ok(SECR, "!protokoll").replies]
    texts.append(d.refused(CHAIR, "!justera 0123456789abcdef").body)  # a version never shown
    texts.append(d.refused(CHAIR, "!justera 01234567").body)
    texts += [r.text for r in d.ok(CHAIR, "!justera").replies]
    texts.append(d.refused(CHAIR, "!justera").body)  # signed already
    texts += [r.text for r in d.ok(M3, "!justera").replies]
    shown = [t for t in texts if "ingeravtryck" in t]
    assert len(shown) >= 6, texts
    for text in texts:
        assert not _LONG_HEX.search(text), text  # no fingerprint whole, nor ungrouped
    for text in shown:
        assert re.search(r"[0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}", text), text


# --- leaving the call: to the person, and to the chair where the chair must act -----------------------


def _call_meeting() -> Driver:
    d = Driver(CALL)
    d.ok(CHAIR, KALLA)
    d.ok(CHAIR, "!öppna")
    d.until_called()
    _in_call(d, *MEMBERS, SECR, SUB1)
    for user in (*MEMBERS, SECR, SUB1):
        d.ok(user, "!närvarande")
    return d


def test_p5_p10_leaving_the_call_tells_the_person_once_and_the_chair_what_to_do():
    d = _call_meeting()
    d.checked()
    out = d.call(M4, {})
    assert out is not None and len(out.replies) == 2
    person, chair = out.replies
    assert person.mentions == (M4,) and chair.mentions == (CHAIR,)
    assert re.fullmatch(
        r"David Dahl \(C\): du har lämnat videosamtalet kl\. \d\d\.\d\d; det antecknas som förlorat ljud och "
        r"bild \(§§ 5, 10\)\. Anslut igen och skriv !åter\.",
        person.text,
    ), person.text
    assert chair.text.startswith("Anna Andersson (S): ") and "David Dahl (C)" in chair.text
    assert "!ajournera" in chair.text and "!ersätt" in chair.text
    assert "teknikkontroll" in chair.text  # the passed check is spent
    for reply in out.replies:  # each says it once, and speaks to its reader
        assert reply.text.count("lämnat videosamtalet") <= 1 and "hen " not in reply.text
        assert not reply.reply  # no command to reply to


def test_p4_one_not_serving_who_leaves_the_call_is_told_and_the_chair_is_not_disturbed():
    d = _call_meeting()
    out = d.call(SUB1, {})  # a substitute present, not serving
    assert out is not None and [r.mentions for r in out.replies] == [(SUB1,)]
    assert out.replies[0].text.startswith("Erik Ek (S): du har lämnat videosamtalet")
    assert d.m.drops[SUB1] == {"ljud", "bild"}
