"""Chat text to commands: words, mentions as Element sends them, arguments, help."""

from __future__ import annotations

import commands
from commands.text import Message, mentioned, strip_reply_fallback
from rules.citations import Rule
from testing.driver import CHAIR, M3, OUTSIDER, ROSTER, SUB1, Driver


def parse(body: str, formatted: str | None = None, mentions: tuple[str, ...] = ()):
    return commands.parse(Message(body, formatted, mentions), CHAIR)


def test_not_a_command():
    assert parse("hej allihop") is None
    assert parse("!") is None


def test_unknown_command_is_answered():
    result = parse("!flyga")
    assert isinstance(result, commands.Unknown) and "!hjälp" in result.body


def test_ascii_stand_ins_for_swedish_letters():
    for word in ("!ersatt", "!ERSÄTT", "!Ersätt"):
        assert parse(f"{word} @a:x @b:y").name == "ersätt"
    assert parse("!aterinträd @a:x").name == "återinträd"
    assert parse("!frantaordet @a:x").name == "fråntaordet"


def test_element_mentions_in_order_from_formatted_body():
    formatted = (
        '!ersätt <a href="https://matrix.to/#/@cecilia:ex.se">Cecilia</a> '
        '<a href="https://matrix.to/#/%40erik%3Aex.se?via=ex.se">Erik</a>'
    )
    cmd = parse("!ersätt Cecilia Erik", formatted, ("@erik:ex.se", "@cecilia:ex.se"))
    assert cmd.people == ("@cecilia:ex.se", "@erik:ex.se")


def test_typed_ids_in_body():
    assert parse("!delad @a:ex.se @b:ex.se").people == ("@a:ex.se", "@b:ex.se")


def test_m_mentions_as_last_resort():
    assert parse("!lokal Cecilia", None, ("@cecilia:ex.se",)).people == ("@cecilia:ex.se",)


def test_mentions_inside_a_quoted_reply_are_not_arguments():
    formatted = (
        '<mx-reply><blockquote><a href="https://matrix.to/#/@x:ex.se">X</a></blockquote></mx-reply>'
        '!lokal <a href="https://matrix.to/#/@cecilia:ex.se">C</a>'
    )
    assert mentioned(Message("!lokal C", formatted), "C") == ["@cecilia:ex.se"]


def test_reply_fallback_is_stripped():
    assert strip_reply_fallback("> <@a:x> hej\n> igen\n\n!ok") == "!ok"
    assert parse("> <@a:x> Teknikkontroll\n\n!ok").name == "ok"


def test_missing_people_is_an_error_with_usage():
    cmd = parse("!ersätt @a:x")
    assert cmd.error and "!ersätt @ledamot @ersättare" in cmd.error


def test_item_number():
    assert parse("!ärende 3").number == 3
    assert parse("!ärende tre").error
    assert parse("!ärende ٣").error  # an Arabic-Indic digit is no item number


def test_avbrott_kind_and_person():
    cmd = parse("!avbrott LJUD @c:ex.se")
    assert (cmd.word, cmd.people) == ("ljud", ("@c:ex.se",))
    assert parse("!avbrott rök").error


def test_kalla_reads_agenda_and_classes():
    cmd = parse(
        "!kalla 2026-12-03 18.30 Hybrid\nMotivering: vägarbeten\n1. Budget\n2) Personalärende [Personuppgifter]\n"
        "3. Avtal [sakerhetsskydd]"
    )
    c = cmd.convening
    assert c.form == "hybrid" and (c.start.hour, c.start.minute) == (18, 30)
    assert [(i.n, i.klass) for i in c.agenda] == [(1, ""), (2, "personuppgifter"), (3, "säkerhetsskydd")]
    assert c.start.tzinfo is None  # wall-clock time; the rules read it on the body's clock


def test_kalla_refuses_unknown_class_and_duplicate_numbers():
    assert "Okänd klass" in parse("!kalla 2026-12-03 18:00 distans\nMotivering: x\n1. A [hemligt]").error
    assert "två gånger" in parse("!kalla 2026-12-03 18:00 distans\nMotivering: x\n1. A\n1. B").error


def test_yrka_and_beslut_need_text():
    assert parse("!yrka").error and parse("!beslut  ").error
    assert parse("!yrka återta").word == "återta"
    assert parse("!yrka Bifall till förslaget").text == "Bifall till förslaget"


def test_help_lists_what_the_asker_may_do_now():
    d = Driver().opened()
    chair_help = commands.help_text(d.m, ROSTER, CHAIR)
    member_help = commands.help_text(d.m, ROSTER, M3)
    assert "!beslut" in chair_help and "!beslut" not in member_help
    assert "!närvarande" in member_help and "!kalla" not in member_help
    assert "!yrka" in member_help and "!yrka" not in commands.help_text(d.m, ROSTER, SUB1)
    assert "kontakta sekreteraren" in commands.help_text(d.m, ROSTER, OUTSIDER)


def test_parse_errors_are_refused_citing_the_commands_rule():
    d = Driver().opened()
    assert d.refused(CHAIR, "!ersätt @a:x").rule is Rule.P11
    assert d.refused(CHAIR, "!tillåt").rule is Rule.P7


def test_kl_5_69_kl_8_12_justera_takes_a_fingerprint_and_anslag_a_paragraph_and_a_day():
    cmd = parse("!justera omedelbart 1A2B 3c4d 5e6f")  # as the room shows it, in groups
    assert (cmd.word, cmd.typed_fingerprint, cmd.error) == ("omedelbart", "1a2b3c4d5e6f", "")
    assert parse("!justera 0123456789abcdef").typed_fingerprint == "0123456789abcdef"
    for wrong in ("!justera 1234567", "!justera nu", "!justera omedelbart 12g45678", "!justera 1234abcd omedelbart"):
        assert parse(wrong).error, wrong
    cmd = parse("!anslag § 5 2026-12-04")
    assert (cmd.number, cmd.text, cmd.error) == (5, "2026-12-04", "")
    assert (parse("!anslag §5").number, parse("!anslag").text) == (5, "")
    for wrong in ("!anslag 2026-02-30", "!anslag 4/12", "!anslag i dag", "!anslag 2026-12-04 § 5"):
        assert parse(wrong).error, wrong
