"""Every reply the assistant sends is built here, so the answer contract holds in one place:
`text` ending with the safety message, and a payload with topic, citations and safety.
"""
import dataclasses
import functools
from typing import Any, Dict, Iterable, List, Optional, Sequence

from bot.content_store import TOPICS_WITHOUT_SAFETY, Content, get_content
from bot.settings import Clinic, get_settings

# Payload `kind` values: what part of a topic a reply carries.
ANSWER, MORE, DETAILS, SOURCES = "answer", "more", "details", "sources"


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

    def __init__(self, content: Optional[Content] = None, clinic: Optional[Clinic] = None):
        self.content = content or get_content()
        self.clinic = clinic or get_settings().clinic

    def _fill(self, text: str, **extra: Any) -> str:
        return text.format(**self.clinic.placeholders(), **extra)

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
            },
        )

    def answer(self, topic_id: str) -> Reply:
        topic = self.content.topics[topic_id]
        return self._reply(topic_id, topic.answer, ANSWER, topic.citations, topic.follow_ups)

    def more(self, topic_id: Optional[str]) -> Reply:
        """'Tell me more' about the topic just discussed."""
        if not topic_id:
            return self._no_topic()
        topic = self.content.topics[topic_id]
        return self._reply(topic_id, topic.more, MORE, topic.citations, topic.follow_ups)

    def study_details(self, topic_id: Optional[str]) -> Reply:
        """'How many people were in it?': the studies behind the topic just discussed."""
        if not topic_id:
            return self._no_topic()
        topic = self.content.topics[topic_id]
        studies = [ref_id for ref_id in topic.citations if ref_id in self.content.studies]
        if not studies:
            body = self.content.messages["study_details_none"]
            return self._reply(topic_id, body, DETAILS, (), topic.follow_ups or ("sources",))
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
