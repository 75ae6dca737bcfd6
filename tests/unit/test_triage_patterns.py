"""The deterministic triage alone (no Rasa): hand-written cases per level, the grammar, the whole message."""
import pytest

from bot.triage.patterns import LEVELS, PatternMatcher, compile_pattern


@pytest.fixture(scope="module")
def matcher(nlp):
    return PatternMatcher.from_file(nlp)


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_is_caught(matcher, triage_cases, level):
    assert triage_cases.get(level), f"triage_cases.yml has no cases for {level}"
    wrong = [(text, getattr(matcher.detect(text), "level", None)) for text in triage_cases[level]]
    assert [(text, got) for text, got in wrong if got != level] == []


def test_everyday_messages_raise_no_level(matcher, triage_cases):
    raised = [(text, hit.level, hit.pattern) for text in triage_cases["none"] if (hit := matcher.detect(text))]
    assert raised == []


def test_a_red_flag_far_into_a_long_message(matcher):
    story = "I have had Long COVID for two years and I am reading about IVIG and my insurance. " * 40
    assert len(story) > 2000
    assert matcher.detect(story) is None
    assert matcher.detect(story + " Also my throat is closing up right now.").level == "emergency"


def test_a_message_longer_than_spacy_allows_is_read_to_the_end(matcher):
    text = "ordinary words about fatigue. " * 40_000 + "i swallowed a whole bottle of tylenol"
    assert len(text) > 1_000_000
    assert matcher.detect(text).level == "poisoning"


def test_grammar_alternatives_optional_words_and_gaps(nlp):
    matcher = PatternMatcher(nlp, {"emergency": {"en": ["sharp? chest pain|pressure", "can't ... breathe"]}})
    assert matcher.detect("sharp chest pressure").level == "emergency"
    assert matcher.detect("Chest pains since lunch").level == "emergency"  # lemma match
    assert matcher.detect("I can't really properly breathe").level == "emergency"
    assert matcher.detect("I can't go out, hard to breathe") is None  # gap longer than three words
    # single-word alternatives share one token spec: only the optional word doubles the patterns
    assert len(compile_pattern(nlp, "sharp? chest pain|pressure")) == 2


def test_most_urgent_level_wins_and_ignore_spans_drop_a_match(nlp):
    matcher = PatternMatcher(nlp, {
        "emergency": {"en": ["can't breathe"]},
        "crisis": {"en": ["want to die", "killing me"]},
        "poisoning": {"en": ["took 20 pills"]},
        "ignore": {"en": ["paperwork is killing me"]},
    })
    assert matcher.detect("i can't breathe and i want to die").level == "crisis"
    assert matcher.detect("i took 20 pills and want to die").level == "poisoning"
    assert matcher.detect("this paperwork is killing me") is None
    assert matcher.detect("this paperwork is killing me and i want to die").level == "crisis"


def test_accents_and_language_of_the_hit(nlp):
    matcher = PatternMatcher(nlp, {"crisis": {"fr": ["veux mourir"], "es": ["quiero morir"]}})
    assert matcher.detect("Je VEUX mourir").language == "fr"
    assert matcher.detect("quiero morír").language == "es"


def test_unknown_levels_and_languages_are_refused(tmp_path):
    from bot.triage.patterns import load_patterns

    (tmp_path / "p.yml").write_text("panic:\n  en: [help]\n")
    with pytest.raises(ValueError, match="unknown triage levels"):
        load_patterns(tmp_path / "p.yml")
    (tmp_path / "p.yml").write_text("crisis:\n  de: [sterben]\n")
    with pytest.raises(ValueError, match="unknown languages"):
        load_patterns(tmp_path / "p.yml")
