"""Fixtures for the widget's browser tests: the demo portal served as a clinic would, and Debian's Chromium.

The bot is the real one (`rasa_stack` from tests/conftest.py: Rasa server + action server running, its CORS
allow-list granting http://127.0.0.1:<demo_port> and http://localhost:<demo_port>). Nothing here mocks it.
"""

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from bot.launcher.stack import free_port, wait_for_http

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("IVIG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 20_000  # the bot's first answers can be slow on a small machine


def _expect_timeout() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)


@dataclasses.dataclass
class DemoServer:
    port: int
    bot_url: str
    proc: subprocess.Popen
    log_path: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        return Path(self.log_path).read_text(errors="replace")


def start_demo_server(port: int, bot_url: str, timeout: float = 20.0) -> DemoServer:
    """`python -m bot.widget.serve` as a real subprocess; returns once it answers HTTP."""
    log = tempfile.NamedTemporaryFile(prefix="ivig-demo-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.widget.serve", "--port", str(port), "--bot-url", bot_url, "--host", "127.0.0.1", "--quiet"],
        cwd=str(REPO),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = DemoServer(port=port, bot_url=bot_url, proc=proc, log_path=log.name)
    try:
        wait_for_http(server.url, proc, timeout)
    except (RuntimeError, TimeoutError) as error:
        output = server.log()
        stop_demo_server(server)
        raise RuntimeError(f"the widget demo server did not start: {error}\n{output}") from None
    return server


def stop_demo_server(server: DemoServer) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    try:
        os.unlink(server.log_path)
    except OSError:
        pass


def warm_up(bot_url: str) -> None:
    """One real message first, so the bot's one-off start-up cost (loading the model's graph) is not
    charged to the first test's 15-second widget timeout."""
    body = json.dumps({"sender": "browser-tests-warm-up", "message": "/greeting"}).encode()
    req = urllib.request.Request(f"{bot_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()
    except OSError:
        pass  # the tests will show what is wrong


@pytest.fixture(scope="session")
def demo_server(rasa_stack) -> Iterator[DemoServer]:
    """The demo portal page on the port the bot's CORS allow-list names, talking to the real bot."""
    warm_up(rasa_stack.rasa_url)
    server = start_demo_server(rasa_stack.demo_port, rasa_stack.rasa_url)
    yield server
    stop_demo_server(server)


@pytest.fixture(scope="session")
def unreachable_demo_server() -> Iterator[DemoServer]:
    """The same demo page, but its snippet points at a port where nothing listens."""
    server = start_demo_server(free_port(), f"http://127.0.0.1:{free_port()}")
    yield server
    stop_demo_server(server)


@pytest.fixture(scope="session")
def foreign_demo_server(rasa_stack) -> Iterator[DemoServer]:
    """The demo page on an origin the bot's CORS allow-list does not name, talking to the real bot."""
    port = free_port()
    while port == rasa_stack.demo_port:
        port = free_port()
    server = start_demo_server(port, rasa_stack.rasa_url)
    yield server
    stop_demo_server(server)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` at the repository root (make test does it)")
    return AXE_JS


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    _expect_timeout()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_events() -> Dict[str, List[str]]:
    """What the page did that it never should: JS dialogs (alert/confirm/prompt) and uncaught errors."""
    return {"dialogs": [], "errors": []}


def watch(page, events: Dict[str, List[str]]) -> None:
    def on_dialog(dialog):
        events["dialogs"].append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: events["errors"].append(str(exc)))


@pytest.fixture
def context(browser):
    """A fresh browser profile per test (own sessionStorage), desktop-sized."""
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, page_events):
    pg = context.new_page()
    watch(pg, page_events)
    yield pg
    assert not page_events["errors"], f"uncaught errors in the page: {page_events['errors']}"
    assert not page_events["dialogs"], f"the page opened dialogs: {page_events['dialogs']}"


@pytest.fixture
def new_page(browser, page_events):
    """Factory for a page in its own browser profile with context options (viewport, reduced_motion, ...)."""
    contexts = []

    def make(**options):
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        pg = ctx.new_page()
        watch(pg, page_events)
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
    assert not page_events["errors"], f"uncaught errors in the page: {page_events['errors']}"
    assert not page_events["dialogs"], f"the page opened dialogs: {page_events['dialogs']}"
