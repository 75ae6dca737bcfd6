"""A third-party Rasa widget that speaks the standard socket.io events gets answers, in Chromium.

botfront's rasa-webchat (npm `rasa-webchat`, pinned in package.json; its bundled socket.io-client 3 speaks
Engine.IO 4) on a page whose origin is in the bot's CORS allow-list, talking to the real bot over socket.io
with session persistence (credentials.yml), on the python-socketio of constraints.txt. The patient asks a
question and gets the answer with the safety message; after a page reload the widget rejoins its session
(same session id, from sessionStorage) and "tell me more" continues the same conversation, stored under
one sender id.
"""

import functools
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import MODEL_PATH, Stack, StackConfig

WEBCHAT_JS = PROJECT_DIR / "node_modules" / "rasa-webchat" / "lib" / "index.js"
CHROMIUM = os.environ.get("IVIG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A clinic page with rasa-webchat</title></head>
<body>
<h1>Questions about IVIG</h1>
<div id="webchat"></div>
<script src="/webchat.js"></script>
<script>
  WebChat.default({
    selector: "#webchat",
    initPayload: "hi",
    socketUrl: "%(bot_url)s",
    socketPath: "/socket.io/",
    customData: {language: "en"},
    title: "Questions about IVIG",
    embedded: true,
    params: {storage: "session"}
  }, null);
</script>
</body></html>
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D401  (no access log in the test output)
        pass


@pytest.fixture(scope="module")
def bot_and_page(tmp_path_factory):
    if not MODEL_PATH.exists():
        pytest.fail(f"{MODEL_PATH} is missing: run `make train` first")
    if not WEBCHAT_JS.is_file():
        # `make test` runs these tests before the browser tests install the npm packages
        subprocess.run(["make", "node_modules/.installed"], cwd=PROJECT_DIR, check=False, timeout=600)
    if not WEBCHAT_JS.is_file():
        pytest.fail(f"{WEBCHAT_JS} is missing: run `make node_modules/.installed` (npm ci)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make system-deps)")
    workdir = tmp_path_factory.mktemp("webchat")
    config = StackConfig.on_free_ports(workdir)  # the CORS allow-list grants http://127.0.0.1:<demo_port>
    site = workdir / "site"
    site.mkdir()
    shutil.copy(WEBCHAT_JS, site / "webchat.js")
    (site / "index.html").write_text(PAGE % {"bot_url": config.rasa_url}, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", config.demo_port), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack = Stack(config)
    try:
        stack.start_actions()
        stack.start_rasa()
        yield config, f"http://127.0.0.1:{config.demo_port}/"
    finally:
        stack.stop_all()
        server.shutdown()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def responses(page):
    return page.locator(".rw-response")


def settle(page, quiet: float = 2.0) -> int:
    """Waits until no new reply has appeared for `quiet` seconds (rasa-webchat shows a reply's parts one by
    one); returns how many replies are shown."""
    deadline, count, since = time.monotonic() + TIMEOUT_MS / 1000, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = responses(page).count()
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        page.wait_for_timeout(200)
    return count


def ask(page, text: str, expected: str) -> str:
    """Types `text`, sends it, waits for a reply containing `expected`, then for the rest of the reply."""
    before = settle(page)
    page.fill(".rw-new-message", text)
    page.click(".rw-send")
    page.wait_for_function(
        "([before, expected]) => [...document.querySelectorAll('.rw-response')].slice(before)"
        ".some(e => e.innerText.toLowerCase().includes(expected))",
        arg=[before, expected.lower()],
        timeout=TIMEOUT_MS,
    )
    settle(page)
    return "\n".join(responses(page).all_inner_texts()[before:])


def last_bot_payload(db_path, sender: str) -> dict:
    with sqlite3.connect(str(db_path)) as db:
        rows = db.execute("SELECT data FROM events WHERE type_name = 'bot' AND sender_id = ? ORDER BY id", (sender,))
        customs = [json.loads(data).get("data", {}).get("custom") for (data,) in rows]
    return [c for c in customs if isinstance(c, dict)][-1]


def test_rasa_webchat_gets_answers_and_keeps_its_session_across_a_reload(bot_and_page, chromium):
    config, url = bot_and_page
    page = chromium.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url)
        # the greeting (initPayload "hi") arrives over socket.io
        page.wait_for_selector(".rw-response", timeout=TIMEOUT_MS)
        answer = ask(page, "what are the side effects?", "side effects are")
        assert "medical supervision" in answer, answer
        session_id = page.evaluate("() => JSON.parse(sessionStorage.getItem('chat_session')).session_id")
        assert session_id
        assert last_bot_payload(config.tracker_db, session_id)["topic"] == "side_effects"

        page.reload()
        page.wait_for_selector(".rw-new-message", timeout=TIMEOUT_MS)
        assert page.evaluate("() => JSON.parse(sessionStorage.getItem('chat_session')).session_id") == session_id
        more = ask(page, "tell me more", "medical supervision")
        payload = last_bot_payload(config.tracker_db, session_id)
        assert payload["topic"] == "side_effects" and payload["kind"] == "more", (payload, more)
    finally:
        page.close()
    with sqlite3.connect(str(config.tracker_db)) as db:
        senders = {row[0] for row in db.execute("SELECT sender_id FROM events WHERE type_name = 'user'")}
    assert senders == {session_id}, "the reloaded page did not continue its conversation"
    assert not errors, errors
