"""Faults with real processes: the action server down or slower than the reply timeout, the Rasa server
restarted mid-conversation. The patient always gets a reply with the safety message and the clinic
contact, the bot recovers, and the conversation survives a restart (SQLite tracker store).

One stack for the module. Rasa reaches the action server through a delaying TCP proxy in this test
process (IVIG_ACTIONS_PORT points at the proxy; the action server itself listens on its own port), so
"slow" is a real network delay, not a mock.
"""

import asyncio
import threading
import time

import pytest

from bot.launcher.stack import MODEL_PATH, Stack, StackConfig, free_port, wait_until
from bot.tools.client import RestClient
from tests.robustness.conftest import UNAVAILABLE_WORDS, clinic_contact, new_sender, user_texts

REPLY_TIMEOUT = 3.0


class DelayingProxy:
    """A TCP proxy on loopback that holds each request `delay` seconds before forwarding it."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = free_port()
        self.delay = 0.0
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()  # the action server is down: the connection is refused, as without the proxy
            return
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))

    def start(self) -> "DelayingProxy":
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """Action server + Rasa server talking through the proxy, with a short reply timeout."""
    if not MODEL_PATH.exists():
        pytest.fail(f"{MODEL_PATH} is missing: run `make train` first")
    config = StackConfig.on_free_ports(tmp_path_factory.mktemp("faults"))
    proxy = DelayingProxy(config.actions_port).start()
    config.extra_env.update({"IVIG_ACTIONS_PORT": str(proxy.port), "IVIG_REPLY_TIMEOUT": str(REPLY_TIMEOUT)})
    stack = Stack(config)
    try:
        stack.start_actions()
        stack.start_rasa()
        client = RestClient(config.rasa_url, timeout=60)
        warm_up(client)
        yield stack, proxy, client
    finally:
        stack.stop_all()
        proxy.stop()


def warm_up(client: RestClient) -> None:
    """The first turns after a start can exceed the short timeout; wait until a real answer comes back."""
    sender = new_sender("warmup")
    assert wait_until(lambda: client.send(sender, "what is ivig").topic == "ivig_basics", timeout=90, interval=1)


def assert_unavailable_notice(turn) -> None:
    assert turn.messages, "silence"
    assert UNAVAILABLE_WORDS in turn.text, turn.text
    assert clinic_contact() in turn.text, turn.text
    assert turn.has_safety and "medical supervision" in turn.text, turn.messages


def test_action_server_down_the_patient_still_gets_safety_and_contact_then_it_recovers(faulty):
    stack, _, client = faulty
    sender = new_sender("down")
    assert client.send(sender, "what are the side effects?").topic == "side_effects"
    stack.stop("actions")
    started = time.monotonic()
    turn = client.send(sender, "how long does an infusion take")
    assert time.monotonic() - started < REPLY_TIMEOUT + 10
    assert_unavailable_notice(turn)
    stack.start_actions()
    recovered = client.send(sender, "what are the side effects?")
    assert recovered.topic == "side_effects" and recovered.has_safety, recovered.text


def test_action_server_slower_than_the_timeout_gets_the_notice_in_time_and_nothing_is_lost(faulty):
    stack, proxy, client = faulty
    sender, text = new_sender("slow"), "what are the side effects?"
    proxy.delay = REPLY_TIMEOUT + 5
    try:
        started = time.monotonic()
        turn = client.send(sender, text)
        elapsed = time.monotonic() - started
    finally:
        proxy.delay = 0.0
    assert elapsed < REPLY_TIMEOUT + 3, f"the notice came after {elapsed:.1f} s"
    assert_unavailable_notice(turn)
    # the slow turn finished in the background: the patient's message is in the stored conversation
    assert wait_until(lambda: text in user_texts(stack.config.tracker_db, sender), timeout=30)
    # and the bot answers normally again, in the same conversation
    again = wait_until(lambda: client.send(sender, "what is ivig").topic == "ivig_basics", timeout=30, interval=1)
    assert again


def test_rasa_server_restart_mid_conversation_continues_where_it_was(faulty):
    stack, _, client = faulty
    sender = new_sender("restart")
    assert client.send(sender, "what did the blood vessel study find").topic == "study_vascular"
    stack.stop("rasa")
    stack.start_rasa()
    warm_up(client)
    more = client.send(sender, "tell me more")
    assert more.topic == "study_vascular" and more.payload["kind"] == "more", more.text
    assert more.has_safety
    assert user_texts(stack.config.tracker_db, sender)[:2] == ["what did the blood vessel study find", "tell me more"]
