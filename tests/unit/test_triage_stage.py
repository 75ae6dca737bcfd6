"""The triage stage alone (no Rasa server): risk model, decision, language, and the Rasa component."""

import pathlib

import numpy as np
import pytest
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.components import TriageStage
from bot.nlp.encoder import get_encoder
from bot.nlp.language import detect_language
from bot.triage.patterns import PatternMatcher
from bot.triage.risk import CLASSES, RiskModel, load_examples, sentences
from bot.triage.stage import Triage

ORDINARY = [
    "what is ivig",
    "is it safe",
    "how much does it cost",
    "tell me about the studies",
    "thanks",
    "I'm so tired all the time",
    "what are the side effects",
    "how long does an infusion take",
]


@pytest.fixture(scope="module")
def risk():
    """Trained as the pipeline trains it: every topic example of the NLU data is an ordinary message."""
    from rasa.shared.nlu.training_data.loading import load_data

    nlu_dir = pathlib.Path(__file__).resolve().parents[2] / "data" / "nlu"
    topic_examples = [m.get("text") for m in load_data(str(nlu_dir)).intent_examples]
    return RiskModel.train(get_encoder(), load_examples(), topic_examples + ORDINARY)


@pytest.fixture(scope="module")
def triage(nlp, risk):
    return Triage(PatternMatcher.from_file(nlp), risk, get_encoder())


def test_the_risk_model_reads_indirect_phrasing(risk):
    hit = risk.assess(get_encoder(), "honestly they'd all manage fine if I just wasn't around anymore")
    assert hit is not None and hit.level == "crisis"
    assert risk.assess(get_encoder(), "what is ivig made of") is None


def test_the_risk_model_reads_a_long_message_sentence_by_sentence(risk):
    story = "I have questions about IVIG and my insurance. " * 20
    hit = risk.assess(get_encoder(), story + "Everyone would be better off without me. How much does it cost?")
    assert hit is not None and hit.level == "crisis" and "better off without me" in hit.sentence


def test_sentences_keep_the_whole_message_first():
    assert sentences("one. two! three?") == ["one. two! three?", "one.", "two!", "three?"]
    assert sentences("just one") == ["just one"]


def test_saved_and_loaded_models_agree(risk, tmp_path):
    risk.save(tmp_path / "risk.npz")
    loaded = RiskModel.load(tmp_path / "risk.npz")
    vectors = get_encoder().encode(["i want to die", "what is ivig"])
    assert loaded.classes == CLASSES
    assert np.allclose(loaded.probabilities(vectors), risk.probabilities(vectors))
    assert loaded.examples.shape == risk.examples.shape and list(loaded.example_levels) == list(risk.example_levels)


def test_a_level_is_raised_only_near_one_of_its_examples():
    """A network is sure of itself on text unlike anything it learned ("purple elbow tuesday" an emergency)."""

    class Encoder:
        def encode(self, texts):
            return np.array([[0.8, 0.6] if "near" in t else [0.0, 1.0] for t in texts], dtype=np.float32)

    probabilities = np.full(5, 0.02)
    probabilities[CLASSES.index("emergency")] = 0.92
    model = RiskModel(
        np.zeros((2, 1)), np.zeros(1), np.zeros((1, 5)), np.log(probabilities), examples=[[1.0, 0.0]], example_levels=["emergency"]
    )
    assert model.assess(Encoder(), "near one of the examples").level == "emergency"
    assert model.assess(Encoder(), "purple elbow tuesday") is None


def test_a_pattern_decides_first_and_says_its_language(triage):
    decision = triage.decide("me quiero morir")
    assert (decision.level, decision.source, decision.language) == ("crisis", "pattern", "es")
    assert triage.decide("what is ivig").level is None


def test_distress_words_do_not_hide_a_crisis_the_risk_model_reads(nlp, risk):
    class Says:
        """A risk model that finds `level` in every message (the decision rule alone is under test)."""

        def __init__(self, level):
            self.level = level

        def assess(self, encoder, text, language="en"):
            from bot.triage.risk import RiskHit

            return RiskHit(self.level, 0.9, text) if self.level else None

    patterns = PatternMatcher(nlp, {"distress": {"en": ["really struggling"]}, "emergency": {"en": ["chest pain"]}})
    text = "I've been really struggling and it's the only thing that quiets my head"
    assert Triage(patterns, Says("crisis"), object()).decide(text).level == "crisis"
    assert Triage(patterns, Says(None), object()).decide(text).level == "distress"
    assert Triage(patterns, Says("distress"), object()).decide(text).source == "pattern"
    # Any other pattern level stands: the risk model never overrules an emergency the patterns found.
    assert Triage(patterns, Says("crisis"), object()).decide("chest pain now").level == "emergency"


@pytest.mark.parametrize("text", ["...", "??", "👍", "  "])
def test_a_message_without_words_is_not_read_by_the_risk_model(nlp, text):
    class Alarmed:
        def assess(self, encoder, text, language="en"):
            from bot.triage.risk import RiskHit

            return RiskHit("crisis", 0.99, text)

    assert Triage(PatternMatcher(nlp, {}), Alarmed(), object()).decide(text).level is None
    assert Triage(PatternMatcher(nlp, {}), Alarmed(), object()).decide("ok...").level == "crisis"


def test_the_risk_model_reads_the_message_without_its_figures_of_speech(nlp):
    class Reads:
        """A risk model that raises a crisis when it reads "kill" (what it is given is under test)."""

        def __init__(self):
            self.read = []

        def assess(self, encoder, text, language="en"):
            from bot.triage.risk import RiskHit

            self.read.append(text)
            return RiskHit("crisis", 0.9, text) if "kill" in text else None

    patterns = PatternMatcher(nlp, {"figures": {"en": ["is killing me"]}})
    model = Reads()
    assert Triage(patterns, model, object()).decide("This brain fog is killing me.").level is None
    assert "kill" not in model.read[-1] and "brain fog" in model.read[-1]
    # The rest of the message is still read: the figure hides only its own words.
    assert Triage(patterns, model, object()).decide("The fog is killing me, I want to kill myself").level == "crisis"
    # A message that is only a figure of speech leaves nothing to read.
    model.read.clear()
    assert Triage(patterns, model, object()).decide("is killing me").level is None and model.read == []


@pytest.mark.parametrize(
    "text, language",
    [
        ("¿Cuánto cuesta la inmunoglobulina para el covid persistente?", "es"),
        ("Est-ce que les IgIV sont efficaces pour le covid long ?", "fr"),
        ("Welche Nebenwirkungen hat IVIG bei Long Covid?", "de"),
        ("what are the side effects of ivig", "en"),
        ("explícame más sencillo", "es"),  # a short "say it simpler" in another language
        ("expliquez plus simplement", "fr"),
        ("say it more simply please", "en"),
        ("gracias", "en"),  # short small talk stays with the classifier
        ("ok", "en"),
    ],
)
def test_language_of_a_message(text, language):
    assert detect_language(text) == language


def test_the_rasa_component_overrides_the_intent_and_reads_the_cut_off_tail(nlp, risk):
    stage = TriageStage({"model_dir": "build/encoder/all-MiniLM-L6-v2"}, None, None, risk)
    cut = Message(
        data={"text": "I have had long covid for two years. " * 50, "metadata": {"triage_tail": " and now my throat is closing up"}}
    )
    cut.set("intent", {"name": "side_effects", "confidence": 0.9})
    plain = Message(data={"text": "what does ivig cost"})
    plain.set("intent", {"name": "cost_insurance", "confidence": 0.9})
    button = Message(data={"text": "/crisis"})
    stage.process([cut, plain, button], SpacyModel(model=nlp, model_name="ivig_en"))
    assert cut.get("intent")["name"] == "emergency" and cut.get("triage")["level"] == "emergency"
    assert plain.get("intent")["name"] == "cost_insurance" and plain.get("triage")["level"] is None
    assert button.get("triage") is None


def test_a_lone_sentence_of_a_long_message_needs_near_certainty(risk):
    """Read alone, a sentence loses its context; the message, or two neighbouring sentences, decide."""
    from bot.triage.risk import SENTENCE_THRESHOLD, THRESHOLD

    assert THRESHOLD < SENTENCE_THRESHOLD
    diary = (
        "Second infusion went fine. They weighed me and took bloods. "
        "I take bisoprolol 5mg and loratadine 10mg every morning. Can I have my usual coffee before the drip?"
    )
    assert risk.assess(get_encoder(), diary) is None
    hit = risk.assess(get_encoder(), "The infusion was fine. I've written letters to my kids and I've made my decision.")
    assert hit is not None and hit.level == "crisis"


def test_in_spanish_and_french_the_risk_model_raises_only_distress():
    """The encoder reads English: its emergency, poisoning and crisis votes on Spanish and French are left to the patterns."""
    from bot.triage.risk import RiskModel

    class Encoder:
        def encode(self, texts):
            return np.ones((len(texts), 2), dtype=np.float32)

    def model(level_column):
        # No hidden weights: the output bias alone gives the same class probabilities for every text.
        probabilities = np.full(5, 0.02)
        probabilities[level_column] = 0.92
        return RiskModel(np.zeros((2, 1)), np.zeros(1), np.zeros((1, 5)), np.log(probabilities))

    for level in ("poisoning", "crisis", "emergency", "distress"):
        column = CLASSES.index(level)
        assert model(column).assess(Encoder(), "any text", "en").level == level
        in_spanish = model(column).assess(Encoder(), "any text", "es")
        assert (in_spanish.level if in_spanish else None) == (level if level == "distress" else None)


def test_a_crisis_the_risk_model_reads_in_recovered_history_gets_the_gentle_reply(nlp):
    """As for the patterns: thoughts told as long past with a recovery get distress (which still offers the crisis
    line); the same model on a present crisis, or on history with no recovery said, stays a crisis."""
    from bot.triage.risk import RiskModel

    class Encoder:
        def encode(self, texts):
            return np.ones((len(texts), 2), dtype=np.float32)

    probabilities = np.full(5, 0.02)
    probabilities[CLASSES.index("crisis")] = 0.92
    always_crisis = RiskModel(np.zeros((2, 1)), np.zeros(1), np.zeros((1, 5)), np.log(probabilities))
    triage = Triage(PatternMatcher.from_file(nlp), always_crisis, Encoder())
    recovered = "A few years back I went through a very dark time, got proper support and I'm doing well now. Does IVIG affect mood?"
    assert triage.decide(recovered).level == "distress"
    assert triage.decide("A few years back I went through a very dark time and it has come back this week").level == "crisis"
    assert triage.decide("everyone would be better off if I wasn't here, I'm doing well at hiding it").level == "crisis"
