"""Security: the Rasa HTTP API is off (or behind a token), CORS is an allow-list, the servers listen on
loopback only, patient text stays out of the logs, and the retention command deletes old conversations.
"""

import json
import os
import pathlib
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import MODEL_PATH, Stack, StackConfig, wait_until
from tests.robustness.conftest import SocketPatient, new_sender, post_raw, send_rest, user_texts

ADMIN_CALLS = [
    ("GET", "/status", None),
    ("PUT", "/model", b'{"model_file": "/tmp/evil.tar.gz"}'),
    ("DELETE", "/model", None),
    ("POST", "/model/train", b"{}"),
    ("POST", "/model/parse", b'{"text": "hi"}'),
    ("GET", "/conversations/{sender}/tracker", None),
    ("POST", "/conversations/{sender}/tracker/events", b'[{"event": "slot", "name": "current_topic", "value": "dosing"}]'),
    ("PUT", "/conversations/{sender}/tracker/events", b"[]"),
    ("POST", "/conversations/{sender}/execute", b'{"name": "action_answer_topic"}'),
    ("POST", "/conversations/{sender}/trigger_intent", b'{"name": "dosing"}'),
    ("GET", "/domain", None),
]


def refused(status: int) -> bool:
    return status in (401, 403, 404, 405)


# --- the HTTP API --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, body", ADMIN_CALLS)
def test_admin_api_is_off_by_default(bot, method, path, body):
    sender = new_sender("admin")
    send_rest(bot.rasa_url, sender, "what is ivig")
    before = user_texts(bot.config.tracker_db, sender)
    status, _, reply = post_raw(bot.rasa_url, body or b"", path=path.format(sender=sender), method=method)
    assert refused(status), (status, reply)
    assert user_texts(bot.config.tracker_db, sender) == before


@pytest.fixture(scope="module")
def token_bot(tmp_path_factory):
    """A Rasa server with the API turned on behind IVIG's token (no action server needed for the API)."""
    if not MODEL_PATH.exists():
        pytest.fail(f"{MODEL_PATH} is missing: run `make train` first")
    config = StackConfig.on_free_ports(tmp_path_factory.mktemp("token"), api_token="s3cret-token-for-tests")
    stack = Stack(config)
    try:
        stack.start_rasa()
        yield stack
    finally:
        stack.stop_all()


@pytest.mark.parametrize("method, path, body", ADMIN_CALLS)
def test_admin_api_with_a_token_refuses_unauthenticated_calls(token_bot, method, path, body):
    url, sender = token_bot.config.rasa_url, new_sender("admin")
    for query in ("", "?token=wrong-token"):
        status, _, reply = post_raw(url, body or b"", path=path.format(sender=sender) + query, method=method)
        assert status in (401, 403), (query, status, reply)
    status, _, reply = post_raw(url, b"", path=path.format(sender=sender), method=method, headers={"Authorization": "Bearer not-a-jwt"})
    assert status in (401, 403), (status, reply)
    assert user_texts(token_bot.config.tracker_db, sender) == []


def test_admin_api_with_the_token_works(token_bot):
    url = token_bot.config.rasa_url
    status, _, reply = post_raw(url, b"", path="/status?token=s3cret-token-for-tests", method="GET")
    assert status == 200 and "model_file" in reply, reply


# --- CORS ----------------------------------------------------------------------------------------------------


def preflight(url: str, origin: str, path: str = "/webhooks/rest/webhook"):
    return post_raw(
        url,
        b"",
        path=path,
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )


def test_cors_grants_the_allowed_origin_only(bot):
    allowed = bot.config.cors_origins[0]
    status, headers, _ = preflight(bot.rasa_url, allowed)
    assert status < 400 and headers.get("Access-Control-Allow-Origin") == allowed, headers
    for foreign in ("https://evil.example", "null", allowed + ".evil.example", "http://localhost:1"):
        _, headers, _ = preflight(bot.rasa_url, foreign)
        assert "Access-Control-Allow-Origin" not in headers, (foreign, headers)
        body = json.dumps({"sender": new_sender("cors"), "message": "hi"}).encode()
        _, headers, _ = post_raw(bot.rasa_url, body, headers={"Origin": foreign})
        assert "Access-Control-Allow-Origin" not in headers, (foreign, headers)
        _, headers, _ = post_raw(bot.rasa_url, None, path="/socket.io/?EIO=4&transport=polling", method="GET", headers={"Origin": foreign})
        assert "Access-Control-Allow-Origin" not in headers, (foreign, headers)


def clean_settings(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVIG_")}
    code = "from bot.core.settings import get_settings; print(' '.join(get_settings().cors_origins))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env={**env, **env_extra}, capture_output=True, text=True, timeout=60
    )


def test_default_cors_allow_list_has_no_wildcard_and_refuses_one():
    default = clean_settings({})
    assert default.returncode == 0 and default.stdout.split(), default.stderr
    assert "*" not in default.stdout and all(o.startswith("http") for o in default.stdout.split())
    wildcard = clean_settings({"IVIG_CORS_ORIGINS": "https://clinic.example *"})
    assert wildcard.returncode != 0 and "'*' is not allowed" in wildcard.stderr
    example = (PROJECT_DIR / ".env.example").read_text()
    assert "*" not in [line for line in example.splitlines() if line.startswith("IVIG_CORS_ORIGINS=")][0]


# --- loopback only -------------------------------------------------------------------------------------------

LOOPBACK_V4 = "0100007F"
LOOPBACK_V6 = ("00000000000000000000000001000000", "0000000000000000FFFF00000100007F")


def listening_addresses(port: int):
    """Local addresses of the LISTEN sockets on `port`, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(hex_port, 16) == port:
                    found.append(address)
    return found


def non_loopback_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("service", ["rasa", "actions"])
def test_servers_listen_on_loopback_only(bot, service):
    port = bot.config.rasa_port if service == "rasa" else bot.config.actions_port
    addresses = listening_addresses(port)
    assert addresses, f"nothing listens on port {port}"
    assert all(a == LOOPBACK_V4 or a in LOOPBACK_V6 for a in addresses), addresses
    outside = non_loopback_address()
    if outside:
        with pytest.raises(OSError):
            socket.create_connection((outside, port), timeout=3).close()


# --- logs ----------------------------------------------------------------------------------------------------


def leave_before_the_reply(url: str, sender: str, text: str) -> None:
    """Sends a message and hangs up at once, as a patient closing the tab does."""
    host, port = url.replace("http://", "").split(":")
    body = json.dumps({"sender": sender, "message": text}).encode()
    head = (
        f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n" f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head + body)
    time.sleep(0.05)


def test_patient_text_is_not_in_the_logs(bot):
    marker = f"zq{new_sender('marker').replace('-', '')}"
    rest, left, sio = new_sender("log"), new_sender("log"), SocketPatient(bot.rasa_url)
    try:
        sio.start_session()
        send_rest(bot.rasa_url, rest, f"what are the side effects {marker}")
        send_rest(bot.rasa_url, rest, f"{marker} " * 3000)  # cut: the notice is logged nowhere either
        post_raw(bot.rasa_url, json.dumps({"sender": rest, "message": marker, "metadata": ["x"]}).encode())
        sio.send(f"is ivig safe {marker}")
        for _ in range(3):
            leave_before_the_reply(bot.rasa_url, left, f"how long does an infusion take {marker}")
    finally:
        sio.close()
    # every message reached the bot and was handled (the ones whose client left too)
    assert wait_until(lambda: len(user_texts(bot.config.tracker_db, left)) == 3, timeout=60)
    time.sleep(1)
    logs = {name: (bot.config.log_dir / f"{name}.log").read_text(errors="replace") for name in ("rasa", "actions")}
    assert " INFO " in logs["rasa"] and " INFO " in logs["actions"], "the servers do not log at INFO level"
    for name, text in logs.items():
        assert marker not in text, f"patient text in {name}.log"
    assert any(marker in t for t in user_texts(bot.config.tracker_db, sio.session_id))


# --- retention -----------------------------------------------------------------------------------------------


def age(db: pathlib.Path, sender: str, days: float, only_first: int = 0) -> None:
    with sqlite3.connect(str(db)) as connection:
        ids = [i for (i,) in connection.execute("SELECT id FROM events WHERE sender_id = ? ORDER BY id", (sender,))]
        ids = ids[:only_first] if only_first else ids
        connection.executemany("UPDATE events SET timestamp = timestamp - ? WHERE id = ?", [(days * 86400, i) for i in ids])


def conversations(db: pathlib.Path):
    with sqlite3.connect(str(db)) as connection:
        return {s for (s,) in connection.execute("SELECT DISTINCT sender_id FROM events")}


def test_retention_deletes_only_conversations_older_than_the_configured_days(bot, tmp_path):
    old, older, recent, long_running = (new_sender(n) for n in ("old", "older", "recent", "long"))
    for sender in (old, older, recent, long_running):
        assert send_rest(bot.rasa_url, sender, "what is ivig")[0] == 200
    send_rest(bot.rasa_url, long_running, "tell me more")
    assert wait_until(lambda: all(user_texts(bot.config.tracker_db, s) for s in (old, older, recent, long_running)))
    db = tmp_path / "copy.db"
    with sqlite3.connect(str(bot.config.tracker_db)) as source, sqlite3.connect(str(db)) as target:
        source.backup(target)
    age(db, old, 31)
    age(db, older, 400)
    age(db, recent, 29)
    age(db, long_running, 400, only_first=3)  # started long ago, last message today: kept
    before = conversations(db)
    result = subprocess.run(
        [sys.executable, "-m", "bot.rasa_ext.conversations", "retention", "--days", "30", "--db", str(db)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "deleted 2 conversation(s) older than 30 days" in result.stdout, result.stdout
    assert conversations(db) == before - {old, older}
    assert user_texts(db, old) == [] and user_texts(db, older) == []
    assert user_texts(db, long_running) == ["what is ivig", "tell me more"]
