"""From what the NLU understood (intent + entities) to the topic that answers it.

Intent names are topic ids. Entities from the domain vocabulary refine two things the
classifier can blur: which study a question names, and which symptom it is about.
"""

import re
from typing import Dict, Iterable, List, Optional, Sequence

from bot.core.content_store import TOPIC_IDS
from bot.core.vocabulary import canonical

FALLBACK_INTENT = "nlu_fallback"
STUDY_TOPICS: Dict[str, str] = {
    "seibert2024": "study_vascular",
    "thompson2023": "study_case_series",
    "mcalpine2024": "study_sfn",
    "reznik2021": "study_hypothesis",
    "vernino2024": "evidence_limits",
    "geerts2021": "evidence_limits",
    "trial_in_pasc": "clinical_trials",
    "trial_recover_autonomic": "clinical_trials",
}
SYMPTOM_TOPICS: Dict[str, str] = {
    "brain_fog": "symptom_brain_fog",
    "fatigue": "symptom_fatigue",
    "neuropathic_pain": "symptom_pain_neuropathy",
    "pots": "symptom_pots",
    "heart_vascular": "symptom_heart_vascular",
    "unstudied": "symptom_other",
}
# Conditions that name a symptom group ("my POTS", "my small fiber neuropathy").
CONDITION_SYMPTOMS: Dict[str, str] = {"pots": "pots", "small_fiber_neuropathy": "neuropathic_pain"}
# General questions that become symptom questions when they name one symptom group
# ("what does the research say about brain fog", "what about the exhaustion?").
SYMPTOM_SPECIFIC_INTENTS = frozenset({"research_overview", "capabilities"})
# The topics that present one study ("going back to that study" means the last of these discussed).
STUDY_TOPIC_IDS = frozenset({"study_vascular", "study_case_series", "study_sfn", "study_hypothesis"})
# Intents whose answer is about one study: a named study decides which.
STUDY_INTENTS = STUDY_TOPIC_IDS | {"research_overview"}
# A short message the classifier is unsure of continues the topic just discussed: "is that normal?" after the
# side effects, "how do I join?" after the trials, "why not?" after unsafe use. Measured on the multi-turn
# conversations of the seen question sets: 178 -> 189 of 213 follow-up turns right.
CONTEXT_MAX_WORDS = 10
CONTEXT_MAX_CONFIDENCE = 0.7
# Said mid-conversation as often as anywhere: never read as a follow-up.
NEVER_IN_CONTEXT = frozenset({"greeting", "goodbye", "thanks", "sources"})
# "So who decides?" asks who decides what was just discussed (the dose, treatment in pregnancy): every answer names
# the one who does. On its own it stays what the classifier read (candidates: who might get IVIG). Seen in four blind
# question sets in a row, always after another topic, and always read as candidates however sure the classifier was.
WHO_DECIDES = re.compile(
    r"^\W*(?:(?:ok|okay|so|and|but|then)\W+)*who\s+(?:decides|would decide|will decide|gets to decide|makes the (?:call|decision))"
    r"(?:\W+(?:that|it|this|then|in the end))*\W*$",
    re.IGNORECASE,
)


def entity_values(entities: Iterable[dict], label: str) -> List[str]:
    """Canonical values of one entity label, in order of appearance, without repeats."""
    values = [canonical(label, e.get("value", "")) for e in entities if e.get("entity") == label]
    return list(dict.fromkeys(values))


def named_studies(entities: Iterable[dict]) -> List[str]:
    return [value for value in entity_values(entities, "STUDY") if value in STUDY_TOPICS]


def named_study_topic(entities: Iterable[dict]) -> Optional[str]:
    """The one study topic a message names ("how many were in the case series?"), or None."""
    topics = {STUDY_TOPICS[study] for study in named_studies(entities)} & STUDY_TOPIC_IDS
    return topics.pop() if len(topics) == 1 else None


def topic_for(intent: Optional[str], entities: Sequence[dict] = ()) -> str:
    """The topic id that answers a message classified as `intent`."""
    if not intent or intent == FALLBACK_INTENT or intent not in TOPIC_IDS:
        return "fallback"
    studies = named_studies(entities)
    if intent in STUDY_INTENTS and len(studies) == 1:
        return STUDY_TOPICS[studies[0]]
    if intent in SYMPTOM_TOPICS.values() or intent in SYMPTOM_SPECIFIC_INTENTS:
        conditions = [CONDITION_SYMPTOMS[c] for c in entity_values(entities, "CONDITION") if c in CONDITION_SYMPTOMS]
        symptoms = {s for s in entity_values(entities, "SYMPTOM") + conditions if s in SYMPTOM_TOPICS}
        if len(symptoms) == 1:
            return SYMPTOM_TOPICS[symptoms.pop()]
    return intent


def topic_in_context(topic: str, confidence: float, text: str, entities: Sequence[dict], current_topic: Optional[str]) -> str:
    """`topic`, or the topic just discussed when the message reads as a follow-up to it.

    A follow-up is short and not confidently placed elsewhere, and names no study or symptom of its own
    ("and the small fibre one?" is a new topic); "so who decides?" always is. Gibberish keeps its fallback: it comes
    with confidence 1.
    """
    if current_topic and current_topic not in NEVER_IN_CONTEXT and WHO_DECIDES.match(text):
        return current_topic
    if (
        not current_topic
        or topic == current_topic
        or topic in NEVER_IN_CONTEXT
        or confidence >= CONTEXT_MAX_CONFIDENCE
        or len(text.split()) > CONTEXT_MAX_WORDS
        or named_studies(entities)
        or entity_values(entities, "SYMPTOM")
        or set(entity_values(entities, "CONDITION")) & set(CONDITION_SYMPTOMS)
    ):
        return topic
    return current_topic


# "Back to the first one" names the first topic of the conversation; otherwise "the one before" is meant.
FIRST_WORDS = re.compile(r"\b(first|frist|1st|beginning|start|original)\b", re.IGNORECASE)
# "Going back to that first study, ...": the first study of the conversation, not the one just discussed.
FIRST_STUDY = re.compile(r"\b(first|frist|1st|original)\s+(study|one|trial|paper)\b", re.IGNORECASE)


def earlier_topic(text: str, discussed: Sequence[str]) -> Optional[str]:
    """The topic a patient goes back to: the first discussed when the message says so, else the one before the
    current. `discussed` lists the conversation's topics in order (repeats allowed); None when there is none."""
    topics = [t for i, t in enumerate(discussed) if i == 0 or t != discussed[i - 1]]
    if not topics:
        return None
    if FIRST_WORDS.search(text):
        return topics[0]
    return topics[-2] if len(topics) > 1 else topics[0]


def details_topic(text: str, current_topic: Optional[str], current_study: Optional[str], discussed: Sequence[str]) -> Optional[str]:
    """The topic whose studies a details question ("how many were in it?") is about: the first study discussed
    when the message says so ("going back to that first study"), the topic just discussed when it is a study or
    no study came up, else the last study discussed ("going back to that study" after other topics)."""
    if FIRST_STUDY.search(text):
        first = next((topic for topic in discussed if topic in STUDY_TOPIC_IDS), None)
        if first:
            return first
    return current_topic if current_topic in STUDY_TOPIC_IDS or not current_study else current_study
