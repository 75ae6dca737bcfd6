"""Curated content: loaded once from YAML under bot/content/, validated loudly.

The content contract (topic ids, citations, the safety message) is checked here so that a
clinician's edit that breaks it stops the bot at start-up instead of reaching a patient.
"""
import dataclasses
import functools
import pathlib
import re
import string
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple

import yaml

CONTENT_DIR = pathlib.Path(__file__).parent / "content"

KNOWLEDGE_TOPICS: Tuple[str, ...] = (
    "ivig_basics",
    "ivig_vs_monoclonal",
    "ivig_long_covid_rationale",
    "mechanism_immune",
    "mechanism_nerve",
    "research_overview",
    "study_vascular",
    "study_case_series",
    "study_sfn",
    "study_hypothesis",
    "candidates",
    "evidence_limits",
    "dosing",
    "access",
    "side_effects",
    "infusion_process",
    "clinical_trials",
    "sources",
    "symptom_brain_fog",
    "symptom_fatigue",
    "symptom_pain_neuropathy",
    "symptom_pots",
    "symptom_heart_vascular",
    "symptom_other",
    "personal_advice",
    "cost_insurance",
)
SAFETY_TOPICS: Tuple[str, ...] = ("emergency", "crisis")
CONVERSATION_TOPICS: Tuple[str, ...] = (
    "greeting",
    "goodbye",
    "thanks",
    "bot_identity",
    "capabilities",
    "out_of_scope",
    "fallback",
)
TOPIC_IDS: Tuple[str, ...] = KNOWLEDGE_TOPICS + SAFETY_TOPICS + CONVERSATION_TOPICS
# Pure small talk may leave out the safety message (the content contract allows it).
TOPICS_WITHOUT_SAFETY: FrozenSet[str] = frozenset({"goodbye", "thanks"})

PLACEHOLDERS = frozenset({"clinic_name", "clinic_contact", "emergency_number", "crisis_line"})
SAFETY_KEYWORDS = "medical supervision"
# Wording that references.yml marks as unconfirmed, or that would amount to dosing advice.
FORBIDDEN_PATTERNS = {
    r"\bpmid\b": "PMIDs are unconfirmed in references.yml",
    r"complete or substantial": "the seed's wording for the SFN study is unconfirmed",
    r"\d\s*(m?g|ml)\s*/\s*kg|\d\s*(mg|grams?|g)\b": "no dose may be given",
}
NUMBER = re.compile(r"\d+(?:\.\d+)?")
# References write small counts as words ("six were treated"); answers may use the digit.
NUMBER_WORDS = dict(
    (word, str(value))
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
)
DOI = re.compile(r"\b10\.\d{4,}/\S+")


class ContentError(ValueError):
    """The curated content breaks the content contract."""


@dataclasses.dataclass(frozen=True)
class Reference:
    id: str
    label: str
    url: str
    confirmed_text: str  # every confirmed field, flattened: where shown figures must come from


@dataclasses.dataclass(frozen=True)
class Topic:
    id: str
    question: str
    answer: str
    more: str
    citations: Tuple[str, ...]
    follow_ups: Tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Content:
    topics: Mapping[str, Topic]
    references: Mapping[str, Reference]
    messages: Mapping[str, str]
    studies: Mapping[str, str]

    def citations(self, reference_ids) -> List[Dict[str, str]]:
        """The answer contract's citation list: `{id, label, url}` per reference."""
        return [
            {"id": ref.id, "label": ref.label, "url": ref.url}
            for ref in (self.references[ref_id] for ref_id in reference_ids)
        ]


def _flatten(value) -> str:
    if isinstance(value, dict):
        return " ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list):
        return " ".join(_flatten(item) for item in value)
    return str(value)


def _surname(author: str) -> str:
    return author.split()[0]


def _label(ref: dict, description: Optional[str]) -> str:
    """Title (or a curated description where its wording is unconfirmed), venue, year."""
    unconfirmed = " ".join(str(item) for item in ref.get("unconfirmed", []))
    if "title" in unconfirmed:
        if not description:
            raise ContentError(f"{ref['title']!r}: title unconfirmed, a reference_descriptions entry is needed")
        authors = ref.get("authors") or []
        title = f"{description} ({_surname(authors[0])} et al.)" if authors else description
    else:
        title = ref["title"]
    parts = [title if title.endswith(("?", "!")) else title.rstrip(".")]
    venue = ref.get("venue") or ref.get("sponsor") or ref.get("publisher")
    if venue:
        parts.append(venue)
    if ref.get("registry"):
        parts.append(ref["registry"])
    label = ". ".join(parts).replace("?.", "?")
    if ref.get("year") and "year" not in unconfirmed:
        label += f", {ref['year']}"
    return label + "."


def _load_references(raw: dict, descriptions: Mapping[str, str]) -> Dict[str, Reference]:
    references = {}
    for ref_id, ref in raw.items():
        url = ref.get("url", "")
        if not url.startswith("https://"):
            raise ContentError(f"reference {ref_id}: a confirmed https url is required")
        confirmed = {key: value for key, value in ref.items() if key != "unconfirmed"}
        references[ref_id] = Reference(ref_id, _label(ref, descriptions.get(ref_id)), url, _flatten(confirmed))
    return references


def _check_text(where: str, text: str, allowed_numbers: FrozenSet[str], dois: FrozenSet[str]):
    if not isinstance(text, str) or not text.strip():
        raise ContentError(f"{where}: text is missing")
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    if names - PLACEHOLDERS - {"max_chars"}:
        raise ContentError(f"{where}: unknown placeholders {sorted(names - PLACEHOLDERS)}")
    lowered = text.lower()
    for pattern, reason in FORBIDDEN_PATTERNS.items():
        if re.search(pattern, lowered):
            raise ContentError(f"{where}: {reason} ({pattern!r})")
    for doi in DOI.findall(text):
        if doi.rstrip(".,)") not in dois:
            raise ContentError(f"{where}: DOI {doi} is not a confirmed DOI")
    for number in NUMBER.findall(DOI.sub("", text)):
        if number not in allowed_numbers:
            raise ContentError(
                f"{where}: the figure {number} is not stated in the confirmed facts "
                "of the references it cites"
            )


def _numbers(references: Mapping[str, Reference], ids) -> FrozenSet[str]:
    """Every figure the confirmed facts of these references state, in digits or in words."""
    numbers = set()
    for ref_id in ids:
        text = references[ref_id].confirmed_text
        numbers.update(NUMBER.findall(text))
        numbers.update(NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS)
    return frozenset(numbers)


def _topic(topic_id: str, raw: dict, references: Mapping[str, Reference]) -> Topic:
    citations = tuple(raw.get("citations") or ())
    unknown = [ref_id for ref_id in citations if ref_id not in references]
    if unknown:
        raise ContentError(f"topic {topic_id}: unknown citation ids {unknown}")
    return Topic(
        id=topic_id,
        question=raw.get("question") or "",
        answer=raw.get("answer") or "",
        more=raw.get("more") or "",
        citations=citations,
        follow_ups=tuple(raw.get("follow_ups") or ()),
    )


def validate(content: Content) -> None:
    """Raise ContentError at the first break of the content contract."""
    missing = [topic_id for topic_id in TOPIC_IDS if topic_id not in content.topics]
    if missing:
        raise ContentError(f"topics without an answer: {missing}")
    dois = frozenset(
        match for ref in content.references.values() for match in DOI.findall(ref.confirmed_text)
    )
    every_number = _numbers(content.references, content.references)
    questions = {}
    for topic in content.topics.values():
        allowed = _numbers(content.references, topic.citations) if topic.citations else every_number
        _check_text(f"topic {topic.id} answer", topic.answer, allowed, dois)
        if topic.id in KNOWLEDGE_TOPICS:
            _check_text(f"topic {topic.id} more", topic.more, allowed, dois)
        if not topic.question.strip():
            raise ContentError(f"topic {topic.id}: a suggested-question title is missing")
        if topic.question in questions:
            raise ContentError(f"topics {topic.id} and {questions[topic.question]} share a question")
        questions[topic.question] = topic.id
        bad = [f for f in topic.follow_ups if f not in content.topics or f == topic.id]
        if bad:
            raise ContentError(f"topic {topic.id}: follow-ups name unknown topics {bad}")
    for ref_id, text in content.studies.items():
        if ref_id not in content.references:
            raise ContentError(f"study summary for unknown reference {ref_id}")
        _check_text(f"study {ref_id}", text, _numbers(content.references, [ref_id]), dois)
    for key, text in content.messages.items():
        _check_text(f"message {key}", text, frozenset(), dois)
    for key in ("safety", "safety_short"):
        if SAFETY_KEYWORDS not in content.messages.get(key, "").lower():
            raise ContentError(f"message {key} must say '{SAFETY_KEYWORDS}'")


def load(content_dir: Optional[pathlib.Path] = None) -> Content:
    """Read and validate the content files; raises ContentError on any break."""
    folder = pathlib.Path(content_dir or CONTENT_DIR)

    def read(name: str) -> dict:
        return yaml.safe_load((folder / name).read_text(encoding="utf-8")) or {}

    raw_messages = read("messages.yml")
    studies = raw_messages.pop("studies", None) or {}
    descriptions = raw_messages.pop("reference_descriptions", None) or {}
    references = _load_references(read("references.yml"), descriptions)
    raw_topics = read("topics.yml").get("topics") or {}
    unknown = sorted(set(raw_topics) - set(TOPIC_IDS))
    if unknown:
        raise ContentError(f"unknown topic ids: {unknown}")
    content = Content(
        topics={key: _topic(key, raw, references) for key, raw in raw_topics.items()},
        references=references,
        messages={key: str(value) for key, value in raw_messages.items()},
        studies=studies,
    )
    validate(content)
    return content


@functools.lru_cache(maxsize=1)
def get_content() -> Content:
    """The validated content, loaded on first use (never at import time)."""
    return load()
