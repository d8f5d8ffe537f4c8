"""Property tests: random command sequences from random people against the rules.

Invariants: no decision without quorum and a valid technical check taken in the same item,
with no other item up since (§ 12, KL 6 kap. 27 §); a teknikfelsledamot never moves or decides
(§ 11); no jävig person serves in, presides over or chooses who presides over their item
(KL 6 kap. 28 §); whoever acts as the chair is the lawful presiding member, the same through a
running vote (KL 6 kap. 33 §); every decision lists as taking part exactly those who served and
did not declare they abstain, or in a vote exactly those who voted ja or nej (KL 4 kap. 25 §,
27 §); a reservation is filed against the decision that stands, or its fall is announced to
those who reserved (KL 4 kap. 27 §); a refusal changes
nothing (the driver checks that `decide` leaves the meeting as it was); the protocol accounts
for every event; no input makes the rules raise.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rules.actions import Accepted, Refused
from rules.state import Phase
from rules.tables import Who, permission
from testing.driver import CHAIR, KALLA, MEMBERS, OUTSIDER, ROSTER, SECR, SSC, SUB1, SUB2, TJP, VICE, Driver
from testing.invariants import assert_protocol_invariants

PEOPLE = (*MEMBERS, SUB1, SUB2, SECR, TJP, SSC, OUTSIDER)
SENDER = st.one_of(st.just(CHAIR), st.sampled_from(PEOPLE))
someone = st.sampled_from(PEOPLE)
item = st.integers(0, 5)

COMMAND = st.one_of(
    st.sampled_from(
        [
            KALLA,
            "!öppna",
            "!närvarande",
            "!teknikkontroll",
            "!ok",
            "!omtag",
            "!ajournera",
            "!återuppta",
            "!ordet",
            "!ordet återta",
            "!nästa",
            "!replik",
            "!streck",
            "!streck återta",
            "!status",
            "!dagordning",
            "!protokoll",
            "!avsluta",
            "!utgår 2",
            "!utgår 4 Beredningen är inte klar",
            "!inställ",
            "!åter",
            "!yrka återta",
            "!votering sluten A / B",
            "!beslut Förslaget bifalls",
            "!votering A / B",
            "!votering klar",
            "!ja",
            "!nej",
            "!avstår",
            "!avstår återta",
            "!reservation",
            "!jäv",
            "!votering sluten resultat A=2 B=2 blanka=1",
            "!votering sluten resultat A=3 B=1 blanka=1",
            "!yrka Bifall",
            "!lämnar",
            "!jäv återta",
            "!jäv David Dahl",
            "!avsluta inte än",
            "!nej tack, jag avstår",
            "!förhinder",
            "!förhinder återta",
            "!tjänstgör",
            "!justera",
            "!justera omedelbart",
            "!rättelse 1 Ny lydelse",
            "!anslag",
            "!anslag § 1",
            "!justera 00000000",
        ]
    ),
    st.builds("!justerare {}".format, someone),
    st.builds("!justerare {} {}".format, someone, someone),
    st.builds("!förhinder {}".format, someone),
    st.builds("!reservation ärende {}".format, item),
    st.builds("!lämnar {}".format, someone),
    st.builds("!ordförande {}".format, someone),
    st.builds("!ärende {}".format, item),
    st.builds("!tillåt {}".format, item),
    st.builds("!godkänn {}".format, item),
    st.builds("!avbrott {} {}".format, st.sampled_from(["ljud", "bild"]), st.sampled_from(["", *PEOPLE])),
    st.builds("!åter {}".format, someone),
    st.builds("!ersätt {} {}".format, someone, someone),
    st.builds("!återinträd {}".format, someone),
    st.builds("!lokal {}".format, someone),
    st.builds("!delad {} {}".format, someone, someone),
    st.builds("!tysta {}".format, someone),
    st.builds("!fråntaordet {}".format, someone),
    st.builds("!ordet {}".format, someone),
    st.builds("!jäv {}".format, someone),
)
DEBATE = ("!ordet", "!replik", "!ordet återta", "!nästa", "hand", "!jäv", "fråntaordet", "!lämnar")
# A decision round as a chair would run it; random steps around it disturb it.
ROUND = st.just("round")
STEP = st.one_of(
    st.tuples(SENDER, COMMAND),
    st.tuples(st.just("wait"), st.integers(1, 90)),
    st.tuples(st.just("round"), item),
    st.tuples(st.just("vote"), st.lists(st.sampled_from(["!ja", "!nej", "!avstår"]), min_size=5, max_size=5)),
    st.tuples(st.just("substitute"), st.sampled_from(MEMBERS)),
    st.tuples(st.just("call"), st.tuples(someone, st.booleans())),
    st.tuples(st.just("sign"), st.permutations(PEOPLE)),
    # a hand raised or lowered in the call, as the shell hands it over (`Driver.hand`)
    st.tuples(st.just("hand"), st.tuples(someone, st.booleans(), st.integers(0, 2))),
    # a debate as a chair runs one, with people asking, replying and leaving the list (§ 9)
    st.tuples(st.just("debate"), st.lists(st.tuples(someone, st.sampled_from(DEBATE)), max_size=8)),
)
CALL = dataclasses.replace(ROSTER, call_name="Element Call")
OPENING = [(CHAIR, KALLA), (CHAIR, "!öppna")] + [(u, "!närvarande") for u in (*MEMBERS, SUB1, SUB2, SECR)]
OPENING.append((CHAIR, f"!justerare {VICE} {MEMBERS[2]}"))  # so that random meetings reach justering
OPENING += [("called", None)]  # the time in the kallelse comes: items may be taken up (§ 1)


def check_outcome(d: Driver, outcome: Accepted) -> None:
    """Re-derive from the log, independently of rules.blockers, what a lawful decision needs."""
    m, r = d.m, d.roster
    cmd = d.pending
    if m is not None and m.phase is Phase.OPEN and cmd is not None and permission(cmd).who is Who.CHAIR:
        presiding = m.presiding(r)
        assert cmd.actor == presiding, "KL 6 kap. 33 §: someone not presiding acted as the chair"
        assert presiding in m.serving(r) and presiding not in m.teknikfel and presiding not in m.left
        assert not (m.item and presiding in m.item.jav), "KL 6 kap. 28 §: a jävig member presided"
        event("the presiding member acted")
    if m is not None and m.phase is Phase.OPEN and m.item is not None:
        # KL 6 kap. 28 §: one jävig in the item neither presides over it nor chooses who does
        assert m.presiding(r) not in m.item.jav, "a jävig person presides over the item"
        if any(kind == "presiding_named" for kind, _ in outcome.events):
            assert cmd.actor not in m.item.jav, "a jävig person chose who presides"
    ballots = dict(m.vote.ballots) if m is not None and m.vote else {}
    for kind, data in outcome.events:
        if kind in ("floor", "floor_given"):
            _check_floor(m, kind, data)
        if kind == "ballot":
            assert data["user"] in m.serving(r) and data["user"] in m.vote.voters, "a non-serving voter voted"
            ballots[data["user"]] = data["choice"]
        if kind == "vote_ended" and data.get("winner") and not m.votes[data["id"] - 1].closed:
            vote = m.votes[data["id"] - 1]
            # The presiding member does not change while the vote runs (KL 6 kap. 33 §).
            assert data["presiding"] == vote.presiding, "the presiding member changed during the vote"
            ja = sum(1 for c in ballots.values() if c == "ja")
            nej = sum(1 for c in ballots.values() if c == "nej")
            if ja != nej:
                assert data["winner"] == ("a" if ja > nej else "b"), "KL 5 kap. 54 §: majority ignored"
            else:  # a tie is always settled, and only by the presiding member's own vote
                presiding = m.presiding(r)
                assert presiding in vote.voters and data["presiding"] == presiding, "KL 5 kap. 56 §"
                assert ballots.get(presiding) == ("ja" if data["winner"] == "a" else "nej"), "KL 4 kap. 25 §"
            event("a vote was decided")
        if kind == "replaced":
            _check_turn(m, r, data)
        if kind == "motion":
            assert data["user"] not in m.teknikfel, "§ 11: a teknikfelsledamot moved"
        if kind == "abstained":  # KL 4 kap. 25 §: a serving member, before the item's decision
            assert data["user"] in m.serving(r) and not m.items[data["n"]].valid_decisions
            event("an abstention was declared")
        # KL 4 kap. 27 §: a reservation is filed against the decision that stands, or its fall is announced
        if kind == "reservation":
            item_ = m.items[data["n"]]
            assert data["index"] == item_.last_standing, "a reservation against a void decision"
            assert data["user"] in item_.decisions[data["index"]].participants, "a reservation by one who took no part"
        if kind == "retaken":
            reserved = {u for u, _ in m.items[data["n"]].decisions[data["index"]].reservations}
            told = {u for reply in outcome.replies for u in reply.mentions}
            assert reserved <= told, "reservations fell silently"
            if reserved:
                event("reservations fell")
        if kind in ("justerad", "paragraph_justerad"):
            _check_justering(m, cmd.actor, kind, data)
        if kind != "decided":
            continue
        serving = m.serving(r)
        counted = [u for u in serving if "ljud" not in m.drops.get(u, set())]
        assert len(counted) * 2 > len(r.members), "KL 6 kap. 27 §: decision without quorum"
        assert not any(m.drops.get(u) or u in m.muted for u in serving), "§ 5: decision with a drop"
        assert not set(data["participants"]) & set(m.teknikfel), "§ 11: a teknikfelsledamot decided"
        assert not set(serving) & set(m.items[data["n"]].jav), "KL 6 kap. 28 §: a jävig person served"
        assert data["presiding"] == m.presiding(r) and data["presiding"] in serving, "KL 6 kap. 33 §"
        abstaining = set(m.items[data["n"]].abstaining)
        if data.get("vote") is None:  # one who declared she abstains takes no part (KL 4 kap. 25 §)
            assert set(data["participants"]) == set(serving) - abstaining
        else:  # exactly those who voted ja or nej took part (KL 4 kap. 25 §, 27 §)
            vote = m.votes[data["vote"] - 1]
            voted = {u for u, c in ballots.items() if c in ("ja", "nej")}
            voted = set(vote.voters) - abstaining if vote.closed else voted
            assert set(data["participants"]) == voted, "KL 4 kap. 25 §, 27 §: silence or avstår counted as taking part"
        if set(data["abstained"]) & set(data["participants"]):
            raise AssertionError("KL 4 kap. 25 §: one who abstained took part")
        passed = [i for i, e in enumerate(d.log) if e.kind == "check_ended" and e.data["passed"]]
        assert passed, "§ 12: decision without a passed check"
        assert d.log[passed[-1]].data["id"] == data["check_id"]
        since = d.log[passed[-1] + 1 :]
        assert not any(e.kind in ("decided", "replaced", "reinstated", "resumed") for e in since), "§ 12: stale"
        assert not any(e.kind == "dropped" and e.data["user"] in serving for e in since), "§ 12: drop since check"
        check = m.checks[data["check_id"] - 1]
        assert sorted(check.expected) == sorted(serving) and check.item == m.current
        started = [i for i, e in enumerate(d.log) if e.kind == "check_started"][check.id - 1]
        assert not any(e.kind == "item_taken" for e in d.log[started:]), "§ 12: a check from another item"
        event("a decision was taken")


def _check_floor(m, kind: str, data: dict) -> None:
    """§ 9: one asks for a place once, on an open list, with yttranderätt in the item; the floor
    goes only to the first in order: the reply asked, else the first on the list."""
    item = m.items[data["n"]]
    user = data["user"]
    if kind == "floor":
        assert user not in item.speakers, "§ 9: a second place on the list"
        assert not item.closed_list, "§ 9: added after the streck"
        assert user not in item.jav and user not in item.silenced and m.here(user), "§ 9, KL 6 kap. 28 §"
        event("a place on the speakers' list")
        return
    if data.get("reply"):
        assert user == item.reply and not item.replying, "§ 9: a reply out of turn, or to a reply"
        event("a reply was given the floor")
    elif user is None:
        assert item.reply is None and not item.speakers, "§ 9: the floor ended with people waiting"
    else:
        assert item.reply is None and item.speakers and user == item.speakers[0], "§ 9: the floor out of order"
        event("the floor was given")


def _check_list(d: Driver) -> None:
    """The speakers' list never holds a person twice, nor one jävig, silenced or gone (KL 6 kap.
    27, 28 §§, § 9); nor does the floor or a reply."""
    m = d.m
    if m is None:
        return
    for item in m.items.values():
        assert len(set(item.speakers)) == len(item.speakers), "§ 9: a person twice on the list"
        assert set(item.hands) <= set(item.speakers), "a hand holds no place"
        barred = set(item.jav) | item.silenced | (set(m.left) if item.n == m.current else set())
        for user in (*item.speakers, item.reply, item.speaking):
            assert user not in barred, "KL 6 kap. 28 §, § 9: one who may not speak is on the list or speaks"


def _check_justering(m, actor: str, kind: str, data: dict) -> None:
    """KL 5 kap. 69 §, 6 kap. 28 §: every paragraph justerad has two different signers on the
    same fingerprint, one of them whoever presided over it, the other a justerare who neither
    presided over it nor is jävig in it; no jävig person signs it as its ordförande."""
    fp = data["fingerprint"]
    if kind == "justerad":
        signatures = m.signatures
        items = [i for i in m.items.values() if i.taken_up and i.justerad is None]
    else:
        signatures = m.items[data["n"]].signatures
        items = [m.items[data["n"]]]
    signers = {s.user for s in signatures if s.fingerprint == fp} | {actor}
    for item in items:
        presided = {d.presiding for d in item.valid_decisions} or {item.led_by}
        chairs = signers & presided
        assert chairs, "KL 5 kap. 69 §: justerad without whoever presided over the paragraph"
        assert not chairs & set(item.jav), "KL 6 kap. 28 §: a jävig ordförande justerade"
        second = {u for u in signers - presided if u in m.justerare and u not in item.jav}
        assert second, "KL 5 kap. 69 §: justerad by one person, or with a jävig justerare"
        event("a paragraph was justerad")


def _check_turn(m, r, data: dict) -> None:
    """KL 6 kap. 17 §: nobody before the chosen substitute in the turn order was free to serve.
    A substitute called in for a member with förhinder and confirmed took her turn when called."""
    if m.confirmed.get(data["substitute"]) == data["member"]:
        return
    serving = set(m.serving(r))
    jav = m.item.jav if m.item else {}
    party = r.person(data["member"]).party
    free = [
        s
        for s in r.substitutes
        if m.here(s.user) and s.user not in serving and s.user not in jav and not m.drops.get(s.user)
    ]
    same = [s.user for s in free if s.party == party]
    expected = (same or [s.user for s in free])[0]
    assert data["substitute"] == expected, "KL 6 kap. 17 §: out of turn"
    event("a substitute entered")


def run(steps, roster=ROSTER) -> Driver:
    d = Driver(roster, before_fold=check_outcome)
    for sender, arg in steps:
        _step(d, sender, arg)
        _check_list(d)
    return d


def _step(d: Driver, sender, arg) -> None:
    """One step of a random meeting: a command, or what the clock, the call or a chair does."""
    if sender == "hand":
        user, raised, k = arg
        d.hand(user, f"$hand{k}", raised)
    elif sender == "debate":
        if d.m is not None and d.m.current is None:
            d.say(CHAIR, "!ärende 1")
        for user, what in arg:
            if what == "hand":
                d.hand(user, f"$hand-{user}")
            elif what == "fråntaordet":
                d.say(CHAIR, f"!fråntaordet {user}")
            else:
                d.say(CHAIR if what == "!nästa" else user, what)
    elif sender == "call":  # the room's call state changes (followed only with element-call)
        user, joined = arg
        d.call(user, {"dev": None} if joined else {})
    elif sender == "wait":
        d.now += timedelta(seconds=arg)
    elif sender == "called":
        d.until_called()
    elif sender == "vote":
        d.say(CHAIR, "!teknikkontroll")
        for user in PEOPLE:
            d.say(user, "!ok")
        d.say(CHAIR, "!votering A / B")
        for user, choice in zip(MEMBERS, arg, strict=True):
            d.say(user, choice)
        d.say(CHAIR, "!votering klar")
    elif sender == "substitute":
        d.say(CHAIR, "!ajournera")
        for sub in (SUB1, SUB2):
            d.say(CHAIR, f"!ersätt {arg} {sub}")
        d.say(CHAIR, "!återuppta")
    elif sender == "sign":  # everyone tries to justera, the protocol or the paragraph up
        words = "!justera omedelbart" if d.m is not None and d.m.phase is Phase.OPEN else "!justera"
        for user in arg:
            d.say(user, words)
    elif sender == "round":
        d.say(CHAIR, f"!ärende {arg}")
        d.say(CHAIR, "!teknikkontroll")
        for user in PEOPLE:
            d.say(user, "!ok")
        d.say(CHAIR, "!beslut Bifall")
    else:
        outcome = d.say(sender, arg)
        assert isinstance(outcome, Accepted) or (
            isinstance(outcome, Refused) and outcome.body.startswith("⛔ ") and "§" in outcome.body
        )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, max_size=50))
def test_p11_p12_kl_6_27_random_meetings_keep_the_rules(steps):
    d = run(OPENING + steps)
    assert d.m.event_count == len(d.log)
    assert_protocol_invariants(d)
    d.protocol("md")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, max_size=50))
def test_p3_p5_p12_random_meetings_in_a_followed_call_keep_the_rules(steps):
    everyone_in_call = [("call", (u, True)) for u in (*MEMBERS, SUB1, SUB2, SECR)]
    d = run(OPENING[:2] + everyone_in_call + OPENING[2:] + steps, roster=CALL)
    if d.m.phase.value == "pågår":  # one here and out of the call has lost audio and video (§§ 3, 5)
        for user in d.m.present:
            if d.m.here(user) and user not in d.m.in_call and d.m.location.get(user) != "lokal":
                assert {"ljud", "bild"} <= d.m.drops.get(user, set()), user
    assert_protocol_invariants(d)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SENDER, COMMAND), max_size=30))
def test_p1_from_a_cold_start_only_the_chair_makes_a_meeting(steps):
    d = run(steps)
    if d.m is not None:
        first = d.log[0]
        assert first.kind == "convened" and first.actor in (CHAIR, VICE)
