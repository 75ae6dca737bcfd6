"""Helpers for the robustness suite: what a safe reply is, raw HTTP, a socket.io patient, the tracker store.

The bot is always the real one (processes started by bot.launcher.stack); nothing here mocks it.
"""

import json
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
import socketio

from bot.core.content_store import TOPICS_WITHOUT_SAFETY
from bot.core.settings import get_settings
from bot.launcher.stack import wait_until
from bot.rasa_ext.channels import SILENT_SHORTCUTS
from bot.tools.client import Turn

# A dose: a number followed by a unit of amount (0.5 g/kg, 400 mg, 2 grams, 10 ml, 30 g).
DOSE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:g\s*/\s*kg|mg\s*/\s*kg|mg|mcg|µg|ml|mL|grams?|milligrams?|g)\b", re.IGNORECASE)
UNAVAILABLE_WORDS = "can't answer right now"


def new_sender(prefix: str = "robust") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def clinic_contact() -> str:
    return get_settings().clinic.clinic_contact


def answer_problems(turn: Turn, sent: str = "") -> List[str]:
    """What is wrong with a reply to a patient message (empty list: it is a safe answer).

    Every patient message gets at least one message back (silent shortcuts such as widget feedback
    excepted); every answer turn (anything but goodbye/thanks) carries the safety message, both as text
    and as `safety: true` in the payload; no reply gives a dose.
    """
    problems = []
    if not turn.messages:
        if not sent.strip().startswith(SILENT_SHORTCUTS):
            problems.append("no reply at all")
        return problems
    if not turn.payload:
        problems.append(f"no custom payload: {turn.messages!r}")
    elif turn.topic not in TOPICS_WITHOUT_SAFETY and not turn.has_safety:
        problems.append(f"answer without the safety message (topic {turn.topic}): {turn.text!r}")
    dose = DOSE.search(turn.text)
    if dose:
        problems.append(f"a dose in the reply: {dose.group(0)!r} in {turn.text!r}")
    return problems


def post_raw(
    base_url: str,
    body: bytes,
    headers: Optional[Dict[str, str]] = None,
    path: str = "/webhooks/rest/webhook",
    method: str = "POST",
    timeout: float = 60,
) -> Tuple[int, Dict[str, str], Any]:
    """One raw HTTP request: (status, headers, parsed JSON or text). Never raises for an HTTP status."""
    request = urllib.request.Request(
        base_url.rstrip("/") + path,
        data=body,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, head, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, dict(error.headers), error.read()
    try:
        return status, head, json.loads(raw)
    except ValueError:
        return status, head, raw.decode("utf-8", "replace")


def send_rest(base_url: str, sender: str, text: Any, timeout: float = 60) -> Tuple[int, Any]:
    status, _, body = post_raw(base_url, json.dumps({"sender": sender, "message": text}).encode(), timeout=timeout)
    return status, body


class SocketPatient:
    """A patient on the standard socket.io channel (session_request, user_uttered, bot_uttered)."""

    def __init__(self, base_url: str, session_id: Optional[str] = None):
        self.session_id = session_id or new_sender("sio")
        self.received: List[Any] = []
        self._lock = threading.Lock()
        self._confirmed = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self._on_bot_uttered)
        self.client.on("session_confirm", lambda *args: self._confirmed.set())
        self.client.connect(base_url, socketio_path="/socket.io", transports=["websocket"], wait_timeout=20)

    def _on_bot_uttered(self, *args: Any) -> None:
        with self._lock:
            self.received.append(args[0] if args else None)

    def start_session(self) -> None:
        self.client.emit("session_request", {"session_id": self.session_id})
        assert self._confirmed.wait(20), "no session_confirm from the socket.io channel"

    def emit_raw(self, data: Any, wait: float = 30, quiet: float = 1.0) -> List[Any]:
        """Emits user_uttered with `data`; returns what came back until a payload arrived and `quiet` s passed."""
        with self._lock:
            self.received.clear()
        self.client.emit("user_uttered", data)
        deadline = time.monotonic() + wait
        last_count, last_change = 0, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            with self._lock:
                count = len(self.received)
                has_payload = any(isinstance(m, dict) and "custom" in m for m in self.received)
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            elif has_payload and time.monotonic() - last_change >= quiet:
                break
        with self._lock:
            return list(self.received)

    def send(self, text: Any, wait: float = 30) -> Turn:
        messages = self.emit_raw({"message": text, "session_id": self.session_id}, wait=wait)
        return Turn([m for m in messages if isinstance(m, dict)])

    def close(self) -> None:
        self.client.disconnect()


def user_texts(db, sender: str) -> List[str]:
    """The texts of the `user` events stored for one conversation in the SQLite tracker store."""
    with sqlite3.connect(str(db)) as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)).fetchall()
    return [json.loads(data).get("text") for (data,) in rows]


def one_message_two_tabs(
    url_sending: str, url_other: str, session_id: str, text: str = "what are the side effects?"
) -> Tuple[Turn, List[Any]]:
    """A patient's two tabs (sockets) of one session, connected to `url_sending` and `url_other` (the same server
    or two): `text` is sent through the first. Returns the turn it got and the messages that reached the other tab
    (waiting up to 10 s for the reply's payload there); both sockets are closed."""
    sending, other = SocketPatient(url_sending, session_id=session_id), SocketPatient(url_other, session_id=session_id)
    try:
        sending.start_session()
        other.start_session()
        turn = sending.send(text)
        wait_until(lambda: any(isinstance(m, dict) and "custom" in m for m in other.received), timeout=10)
        return turn, [m for m in other.received if isinstance(m, dict)]
    finally:
        sending.close()
        other.close()


@pytest.fixture(scope="session")
def bot(rasa_stack):
    """The default stack (tests/conftest.py), warmed up so the first real test is not the slow one."""
    sender = new_sender("warmup")
    for _ in range(3):
        status, _ = send_rest(rasa_stack.rasa_url, sender, "what is ivig")
        if status == 200:
            break
    return rasa_stack


def assert_all_safe(turns: Sequence[Tuple[str, Turn]]) -> None:
    problems = [f"{sent!r}: {problem}" for sent, turn in turns for problem in answer_problems(turn, sent)]
    assert not problems, "\n".join(problems)
