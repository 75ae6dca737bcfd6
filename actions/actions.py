"""Thin custom actions: pick the topic, ask bot.answers for the reply, dispatch it.

All wording and citations live in bot/content/; the safety message is added by bot.answers.
"""
import abc
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.answers import Reply, default_builder
from bot.content_store import KNOWLEDGE_TOPICS
from bot.routing import named_studies, topic_for

SLOT_CURRENT_TOPIC = "current_topic"
INTENT_MORE_DETAIL = "more_detail"
INTENT_STUDY_DETAILS = "study_details"


def latest_intent(tracker: Tracker) -> Optional[Text]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


class AnswerAction(Action, metaclass=abc.ABCMeta):
    """Sends one Reply and remembers the topic it was about.

    Subclasses implement `reply_for`. Needs the `current_topic` slot in the domain.
    """

    @abc.abstractmethod
    def reply_for(self, tracker: Tracker) -> Reply:
        """The reply to the patient's latest message."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        reply = self.reply_for(tracker)
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons, json_message=reply.payload)
        topic = reply.payload["topic"]
        if topic in KNOWLEDGE_TOPICS and topic != "sources" and topic != tracker.get_slot(SLOT_CURRENT_TOPIC):
            return [SlotSet(SLOT_CURRENT_TOPIC, topic)]
        return []


class ActionAnswerTopic(AnswerAction):
    """Answers every topic intent (intent name = topic id) and the NLU fallback."""

    def name(self) -> Text:
        return "action_answer_topic"

    def reply_for(self, tracker: Tracker) -> Reply:
        entities = (tracker.latest_message or {}).get("entities") or []
        topic = topic_for(latest_intent(tracker), entities)
        if topic == "sources":
            return default_builder().sources(tracker.get_slot(SLOT_CURRENT_TOPIC), named_studies(entities))
        return default_builder().answer(topic)


class ActionAnswerFollowUp(AnswerAction):
    """'Tell me more' and 'how many people were in it?' about the topic just discussed."""

    def name(self) -> Text:
        return "action_answer_follow_up"

    def reply_for(self, tracker: Tracker) -> Reply:
        topic = tracker.get_slot(SLOT_CURRENT_TOPIC)
        if latest_intent(tracker) == INTENT_STUDY_DETAILS:
            return default_builder().study_details(topic)
        return default_builder().more(topic)


class ActionRecordFeedback(Action):
    """Thumbs up/down from the widget: the user event itself is the record, nothing is sent back."""

    def name(self) -> Text:
        return "action_record_feedback"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        return []
