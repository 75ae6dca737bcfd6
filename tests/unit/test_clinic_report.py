"""The clinic report (bot/tools/report.py, `make report`) on a seeded SQLite tracker store: its tables hold the
seed's numbers, what patients typed is absent by default and redacted when the clinic turns it on, and the
page loads nothing from anywhere."""

import collections
import datetime
import html.parser
import os
import re
import subprocess
import sys
from typing import Dict, List, Sequence

import pytest

from bot.core.settings import PROJECT_DIR, get_settings, load_clinic
from bot.rasa_ext.conversations import ConversationStore
from bot.tools import report
from tests.unit.test_conversation_store import (
    LEVELS,
    PATIENT_KINDS,
    UNANSWERED,
    URGENT_MESSAGES,
    UTC,
    SeededConversation,
    clinic_seed,
    expected_feedback,
    seeded_sqlite,
)

TODAY = datetime.date(2026, 11, 28)
# Tags and attributes through which a page could load something.
LOADING_TAGS = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source", "image", "base"}
LOADING_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "data", "poster", "background"}


class Page(html.parser.HTMLParser):
    """What the tests read in a report: its text (not the charts' drawing instructions), its tables (by id)
    and everything that could load a resource."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: Dict[str, List[List[str]]] = {}
        self.references: List[str] = []
        self.tags = collections.Counter()
        self.svg_titles: List[str] = []
        self.text_parts: List[str] = []
        self._table, self._cell, self._in_svg_title = None, None, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        self.references += [value or "" for name, value in attrs if name in LOADING_ATTRIBUTES]
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "title" and self.tags["svg"]:
            self._in_svg_title, self._title = True, []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "title" and self._in_svg_title:
            self.svg_titles.append("".join(self._title))
            self._in_svg_title = False

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in_svg_title:
            self._title.append(data)

    def rows(self, table_id: str) -> List[List[str]]:
        """The table's body rows (its header row left out)."""
        return self.tables[table_id][1:]


def week(at: float) -> str:
    day = datetime.datetime.fromtimestamp(at, UTC).date()
    return (day - datetime.timedelta(days=day.weekday())).isoformat()


def expected_tables(seeded: Sequence[SeededConversation]) -> Dict[str, object]:
    """The report's numbers, counted from the seed itself."""
    patient = [t for c in seeded for t in c.turns if t.kind in PATIENT_KINDS]
    messages = collections.Counter(week(t.at) for t in patient)
    starts = collections.Counter(
        week(min(t.at for t in c.turns if t.kind in PATIENT_KINDS)) for c in seeded if any(t.kind in PATIENT_KINDS for t in c.turns)
    )
    first = datetime.date.fromisoformat(min(messages))
    weeks = [
        (first + datetime.timedelta(days=7 * n)).isoformat()
        for n in range((datetime.date.fromisoformat(max(messages)) - first).days // 7 + 1)
    ]
    answered = collections.Counter(t.topic for t in patient if t.kind in ("topic", "tap", "unanswered"))
    urgent = collections.Counter(t.topic for t in patient if t.kind == "urgent")
    unanswered = collections.Counter(week(t.at) for t in patient if t.kind == "unanswered")
    feedback = expected_feedback(seeded)
    levels = report.wording()["levels"]
    return {
        "activity-table": [[w, str(starts[w]), str(messages[w])] for w in weeks],
        "topics-table": dict(answered),
        "feedback-table": {topic: (feedback[(topic, "up")], feedback[(topic, "down")]) for topic, _ in feedback},
        "urgent-table": [[levels[level], str(urgent[level])] for level in LEVELS],
        "unanswered-table": [[w, str(unanswered[w])] for w in weeks],
        "texts": sorted((t.at, t.text) for t in patient if t.kind == "unanswered"),
    }


def assert_numbers_of_the_seed(page: Page, seeded: Sequence[SeededConversation]) -> None:
    expected = expected_tables(seeded)
    assert page.rows("activity-table") == expected["activity-table"]
    assert ["0", "0"] in [row[1:] for row in expected["activity-table"]], "the seed has a week without conversations"
    topics = page.rows("topics-table")
    assert {row[0]: int(row[-1]) for row in topics} == expected["topics-table"]
    assert [int(row[-1]) for row in topics] == sorted((int(row[-1]) for row in topics), reverse=True)
    assert {row[0]: (int(row[1]), int(row[2])) for row in page.rows("feedback-table")} == expected["feedback-table"]
    assert page.rows("urgent-table") == expected["urgent-table"]
    assert page.rows("unanswered-table") == expected["unanswered-table"]


def assert_loads_nothing(text: str, page: Page) -> None:
    assert not (set(page.tags) & LOADING_TAGS), set(page.tags) & LOADING_TAGS
    assert all(reference.startswith("#") for reference in page.references), page.references
    assert "http://" not in text and "https://" not in text and "@import" not in text
    assert "url(" not in text.replace("url(#", "")


def assert_no_personal_details(page: Page) -> None:
    text = " ".join(page.text_parts)
    for _, personal in UNANSWERED:
        for detail in personal:
            assert detail not in text, detail


def run_report(tmp_path, db, **env) -> str:
    out = tmp_path / "report.html"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IVIG_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot.tools.report", "--db", str(db), "--out", str(out)],
        cwd=PROJECT_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seeded():
    return clinic_seed()


@pytest.fixture(scope="module")
def db(seeded, domain, tmp_path_factory):
    return seeded_sqlite(tmp_path_factory.mktemp("report") / "conversations.db", domain, seeded)


def test_the_report_counts_what_the_seed_holds_and_shows_no_patient_text_by_default(db, seeded, tmp_path):
    text = run_report(tmp_path, db)
    page = Page(text)
    assert_numbers_of_the_seed(page, seeded)
    assert_no_personal_details(page)
    for message in ("ok thanks", "typed question", *URGENT_MESSAGES.values(), *(message for message, _ in UNANSWERED)):
        assert message not in text
    assert "unanswered_text-table" not in page.tables
    assert report.wording()["sections"]["unanswered_text"]["when_off"] in text
    assert_loads_nothing(text, page)


def test_a_clinic_that_turns_it_on_sees_unanswered_questions_redacted(db, seeded, tmp_path):
    clinic = tmp_path / "clinic.yml"
    clinic.write_text("clinic_name: Riverside Long COVID Clinic\nreport_unanswered_text: true\n")
    text = run_report(tmp_path, db, IVIG_CLINIC_FILE=str(clinic))
    page = Page(text)
    assert_numbers_of_the_seed(page, seeded)
    assert page.rows("unanswered_text-table") == [[week(at), report.redact(message)] for at, message in expected_tables(seeded)["texts"]]
    assert_no_personal_details(page)
    for kept in ("vaccine for shingles", "weather", "can I drink coffee before the drip"):
        assert kept in text
    assert "Riverside Long COVID Clinic" in text
    assert_loads_nothing(text, page)


def test_every_chart_is_described_and_sits_beside_its_table(db):
    text = report.build_page(report.collect(ConversationStore.sqlite(db), True), "a clinic", 90, TODAY)
    page = Page(text)
    charted = ("activity", "topics", "feedback", "urgent", "unanswered")
    assert page.tags["svg"] == len(charted)
    assert text.count('role="img" aria-labelledby=') == len(charted)
    for key, title in zip(charted, page.svg_titles):
        assert title.startswith(report.wording()["sections"][key]["chart"])
        assert f"{key}-table" in page.tables
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "ids are unique in the page"
    references = re.findall(r'(?:url\(#|href="#)([^")]+)', text)
    assert references and set(references) <= set(ids), "every reference inside a chart finds its target"


def test_an_empty_store_gives_a_page_that_says_so(tmp_path):
    text = report.build_page(report.collect(ConversationStore.sqlite(tmp_path / "none.db"), False), "a clinic", 90, TODAY)
    page = Page(text)
    assert report.wording()["empty"] in text
    assert not page.tables and not page.tags["svg"]
    assert text.count(report.wording()["nothing"]) == 5
    assert_loads_nothing(text, page)


@pytest.mark.parametrize(
    "clinic_value, env_value, shown",
    [
        (None, None, False),
        ("true", None, True),
        ("true", "false", False),
        (None, "true", True),
        (None, "", False),
    ],
)
def test_the_environment_overrides_the_clinic_setting(clinic_value, env_value, shown, tmp_path, monkeypatch):
    clinic = tmp_path / "clinic.yml"
    clinic.write_text(f"report_unanswered_text: {clinic_value}\n" if clinic_value else "clinic_name: a clinic\n")
    monkeypatch.setenv("IVIG_CLINIC_FILE", str(clinic))
    if env_value is None:
        monkeypatch.delenv("IVIG_REPORT_UNANSWERED_TEXT", raising=False)
    else:
        monkeypatch.setenv("IVIG_REPORT_UNANSWERED_TEXT", env_value)
    get_settings.cache_clear()
    try:
        assert get_settings().report_unanswered_text is shown
    finally:
        get_settings.cache_clear()


def test_a_setting_that_is_not_true_or_false_is_refused(tmp_path, monkeypatch):
    clinic = tmp_path / "clinic.yml"
    clinic.write_text("report_unanswered_text: 'no'\n")
    with pytest.raises(ValueError, match="report_unanswered_text"):
        load_clinic(clinic)
    monkeypatch.setenv("IVIG_REPORT_UNANSWERED_TEXT", "yes")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="IVIG_REPORT_UNANSWERED_TEXT"):
            get_settings()
    finally:
        get_settings.cache_clear()
