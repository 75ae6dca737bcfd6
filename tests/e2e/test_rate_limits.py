"""Rate limits over the real channels (bot/rasa_ext/channels.py): a flood from one sender, or from one address, is refused
with the polite notice (HTTP 429 on REST) and never reaches the model, while other patients are still answered."""

import json
import sqlite3
import uuid

import pytest

from bot.core.answers import default_builder
from bot.launcher.stack import Stack, StackConfig, wait_until
from bot.tools.client import RestClient
from tests.robustness.conftest import SocketPatient

SENDER_BURST = 3
ADDRESS_BURST = 8


@pytest.fixture(scope="module")
def limited_bot(tmp_path_factory):
    env = {
        # long intervals: no token comes back while the test runs
        "IVIG_RATE_SENDER_BURST": str(SENDER_BURST),
        "IVIG_RATE_SENDER_INTERVAL": "600",
        "IVIG_RATE_ADDRESS_BURST": str(ADDRESS_BURST),
        "IVIG_RATE_ADDRESS_INTERVAL": "600",
        # as behind one reverse proxy: the client's address is the last one in X-Forwarded-For
        "SANIC_PROXIES_COUNT": "1",
    }
    stack = Stack(StackConfig.on_free_ports(tmp_path_factory.mktemp("rate-limits"), extra_env=env))
    try:
        stack.start_actions()
        stack.start_rasa()
        yield stack
    finally:
        stack.stop_all()


def post(client, sender, text, address):
    return client.post(json.dumps({"sender": sender, "message": text}).encode(), {"X-Forwarded-For": address})


def stored_user_messages(stack, sender):
    with sqlite3.connect(str(stack.config.tracker_db)) as connection:
        query = "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user'"
        return connection.execute(query, (sender,)).fetchone()[0]


def test_a_flooding_sender_is_refused_politely_and_another_sender_is_answered(limited_bot):
    client = RestClient(limited_bot.config.rasa_url)
    flood = f"flood-{uuid.uuid4().hex}"
    answers = [post(client, flood, "what are the side effects?", "198.51.100.1") for _ in range(SENDER_BURST + 3)]
    assert [status for status, _ in answers] == [200] * SENDER_BURST + [429] * 3
    assert all(
        messages == [{"recipient_id": flood, "text": default_builder().notice("rate_limited")}] for _, messages in answers[SENDER_BURST:]
    ), answers[-1]
    status, messages = post(client, f"patient-{uuid.uuid4().hex}", "what are the side effects?", "198.51.100.1")
    assert status == 200 and any(message.get("custom", {}).get("topic") == "side_effects" for message in messages)
    assert stored_user_messages(limited_bot, flood) == SENDER_BURST  # refused messages never reached the model


def test_a_flooding_address_is_refused_and_another_address_is_answered(limited_bot):
    client = RestClient(limited_bot.config.rasa_url)
    statuses = [post(client, f"nat-{uuid.uuid4().hex}", "/greet", "203.0.113.9")[0] for _ in range(ADDRESS_BURST + 2)]
    assert statuses == [200] * ADDRESS_BURST + [429] * 2
    status, _ = post(client, f"patient-{uuid.uuid4().hex}", "/greet", "192.0.2.44")
    assert status == 200


def test_a_flooding_socket_gets_the_notice_on_its_own_socket(limited_bot):
    patient = SocketPatient(limited_bot.config.rasa_url)
    try:
        patient.start_session()
        for _ in range(SENDER_BURST + 2):
            patient.client.emit("user_uttered", {"message": "/greet", "session_id": patient.session_id})
        notice = {"text": default_builder().notice("rate_limited")}
        assert wait_until(lambda: patient.received.count(notice) == 2, timeout=30), patient.received
    finally:
        patient.close()
    assert wait_until(lambda: stored_user_messages(limited_bot, patient.session_id) == SENDER_BURST, timeout=10)
