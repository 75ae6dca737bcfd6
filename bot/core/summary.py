"""The summary for the doctor ("take this to your doctor"): a printable page of one conversation, built from
what the bot stored.

The Rasa server serves it at `GET /summary/<conversation id>` (bot/rasa_ext/rasa_server.py); the widget opens it
in a new tab, and a patient who types "summary" or "print this" gets a reply that links to it. The page
is built from the conversation's stored events (after its latest restart), never from the browser's copy:
- each question in the patient's own words (a suggested question they tapped: its title), with the short
  form of the topic the bot answered (topics.yml `short`), an urgent reply with its lines (urgent.yml), or
  that the assistant could not answer it; consecutive questions answered with one topic share one answer.
  Greetings, thanks, feedback and the like are left out;
- the sources the bot cited in those turns, once each, their labels and links taken from the content by id
  (so nothing references.yml marks unconfirmed is shown, whatever an older reply said);
- the safety message, 3 to 5 questions for the doctor picked by the topics discussed (doctor_summary.yml),
  the clinic's name and the date of the chat.

All wording is in bot/content/doctor_summary.yml, checked like the rest of the content when first loaded.
Everything the patient typed is escaped; the page runs no script but its print button's, under a
Content-Security-Policy that allows only its own inline style and script (by hash).

Access: whoever holds the conversation id can read the page, as they can continue the conversation. The
route answers only ids of the widget's random form (122 or 128 random bits: `crypto.randomUUID()` or 32 hex
digits), lists nothing, and answers a malformed or unknown id with the same 404 page. After "Start over" (a
restart) the old id's page lists nothing.
"""

import base64
import dataclasses
import datetime
import functools
import hashlib
import html
import itertools
import pathlib
import re
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot.core.answers import Reply, ReplyBuilder, safety_message
from bot.core.content_store import (
    CONTENT_DIR,
    KNOWLEDGE_TOPICS,
    MONTHS,
    TOPIC_IDS,
    URGENT_TOPICS,
    Content,
    ContentError,
    _check_text,  # the content contract's check of every text (placeholders, no figures, no dose)
    get_content,
)
from bot.core.settings import Clinic, get_settings

SUMMARY_FILE = CONTENT_DIR / "doctor_summary.yml"
PATH_PREFIX = "/summary/"
# The ids the widget makes (crypto.randomUUID(), or 16 random bytes in hex) and socket.io sessions (uuid4().hex).
CONVERSATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|[0-9a-f]{32}")
MIN_DOCTOR_QUESTIONS, MAX_DOCTOR_QUESTIONS = 3, 5
# The payload of the chat reply that links to the page (not a content topic: nothing to classify or rate).
SUMMARY_TOPIC, SUMMARY_KIND = "doctor_summary", "summary"
# How the page answers a question: the topic's short form, an urgent reply, or "could not answer".
ANSWERED, URGENT, NOT_ANSWERED = "answered", "urgent", "not_answered"
NOT_ANSWERED_TOPICS = frozenset({"fallback", "out_of_scope"})
PAGE_KEYS = frozenset(
    {
        "title",
        "intro",
        "date",
        "print",
        "safety",
        "asked",
        "short_answer",
        "urgent_answer",
        "not_answered",
        "nothing_asked",
        "doctor_questions",
        "sources",
        "footer",
        "not_found_title",
        "not_found",
    }
)


@dataclasses.dataclass(frozen=True)
class SummaryText:
    """doctor_summary.yml, checked."""

    requests: FrozenSet[str]  # whole messages that ask for the summary, normalised (`normalise`)
    reply: str
    page: Mapping[str, str]
    general_questions: Tuple[str, ...]
    group_of: Mapping[str, str]  # topic id -> its group of doctor questions
    group_questions: Mapping[str, Tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Entry:
    """Consecutive questions the bot answered with one topic, and the page's answer to them."""

    topic: str
    how: str  # ANSWERED, URGENT or NOT_ANSWERED
    questions: Tuple[str, ...]
    answer: str  # plain text: lines, "- " lines as bullets


@dataclasses.dataclass(frozen=True)
class Summary:
    entries: Tuple[Entry, ...]
    sources: Tuple[Dict[str, str], ...]  # the answer contract's citations: {id, label, url}
    doctor_questions: Tuple[str, ...]
    safety: str
    clinic: Clinic
    date: Optional[datetime.date]  # the day of the latest question shown


def normalise(message: str) -> str:
    """Lower case, single spaces, no final full stop, exclamation or question mark."""
    return " ".join(str(message).lower().split()).rstrip(".!?").strip()


def load_text(path: Optional[pathlib.Path] = None) -> SummaryText:
    """Read and check doctor_summary.yml; raises ContentError on any break."""
    raw = yaml.safe_load(pathlib.Path(path or SUMMARY_FILE).read_text(encoding="utf-8")) or {}
    where = "doctor_summary.yml"

    def checked(place: str, text: Any) -> str:
        _check_text(f"{where} {place}", text, frozenset(), frozenset())
        return str(text)

    page = raw.get("page") or {}
    if set(page) != PAGE_KEYS:
        raise ContentError(f"{where} page: expected the keys {sorted(PAGE_KEYS)}, not {sorted(page)}")
    requests = frozenset(normalise(checked("requests", r)) for r in raw.get("requests") or ())
    if not requests:
        raise ContentError(f"{where}: no requests listed")
    asked = raw.get("doctor_questions") or {}
    general = tuple(checked("general question", q) for q in asked.get("general") or ())
    if len(general) < MIN_DOCTOR_QUESTIONS:
        raise ContentError(f"{where}: at least {MIN_DOCTOR_QUESTIONS} general doctor questions are needed")
    group_of: Dict[str, str] = {}
    group_questions: Dict[str, Tuple[str, ...]] = {}
    for name, group in (asked.get("groups") or {}).items():
        group_questions[name] = tuple(checked(f"group {name}", q) for q in group.get("questions") or ())
        if not group_questions[name]:
            raise ContentError(f"{where} group {name}: no questions")
        for topic in group.get("topics") or ():
            if topic not in TOPIC_IDS or topic in group_of:
                raise ContentError(f"{where} group {name}: {topic!r} is not a topic id, or is in another group")
            group_of[topic] = name
    missing = [topic for topic in KNOWLEDGE_TOPICS + URGENT_TOPICS if topic not in group_of]
    if missing:
        raise ContentError(f"{where}: topics in no group of doctor questions: {missing}")
    return SummaryText(
        requests=requests,
        reply=checked("reply", raw.get("reply")),
        page={key: checked(f"page {key}", text) for key, text in page.items()},
        general_questions=general,
        group_of=group_of,
        group_questions=group_questions,
    )


@functools.lru_cache(maxsize=1)
def get_text() -> SummaryText:
    return load_text()


# ---------------------------------------------------------------- the chat side


def is_conversation_id(value: Any) -> bool:
    return isinstance(value, str) and CONVERSATION_ID.fullmatch(value) is not None


def is_summary_request(message: Any, text: Optional[SummaryText] = None) -> bool:
    return isinstance(message, str) and normalise(message) in (text or get_text()).requests


def summary_path(conversation_id: str) -> str:
    """The page's path on the bot's server (the widget puts its bot URL before it)."""
    return PATH_PREFIX + conversation_id


def summary_reply(
    conversation_id: str, content: Optional[Content] = None, clinic: Optional[Clinic] = None, text: Optional[SummaryText] = None
) -> Reply:
    """The chat reply to "summary" / "print this": the answer contract's text and payload, plus the page's path."""
    reply = ReplyBuilder(content, clinic).plain(SUMMARY_TOPIC, SUMMARY_KIND, (text or get_text()).reply)
    return dataclasses.replace(reply, payload={**reply.payload, "summary_path": summary_path(conversation_id)})


# ---------------------------------------------------------------- building the summary


def answered_turns(events: Iterable[Dict[str, Any]]) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """(patient message, the payload of the bot's reply to it), in order, after the latest restart.

    `events` are stored events as dicts (`Event.as_dict()`); a message without a reply (feedback) is skipped.
    """
    turns: List[Tuple[Dict[str, Any], Dict[str, Any]]] = []
    asked: Optional[Dict[str, Any]] = None
    for event in events:
        kind = event.get("event")
        if kind == "restart":
            turns, asked = [], None
        elif kind == "user":
            asked = event
        elif kind == "bot" and asked is not None:
            payload = (event.get("data") or {}).get("custom")
            if isinstance(payload, dict) and payload.get("topic"):
                turns.append((asked, payload))
                asked = None
    return turns


def _question(message: Dict[str, Any], content: Content) -> str:
    """The patient's words; for a suggested question they tapped ("/side_effects"), its title."""
    words = str(message.get("text") or "").strip()
    if not words.startswith("/"):
        return words
    topic = content.topics.get(words[1:])
    return topic.question if topic else ""


def _how(topic: str) -> Optional[str]:
    if topic in URGENT_TOPICS:
        return URGENT
    if topic in KNOWLEDGE_TOPICS:
        return ANSWERED
    return NOT_ANSWERED if topic in NOT_ANSWERED_TOPICS else None


def _answer(topic: str, how: str, content: Content, clinic: Clinic, text: SummaryText) -> str:
    if how == URGENT:
        return ReplyBuilder(content, clinic).urgent(topic).text
    if how == NOT_ANSWERED:
        return text.page["not_answered"]
    return content.topics[topic].short.format(**clinic.placeholders())  # every knowledge topic has one


def pick_doctor_questions(topics: Sequence[str], text: SummaryText) -> Tuple[str, ...]:
    """The first question of each group discussed (in the order they came up), then the second, ... up to
    the maximum; general questions make up the minimum."""
    groups = list(dict.fromkeys(text.group_of[topic] for topic in topics if topic in text.group_of))
    rounds = itertools.zip_longest(*(text.group_questions[group] for group in groups))
    picked = [question for questions in rounds for question in questions if question][:MAX_DOCTOR_QUESTIONS]
    for question in text.general_questions:
        if len(picked) >= MIN_DOCTOR_QUESTIONS:
            break
        picked.append(question)
    return tuple(picked)


def build_summary(
    events: Iterable[Dict[str, Any]], content: Optional[Content] = None, clinic: Optional[Clinic] = None, text: Optional[SummaryText] = None
) -> Summary:
    """The summary of a stored conversation (events as dicts, `Event.as_dict()`), by default with this process's
    content and clinic settings."""
    content, clinic, text = content or get_content(), clinic or get_settings().clinic, text or get_text()
    entries: List[Entry] = []
    cited: Dict[str, None] = {}
    latest: Optional[float] = None
    for message, payload in answered_turns(events):
        topic, question = str(payload["topic"]), _question(message, content)
        how = _how(topic)
        if how is None or not question:
            continue
        if entries and entries[-1].topic == topic:
            entries[-1] = dataclasses.replace(entries[-1], questions=entries[-1].questions + (question,))
        else:
            entries.append(Entry(topic, how, (question,), _answer(topic, how, content, clinic, text)))
        for citation in payload.get("citations") or ():
            if isinstance(citation, dict) and citation.get("id") in content.references:
                cited[citation["id"]] = None
        latest = message.get("timestamp") or latest
    return Summary(
        entries=tuple(entries),
        sources=tuple(content.citations(cited)),
        doctor_questions=pick_doctor_questions([entry.topic for entry in entries], text),
        safety=safety_message(clinic, content=content),
        clinic=clinic,
        date=datetime.date.fromtimestamp(latest) if latest else None,
    )


# ---------------------------------------------------------------- the page

STYLE = (
    ':root{color:#1a1a1a;background:#fff;font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}'
    "body{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}"
    "h1{font-size:1.6rem;line-height:1.25;margin:0 0 .4rem}"
    "h2{font-size:1.2rem;margin:1.6rem 0 .5rem;padding-bottom:.2rem;border-bottom:2px solid #d5dae1}"
    "header p{margin:.2rem 0}"
    "p{margin:.2rem 0}ul,ol{margin:.3rem 0;padding-left:1.6rem}li{margin:.25rem 0}"
    "a{color:#0a4f9c}"
    "#print{min-height:44px;margin-top:.8rem;padding:.5rem 1.1rem;font:inherit;font-weight:600;color:#fff;"
    "background:#0b5cad;border:0;border-radius:10px;cursor:pointer}"
    "#print:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}"
    ".safety{margin:1.2rem 0;padding:.6rem 1rem;border-left:6px solid #b35c00;background:#fff4e0;color:#3b2300}"
    ".safety h2{margin:0;padding:0;border:0;font-size:1.05rem}"
    ".turns>li{margin:0 0 .9rem}"
    ".q{font-weight:700}"
    ".a{margin-top:.2rem;padding-left:.8rem;border-left:3px solid #d5dae1}"
    ".a.urgent{border-left:5px solid #b3261e}"
    ".label{font-weight:600;color:#4a5361}"
    "footer{margin-top:2rem;font-size:.9rem;color:#4a5361}"
    # On screen, light-sensitive eyes get the widget's dark colours; paper is always black on white.
    "@media screen and (prefers-color-scheme:dark){:root{color:#e8eaed;background:#1c1f24;color-scheme:dark}"
    "a{color:#9ecbff}h2,.a{border-color:#444b55}.label,footer{color:#b8c0cb}.safety{background:#35280f;color:#f8e1b8}"
    "#print{background:#9ecbff;color:#1c1f24}#print:focus-visible{outline-color:#e8eaed}}"
    "@page{margin:14mm 16mm}"
    "@media print{:root{font-size:11pt;line-height:1.35}body{max-width:none;padding:0}#print{display:none}"
    "h1{font-size:16pt}h2{font-size:13pt;margin-top:11pt;break-after:avoid}li,.safety{break-inside:avoid}"
    'a{color:#000}a[href]::after{content:" (" attr(href) ")";font-size:9.5pt;overflow-wrap:anywhere}'
    ".safety{background:none;color:#000}footer{margin-top:12pt}}"
)
SCRIPT = 'document.getElementById("print").addEventListener("click",function(){window.print();});'


def _source_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


# Sent with every answer of the route: never cached, no framing, no referrer (the URL holds the conversation id),
# and nothing runs or loads but the page's own inline style and print script.
RESPONSE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src {_source_hash(STYLE)}; script-src {_source_hash(SCRIPT)}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _blocks(text: str) -> str:
    """Plain text as HTML: a paragraph per line, "- " lines as a bulleted list, everything escaped."""
    parts: List[str] = []
    bullets: List[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith("- "):
            bullets.append(f"<li>{_e(line[2:])}</li>")
            continue
        if bullets:
            parts.append(f"<ul>{''.join(bullets)}</ul>")
            bullets = []
        if line:
            parts.append(f"<p>{_e(line)}</p>")
    if bullets:
        parts.append(f"<ul>{''.join(bullets)}</ul>")
    return "".join(parts)


def long_date(date: datetime.date) -> str:
    """The date as patients read it: "28 November 2026"."""
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _entry(entry: Entry, page: Mapping[str, str]) -> str:
    label = page["urgent_answer"] if entry.how == URGENT else page["short_answer"]
    questions = "".join(f'<p class="q">{_e(question)}</p>' for question in entry.questions)
    urgent = " urgent" if entry.how == URGENT else ""
    return (
        f'<li data-topic="{_e(entry.topic)}">{questions}<div class="a{urgent}">'
        f'<p class="label">{_e(label)}</p>{_blocks(entry.answer)}</div></li>'
    )


def _words(text: Optional[SummaryText], clinic: Clinic) -> Dict[str, str]:
    return {key: value.format(**clinic.placeholders()) for key, value in (text or get_text()).page.items()}


def render_page(summary: Summary, text: Optional[SummaryText] = None) -> str:
    page = _words(text, summary.clinic)
    date = f'<p><span class="label">{_e(page["date"])}:</span> {_e(long_date(summary.date))}</p>' if summary.date else ""
    asked = (
        f'<ol class="turns">{"".join(_entry(entry, page) for entry in summary.entries)}</ol>'
        if summary.entries
        else f"<p>{_e(page['nothing_asked'])}</p>"
    )
    ask_doctor = "".join(f"<li>{_e(question)}</li>" for question in summary.doctor_questions)
    sources = "".join(
        f'<li><a href="{_e(source["url"])}" rel="noopener noreferrer">{_e(source["label"])}</a></li>' for source in summary.sources
    )
    body = (
        f'<header><h1>{_e(page["title"])}</h1><p>{_e(page["intro"])}</p>{date}'
        f'<button type="button" id="print">{_e(page["print"])}</button></header>'
        f'<main><section class="safety" aria-labelledby="safety"><h2 id="safety">{_e(page["safety"])}</h2>'
        f"<p>{_e(summary.safety)}</p></section>"
        f'<section aria-labelledby="asked"><h2 id="asked">{_e(page["asked"])}</h2>{asked}</section>'
        f'<section aria-labelledby="ask-doctor"><h2 id="ask-doctor">{_e(page["doctor_questions"])}</h2><ul>{ask_doctor}</ul></section>'
        + (f'<section aria-labelledby="sources"><h2 id="sources">{_e(page["sources"])}</h2><ol>{sources}</ol></section>' if sources else "")
        + f"</main><footer><p>{_e(page['footer'])}</p></footer><script>{SCRIPT}</script>"
    )
    return _document(page["title"], body)


def not_found_page(text: Optional[SummaryText] = None, clinic: Optional[Clinic] = None) -> str:
    """The one answer to a malformed or unknown id: says nothing about which it was."""
    page = _words(text, clinic or get_settings().clinic)
    return _document(page["not_found_title"], f'<main><h1>{_e(page["not_found_title"])}</h1><p>{_e(page["not_found"])}</p></main>')


def summary_page(events: Iterable[Dict[str, Any]]) -> str:
    """The page of a stored conversation, with this process's content and clinic settings."""
    return render_page(build_summary(events))
