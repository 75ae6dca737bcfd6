"""Thin custom actions: pick the reply, ask bot.core.answers to build it, dispatch it.

All wording and citations live in bot/content/; the safety message and the urgent replies' own last
line are added by bot.core.answers. The order of decisions, the same for every answer action:
1. the safety triage raised a level on this message -> its urgent reply (whatever the topic); a distress
   message that also asks an IVIG question gets the distress acknowledgement, then the answer;
2. otherwise the action's own reply (topic, follow-up, short form, language note);
3. in the turns after an urgent reply, that reply's reminder comes first, and small talk ("ok
   thanks", "it went away") gets only the reminder.
"""

import abc
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.core.answers import DETAILS, Reply, default_builder
from bot.core.content_store import KNOWLEDGE_TOPICS, URGENT_TOPICS
from bot.core.routing import STUDY_TOPIC_IDS, details_topic, earlier_topic, named_studies, named_study_topic, topic_for, topic_in_context

SLOT_CURRENT_TOPIC = "current_topic"
SLOT_CURRENT_STUDY = "current_study"
SLOT_DETAIL_DEPTH = "detail_depth"
SLOT_URGENT_LEVEL = "urgent_level"
SLOT_URGENT_TURNS_LEFT = "urgent_turns_left"
INTENT_MORE_DETAIL = "more_detail"
INTENT_STUDY_DETAILS = "study_details"
INTENT_SIMPLER = "simpler"
INTENT_EARLIER_TOPIC = "earlier_topic"
# How many patient turns after an urgent reply start with its reminder.
URGENT_CARRY_TURNS = 3
DISTRESS = "distress"
# Replies that, right after an urgent reply, would read as if nothing happened: only the reminder instead.
SMALL_TALK_TOPICS = frozenset({"greeting", "goodbye", "thanks", "bot_identity", "capabilities", "out_of_scope", "fallback"})


# A distress message that also asks an IVIG question ("I just want my life back. Could IVIG cure it?") gets the
# distress acknowledgement and then the answer, when the classifier was this sure of the question's topic
# before the triage's decision replaced it.
QUESTION_BESIDE_DISTRESS = 0.6


def question_beside_distress(tracker: Tracker) -> Optional[Text]:
    """The IVIG topic a distress message also asks about (English, with a question mark), or None."""
    message = tracker.latest_message or {}
    if "?" not in (message.get("text") or "") or (triage_of(tracker).get("language") or "en") != "en":
        return None
    asked = [i for i in message.get("intent_ranking") or [] if i.get("name") not in URGENT_TOPICS]
    if not asked or asked[0].get("name") not in KNOWLEDGE_TOPICS:
        return None
    return asked[0]["name"] if float(asked[0].get("confidence") or 0.0) >= QUESTION_BESIDE_DISTRESS else None


def text_of(tracker: Tracker) -> Text:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> Optional[Text]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def discussed_topics(tracker: Tracker) -> List[Text]:
    """The topics of this conversation in the order they were answered (from the current_topic slot's history)."""
    return [e["value"] for e in tracker.events if e.get("event") == "slot" and e.get("name") == SLOT_CURRENT_TOPIC and e.get("value")]


def triage_of(tracker: Tracker) -> Dict[Text, Any]:
    """The triage decision on the latest message (bot/triage), as the NLU pipeline output it."""
    return (tracker.latest_message or {}).get("triage") or {}


class AnswerAction(Action, metaclass=abc.ABCMeta):
    """Sends one Reply and remembers what it was about.

    Subclasses implement `reply_for`. Needs the slots current_topic, current_study, detail_depth,
    urgent_level and urgent_turns_left in the domain, and the `triage` output of bot.nlp.components.
    """

    @abc.abstractmethod
    def reply_for(self, tracker: Tracker) -> Reply:
        """The reply to the patient's latest message when the triage raised no level."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        triage = triage_of(tracker)
        level = triage.get("level") or (latest_intent(tracker) if latest_intent(tracker) in URGENT_TOPICS else None)
        carried = tracker.get_slot(SLOT_URGENT_LEVEL) if int(tracker.get_slot(SLOT_URGENT_TURNS_LEFT) or 0) > 0 else None
        if level == DISTRESS and carried not in (None, DISTRESS):
            # Right after an emergency, poisoning or crisis reply, low words ("it went away, can I just go to
            # sleep?") do not replace it with the gentler distress reply: the line that matters comes again.
            reply, events = self._carry_over(tracker, None)
        elif level:
            asked = question_beside_distress(tracker) if level == DISTRESS else None
            if asked:
                reply = default_builder().beside_distress(default_builder().answer(asked))
            else:
                reply = default_builder().urgent(level, triage.get("language") or "en")
            events = [SlotSet(SLOT_URGENT_LEVEL, level), SlotSet(SLOT_URGENT_TURNS_LEFT, URGENT_CARRY_TURNS)]
        else:
            reply, events = self._carry_over(tracker, self.reply_for(tracker))
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons, json_message=reply.payload)
        return events + self._topic_events(tracker, reply)

    @staticmethod
    def _carry_over(tracker: Tracker, reply: Optional[Reply]):
        """The reply in the turns after an urgent reply: the reminder alone (small talk, or no reply of its own:
        None), or the reminder first."""
        level = tracker.get_slot(SLOT_URGENT_LEVEL)
        turns_left = int(tracker.get_slot(SLOT_URGENT_TURNS_LEFT) or 0)
        if not level or turns_left <= 0:
            return reply, []
        builder = default_builder()
        # After an emergency, poisoning or crisis reply, small talk gets only the line that matters. After the gentle
        # distress reply, "ok thanks" is answered as thanks, with the reminder first.
        if reply is None or (reply.payload["topic"] in SMALL_TALK_TOPICS and level != DISTRESS):
            reply = builder.carry_over(level)
        else:
            reply = builder.with_reminder(reply, level)
        left = turns_left - 1
        return reply, [SlotSet(SLOT_URGENT_TURNS_LEFT, left)] + ([] if left else [SlotSet(SLOT_URGENT_LEVEL, None)])

    @staticmethod
    def _topic_events(tracker: Tracker, reply: Reply) -> List[Dict[Text, Any]]:
        topic, kind = reply.payload["topic"], reply.payload["kind"]
        events = []
        if topic in KNOWLEDGE_TOPICS and topic != "sources" and kind == "answer":
            if topic != tracker.get_slot(SLOT_CURRENT_TOPIC):
                events.append(SlotSet(SLOT_CURRENT_TOPIC, topic))
            events.append(SlotSet(SLOT_DETAIL_DEPTH, 0))
            if topic in STUDY_TOPIC_IDS and topic != tracker.get_slot(SLOT_CURRENT_STUDY):
                events.append(SlotSet(SLOT_CURRENT_STUDY, topic))
        elif kind == DETAILS and topic in STUDY_TOPIC_IDS:
            # The study behind a symptom answer, just described: follow-ups are about it now.
            events += [SlotSet(SLOT_CURRENT_TOPIC, topic), SlotSet(SLOT_CURRENT_STUDY, topic), SlotSet(SLOT_DETAIL_DEPTH, 0)]
        elif kind == "more":
            events.append(SlotSet(SLOT_DETAIL_DEPTH, int(tracker.get_slot(SLOT_DETAIL_DEPTH) or 0) + 1))
        return events


class ActionAnswerTopic(AnswerAction):
    """Answers every topic intent (intent name = topic id) and the NLU fallback."""

    def name(self) -> Text:
        return "action_answer_topic"

    def reply_for(self, tracker: Tracker) -> Reply:
        language = triage_of(tracker).get("language") or "en"
        if language != "en":
            return default_builder().language_note(language)
        message = tracker.latest_message or {}
        entities = message.get("entities") or []
        topic = topic_for(latest_intent(tracker), entities)
        confidence = float((message.get("intent") or {}).get("confidence") or 0.0)
        topic = topic_in_context(topic, confidence, message.get("text") or "", entities, tracker.get_slot(SLOT_CURRENT_TOPIC))
        if topic == "sources":
            return default_builder().sources(tracker.get_slot(SLOT_CURRENT_TOPIC), named_studies(entities))
        return default_builder().answer(topic)


class ActionAnswerFollowUp(AnswerAction):
    """'Tell me more', 'say it simpler', 'how many people were in it?' about what was just discussed, and 'back to
    the first one'."""

    def name(self) -> Text:
        return "action_answer_follow_up"

    def reply_for(self, tracker: Tracker) -> Reply:
        topic = tracker.get_slot(SLOT_CURRENT_TOPIC)
        intent = latest_intent(tracker)
        language = triage_of(tracker).get("language") or "en"
        if language != "en" and not topic:
            # "je ne comprends pas" after the language note: nothing was answered yet, so the note again.
            return default_builder().language_note(language)
        if intent == INTENT_STUDY_DETAILS:
            # "How many people were in the case series?" names its study; "going back to that study, how long...":
            # the last study discussed, even after other topics (each summary names its study).
            named = named_study_topic((tracker.latest_message or {}).get("entities") or [])
            if named:
                return default_builder().study_details(named)
            study = details_topic(text_of(tracker), topic, tracker.get_slot(SLOT_CURRENT_STUDY), discussed_topics(tracker))
            return default_builder().study_details(study)
        if intent == INTENT_SIMPLER:
            return default_builder().short(topic)
        if intent == INTENT_EARLIER_TOPIC:
            earlier = earlier_topic(text_of(tracker), discussed_topics(tracker)) or topic
            # Nothing discussed yet: the same reply as "tell me more" with nothing before it.
            return default_builder().answer(earlier) if earlier else default_builder().more(None)
        return default_builder().more(topic, int(tracker.get_slot(SLOT_DETAIL_DEPTH) or 0))


class ActionRecordFeedback(Action):
    """Thumbs up/down from the widget: the user event itself is the record, nothing is sent back."""

    def name(self) -> Text:
        return "action_record_feedback"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        return []
