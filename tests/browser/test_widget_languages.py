"""The widget's own words in the clinic's language (`data-lang`), in a real headless Chromium against the real bot.

With `data-lang` es or fr the widget loads ivig-chat.<lang>.json from beside its script and shows its own
buttons, labels, placeholder, confirmations, errors and safety text in that language, its root marked with it.
The bot's answers (and its suggested questions) stay English and are marked `lang="en"`; whatever the widget
could not translate (another language, a file that is missing, blocked or late, a key the file lacks) is
English and marked English. Text is never marked with a language it is not in: every text node and label in
the widget is checked against the translation files.
"""

import gzip
import json
import re
from pathlib import Path
from typing import List, Sequence

import pytest
from playwright.sync_api import Page, expect
from test_widget import SIDE_EFFECTS_Q, answer_of, ask, first_sentence, wait_for_greeting
from test_widget_patient_devices import in_widget

from tests.unit.test_widget_strings import english_strings

REPO = Path(__file__).resolve().parents[2]
WIDGET_DIR = REPO / "bot" / "widget"
EN = english_strings()
TRANSLATIONS = {lang: json.loads((WIDGET_DIR / f"ivig-chat.{lang}.json").read_text(encoding="utf-8")) for lang in ("es", "fr")}

# The clinic's own words, as a Spanish- or French-speaking clinic would write them in its snippet.
CLINIC = {
    "es": {
        "clinicName": "Clínica Riverside de COVID persistente",
        "clinicContact": "llame a la línea de enfermería, de lunes a viernes, de 9 a 17 h",
    },
    "fr": {
        "clinicName": "Clinique Riverside du COVID long",
        "clinicContact": "appelez la ligne infirmière, du lundi au vendredi, de 9 h à 17 h",
    },
    "de": {"clinicName": "Long-COVID-Ambulanz Riverside"},
}


def with_snippet(page: Page, **data: str) -> None:
    """Change the demo page's widget snippet (its data-* attributes) as the page is parsed, before the deferred
    widget runs: the clinic's own snippet."""
    page.add_init_script(
        """(data => new MutationObserver((changes, obs) => {
        const s = document.querySelector('script[src*="ivig-chat"]');
        if (!s) return;
        Object.assign(s.dataset, data);
        obs.disconnect();
    }).observe(document, {childList: true, subtree: true}))(%s)"""
        % json.dumps(data)
    )


# Every text node and every label or placeholder in the widget with the language it is marked with (the
# closest `lang` inside the shadow root); the patient's own typed words (language unknown) are left out.
MARKED = """
    const langOf = e => { const x = e.closest('[lang]'); return x ? x.getAttribute('lang') : null; };
    const out = [], walk = document.createTreeWalker(r, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walk.nextNode())) {
        const p = n.parentElement;
        if (!p || p.closest('style') || !n.data.trim() || p.matches('.u > .b')) continue;
        out.push({text: n.data.trim(), lang: langOf(p), where: p.className || p.tagName});
    }
    for (const e of r.querySelectorAll('[aria-label], [placeholder]'))
        for (const a of ['aria-label', 'placeholder'])
            if (e.hasAttribute(a)) out.push({text: e.getAttribute(a).trim(), lang: langOf(e), where: a});
    return out;
"""


def pieces(text: str) -> List[str]:
    """A translated string's literal pieces (around its {placeholders})."""
    return [p.strip() for p in re.split(r"\{\w+\}", text) if p.strip()]


def check_marking(page: Page, lang: str, clinic_words: Sequence[str] = ()) -> List[dict]:
    """Text marked `lang` is made of the translation's words (and the clinic's own); text marked English is
    none of the translation's."""
    marked = in_widget(page, MARKED)
    known = sorted([p for value in TRANSLATIONS[lang].values() for p in pieces(value)] + list(clinic_words), key=len, reverse=True)
    translated_only = {v.strip() for k, v in TRANSLATIONS[lang].items() if v.strip() != EN[k].strip()}
    for item in marked:
        text = item["text"]
        if item["lang"] == lang:
            rest = text
            for piece in known:
                rest = rest.replace(piece, " ")
            assert not re.search(r"[^\W\d_]{3,}", rest), item  # no word left that is not the translation's
        else:
            assert item["lang"] == "en", item
            assert text not in translated_only, item
    return marked


def open_panel(page: Page, launcher_name: str, title: str):
    page.get_by_role("button", name=launcher_name).click()
    dialog = page.get_by_role("dialog", name=title)
    expect(dialog).to_be_visible()
    return dialog


def root_lang(page: Page) -> str:
    return in_widget(page, "return r.querySelector('.w').getAttribute('lang');")


# ---------------------------------------------------------------- translated


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_widget_speaks_the_clinic_language_and_the_bot_stays_english(page: Page, demo_server, lang):
    t = TRANSLATIONS[lang]
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.endswith(".json") else None)
    with_snippet(page, lang=lang, title="", **CLINIC[lang])
    page.goto(demo_server.url)

    # Fetched from beside the script, once; the launcher, the root and the panel in the clinic's language.
    launcher = page.get_by_role("button", name=t["launch"])
    expect(launcher).to_be_visible()
    assert fetched == [f"{demo_server.url}widget/ivig-chat.{lang}.json"], fetched
    assert root_lang(page) == lang
    dialog = open_panel(page, t["launch"], t["title"])
    expect(dialog.get_by_label(t["label"])).to_have_attribute("placeholder", t["ph"])
    expect(dialog.get_by_role("button", name=t["send"], exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name=t["close"])).to_be_visible()
    expect(dialog.get_by_role("button", name=t["restart"])).to_contain_text(t["over"])
    expect(dialog.get_by_role("link", name=t["doc"] + t["newtab"])).to_contain_text(t["sum"])
    expect(dialog.locator(".foot")).to_have_text(t["foot"])
    expect(dialog.get_by_role("region", name=t["log"])).to_be_visible()
    expect(dialog.locator("h2")).to_have_attribute("lang", lang)
    expect(dialog.locator(".hd p")).to_have_attribute("lang", lang)  # the clinic's name, in its words

    # The bot's greeting: English and marked so; its suggested questions too; the widget's box title translated.
    chips = wait_for_greeting(page)
    greeting = page.locator('.log .m[data-topic="greeting"]')
    expect(greeting.locator(".b")).to_have_attribute("lang", "en")
    expect(greeting.locator(".b")).to_contain_text(first_sentence("greeting"))
    expect(chips.first).to_have_attribute("lang", "en")
    expect(greeting.locator(".safe strong")).to_have_text(t["imp"])
    expect(greeting.locator(".safe strong")).to_have_attribute("lang", lang)
    expect(greeting.locator(".safe")).to_contain_text("medical supervision")  # the bot's own safety words

    # An answer: English, with the widget's words around it in the clinic's language.
    dialog.get_by_label(t["label"]).fill(SIDE_EFFECTS_Q)
    dialog.get_by_label(t["label"]).press("Enter")
    msg = answer_of(page, "side_effects")
    expect(msg.locator(".b")).to_have_attribute("lang", "en")
    expect(msg.locator(".b > p").first).to_contain_text(first_sentence("side_effects"))
    live = page.locator(".panel > [aria-live=polite]")
    expect(live.locator(f'span[lang="{lang}"]').first).to_have_text(t["bot"].strip())
    expect(live.locator('span[lang="en"]').first).to_contain_text(first_sentence("side_effects"))
    expect(msg.locator(".cites > p")).to_have_text(re.compile(f"^({re.escape(t['src'])}|{re.escape(t['srcs'])})$"))
    line = msg.locator(".safe")
    expect(line.locator("strong")).to_have_text(t["impc"])
    expect(line.locator("[aria-hidden=true]")).to_have_text(t["short"])
    line.get_by_role("button", name=t["more"]).click()
    expect(line.get_by_role("button", name=t["less"])).to_have_attribute("lang", lang)
    msg.get_by_role("group", name=t["rate"]).get_by_role("button", name=t["up"], exact=True).click()
    expect(msg.locator(".fb")).to_contain_text(t["thanks"])

    # "Start over" asks in the clinic's language; Cancel keeps the conversation.
    dialog.get_by_role("button", name=t["restart"]).click()
    expect(dialog.locator(".ask p")).to_have_text(t["ask"])
    expect(dialog.get_by_role("button", name=t["yes"])).to_be_visible()
    expect(dialog.get_by_role("button", name=t["del"])).to_be_visible()
    dialog.get_by_role("button", name=t["cancel"], exact=True).click()

    # Nothing English is marked as the clinic's language, nothing translated as English.
    marked = check_marking(page, lang, clinic_words=tuple(CLINIC[lang].values()))
    assert {m["lang"] for m in marked} >= {lang, "en"}


def test_spanish_error_state_with_the_clinic_contact(page: Page, unreachable_demo_server):
    t = TRANSLATIONS["es"]
    with_snippet(page, lang="es", title="Preguntas sobre IVIG", clinicPhone="01632 960 123", **CLINIC["es"])
    page.goto(unreachable_demo_server.url)
    open_panel(page, t["launch"], "Preguntas sobre IVIG")
    error = page.locator(".log .m.err")
    expect(error).to_have_count(1)
    expect(error.locator("strong").first).to_have_text(t["unreach"])
    expect(error).to_contain_text(
        t["care"].replace("{clinic}", CLINIC["es"]["clinicName"]).replace("{contact}", CLINIC["es"]["clinicContact"])
    )
    expect(error.get_by_role("link", name="01632 960 123")).to_have_attribute("href", "tel:01632960123")
    expect(error.locator(".safe")).to_contain_text(t["safety"])
    expect(error.locator(".safe span")).to_have_attribute("lang", "es")
    expect(error.get_by_role("button", name=t["retry"])).to_be_visible()
    check_marking(page, "es", clinic_words=tuple(CLINIC["es"].values()) + ("Preguntas sobre IVIG",))


# ---------------------------------------------------------------- not translated: English, marked English


def english_widget(page: Page, clinic_words: Sequence[str] = ()):
    """The widget in English: launcher, root, panel, greeting, all English and marked English."""
    expect(page.get_by_role("button", name=EN["launch"])).to_be_visible()
    assert root_lang(page) == "en"
    dialog = open_panel(page, EN["launch"], EN["title"])
    expect(dialog.get_by_label(EN["label"])).to_have_attribute("placeholder", EN["ph"])
    expect(dialog.get_by_role("button", name=EN["send"], exact=True)).to_be_visible()
    wait_for_greeting(page)
    marked = in_widget(page, MARKED)
    for item in marked:
        assert item["lang"] == "en" or item["text"] in clinic_words, item
    assert in_widget(page, "return r.querySelectorAll('.err').length;") == 0
    return dialog


def test_language_without_translation_is_english_marked_english(page: Page, demo_server):
    # German: no translation file is asked for; the widget's words (the default title and launcher label
    # included) are English and marked English; only the clinic's own name is marked German.
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.endswith(".json") else None)
    with_snippet(page, lang="de", title="", **CLINIC["de"])
    page.goto(demo_server.url)
    dialog = english_widget(page, tuple(CLINIC["de"].values()))
    expect(dialog.locator("h2")).to_have_attribute("lang", "en")
    expect(dialog.locator(".hd p")).to_have_attribute("lang", "de")
    assert fetched == []


@pytest.mark.parametrize("failure", ["404", "blocked"])
def test_missing_or_blocked_translation_is_english_without_error(page: Page, demo_server, failure):
    # The file is not there (a clinic that did not host it) or cannot be fetched (offline, CSP): English.
    def refuse(route):
        if failure == "404":
            route.fulfill(status=404, content_type="text/plain", body="Not found\n")
        else:
            route.abort("blockedbyclient")

    page.route("**/ivig-chat.es.json", refuse)
    with_snippet(page, lang="es", title="", **CLINIC["es"])
    page.goto(demo_server.url)
    english_widget(page, tuple(CLINIC["es"].values()))
    ask(page, SIDE_EFFECTS_Q)
    expect(answer_of(page, "side_effects").locator(".b")).to_have_attribute("lang", "en")
    # (The page fixture also checks no uncaught error and no dialog.)


def test_late_translation_english_and_page_calls_wait(page: Page, demo_server):
    # A file that never arrives: after 5 seconds the widget is there, in English. The page's own
    # IVIGChat.open() made before then opens it once it is built.
    page.route("**/ivig-chat.fr.json", lambda route: None)  # held, never answered
    with_snippet(page, lang="fr", title="")
    page.add_init_script("addEventListener('DOMContentLoaded', () => IVIGChat.open())")
    page.goto(demo_server.url)
    expect(page.get_by_role("dialog", name=EN["title"])).to_be_visible(timeout=10_000)
    assert root_lang(page) == "en"
    wait_for_greeting(page)


def test_partial_translation_marks_the_missing_words_english(page: Page, demo_server):
    # An older translation file without some keys: those words are English and marked English, the rest
    # Spanish.
    partial = dict(TRANSLATIONS["es"])
    for key in ("send", "ph", "imp"):
        del partial[key]
    page.route("**/ivig-chat.es.json", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(partial)))
    with_snippet(page, lang="es", title="", **CLINIC["es"])
    page.goto(demo_server.url)
    dialog = open_panel(page, partial["launch"], partial["title"])
    assert root_lang(page) == "es"
    send = dialog.get_by_role("button", name=EN["send"], exact=True)
    expect(send).to_have_attribute("lang", "en")
    expect(dialog.locator("input")).to_have_attribute("placeholder", EN["ph"])
    expect(dialog.locator("input")).to_have_attribute("lang", "en")
    expect(dialog.locator("label")).to_have_attribute("lang", "es")
    wait_for_greeting(page)
    expect(page.locator('.log .m[data-topic="greeting"] .safe strong')).to_have_attribute("lang", "en")
    check_marking(page, "es", tuple(CLINIC["es"].values()))


# ---------------------------------------------------------------- size


def test_widget_stays_under_its_size_budget_with_translations_apart():
    js = (WIDGET_DIR / "ivig-chat.js").read_bytes()
    assert len(gzip.compress(js, compresslevel=6)) < 12_000
    for lang in TRANSLATIONS:
        data = (WIDGET_DIR / f"ivig-chat.{lang}.json").read_bytes()
        assert len(gzip.compress(data, compresslevel=6)) < 2_000, lang
    # The translations are not inside the widget: a patient in English downloads none of them.
    assert TRANSLATIONS["es"]["safety"].encode() not in js
