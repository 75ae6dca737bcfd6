"""Curated content: loaded once from YAML under bot/content/, validated loudly.

The content contract (topic ids, citations, the safety message) is checked here so that a
clinician's edit that breaks it stops the bot at start-up instead of reaching a patient.
Time-bound text is checked too: trial status carries its "as of" month, every topic records when it
was last checked and when it is due again, and a due review is a log warning (never an error).
"""

import dataclasses
import datetime
import functools
import logging
import pathlib
import re
import string
from typing import Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

import yaml

CONTENT_DIR = pathlib.Path(__file__).parents[1] / "content"  # bot/content/
LOG = logging.getLogger(__name__)

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
    "long_covid_basics",
    "approval_and_cure",
    "infusion_day",
    "pregnancy_children",
    "unsafe_use",
)
# The triage levels, most urgent first; their replies live in urgent.yml (bot/triage decides the level).
URGENT_TOPICS: Tuple[str, ...] = ("emergency", "poisoning", "crisis", "distress")
CONVERSATION_TOPICS: Tuple[str, ...] = (
    "contact_clinic",
    "greeting",
    "goodbye",
    "thanks",
    "bot_identity",
    "capabilities",
    "out_of_scope",
    "fallback",
)
TOPIC_IDS: Tuple[str, ...] = KNOWLEDGE_TOPICS + URGENT_TOPICS + CONVERSATION_TOPICS
# Pure small talk may leave out the safety message (the content contract allows it).
TOPICS_WITHOUT_SAFETY: FrozenSet[str] = frozenset({"goodbye", "thanks"})

PLACEHOLDERS = frozenset(
    {
        "clinic_name",
        "clinic_contact",
        "clinic_contact_details",
        "emergency_number",
        "crisis_line",
        "poison_line",
        "retention_days",
        "privacy_notice",
    }
)
SAFETY_KEYWORDS = "medical supervision"
# Values the code fills into fixed messages (messages.yml) only: {max_chars} in message_too_long,
# {checked_month} ("November 2026", Topic.checked_month) in the "Information checked" line.
MESSAGE_VALUES = frozenset({"max_chars", "checked_month", "privacy_notice_url"})
MAX_SHORT_SENTENCES = 2
# Wording that references.yml marks as unconfirmed, or that would amount to dosing advice.
FORBIDDEN_PATTERNS = {
    r"\bpmid\b": "PMIDs are unconfirmed in references.yml",
    r"complete or substantial": "the seed's wording for the SFN study is unconfirmed",
    r"\d\s*(m?g|ml)\s*/\s*kg|\d\s*(mg|grams?|g)\b": "no dose may be given",
}
NUMBER = re.compile(r"\d+(?:\.\d+)?")
# References write small counts as words ("six were treated"); answers may use the digit.
NUMBER_WORDS = dict(
    (word, str(value)) for value, word in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
)
# Languages whose urgent key line and language note the content must carry (besides English).
TRIAGE_LANGUAGES: Tuple[str, ...] = ("es", "fr")
DOI = re.compile(r"\b10\.\d{4,}/\S+")
# Reference fields that are never confirmed facts: the checker's notes, a status nobody could
# confirm, how a link was checked, the editors' label note. Their figures are not figures an answer
# (or the label note itself) may show.
NEVER_CONFIRMED_FIELDS = frozenset({"unconfirmed", "unconfirmed_status", "note", "url_check", "label_note"})
STATUS_KEY = re.compile(r"status_as_of_(?P<year>\d{4})_(?P<month>\d{2})")

MONTHS = "January February March April May June July August September October November December".split()
# "as of November 2026": the month a time-bound statement was true. Its year is a date, not a figure.
AS_OF = re.compile(r"\bas of (?P<month>" + "|".join(MONTHS) + r") (?P<year>\d{4})\b", re.IGNORECASE)
# Wording about where a trial stands (running, recruiting, open, finished, results or none): true
# only on a date, so a text that uses it must say "as of <month year>" and cite a dated status.
TRIAL_STATUS = re.compile(
    r"under ?way|\b(?:recruit|enrol|enroll)(?:ing|s)\b|\bopen to\b|\b(?:could|can|might|may) join\b"
    r"|\bcurrent(?:ly)? (?:trial|stud)|\bnow (?:testing|studying|recruiting)|\b(?:is|are) (?:now )?testing\b"
    r"|\bongoing\b|\bcompleted\b|\b(?:has|have|had) finished\b|\bstill running\b|\bdue to (?:finish|end|report)"
    r"|\bresults? yet\b|\bno results\b|\breported (?:any )?results\b|\bnot (?:yet )?reported\b",
    re.IGNORECASE,
)
# Words that say where a trial stands. One that a reference's `unconfirmed_status` uses and its
# confirmed facts do not (RECOVER-AUTONOMIC "completed", "enrolled") must not appear in a text citing it.
STATUS_STEMS = ("complet", "finish", "ended", "closed", "terminat", "stopped", "suspend", "withdr", "enrol", "recruit")
# Text that speaks of trial status is checked again within this many months of its last check.
MAX_STATUS_REVIEW_MONTHS = 6


class ContentError(ValueError):
    """The curated content breaks the content contract."""


@dataclasses.dataclass(frozen=True)
class Reference:
    id: str
    label: str
    url: str
    confirmed_text: str  # every confirmed field, flattened: where shown figures must come from
    status: str = ""  # the confirmed trial status (`status_as_of_YYYY_MM`), "" when there is none
    status_as_of: Optional[datetime.date] = None  # first day of the month the status was checked
    unconfirmed_status: str = ""  # for editors only: never shown, never a source of figures
    notes: str = ""  # the checker's notes (`note`): context for editors, never a source of figures


@dataclasses.dataclass(frozen=True)
class Topic:
    id: str
    question: str
    answer: str
    more: str
    short: str  # the 1-2 sentence form for "say it simpler" / "I don't understand"
    citations: Tuple[str, ...]
    follow_ups: Tuple[str, ...]
    last_checked: datetime.date  # first day of the month an editor last checked it against its sources
    review_due: datetime.date  # first day of the month it must be checked again

    @property
    def checked_month(self) -> str:
        """The month of the last check ("November 2026"), for "Information checked <month year>"."""
        return month_name(self.last_checked)

    def texts(self) -> Dict[str, str]:
        """The patient-facing texts of the topic that are set, by field name."""
        return {field: text for field, text in (("answer", self.answer), ("more", self.more), ("short", self.short)) if text}


@dataclasses.dataclass(frozen=True)
class UrgentReply:
    """The reply of one triage level (urgent.yml): no IVIG footer, its own last line."""

    level: str
    answer: str
    last_line: str  # ends the reply instead of the IVIG safety message
    reminder: str  # first line of the next turns after this reply (urgency carries over)
    translations: Mapping[str, str]  # language code -> the key line in that language


@dataclasses.dataclass(frozen=True)
class Content:
    topics: Mapping[str, Topic]
    references: Mapping[str, Reference]
    messages: Mapping[str, str]
    studies: Mapping[str, str]
    urgent: Mapping[str, UrgentReply]

    def citations(self, reference_ids) -> List[Dict[str, str]]:
        """The answer contract's citation list: `{id, label, url}` per reference."""
        return [{"id": ref.id, "label": ref.label, "url": ref.url} for ref in (self.references[ref_id] for ref_id in reference_ids)]


def _flatten(value) -> str:
    if isinstance(value, dict):
        return " ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list):
        return " ".join(_flatten(item) for item in value)
    return str(value)


def _surname(author: str) -> str:
    return author.split()[0]


def _words(text: str) -> List[str]:
    """Lowercase words with plurals folded ("authors" -> "author"), to match field names."""
    return [word[:-1] if word.endswith("s") else word for word in re.findall(r"[a-z]+", text.lower())]


def _unconfirmed_fields(ref: dict) -> FrozenSet[str]:
    """The keys whose values are not confirmed facts: the fields that never are (notes, the
    unconfirmed status), and every key the `unconfirmed` list names ("volume and article number"
    -> volume, article; "full title" -> title, title_start) unless `verified` names it first."""
    named = {word for item in ref.get("unconfirmed", []) for word in _words(str(item))}
    verified = {words[0] for words in (_words(str(item)) for item in ref.get("verified", [])) if words}
    fields = {key for key in ref if set(_words(key.replace("_", " "))) & named and _words(key.replace("_", " "))[0] not in verified}
    return frozenset(fields | (NEVER_CONFIRMED_FIELDS & set(ref)))


def _status(ref_id: str, ref: dict) -> Tuple[str, Optional[datetime.date]]:
    """The confirmed status (`status_as_of_YYYY_MM: text`) and the month it was checked."""
    keys = [key for key in ref if key.startswith("status")]
    if not keys:
        return "", None
    match = STATUS_KEY.fullmatch(keys[0])
    if len(keys) > 1 or not match:
        raise ContentError(f"reference {ref_id}: a status is one field named status_as_of_YYYY_MM, not {keys}")
    return str(ref[keys[0]]), datetime.date(int(match["year"]), int(match["month"]), 1)


def _label(ref: dict, description: Optional[str], unconfirmed: FrozenSet[str]) -> str:
    """Title (or a curated description where its wording is unconfirmed), venue, year, label note."""
    if "title" in ref and "title" not in unconfirmed:
        title = ref["title"]
    else:
        # No confirmed title: the curated description, else the study design (`kind`), never the title.
        title = description or str(ref.get("kind", "")).capitalize()
        authors = ref.get("authors") or []
        if authors and description:
            title = f"{description} ({_surname(authors[0])} et al.)"
    parts = [title if title.endswith(("?", "!")) else title.rstrip(".")]
    venue = ref.get("venue") or ref.get("sponsor") or ref.get("publisher")
    if venue:
        parts.append(venue)
    if ref.get("registry"):
        parts.append(ref["registry"])
    label = ". ".join(parts).replace("?.", "?")
    if ref.get("year") and "year" not in unconfirmed:
        label += f", {ref['year']}"
    if ref.get("label_note"):
        label += f" ({ref['label_note']})"
    return label + "."


def _load_references(raw: dict, descriptions: Mapping[str, str]) -> Dict[str, Reference]:
    references = {}
    for ref_id, ref in raw.items():
        url = ref.get("url", "")
        if not url.startswith("https://"):
            raise ContentError(f"reference {ref_id}: a confirmed https url is required")
        if not ref.get("title") and not ref.get("kind"):
            raise ContentError(f"reference {ref_id}: a title or a kind is needed for its label")
        unconfirmed = _unconfirmed_fields(ref)
        confirmed = {key: value for key, value in ref.items() if key not in unconfirmed}
        status, status_as_of = _status(ref_id, ref)
        references[ref_id] = Reference(
            id=ref_id,
            label=_label(ref, descriptions.get(ref_id), unconfirmed),
            url=url,
            confirmed_text=_flatten(confirmed),
            status=status,
            status_as_of=status_as_of,
            unconfirmed_status=str(ref.get("unconfirmed_status") or ""),
            notes=str(ref.get("note") or ""),
        )
    return references


def _check_text(
    where: str,
    text: Optional[str],
    allowed_numbers: FrozenSet[str],
    dois: FrozenSet[str],
    values: FrozenSet[str] = frozenset(),
) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ContentError(f"{where}: text is missing")
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    if names - PLACEHOLDERS - values:
        raise ContentError(f"{where}: unknown placeholders {sorted(names - PLACEHOLDERS - values)}")
    lowered = text.lower()
    for pattern, reason in FORBIDDEN_PATTERNS.items():
        if re.search(pattern, lowered):
            raise ContentError(f"{where}: {reason} ({pattern!r})")
    for doi in DOI.findall(text):
        if doi.rstrip(".,)") not in dois:
            raise ContentError(f"{where}: DOI {doi} is not a confirmed DOI")
    for number in NUMBER.findall(AS_OF.sub("", DOI.sub("", text))):
        if number not in allowed_numbers:
            raise ContentError(f"{where}: the figure {number} is not stated in the confirmed facts " "of the references it cites")


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
        short=raw.get("short") or "",
        citations=citations,
        follow_ups=tuple(raw.get("follow_ups") or ()),
        last_checked=_month(f"topic {topic_id} last_checked", raw.get("last_checked")),
        review_due=_month(f"topic {topic_id} review_due", raw.get("review_due")),
    )


def _month(where: str, value) -> datetime.date:
    """A month written `YYYY-MM` in the YAML, as the first day of that month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(value or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ContentError(f"{where}: a month written YYYY-MM is required, not {value!r}")
    return datetime.date(int(match[1]), int(match[2]), 1)


def _as_of(match: "re.Match[str]") -> datetime.date:
    return datetime.date(int(match["year"]), MONTHS.index(match["month"].capitalize()) + 1, 1)


def month_name(day: datetime.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def _months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _urgent(level: str, raw: dict) -> UrgentReply:
    return UrgentReply(
        level=level,
        answer=raw.get("answer") or "",
        last_line=raw.get("last_line") or "",
        reminder=raw.get("reminder") or "",
        translations=dict(raw.get("translations") or {}),
    )


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?=\s|$)", text.strip())) or 1


def _check_short(topic: Topic) -> None:
    """The short form ("say it simpler") is 1-2 sentences and shorter than the first answer."""
    if not topic.short:
        return
    if _sentences(topic.short) > MAX_SHORT_SENTENCES:
        raise ContentError(f"topic {topic.id} short: at most {MAX_SHORT_SENTENCES} sentences")
    if len(topic.short.split()) >= len(topic.answer.split()):
        raise ContentError(f"topic {topic.id} short: the short form must be shorter than the answer")


def _check_unconfirmed_status(where: str, text: str, references: Sequence[Reference]) -> None:
    """A status that only a reference's `unconfirmed_status` gives is never shown as fact."""
    for ref in references:
        unconfirmed, confirmed = ref.unconfirmed_status.lower(), ref.confirmed_text.lower()
        for stem in STATUS_STEMS:
            if stem in unconfirmed and stem not in confirmed and re.search(rf"\b{stem}", text.lower()):
                raise ContentError(f"{where}: {stem!r}... is the unconfirmed status of {ref.id}, not a confirmed fact")


def _check_dates(topic: Topic, references: Mapping[str, Reference]) -> None:
    """Time-bound text carries its date: trial status says "as of <month year>", no later than the
    topic's last check or the dated status of a reference it cites, and is due for review soon."""
    if topic.review_due <= topic.last_checked:
        raise ContentError(f"topic {topic.id}: review_due must come after last_checked")
    statuses = [as_of for as_of in (references[ref_id].status_as_of for ref_id in topic.citations) if as_of is not None]
    speaks_of_status = False
    for field, text in topic.texts().items():
        where = f"topic {topic.id} {field}"
        dates = [_as_of(match) for match in AS_OF.finditer(text)]
        for date in dates:
            if date > topic.last_checked:
                raise ContentError(f"{where}: 'as of {month_name(date)}' is later than last_checked")
        status = TRIAL_STATUS.search(text)
        if not status:
            continue
        speaks_of_status = True
        if not dates:
            raise ContentError(f"{where}: speaks of trial status ({status.group(0)!r}) without an 'as of <month year>' date")
        if not statuses:
            raise ContentError(f"{where}: speaks of trial status but cites no reference with a dated status")
        if max(dates) > max(statuses):
            raise ContentError(f"{where}: 'as of {month_name(max(dates))}' is later than the status its references confirm")
    if speaks_of_status and _months_between(topic.last_checked, topic.review_due) > MAX_STATUS_REVIEW_MONTHS:
        raise ContentError(f"topic {topic.id}: trial status must be reviewed within {MAX_STATUS_REVIEW_MONTHS} months")


def validate(content: Content) -> None:
    """Raise ContentError at the first break of the content contract."""
    missing = [t for t in TOPIC_IDS if t not in content.topics and t not in content.urgent]
    if missing:
        raise ContentError(f"topics without an answer: {missing}")
    for reply in content.urgent.values():
        for field in ("answer", "last_line", "reminder"):
            _check_text(f"urgent {reply.level} {field}", getattr(reply, field), frozenset(), frozenset())
        for language in TRIAGE_LANGUAGES:
            _check_text(f"urgent {reply.level} {language}", reply.translations.get(language, ""), frozenset(), frozenset())
    dois = frozenset(match for ref in content.references.values() for match in DOI.findall(ref.confirmed_text))
    questions: Dict[str, str] = {}
    for topic in content.topics.values():
        # A topic that cites nothing may state no figure at all.
        allowed = _numbers(content.references, topic.citations)
        _check_text(f"topic {topic.id} answer", topic.answer, allowed, dois)
        for field in ("more", "short"):
            if topic.id in KNOWLEDGE_TOPICS or getattr(topic, field):
                _check_text(f"topic {topic.id} {field}", getattr(topic, field), allowed, dois)
        _check_short(topic)
        _check_dates(topic, content.references)
        cited = [content.references[ref_id] for ref_id in topic.citations]
        for field, text in topic.texts().items():
            _check_unconfirmed_status(f"topic {topic.id} {field}", text, cited)
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
        _check_unconfirmed_status(f"study {ref_id}", text, [content.references[ref_id]])
    for ref in content.references.values():
        _check_text(f"reference {ref.id} label", ref.label, _numbers(content.references, [ref.id]), dois)
    for key, text in content.messages.items():
        _check_text(f"message {key}", text, frozenset(), dois, MESSAGE_VALUES)
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
    unknown = sorted(set(raw_topics) - set(TOPIC_IDS) | set(raw_topics) & set(URGENT_TOPICS))
    if unknown:
        raise ContentError(f"unknown topic ids in topics.yml (urgent replies live in urgent.yml): {unknown}")
    raw_urgent = read("urgent.yml")
    unknown = sorted(set(raw_urgent) - set(URGENT_TOPICS))
    if unknown:
        raise ContentError(f"unknown triage levels in urgent.yml: {unknown}")
    content = Content(
        topics={key: _topic(key, raw, references) for key, raw in raw_topics.items()},
        references=references,
        messages={key: str(value) for key, value in raw_messages.items()},
        studies=studies,
        urgent={level: _urgent(level, raw) for level, raw in raw_urgent.items()},
    )
    validate(content)
    return content


def undated_status(content: Content) -> List[str]:
    """Study summaries and messages (messages.yml) that speak of trial status without an "as of"
    date. Topics with such text are refused by `validate`; these are listed by `make content-status`."""
    texts = {f"study {key}": text for key, text in content.studies.items()}
    texts.update({f"message {key}": text for key, text in content.messages.items()})
    return [where for where, text in texts.items() if TRIAL_STATUS.search(text) and not AS_OF.search(text)]


def reviews_due(content: Content, today: datetime.date) -> List[Topic]:
    """The topics whose review month has begun (or passed) on `today`, most overdue first."""
    return sorted((t for t in content.topics.values() if t.review_due <= today), key=lambda t: t.review_due)


def review_passed(topic: Topic, today: datetime.date) -> bool:
    """True once the whole review month is over."""
    due = topic.review_due
    return today >= datetime.date(due.year + due.month // 12, due.month % 12 + 1, 1)


def log_due_reviews(content: Content, today: datetime.date) -> List[Topic]:
    """Warn in the log about every topic whose review month has come; never raise (a calendar
    date must not stop the bot or fail a test)."""
    due = reviews_due(content, today)
    if due:
        LOG.warning(
            "content review due for %d topic(s): %s. Run `make content-status`.",
            len(due),
            ", ".join(f"{t.id} ({'PASSED' if review_passed(t, today) else 'due'} {month_name(t.review_due)})" for t in due),
        )
    return due


@functools.lru_cache(maxsize=1)
def get_content() -> Content:
    """The validated content, loaded on first use (never at import time); due reviews are logged."""
    content = load()
    log_due_reviews(content, datetime.date.today())
    return content
