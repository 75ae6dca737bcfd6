"""Custom Rasa NLU components.

- SentenceEmbeddingFeaturizer: pretrained sentence embeddings as dense features.
- UnknownWordsFallback: a message with no word the bot was trained on (keyboard mashing, an
  emoji) goes to the fallback, however confident the classifier is about it.
- TriageStage: the safety triage (bot/triage); placed last, its decision wins over the topic.
"""

import hashlib
import json
import pathlib
from typing import Any, Dict, FrozenSet, List, Optional, Text

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core.settings import resolve_project_path
from bot.nlp import encoder as encoder_module
from bot.nlp.encoder import DEFAULT_MODEL_DIR, get_encoder
from bot.triage import TRIAGE_TAIL
from bot.triage import risk as risk_module
from bot.triage.patterns import PatternMatcher
from bot.triage.risk import EXAMPLES_FILE, RiskModel, load_examples
from bot.triage.stage import Triage

TRIAGE = "triage"
METADATA = "metadata"
RISK_MODEL_FILE = "risk_model.npz"
FALLBACK_INTENT = "nlu_fallback"
VOCABULARY_FILE = "vocabulary.json"


def _digest(*paths: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _override_intent(message: Message, name: Text) -> None:
    intent = {"name": name, "confidence": 1.0}
    ranking = [i for i in message.get(INTENT_RANKING_KEY) or [] if i.get("name") != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)


def _words(message: Message) -> FrozenSet[str]:
    """The message's words; punctuation and emoji are not words, so "???" or "🙃" alone is not understood."""
    return frozenset(t.text.lower() for t in message.get(TOKENS_NAMES[TEXT]) or [] if any(c.isalnum() for c in t.text))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class UnknownWordsFallback(GraphComponent):
    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary=frozenset()):
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary: FrozenSet[str] = frozenset(vocabulary)

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "UnknownWordsFallback":
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = frozenset().union(*(_words(m) for m in training_data.intent_examples))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary)))
        return self._resource

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs) -> "UnknownWordsFallback":
        with model_storage.read_from(resource) as directory:
            vocabulary = json.loads((directory / VOCABULARY_FILE).read_text())
        return cls(model_storage, resource, vocabulary)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.startswith("/") and not _words(message) & self.vocabulary:
                _override_intent(message, FALLBACK_INTENT)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from the pretrained encoder (bot/nlp/encoder.py), beside the sparse ones.

    Rasa's LogisticRegressionClassifier stacks every sentence feature it finds, so the classifier sees
    word and character n-grams and the meaning of the whole message. `scale` weighs the unit-length
    embedding against the sparse counts (measured: README "Measuring").
    """

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_dir": str(DEFAULT_MODEL_DIR), "scale": 1.0}

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.model_dir = resolve_project_path(self._config["model_dir"])
        get_encoder(self.model_dir)  # verifies the pinned files now: a mismatch stops training or loading

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Rasa's training cache must see a change of the encoder code (the model files are pinned)."""
        return _digest(pathlib.Path(encoder_module.__file__))

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("SentenceEmbeddingFeaturizer: scale must be positive")

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    def process(self, messages: List[Message]) -> List[Message]:
        texts = [message.get(TEXT) for message in messages]
        todo = [(message, text) for message, text in zip(messages, texts) if text]
        if todo:
            vectors = get_encoder(self.model_dir).encode([text for _, text in todo]) * float(self._config["scale"])
            for (message, _), vector in zip(todo, vectors):
                self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True, model_from="SpacyNLP")
class TriageStage(GraphComponent):
    """The safety triage as a pipeline stage: its decision wins over the topic classifier's.

    Reads the whole message: the text Rasa classifies, plus the part a channel cut off for length
    (metadata `triage_tail`, set by bot/rasa_ext/channels.py). Sets the intent to the level (`emergency`,
    `poisoning`, `crisis`, `distress`) when one is raised, and always outputs `triage` (level, source,
    language) for the actions. Trains the learned risk model (bot/triage/risk.py) with the topic
    examples as ordinary messages.
    """

    @classmethod
    def required_components(cls) -> List[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"model_dir": str(DEFAULT_MODEL_DIR)}

    def __init__(self, config, model_storage: ModelStorage, resource: Resource, risk: Optional[RiskModel] = None):
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._risk = risk
        self._triage: Optional[Triage] = None

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The risk model is trained from files outside Rasa's training data: a change must retrain it."""
        return _digest(pathlib.Path(risk_module.__file__), EXAMPLES_FILE, pathlib.Path(encoder_module.__file__))

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "TriageStage":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def _encoder(self):
        return get_encoder(resolve_project_path(self._config["model_dir"]))

    def train(self, training_data: TrainingData, model: SpacyModel) -> Resource:
        ordinary = [m.get(TEXT) for m in training_data.intent_examples if m.get(TEXT)]
        self._risk = RiskModel.train(self._encoder(), load_examples(), ordinary)
        with self._model_storage.write_to(self._resource) as directory:
            self._risk.save(directory / RISK_MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs) -> "TriageStage":
        with model_storage.read_from(resource) as directory:
            risk = RiskModel.load(directory / RISK_MODEL_FILE)
        return cls({**cls.get_default_config(), **config}, model_storage, resource, risk)

    def triage(self, model: SpacyModel) -> Triage:
        if self._triage is None:
            self._triage = Triage(PatternMatcher.from_file(model.model), self._risk, self._encoder())
        return self._triage

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        triage = self.triage(model)
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # buttons and widget events carry no patient words
            metadata = message.get(METADATA) or {}
            tail = metadata.get(TRIAGE_TAIL) if isinstance(metadata, dict) else None
            decision = triage.decide(text + (" " + tail if isinstance(tail, str) else ""))
            message.set(TRIAGE, decision.as_dict(), add_to_output=True)
            if decision.level:
                _override_intent(message, decision.level)
        return messages


# The class path older configs and trained models name.
RedFlagDetector = TriageStage
