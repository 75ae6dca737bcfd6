"""The clinic report: one self-contained HTML page of what patients asked the assistant.

    python -m bot.tools.report [--out PATH] [--db PATH]        (make report)

Read from the stored conversations (bot/rasa_ext/conversations.py, the configured tracker store or a SQLite file):
conversations and patient messages per week, topics asked, thumbs up/down per topic, urgent replies per
level and questions the assistant could not answer per week. Counts only: what patients typed is shown
only for unanswered questions, only when the clinic turns on `report_unanswered_text`, and only after
`redact`. Each chart (matplotlib, inline SVG) has a table with the same numbers beside it; the page loads
nothing (no scripts, styles, fonts or images from elsewhere), so it can be opened offline or e-mailed.
Its wording is bot/content/report.yml.
"""

import argparse
import collections
import dataclasses
import datetime
import functools
import html
import io
import pathlib
import re
import sys
from typing import Any, Counter, Dict, List, Optional, Sequence, Tuple

import jinja2
import matplotlib
import yaml
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core.answers import URGENT
from bot.core.content_store import CONTENT_DIR, TOPIC_IDS, URGENT_TOPICS, get_content
from bot.core.settings import RUNTIME_DIR, get_settings
from bot.rasa_ext.conversations import ConversationStore

DEFAULT_OUT = RUNTIME_DIR / "clinic-report.html"
# What the widget sends by itself, not the patient: its opening greeting, thumbs up/down, restarts.
WIDGET_SHORTCUTS = ("/greeting", "/feedback", "/restart", "/session_start")
# Reply topics that mean the assistant could not answer the message.
UNANSWERED_TOPICS = frozenset({"fallback", "out_of_scope"})
# Bars: the widget's default blue and an orange that both stand out on white for colour-blind readers too.
COLOURS = ("#0b5cad", "#c75000")


@functools.lru_cache(maxsize=1)
def wording() -> Dict[str, Any]:
    return yaml.safe_load((CONTENT_DIR / "report.yml").read_text(encoding="utf-8"))


# --- redaction ---------------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
MONTH = (
    "(?:"
    + "|".join(
        (
            "jan(?:uary)?",
            "feb(?:ruary)?",
            "mar(?:ch)?",
            "apr(?:il)?",
            "may",
            "june?",
            "july?",
            "aug(?:ust)?",
            "sept?(?:ember)?",
            "oct(?:ober)?",
            "nov(?:ember)?",
            "dec(?:ember)?",
        )
    )
    + ")"
)
DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE = re.compile(
    r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"  # 03/04/2025, 2025-04-03, 3.4.25
    rf"|\b{DAY}\s+(?:of\s+)?{MONTH}\b(?:,?\s+\d{{4}}\b)?"  # 3 March, 3rd of March 2025
    rf"|\b{MONTH}\.?\s+(?:{DAY}\b(?:,?\s+\d{{4}}\b)?|\d{{4}}\b)",  # March 3, March 3rd, 2025, March 2025
    re.IGNORECASE,
)
# Digits with spaces, dots, dashes, brackets or a leading +: a phone number when there are at least 7 digits.
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{5,}\d(?!\w)")
PHONE_DIGITS = 7
# COVID-19 and SARS-CoV-2 name the disease and the virus: their digits stay.
NUMBER = re.compile(r"(?<!covid-)(?<!cov-)(?<!\d)\d+(?:[.,:]\d+)*(?:st|nd|rd|th)?", re.IGNORECASE)
# "my name is jane", "dr. patel": the next word is a name, whatever its case.
NAME_CUES = ("my name is", "my name's", "i am called", "i'm called", r"dr\.?", r"mrs?\.?", r"prof\.?")
NAME_CUE = re.compile(rf"(\b(?:{'|'.join(NAME_CUES)})\s+)(?!\[)[^\W\d_][\w'’-]*", re.IGNORECASE)
# A capitalised word (at least one small letter, so IVIG, POTS, NIH stay), also O'Brien, McDonald, Mary-Jane;
# not inside a hyphenated word (SARS-CoV-2) nor a mark already put in.
CAPITALISED = re.compile(r"(?<![\w\[-])(?:[A-Z]['’])?[A-Z][A-Za-z]*[a-z][A-Za-z]*(?:['’-][A-Za-z]+)*\b")
SENTENCE_BREAK = re.compile(r"((?<=[.!?])\s+|\n+)")
# Capitalised words that are not names: the domain's, titles, and the calendar's.
NOT_NAMES = frozenset(
    """
    i ivig igiv immunoglobulin immunoglobulins covid long pots epstein-barr lyme
    gammagard privigen octagam gamunex gamunex-c panzyga flebogamma bivigam asceniv gammaplex hizentra
    medicare medicaid nih fda cdc recover hi hello thanks please ok okay yes no
    dr doctor mr mrs ms nurse english spanish french
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
""".split()
)


def redact(text: str) -> str:
    """The message with numbers, e-mail addresses, links, phone numbers, dates and names replaced.

    Names are found by a rule anyone can check, not a model: a capitalised word that does not start a
    sentence and is not in NOT_NAMES, and the word after "my name is" or a title ("dr").
    So "I'm Jane" loses "Jane" (a capitalised word inside the sentence), but these stay: a name that
    starts a sentence ("Jane here."), a name in small letters other than after those cues ("i'm jane",
    "my doctor smith"), a name written in capitals ("JANE"). Capitalised words that are not names (a
    drug brand missing from NOT_NAMES, a town) are replaced too: the rule errs on the side of hiding.
    """
    marks = wording()["redacted"]
    for pattern, mark in ((EMAIL, "email"), (LINK, "link"), (DATE, "date")):
        text = pattern.sub(marks[mark], text)
    text = PHONE.sub(lambda m: marks["phone"] if sum(c.isdigit() for c in m.group()) >= PHONE_DIGITS else m.group(), text)
    text = NUMBER.sub(marks["number"], text)
    text = NAME_CUE.sub(lambda m: m.group(1) + marks["name"], text)
    parts = SENTENCE_BREAK.split(text)
    # split() keeps the breaks at odd indexes; each sentence's first word may be capitalised for grammar.
    text = "".join(part if index % 2 else _redact_names(part, marks["name"]) for index, part in enumerate(parts))
    name = re.escape(marks["name"])
    return re.sub(rf"{name}(?:\s+{name})+", marks["name"], text)


def _redact_names(sentence: str, mark: str) -> str:
    first_word = re.search(r"\w", sentence)
    starts_at = first_word.start() if first_word else -1

    def replace(match: re.Match) -> str:
        word = match.group()
        if match.start() == starts_at or word.lower().replace("’", "'") in NOT_NAMES:
            return word
        return mark

    return CAPITALISED.sub(replace, sentence)


# --- counting ----------------------------------------------------------------------------------------------


def week_of(timestamp: float) -> datetime.date:
    """The Monday (UTC) of the week a moment falls in."""
    day = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).date()
    return day - datetime.timedelta(days=day.weekday())


@dataclasses.dataclass
class ReportData:
    first_day: Optional[datetime.date] = None
    last_day: Optional[datetime.date] = None
    conversations_per_week: Counter[datetime.date] = dataclasses.field(default_factory=collections.Counter)
    messages_per_week: Counter[datetime.date] = dataclasses.field(default_factory=collections.Counter)
    answers_per_topic: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    feedback: Counter[Tuple[str, str]] = dataclasses.field(default_factory=collections.Counter)
    urgent_per_level: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    unanswered_per_week: Counter[datetime.date] = dataclasses.field(default_factory=collections.Counter)
    # (when, message after `redact`); None unless the clinic turned report_unanswered_text on
    unanswered_texts: Optional[List[Tuple[float, str]]] = None

    def weeks(self) -> List[datetime.date]:
        """Every week from the first to the latest with a patient message, empty weeks included."""
        if not self.messages_per_week:
            return []
        week, last = min(self.messages_per_week), max(self.messages_per_week)
        weeks = []
        while week <= last:
            weeks.append(week)
            week += datetime.timedelta(days=7)
        return weeks


def collect(store: ConversationStore, include_unanswered_text: bool) -> ReportData:
    """The report's numbers, in one pass over the stored messages and replies."""
    data = ReportData(unanswered_texts=[] if include_unanswered_text else None)
    if not store.exists():
        return data
    conversations = store.conversations()
    if conversations:
        data.first_day = datetime.datetime.fromtimestamp(conversations[0].first_timestamp, datetime.timezone.utc).date()
        latest = max(c.last_timestamp for c in conversations)
        data.last_day = datetime.datetime.fromtimestamp(latest, datetime.timezone.utc).date()
    data.feedback = store.feedback_counts()
    sender, counted, message = None, False, None
    for sender_id, event in store.every_event(("user", "bot")):
        if sender_id != sender:
            sender, counted, message = sender_id, False, None
        if event["event"] == "user":
            text = event.get("text") or ""
            # the reply that follows answers the patient only when the patient wrote or tapped the message
            message = None if text.startswith(WIDGET_SHORTCUTS) else text
            if message is not None:
                week = week_of(event["timestamp"])
                data.messages_per_week[week] += 1
                if not counted:
                    counted = True
                    data.conversations_per_week[week] += 1
            continue
        payload = (event.get("data") or {}).get("custom") or {}
        topic = payload.get("topic")
        if message is None or topic not in TOPIC_IDS:  # privacy turns ("forget me", then "no") are no topic
            continue
        if topic in URGENT_TOPICS:
            if payload.get("kind") == URGENT:
                data.urgent_per_level[topic] += 1
            continue
        data.answers_per_topic[topic] += 1
        if topic in UNANSWERED_TOPICS:
            data.unanswered_per_week[week_of(event["timestamp"])] += 1
            if data.unanswered_texts is not None:
                data.unanswered_texts.append((event["timestamp"], redact(message)))
    if data.unanswered_texts is not None:
        data.unanswered_texts.sort()
    return data


# --- the page ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Section:
    id: str
    heading: str
    text: str
    columns: Sequence[str]
    rows: List[Sequence[Any]]
    when_empty: str  # shown instead of the table when there are no rows
    chart: str = ""  # inline SVG


def bar_chart(chart_id: str, description: str, labels: Sequence[str], series: Dict[str, Sequence[int]], horizontal: bool = False) -> str:
    """A bar chart (grouped when several series) as inline SVG whose <title> describes it."""
    count = len(labels)
    size = (7.5, 0.32 * count + 1.2) if horizontal else (7.5, 3.4)
    figure = Figure(figsize=size)
    axes = figure.subplots()
    width = 0.8 / len(series)
    for index, (name, values) in enumerate(series.items()):
        positions = [i - 0.4 + width * (index + 0.5) for i in range(count)]
        draw = axes.barh if horizontal else axes.bar
        draw(positions, values, width, label=name, color=COLOURS[index % len(COLOURS)])
    label_axis, value_axis = (axes.yaxis, axes.xaxis) if horizontal else (axes.xaxis, axes.yaxis)
    value_axis.set_major_locator(MaxNLocator(integer=True))
    label_axis.set_ticks(range(count))
    label_axis.set_ticklabels(labels)
    if horizontal:
        axes.invert_yaxis()  # first row of the table at the top
    elif count > 8:
        axes.tick_params(axis="x", labelrotation=45)
        for tick in axes.xaxis.get_ticklabels():
            tick.set_horizontalalignment("right")
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x" if horizontal else "y", color="#dddddd")
    axes.set_axisbelow(True)
    if len(series) > 1:
        axes.legend(frameon=False)
    figure.tight_layout()
    svg = io.StringIO()
    # text stays text (readable, searchable, in the page's font)
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(svg, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    markup = svg.getvalue()
    # Inline in HTML: no XML prolog (it names a DTD on the web), no namespaces (HTML knows SVG).
    markup = re.sub(r'\s+xmlns(?::xlink)?="[^"]*"', "", markup[markup.index("<svg") :])
    # Every chart numbers its parts alike (figure_1, ...): the chart's id in front keeps ids unique in the page.
    markup = re.sub(r'(\bid="|url\(#|href="#)', rf"\g<1>{chart_id}-", markup)
    title = f'<title id="{chart_id}-title">{html.escape(description)}</title>'
    return re.sub(r"<svg\b([^>]*)>", rf'<svg\1 role="img" aria-labelledby="{chart_id}-title">{title}', markup, count=1)


def sections(data: ReportData) -> List[Section]:
    text, note = wording()["sections"], wording()["chart_note"]
    topics = get_content().topics

    def section(key: str, rows: List[Sequence[Any]], series: Sequence[int] = (), horizontal: bool = False) -> Section:
        """A section whose chart draws the table's numeric columns `series` against its first column."""
        words = text[key]
        result = Section(key, words["heading"], words["text"], words["columns"], rows, wording()["nothing"])
        if rows and series:
            values: Dict[str, Sequence[int]] = {words["columns"][i]: [row[i] for row in rows] for i in series}
            result.chart = bar_chart(f"{key}-chart", f"{words['chart']} {note}", [str(row[0]) for row in rows], values, horizontal)
        return result

    def question(topic: str) -> str:
        return topics[topic].question if topic in topics else ""

    weeks = data.weeks()
    # every urgent level, zeros included, once there is anything to count
    levels = URGENT_TOPICS if weeks else ()
    words = text["unanswered_text"]
    if data.unanswered_texts is None:
        typed = Section("unanswered_text", words["heading"], words["when_off"], words["columns"], [], "")
    else:
        typed = Section(
            "unanswered_text",
            words["heading"],
            words["text"],
            words["columns"],
            [(week_of(when).isoformat(), message) for when, message in data.unanswered_texts],
            wording()["nothing"],
        )
    feedback_topics = sorted({topic for topic, _ in data.feedback}, key=lambda t: (-sum(data.feedback[(t, r)] for r in ("up", "down")), t))
    return [
        section("activity", [(w.isoformat(), data.conversations_per_week[w], data.messages_per_week[w]) for w in weeks], series=(1, 2)),
        section(
            "topics",
            [(t, question(t), n) for t, n in sorted(data.answers_per_topic.items(), key=lambda i: (-i[1], i[0]))],
            series=(2,),
            horizontal=True,
        ),
        section(
            "feedback", [(t, data.feedback[(t, "up")], data.feedback[(t, "down")]) for t in feedback_topics], series=(1, 2), horizontal=True
        ),
        section("urgent", [(wording()["levels"][level], data.urgent_per_level[level]) for level in levels], series=(1,), horizontal=True),
        section("unanswered", [(w.isoformat(), data.unanswered_per_week[w]) for w in weeks], series=(1,)),
        typed,
    ]


PAGE = jinja2.Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ w.title }}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1b1b; background: #fff;
         line-height: 1.5; margin: 0 auto; max-width: 76rem; padding: 1.5rem; }
  h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.3rem; margin: 2.5rem 0 .5rem; border-top: 1px solid #ccc; padding-top: 1.5rem; }
  .lead { font-size: 1.15rem; margin: 0 0 1rem; }
  .small { color: #4a4a4a; font-size: .9rem; }
  .pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 2rem; align-items: start; }
  .pair.text { grid-template-columns: minmax(0, 1fr); }
  figure { margin: 0; }
  figure svg { width: 100%; height: auto; }
  /* the charts' text in the page's font (matplotlib names the generic family as if it were a font) */
  figure svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif !important; }
  table { border-collapse: collapse; width: 100%; font-size: .95rem; }
  caption { text-align: left; font-weight: 600; padding-bottom: .4rem; }
  th, td { border-bottom: 1px solid #d6d6d6; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  thead th { border-bottom: 2px solid #1b1b1b; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  @media (max-width: 50rem) { .pair { grid-template-columns: minmax(0, 1fr); } }
</style>
</head>
<body>
<header>
  <h1>{{ w.title }}</h1>
  <p class="lead">{{ subtitle }}</p>
  <p>{{ period }}</p>
  <p>{{ w.privacy }}</p>
  <p class="small">{{ generated }}</p>
</header>
<main>
{% for s in sections %}
<section aria-labelledby="{{ s.id }}">
  <h2 id="{{ s.id }}">{{ s.heading }}</h2>
  <p>{{ s.text }}</p>
  {% if s.rows %}
  <div class="pair{% if not s.chart %} text{% endif %}">
    {% if s.chart %}<figure>{{ s.chart | safe }}</figure>{% endif %}
    <table id="{{ s.id }}-table">
      <caption>{{ s.heading }}</caption>
      <thead><tr>{% for column in s.columns %}<th scope="col">{{ column }}</th>{% endfor %}</tr></thead>
      <tbody>
      {% for row in s.rows %}<tr><th scope="row">{{ row[0] }}</th>
        {%- for cell in row[1:] %}<td{% if cell is number %} class="number"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
      {% endfor %}
      </tbody>
    </table>
  </div>
  {% elif s.when_empty %}<p>{{ s.when_empty }}</p>{% endif %}
</section>
{% endfor %}
</main>
</body>
</html>
""",
    autoescape=True,
)


def build_page(data: ReportData, clinic_name: str, retention_days: int, today: datetime.date) -> str:
    words = wording()
    if data.first_day and data.last_day:
        period = words["period"].format(
            first_day=data.first_day.isoformat(),
            last_day=data.last_day.isoformat(),
            conversations=sum(data.conversations_per_week.values()),
            messages=sum(data.messages_per_week.values()),
        )
    else:
        period = words["empty"]
    return PAGE.render(
        w=words,
        subtitle=words["subtitle"].format(clinic_name=clinic_name),
        period=period,
        generated=words["generated"].format(generated=today.isoformat(), retention_days=retention_days),
        sections=sections(data),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=DEFAULT_OUT,
        help=f"where to write the page (default {DEFAULT_OUT.name} " "in the runtime folder)",
    )
    parser.add_argument("--db", type=pathlib.Path, default=None, help="a SQLite tracker store (default: the configured one)")
    args = parser.parse_args(argv)
    settings = get_settings()
    store = ConversationStore.sqlite(args.db) if args.db else ConversationStore.configured()
    data = collect(store, settings.report_unanswered_text)
    page = build_page(data, settings.clinic.clinic_name, settings.retention_days, datetime.date.today())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"wrote {args.out} ({sum(data.conversations_per_week.values())} conversations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
