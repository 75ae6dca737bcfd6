"""Custom Rasa NLU component: the red-flag safety net inside Rasa's pipeline.

Placed after the intent classifier and the FallbackClassifier, it overrides the intent with
`emergency` or `crisis` whenever the deterministic matcher fires, whatever the classifier said.
"""
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.red_flags import RedFlagMatcher

RED_FLAG = "red_flag"


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
            intent = {"name": flag.kind, "confidence": 1.0}
            ranking = [i for i in message.get(INTENT_RANKING_KEY) or [] if i.get("name") != flag.kind]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
            message.set(RED_FLAG, {"kind": flag.kind, "pattern": flag.pattern}, add_to_output=True)
        return messages
