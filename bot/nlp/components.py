"""Custom Rasa NLU components, placed after the intent classifier and the FallbackClassifier.

- UnknownWordsFallback: a message with no word the bot was trained on (keyboard mashing, an
  emoji) goes to the fallback, however confident the classifier is about it.
- RedFlagDetector: the deterministic safety net; overrides the intent with `emergency` or
  `crisis` whenever the red-flag matcher fires, whatever the classifier said.
"""
import json
from typing import Any, Dict, FrozenSet, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.red_flags import RedFlagMatcher

RED_FLAG = "red_flag"
FALLBACK_INTENT = "nlu_fallback"
VOCABULARY_FILE = "vocabulary.json"


def _override_intent(message: Message, name: Text) -> None:
    intent = {"name": name, "confidence": 1.0}
    ranking = [i for i in message.get(INTENT_RANKING_KEY) or [] if i.get("name") != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)


def _words(message: Message) -> FrozenSet[str]:
    return frozenset(t.text.lower() for t in message.get(TOKENS_NAMES[TEXT]) or [])


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


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False, model_from="SpacyNLP"
)
class RedFlagDetector(GraphComponent):
    @classmethod
    def required_components(cls) -> List[type]:
        return [SpacyNLP]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RedFlagDetector":
        return cls()

    def __init__(self) -> None:
        self._matcher: Optional[RedFlagMatcher] = None

    def _matcher_for(self, model: SpacyModel) -> RedFlagMatcher:
        if self._matcher is None:
            self._matcher = RedFlagMatcher.from_file(model.model)
        return self._matcher

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        matcher = self._matcher_for(model)
        for message in messages:
            text = message.get(TEXT)
            flag = matcher.detect(text) if text else None
            if flag is None:
                continue
            _override_intent(message, flag.kind)
            message.set(RED_FLAG, {"kind": flag.kind, "pattern": flag.pattern}, add_to_output=True)
        return messages
