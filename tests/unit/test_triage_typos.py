"""Typos of the triage's own words are read as those words; real words and short words are left alone."""

import pytest

from bot.triage.typos import TypoCorrector, known_words, one_edit_apart


@pytest.fixture(scope="module")
def corrector():
    return TypoCorrector(["pills", "myself", "breath", "swollen", "anxiety", "bleed", "chest", "overdose"])


@pytest.mark.parametrize(
    "typo, word",
    [
        ("pils", "pills"),  # a letter dropped
        ("swolen", "swollen"),
        ("breth", "breath"),  # a letter dropped inside
        ("anxity", "anxiety"),
        ("myslef", "myself"),  # two neighbours swapped
        ("chset", "chest"),
        ("overdise", "overdose"),  # a letter changed
    ],
)
def test_a_typo_one_edit_away_is_read_as_the_pattern_word(corrector, typo, word):
    assert corrector.correct(typo) == word


def test_a_word_that_carries_meaning_wins_over_a_function_word():
    assert TypoCorrector(["that", "throat"]).correct("thoat") == "throat"


@pytest.mark.parametrize(
    "word",
    [
        "blend",  # an English word one edit from "bleed": never changed
        "breathe",  # a real word, not a typo of "breath"
        "pills",  # already a pattern word
        "pil",  # too short to correct safely
        "overdsoee",  # two edits away
        "gr8",  # not a word of letters
    ],
)
def test_real_words_short_words_and_far_typos_are_left_alone(corrector, word):
    assert corrector.correct(word) is None


def test_one_edit_apart():
    assert one_edit_apart("abcd", "abdc") and one_edit_apart("abcd", "abd") and one_edit_apart("abcd", "abxd")
    assert not one_edit_apart("abcd", "badc") and not one_edit_apart("abcd", "abcd")


def test_known_words_are_the_common_english_words():
    known = known_words()
    assert 40_000 < len(known) < 70_000
    assert {"breathe", "blend", "tired", "the"} <= known
    assert not {"pils", "myslef", "swolen"} & known


def test_the_matcher_reads_typos_of_its_words(nlp):
    from bot.triage.patterns import PatternMatcher

    matcher = PatternMatcher(nlp, {"crisis": {"en": ["hurt myself"]}, "emergency": {"en": ["ca|can not breathe"]}})
    assert matcher.detect("i hurt myslef").level == "crisis"
    assert matcher.detect("i cant breathr").level == "emergency"
    assert matcher.detect("i hurt my shelf") is None
