"""socket.io session persistence on the fixed python-socketio (constraints.txt).

Rasa 3.6 calls `enter_room` without `await` (RasaHQ/rasa#13027); from python-socketio 5.9 it is a
coroutine, so a socket never joined its session's room and no reply reached it. bot/rasa_ext/channels.py handles
`session_request` itself and awaits it. These tests fail without that: replies go to the session's room.
"""

from importlib.metadata import version

import pytest

from bot.launcher.stack import wait_until
from tests.robustness.conftest import SocketPatient, new_sender, one_message_two_tabs, user_texts

FIXED_PYTHON_SOCKETIO = (5, 16, 2)  # the denial-of-service advisory's fixed version (docs/security.md)


@pytest.fixture
def url(bot):
    return bot.rasa_url


def test_the_installed_python_socketio_is_at_or_above_the_fixed_version():
    installed = tuple(int(part) for part in version("python-socketio").split(".")[:3])
    assert installed >= FIXED_PYTHON_SOCKETIO, f"python-socketio {installed}: run `make venv` (constraints.txt)"


def test_a_patient_who_reconnects_continues_the_same_conversation(url, bot):
    session = new_sender("sio-session")
    first = SocketPatient(url, session_id=session)
    try:
        first.start_session()
        turn = first.send("what did the blood vessel study find")
        assert turn.topic == "study_vascular" and turn.has_safety, turn.messages
    finally:
        first.close()
    # a new socket (page reload, network change): a new sid, the same session id
    second = SocketPatient(url, session_id=session)
    try:
        second.start_session()
        more = second.send("how many people were in it?")
        assert more.topic == "study_vascular" and more.kind == "details" and more.has_safety, more.messages
    finally:
        second.close()
    stored = wait_until(lambda: len(user_texts(bot.config.tracker_db, session)) >= 2 and user_texts(bot.config.tracker_db, session))
    assert stored == ["what did the blood vessel study find", "how many people were in it?"]


def test_replies_reach_every_socket_of_the_session(url):
    """Two tabs of one patient: both joined the session's room, so both get the reply."""
    turn, on_other_tab = one_message_two_tabs(url, url, new_sender("sio-tabs"))
    assert turn.topic == "side_effects" and turn.has_safety, turn.messages
    assert on_other_tab == turn.messages


def test_a_binary_packet_closes_the_connection_and_others_are_still_answered(url):
    """The channel's events are JSON; python-socketio would keep binary attachments in memory until as many as
    a packet declares have arrived. The channel refuses binary packets and closes the connection."""
    attacker = SocketPatient(url)
    try:
        attacker.start_session()
        assert attacker.client.connected
        attacker.client.emit("user_uttered", {"message": b"\0" * 100_000, "session_id": attacker.session_id})
        assert wait_until(lambda: not attacker.client.connected, timeout=15), "a binary packet was accepted"
        assert not any(isinstance(m, dict) and "custom" in m for m in attacker.received), attacker.received
    finally:
        if attacker.client.connected:
            attacker.close()
    patient = SocketPatient(url)
    try:
        patient.start_session()
        turn = patient.send("what are the side effects?")
        assert turn.topic == "side_effects" and turn.has_safety, turn.messages
    finally:
        patient.close()
