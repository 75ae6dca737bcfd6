"""The clinic report, seeded, opened in headless Chromium as a clinic opens the file: it asks for nothing
beyond itself, every chart is drawn, and an accessibility scan (axe-core) finds nothing to fix.

Its screenshot goes to tests/artifacts/clinic-report.png; with UPDATE_DOCS_IMAGES=1 it also refreshes the
README's docs/images/clinic-report.png."""

import datetime
import os
import shutil

import pytest
from rasa.shared.core.domain import Domain

from bot.core.settings import PROJECT_DIR
from bot.rasa_ext.conversations import ConversationStore
from bot.tools import report
from tests.unit.test_clinic_report import Page, assert_numbers_of_the_seed
from tests.unit.test_conversation_store import clinic_seed, seeded_sqlite

CHROMIUM = os.environ.get("IVIG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_JS = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"
README_IMAGE = PROJECT_DIR / "docs" / "images" / "clinic-report.png"
# fixed, so that the screenshot changes only when the report does
WRITTEN_ON = datetime.date(2026, 11, 28)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    seeded = clinic_seed()
    folder = tmp_path_factory.mktemp("clinic-report")
    db = seeded_sqlite(folder / "conversations.db", Domain.load(str(PROJECT_DIR / "domain.yml")), seeded)
    data = report.collect(ConversationStore.sqlite(db), include_unanswered_text=True)
    text = report.build_page(data, "Riverside Long COVID Clinic", 90, WRITTEN_ON)
    assert_numbers_of_the_seed(Page(text), seeded)
    path = folder / "clinic-report.html"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_report_opens_offline_with_every_chart_drawn_and_no_accessibility_violation(report_file):
    from playwright.sync_api import sync_playwright

    assert AXE_JS.is_file(), f"{AXE_JS} is missing: run `npm ci` at the repository root"
    requested = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.goto(report_file.as_uri())
            assert requested == [report_file.as_uri()], "the page asks for nothing beyond itself"
            charts = page.locator("figure svg")
            assert charts.count() == 5
            for index in range(charts.count()):
                box = charts.nth(index).bounding_box()
                assert box and box["width"] > 300 and box["height"] > 100
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "clinic-report.png"), full_page=True)
            page.add_script_tag(path=str(AXE_JS))
            violations = page.evaluate("""async () => {
                const result = await axe.run(document, {resultTypes: ['violations']});
                return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target)}));
            }""")
        finally:
            browser.close()
    assert violations == []
    if os.environ.get("UPDATE_DOCS_IMAGES") == "1":
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACTS / "clinic-report.png", README_IMAGE)
