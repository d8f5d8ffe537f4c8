"""Hostile and broken input: no text, mention or HTML makes the parser or the rules raise, a
refusal changes nothing, and look-alike characters are not taken for commands or people."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

import commands
from commands.registry import SPECS
from commands.text import MAX_BODY, Message
from minutes import view as view_words
from rules import meeting as rules
from rules.actions import Accepted
from rules.citations import Rule
from testing.driver import CHAIR, M3, M5, MEMBERS, OUTSIDER, SUB1, Driver
from tests.test_authorization import in_item

WORDS = [f"!{name}" for name in SPECS] + ["!ersatt", "!ÄRENDE", "!"]
IDS = st.one_of(st.sampled_from([*MEMBERS, SUB1, OUTSIDER, "@аnna:ex.se", "@anna:ex.se\u200b"]), st.text(max_size=30))
HTML = st.lists(
    st.one_of(
        st.text(max_size=40),
        IDS.map(lambda u: f'<a href="https://matrix.to/#/{u}">x</a>'),
        st.sampled_from(["<mx-reply>", "</mx-reply>", "<a>", "</a>", "<a href=", "<br>", "&amp;", "&#0;", "<!--", "<"]),
    ),
    max_size=12,
).map("".join)
BODY = st.one_of(
    st.tuples(st.sampled_from(WORDS), st.text(max_size=200)).map(" ".join),
    st.text(max_size=300),
    st.tuples(st.sampled_from(WORDS), st.lists(IDS, max_size=4)).map(lambda t: " ".join([t[0], *t[1]])),
)


def _meeting() -> Driver:
    d = Driver()
    in_item(d)
    return d


BASE = _meeting()


@settings(max_examples=1500, deadline=None)
@given(body=BODY, formatted=st.one_of(st.none(), HTML), mentions=st.lists(IDS, max_size=4), sender=IDS)
def test_p2_no_input_breaks_the_parser_or_the_rules(body, formatted, mentions, sender):
    parsed = commands.parse(Message(body, formatted, tuple(mentions)), sender)
    if parsed is None or isinstance(parsed, commands.Unknown):
        return
    if parsed.name == "hjälp":  # answered by the commands layer, not the rules
        assert commands.help_text(BASE.m, BASE.roster, sender).startswith("Kommandon")
        return
    if parsed.name == "vy":  # answered by the shell with the live view's words, not the rules
        refusal = view_words.vy_refusal(BASE.m, BASE.roster, sender, served=True)
        assert refusal == "" if BASE.roster.person(sender) else refusal.startswith("⛔ § 2")
        return
    m = copy.deepcopy(BASE.m)
    before = copy.deepcopy(m)
    outcome = rules.decide(m, BASE.roster, parsed, BASE.now)
    assert m == before  # decide never changes the meeting; a refusal leaves nothing behind
    if not isinstance(outcome, Accepted):
        assert outcome.body.startswith("⛔ ") and "§" in outcome.body


def test_p2_look_alike_command_words_are_unknown():
    for body in (
        "!еrsätt @a:x @b:x",
        "!ers\u200bätt @a:x @b:x",
        "!\u202eettäsre",
        "!ｂｅｓｌｕｔ x",
        "!beslut\u2060 x",
    ):
        assert isinstance(commands.parse(Message(body), CHAIR), commands.Unknown), body


def test_p2_look_alike_people_are_not_on_the_roster():
    d = _meeting()
    cyrillic_a = "@\u0430nna:ex.se"  # а, not a
    refusal = d.refused(CHAIR, "!lokal X", f'!lokal <a href="https://matrix.to/#/{cyrillic_a}">Anna</a>')
    assert refusal.rule is Rule.P2 and cyrillic_a in refusal.text
    assert d.refused(cyrillic_a, "!beslut Bifall").rule is Rule.P2


def test_p2_identity_is_the_sender_never_the_display_name():
    d = _meeting()
    # Mallory calls herself "Anna Andersson": her commands are still hers
    refusal = d.refused(OUTSIDER, "!fråntaordet Anna Andersson", "!fråntaordet Anna Andersson")
    assert refusal.rule is Rule.P2


def test_p2_long_messages_are_cut_before_parsing():
    cmd = commands.parse(Message("!yrka " + "x" * (MAX_BODY * 4)), M3)
    assert len(cmd.text) < MAX_BODY


def test_p9_mentions_in_a_quoted_reply_are_not_taken_as_arguments():
    d = _meeting()
    formatted = (
        f'<mx-reply><a href="https://matrix.to/#/{M3}">C</a></mx-reply>'
        f'!fråntaordet <a href="https://matrix.to/#/{M5}">Eva</a>'
    )
    d.ok(CHAIR, "!fråntaordet Eva", formatted)
    assert d.m.item.silenced == {M5}
