"""The widget's own words: one English object in ivig-chat.js, and translations that never drift from it.

`var S = {...}` in bot/widget/ivig-chat.js holds every string the widget shows or announces by itself; with
`data-lang` es or fr it loads ivig-chat.<lang>.json from beside its script and takes each key found there
(a missing key stays English, marked as English). These tests keep the files in step with the object.
"""

import ast
import json
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict

import pytest

from bot.widget.serve import make_server

WIDGET_DIR = Path(__file__).resolve().parents[2] / "bot" / "widget"
WIDGET = WIDGET_DIR / "ivig-chat.js"
LANGUAGES = ("es", "fr")
# One JS string literal (single or double quotes, no line breaks inside), and a key with literals joined by `+`.
LITERAL = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
ENTRY = re.compile(rf"(\w+): ((?:{LITERAL})(?:\s*\+\s*(?:{LITERAL}))*)\s*(?:,|$)")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def english_strings() -> Dict[str, str]:
    """The `S` object of ivig-chat.js, parsed: its keys and their (unescaped) English strings."""
    source = WIDGET.read_text(encoding="utf-8")
    match = re.search(r"\n  var S = \{\n(.*?)\n  \};\n", source, re.S)
    assert match, "ivig-chat.js has no `var S = {` ... `};` block of its own strings"
    block = match.group(1)
    strings = {m.group(1): "".join(ast.literal_eval(x) for x in re.findall(LITERAL, m.group(2))) for m in ENTRY.finditer(block)}
    # Every line of the block is made of entries: nothing in it escaped the parse.
    rest = ENTRY.sub("", block)
    assert not rest.strip(), f"unparsed text in the strings object: {rest.strip()[:200]!r}"
    return strings


def translation(lang: str) -> Dict[str, str]:
    return json.loads((WIDGET_DIR / f"ivig-chat.{lang}.json").read_text(encoding="utf-8"))


def test_the_english_strings_are_all_used_and_all_defined():
    strings = english_strings()
    assert len(strings) >= 40, sorted(strings)
    assert "safety" in strings and "medical supervision" in strings["safety"]
    code = WIDGET.read_text(encoding="utf-8")
    used = set(re.findall(r"\bS\.(\w+)", code))
    assert used - set(strings) == set(), "S.<key> used in the widget but not defined"
    assert set(strings) - used == set(), "strings defined but never used"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translation_has_exactly_the_english_keys(lang):
    strings, translated = english_strings(), translation(lang)
    assert set(translated) - set(strings) == set(), f"ivig-chat.{lang}.json has keys the widget does not know"
    assert set(strings) - set(translated) == set(), f"ivig-chat.{lang}.json lacks keys (they would show in English)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translation_keeps_placeholders_and_edge_spaces(lang):
    strings, translated = english_strings(), translation(lang)
    for key, english in strings.items():
        text = translated[key]
        assert isinstance(text, str) and text.strip(), (lang, key)
        # {number}, {count}, {clinic}, {contact}, {phone}: filled in by the widget, so the same names.
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(english)), (lang, key, text)
        # "You: " and " (opens in a new tab)" are joined to other text: their edge spaces matter.
        assert text[:1].isspace() == english[:1].isspace(), (lang, key, text)
        assert text[-1:].isspace() == english[-1:].isspace(), (lang, key, text)
        assert "<" not in text and ">" not in text, (lang, key, text)  # text only, never markup


# The three points of the safety message, in each language's words.
SAFETY_POINTS = {
    "es": ("receta", "supervisión médica", "no un consejo médico personal", "su propio médico"),
    "fr": ("ordonnance", "surveillance médicale", "pas un avis médical personnel", "votre propre médecin"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translated_safety_message_says_what_the_english_one_says(lang):
    safety = translation(lang)["safety"]
    for point in SAFETY_POINTS[lang]:
        assert point in safety, (lang, point, safety)


@pytest.fixture()
def widget_server():
    server = make_server("127.0.0.1", 0, "http://127.0.0.1:5005", quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_demo_server_serves_the_translations_as_json(widget_server, lang):
    with urllib.request.urlopen(f"{widget_server}/widget/ivig-chat.{lang}.json", timeout=5) as resp:
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(resp.read().decode("utf-8")) == translation(lang)


def test_demo_server_serves_no_other_file(widget_server):
    for path in ("/widget/ivig-chat.de.json", "/widget/serve.py", "/widget/demo/index.html", "/widget/..%2Fserve.py"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(widget_server + path, timeout=5)
        assert err.value.code == 404, path
