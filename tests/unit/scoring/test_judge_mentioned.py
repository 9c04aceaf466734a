"""judge.mentioned: a decision that names what was expected, played as adversarial tabletop teams would."""

from __future__ import annotations

import pytest

from simulator.scoring.judge import mentioned

LEGAL = ["regulator", "72", "notification", "legal"]
#: every keyword group of the data-breach tabletop (what a team could paste)
VOCABULARY = [["revoke", "rotate"], ["preserve", "evidence", "snapshot"], ["scope", "records", "affected"], LEGAL,
              ["customer", "notify", "status page"], ["press", "statement", "holding"]]


@pytest.mark.parametrize(("text", "phrase"), [
    ("With legal: regulator notification within 72 hours", "regulator"),
    ("We must tell counsel within 72 hours", "72"),
    ("Counsel says the clock is 72h from discovery", "72"),
    ("The 72-hour clock started; counsel is drafting the notice", "72"),
    ("Legal agreed that we file with the data protection authority", "legal"),
    ("Notifications go out once counsel signs off", "notification"),
])
def test_words_and_numbers_are_said(text: str, phrase: str) -> None:
    assert mentioned(text, LEGAL, VOCABULARY).phrase == phrase


@pytest.mark.parametrize("text", [
    "It would be illegal to wait that long",  # "legal" is not "illegal"
    "About 172 records were exported",  # "72" is not "172"
    "7200 requests in the last hour",  # nor "7200"
    "The job ran 1.72 seconds",
    "We talked to the paralegal team",
])
def test_near_misses_say_nothing(text: str) -> None:
    m = mentioned(text, LEGAL, VOCABULARY)
    assert m.phrase is None and m.reason.startswith("names none of"), m


@pytest.mark.parametrize("text", ["Do not notify legal.", "We will not involve legal yet.",
                                  "Don't tell legal until Monday."])
def test_a_denied_decision_is_not_the_decision(text: str) -> None:
    m = mentioned(text, ["legal"], VOCABULARY)
    assert m.phrase is None and m.reason == "'legal' only denied"


@pytest.mark.parametrize("text", [
    "regulator 72 notification legal",
    "regulator, 72, notification, legal",
    "Keywords: regulator; 72; notification; legal",
    "revoke rotate preserve evidence snapshot scope records affected regulator 72 notification legal customer "
    "notify status page press statement holding",
])
def test_pasted_keywords_earn_nothing(text: str) -> None:
    m = mentioned(text, LEGAL, VOCABULARY)
    assert m.phrase is None and "keywords" in m.reason, m


def test_keywords_padded_with_a_stray_word_are_still_pasted() -> None:
    m = mentioned("regulator 72 notification legal banana", LEGAL, VOCABULARY)
    assert m.phrase is None and m.reason == "only in a pasted list of keywords"


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty"), ("   ", "empty"), ("TBD", "only placeholder text"),
    ("legal legal legal legal", "the same words over and over"),
    ("Lorem ipsum dolor sit amet, legal", "lorem ipsum placeholder text"),
])
def test_filler_earns_nothing(text: str, why: str) -> None:
    m = mentioned(text, LEGAL, VOCABULARY)
    assert m.phrase is None and m.reason == why


def test_telegraphic_notes_of_a_careful_team_count() -> None:
    assert mentioned("Scope: 12,400 customer records read (names, emails, last4)", ["scope", "records"],
                     VOCABULARY).phrase == "scope"
    assert mentioned("Customer notification email approved; status page updated", ["customer", "notify"],
                     VOCABULARY).phrase == "customer"
    assert mentioned("Revoke and rotate the leaked admin key now", ["revoke", "rotate"], VOCABULARY).phrase == "revoke"
    # a stem is a word: "rotated" says "rotate", "notified" says "notify"
    assert mentioned("Key rotated at 09:12 by Bo", ["rotate"], VOCABULARY).phrase == "rotate"


def test_a_later_sentence_can_still_assert_what_an_earlier_one_denied() -> None:
    m = mentioned("Do not wait for the press. Call legal now.", ["legal"], VOCABULARY)
    assert m.phrase == "legal"
