"""The project's spaCy pipeline and the red-flag safety net."""
import pytest

from bot.nlp.pipeline import canonical
from bot.nlp.red_flags import RedFlagMatcher, compile_pattern


def test_pipeline_is_blank_english_with_lemmatizer_and_ruler(nlp):
    assert nlp.lang == "en"
    assert nlp.pipe_names == ["lemmatizer", "entity_ruler"]
    assert [t.lemma_ for t in nlp("breathing pains")] == ["breathe", "pain"]


@pytest.mark.parametrize(
    "text, label, value",
    [
        ("does it help Brain Fog?", "SYMPTOM", "brain_fog"),
        ("what did seibert find", "STUDY", "seibert2024"),
        ("tell me about NCT06305793", "STUDY", "trial_recover_autonomic"),
        ("i was diagnosed with pots last year", "CONDITION", "pots"),
    ],
)
def test_entity_ruler_finds_domain_vocabulary(nlp, text, label, value):
    entities = [(e.label_, e.ent_id_) for e in nlp(text).ents]
    assert (label, value) in entities
    match = next(e for e in nlp(text).ents if e.label_ == label)
    assert canonical(label, match.text) == value


@pytest.fixture(scope="module")
def matcher(nlp):
    return RedFlagMatcher.from_file(nlp)


@pytest.mark.parametrize("kind", ["emergency", "crisis"])
def test_red_flags_are_caught(matcher, red_flag_cases, kind):
    missed = [text for text in red_flag_cases[kind] if (matcher.detect(text) or None) is None
              or matcher.detect(text).kind != kind]
    assert missed == []


def test_ordinary_questions_raise_no_red_flag(matcher, red_flag_cases):
    raised = [(text, matcher.detect(text).pattern) for text in red_flag_cases["none"] if matcher.detect(text)]
    assert raised == []


def test_red_flag_inside_a_longer_message(matcher):
    text = ("Thanks for the info about costs. My mum had her infusion this morning and now "
            "she CAN'T BREATHE properly and her lips look blue, also what about insurance?")
    assert matcher.detect(text).kind == "emergency"


def test_grammar_alternatives_optional_words_and_gaps(nlp):
    matcher = RedFlagMatcher(nlp, {"emergency": ["sharp? chest pain|pressure", "can't ... breathe"], "crisis": []})
    assert matcher.detect("sharp chest pressure").kind == "emergency"
    assert matcher.detect("Chest pains since lunch").kind == "emergency"  # lemma match
    assert matcher.detect("I can't really properly breathe").kind == "emergency"
    assert matcher.detect("I can't go out, hard to breathe") is None  # gap longer than three words
    # single-word alternatives share one token spec: only the optional word doubles the patterns
    assert len(compile_pattern(nlp, "sharp? chest pain|pressure")) == 2


def test_crisis_wins_over_emergency(nlp):
    matcher = RedFlagMatcher(nlp, {"emergency": ["can't breathe"], "crisis": ["want to die"]})
    assert matcher.detect("i can't breathe and i want to die").kind == "crisis"
