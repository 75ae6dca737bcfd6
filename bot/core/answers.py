"""Every reply the assistant sends is built here, so the answer contract holds in one place:
`text` ending with the safety message, and a payload with topic, citations and safety.
"""

import dataclasses
import functools
from typing import Any, Dict, Iterable, List, Optional, Sequence

from bot.core.content_store import KNOWLEDGE_TOPICS, TOPICS_WITHOUT_SAFETY, URGENT_TOPICS, Content, get_content
from bot.core.routing import STUDY_TOPIC_IDS
from bot.core.settings import Clinic, get_settings

# Payload `kind` values: what part of a topic a reply carries.
ANSWER, MORE, DETAILS, SOURCES, SHORT = "answer", "more", "details", "sources", "short"
URGENT, REMINDER, LANGUAGE, NO_MORE = "urgent", "reminder", "language", "no_more"


@dataclasses.dataclass(frozen=True)
class Reply:
    text: str
    buttons: List[Dict[str, str]]
    payload: Dict[str, Any]


def safety_message(clinic: Clinic, short: bool = False, content: Optional[Content] = None) -> str:
    """The canonical safety message; a clinic may extend it, never replace it."""
    content = content or get_content()
    text = content.messages["safety_short" if short else "safety"]
    return f"{text} {clinic.safety_extra}".strip()


class ReplyBuilder:
    """Renders topics from the curated content for one clinic."""

    def __init__(self, content: Optional[Content] = None, clinic: Optional[Clinic] = None, retention_days: Optional[int] = None):
        self.content = content or get_content()
        self.clinic = clinic or get_settings().clinic
        self.retention_days = get_settings().retention_days if retention_days is None else retention_days

    def _fill(self, text: str, **extra: Any) -> str:
        values = {**self.clinic.placeholders(), "retention_days": self.retention_days}
        if "{privacy_notice}" in text:
            notice = "privacy_notice_link" if self.clinic.privacy_notice_url else "privacy_notice_ask"
            values["privacy_notice"] = self.content.messages[notice].format(privacy_notice_url=self.clinic.privacy_notice_url, **values)
        return text.format(**values, **extra)

    def _reply(
        self,
        topic_id: str,
        body: str,
        kind: str,
        citation_ids: Sequence[str],
        follow_ups: Iterable[str],
    ) -> Reply:
        with_safety = topic_id not in TOPICS_WITHOUT_SAFETY
        safety = safety_message(self.clinic, short=topic_id == "greeting", content=self.content)
        text = self._fill(body).strip()
        # Answers from curated knowledge say when they were last checked (topics.yml last_checked).
        checked = self.content.topics[topic_id].checked_month if topic_id in KNOWLEDGE_TOPICS else ""
        if checked:
            text = f"{text}\n\n{self._fill(self.content.messages['checked'], checked_month=checked)}"
        if with_safety:
            text = f"{text}\n\n{safety}"
        questions = [self.content.topics[f] for f in follow_ups]
        return Reply(
            text=text,
            buttons=[{"title": t.question, "payload": f"/{t.id}"} for t in questions],
            payload={
                "topic": topic_id,
                "kind": kind,
                "citations": self.content.citations(citation_ids),
                "safety": with_safety,
                "safety_text": safety if with_safety else "",
                "follow_ups": [t.question for t in questions],
                "checked": checked,
            },
        )

    def plain(self, topic_id: str, kind: str, body: str) -> Reply:
        """A reply about no curated topic (the link to the doctor summary): the contract's text and payload."""
        return self._reply(topic_id, body, kind, (), ())

    def answer(self, topic_id: str) -> Reply:
        if topic_id in URGENT_TOPICS:
            return self.urgent(topic_id)
        topic = self.content.topics[topic_id]
        return self._reply(topic_id, topic.answer, ANSWER, topic.citations, topic.follow_ups)

    def more(self, topic_id: Optional[str], depth: int = 0) -> Reply:
        """'Tell me more' about the topic just discussed: deeper once, then says that is all and offers
        related questions instead of repeating itself."""
        if not topic_id:
            return self._no_topic()
        topic = self.content.topics[topic_id]
        if depth >= 1 or not topic.more:
            body = self.content.messages["no_more_detail"]
            return self._reply(topic_id, body, NO_MORE, (), topic.follow_ups or ("capabilities",))
        return self._reply(topic_id, topic.more, MORE, topic.citations, topic.follow_ups)

    def short(self, topic_id: Optional[str]) -> Reply:
        """'Say it simpler' / 'I don't understand': the 1-2 sentence form of the topic just discussed."""
        if not topic_id:
            return self._no_topic()
        topic = self.content.topics[topic_id]
        body = topic.short or topic.answer
        return self._reply(topic_id, body, SHORT, topic.citations, topic.follow_ups)

    def urgent(self, level: str, language: str = "en") -> Reply:
        """The triage reply: the action to take first, its own last line instead of the IVIG footer,
        no suggested IVIG questions; in the message's language first where the content has it."""
        urgent = self.content.urgent[level]
        translated = language in urgent.translations
        parts = [urgent.translations[language]] if translated else []
        parts += [urgent.answer, urgent.last_line]
        text = self._fill("\n\n".join(parts)).strip()
        return Reply(
            text=text,
            buttons=[],
            payload={
                "topic": level,
                "kind": URGENT,
                "citations": [],
                "safety": True,
                "safety_text": self._fill(urgent.last_line),
                "follow_ups": [],
                # The language of the first paragraph (the widget marks it up): English where there is no translation.
                "language": language if translated else "en",
            },
        )

    def reminder(self, level: str) -> str:
        """The line that matters, repeated first in the turns after an urgent reply."""
        return self._fill(self.content.urgent[level].reminder)

    def carry_over(self, level: str) -> Reply:
        """After an urgent reply, small talk ("ok thanks", "it went away") gets the reminder, not chat."""
        urgent = self.content.urgent[level]
        reply = self.urgent(level)
        text = self._fill(f"{urgent.reminder}\n\n{urgent.last_line}")
        return dataclasses.replace(reply, text=text, payload={**reply.payload, "kind": REMINDER})

    def with_reminder(self, reply: Reply, level: str) -> Reply:
        """Any other reply in those turns starts with the reminder (the payload names its level)."""
        return dataclasses.replace(reply, text=f"{self.reminder(level)}\n\n{reply.text}", payload={**reply.payload, "reminder": level})

    def beside_distress(self, reply: Reply) -> Reply:
        """An IVIG question asked beside low words: the distress acknowledgement (with the crisis line) first, then
        the answer, so the question is not left unanswered (the payload names the level, as a reminder does)."""
        acknowledgement = self._fill(self.content.urgent["distress"].answer)
        return dataclasses.replace(reply, text=f"{acknowledgement}\n\n{reply.text}", payload={**reply.payload, "reminder": "distress"})

    def language_note(self, language: str) -> Reply:
        """A message in another language: a note (in that language where the content has it, and in
        English) that the assistant answers in English, the suggested questions and the clinic contact."""
        messages = self.content.messages
        note = messages["language_note"]
        translated = messages.get(f"language_note_{language}")
        body = f"{translated}\n\n{note}" if translated else note
        reply = self._reply("fallback", body, LANGUAGE, (), self.content.topics["capabilities"].follow_ups)
        return dataclasses.replace(reply, payload={**reply.payload, "language": language if translated else "en"})

    def study_details(self, topic_id: Optional[str]) -> Reply:
        """'How many people were in it?': the studies behind the topic just discussed."""
        if not topic_id:
            return self._no_topic()
        topic = self.content.topics[topic_id]
        studies = [ref_id for ref_id in topic.citations if ref_id in self.content.studies]
        if not studies:
            body = self.content.messages["study_details_none"]
            return self._reply(topic_id, body, DETAILS, (), topic.follow_ups or ("sources",))
        if topic_id not in STUDY_TOPIC_IDS:
            # "How many people were in it?" after a symptom answer: when most of its studies belong to one study
            # topic, that study is described and answered as its topic, so the next follow-up is about it too.
            behind = [
                study
                for study in sorted(STUDY_TOPIC_IDS)
                if 2 * len(set(self.content.topics[study].citations) & set(studies)) > len(studies)
            ]
            if len(behind) == 1:
                return self.study_details(behind[0])
        # Each summary opens with the study's name, so figures of two studies never blur together.
        body = "\n\n".join(self.content.studies[ref_id] for ref_id in studies)
        return self._reply(topic_id, body, DETAILS, studies, topic.follow_ups)

    def sources(self, about_topic: Optional[str] = None, reference_ids: Sequence[str] = ()) -> Reply:
        """The references for named studies, for the topic just discussed, or all of them."""
        messages = self.content.messages
        topic_citations = self.content.topics[about_topic].citations if about_topic else ()
        if reference_ids or topic_citations:
            intro, ids = messages["sources_intro_topic"], list(reference_ids or topic_citations)
        else:
            intro = messages["sources_none" if about_topic else "sources_intro_all"]
            ids = list(self.content.topics["sources"].citations)
        lines = [f"- {c['label']} {c['url']}" for c in self.content.citations(ids)]
        body = "\n".join([intro, *lines])
        follow_ups = self.content.topics["sources"].follow_ups
        return self._reply("sources", body, SOURCES, ids, follow_ups)

    def _no_topic(self) -> Reply:
        capabilities = self.content.topics["capabilities"]
        body = self.content.messages["followup_no_topic"]
        return self._reply("capabilities", body, ANSWER, (), capabilities.follow_ups)

    def notice(self, message_key: str, **values: Any) -> str:
        """A fixed notice (e.g. message cut) with placeholders filled."""
        return self._fill(self.content.messages[message_key], **values)

    def service_unavailable(self) -> Reply:
        body = self.content.messages["service_unavailable"]
        return self._reply("fallback", body, ANSWER, (), self.content.topics["fallback"].follow_ups)


@functools.lru_cache(maxsize=1)
def default_builder() -> ReplyBuilder:
    """The reply builder for this process's content and clinic, created on first use (not at import)."""
    return ReplyBuilder()
