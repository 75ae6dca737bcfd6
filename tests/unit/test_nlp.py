"""The project's spaCy pipeline: lemmatizer and domain entity ruler."""

import pytest

from bot.core.vocabulary import canonical


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
        ("back to the nerve study, who was in it", "STUDY", "mcalpine2024"),
        ("i was diagnosed with pots last year", "CONDITION", "pots"),
    ],
)
def test_entity_ruler_finds_domain_vocabulary(nlp, text, label, value):
    entities = [(e.label_, e.ent_id_) for e in nlp(text).ents]
    assert (label, value) in entities
    match = next(e for e in nlp(text).ents if e.label_ == label)
    assert canonical(label, match.text) == value
