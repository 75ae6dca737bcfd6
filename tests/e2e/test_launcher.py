"""`make run`'s launcher (`python -m bot run`): starts the bot, its action server and the demo page,
restarts a process that dies (with backoff) while the others keep serving, and Ctrl-C stops all.

One launcher for the module, as a clinic runs it; the tests run in order: answers, the action server
killed, the Rasa server killed, Ctrl-C. The supervisor's backoff is also checked on its own, with
processes that keep failing and a clock the test moves.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import List, Optional

import pytest

from bot.launcher.stack import Service, Stack, StackConfig, Supervisor
from tests.e2e.launcher_process import UNAVAILABLE_WORDS, alive, children, port_open, start_launcher


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    with start_launcher(tmp_path_factory.mktemp("launcher")) as running:
        yield running


def test_run_prints_the_urls_and_answers(launcher):
    ports = launcher.ports
    demo_url = f"http://localhost:{ports['IVIG_DEMO_PORT']}/"
    assert demo_url in launcher.output
    assert f"http://localhost:{ports['IVIG_RASA_PORT']}/webhooks/rest/webhook" in launcher.output
    turn = launcher.client.send("launcher-test", "/side_effects")
    assert turn.topic == "side_effects" and turn.has_safety
    with urllib.request.urlopen(demo_url, timeout=10) as page:
        assert b"ivig-chat.js" in page.read()


def test_a_killed_action_server_is_restarted_and_the_conversation_goes_on(launcher):
    client, sender = launcher.client, f"killed-actions-{uuid.uuid4().hex[:8]}"
    assert client.send(sender, "what did the blood vessel study find").topic == "study_vascular"
    actions, rasa = launcher.pid_of("rasa_sdk"), launcher.pid_of("bot.rasa_ext.rasa_server")
    mark = len(launcher.lines)
    os.kill(actions, signal.SIGKILL)
    killed = time.monotonic()
    # During the gap the channel guard answers with the notice (safety message, clinic contact);
    # once the action server is back, with the answer itself.
    gap = client.send(sender, "how many people were in it?")
    if UNAVAILABLE_WORDS in gap.text:
        assert gap.has_safety and "medical supervision" in gap.text, gap.messages
    else:
        assert gap.topic == "study_vascular" and gap.has_safety, gap.messages
    crash = launcher.wait_for_line("actions stopped unexpectedly", timeout=10, start=mark)
    assert "killed by SIGKILL" in crash and "restarting it in" in crash
    launcher.wait_for_line("actions is back", timeout=90, start=mark)
    back = time.monotonic() - killed
    more = client.send(sender, "tell me more")
    assert more.topic == "study_vascular" and more.has_safety, more.messages
    assert launcher.pid_of("rasa_sdk") != actions
    assert launcher.pid_of("bot.rasa_ext.rasa_server") == rasa, "the Rasa server was restarted too"
    reply = "the notice" if UNAVAILABLE_WORDS in gap.text else "an answer"
    print(f"\naction server killed: the next reply was {reply}; back {back:.1f} s after the kill")


def test_a_killed_rasa_server_is_restarted_and_remembers_the_conversation(launcher):
    client, sender = launcher.client, f"killed-rasa-{uuid.uuid4().hex[:8]}"
    assert client.send(sender, "what did the blood vessel study find").topic == "study_vascular"
    actions, rasa = launcher.pid_of("rasa_sdk"), launcher.pid_of("bot.rasa_ext.rasa_server")
    demo_url = f"http://localhost:{launcher.ports['IVIG_DEMO_PORT']}/"
    mark = len(launcher.lines)
    os.kill(rasa, signal.SIGKILL)
    killed = time.monotonic()
    crash = launcher.wait_for_line("rasa stopped unexpectedly", timeout=10, start=mark)
    assert "killed by SIGKILL" in crash
    with urllib.request.urlopen(demo_url, timeout=10) as page:  # the demo page keeps serving meanwhile
        assert page.status == 200
    launcher.wait_for_line("rasa is back", timeout=240, start=mark)
    back = time.monotonic() - killed
    more = client.send(sender, "tell me more")
    assert more.topic == "study_vascular" and more.payload.get("kind") == "more" and more.has_safety, more.messages
    assert launcher.pid_of("rasa_sdk") == actions, "the action server was restarted too"
    print(f"\nRasa server killed: back {back:.1f} s after the kill")


def test_ctrl_c_stops_everything(launcher):
    pids = list(children(launcher.process.pid))
    assert len(pids) == 3, children(launcher.process.pid)
    launcher.process.send_signal(signal.SIGINT)
    launcher.process.wait(timeout=60)
    assert launcher.process.returncode == 0, launcher.output[-3000:]
    assert not any(port_open(port) for port in launcher.ports.values()), "a process kept listening after Ctrl-C"
    assert not any(alive(pid) for pid in pids), "a child process outlived the launcher"
    assert "restarting" not in launcher.output.split("Stopping ...")[-1], "Ctrl-C was taken for a crash"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FailingStack(Stack):
    """A stack whose 'crashy' service exits at once each time it is started; 'steady' keeps running."""

    def __init__(self):
        super().__init__(StackConfig(rasa_port=1, actions_port=2, demo_port=3, tracker_db=pathlib.Path("/nonexistent")))
        self.starts = {"crashy": 0, "steady": 0}
        for name in self.starts:
            self.respawn(name)

    def respawn(self, name: str) -> Service:
        self.starts[name] += 1
        code = "import sys; sys.exit(3)" if name == "crashy" else "import time; time.sleep(600)"
        process = subprocess.Popen([sys.executable, "-c", code])
        service = self.services[name] = Service(name, process, "http://127.0.0.1:9/")
        return service


def test_a_service_that_keeps_failing_is_restarted_with_growing_delays_and_the_others_are_left_alone():
    stack, clock, lines = FailingStack(), FakeClock(), []
    steady = stack.services["steady"].process
    try:
        supervisor = Supervisor(stack, lines.append, initial_delay=1, max_delay=8, stable_after=60, clock=clock)
        delays: List[float] = []
        restarted_at: Optional[float] = None
        while len(delays) < 6:
            stack.services["crashy"].process.wait(10)
            supervisor.poll()  # notices the crash, schedules the restart
            scheduled = supervisor.watches["crashy"].restart_at
            assert scheduled is not None, lines
            delays.append(scheduled - clock.now)
            clock.now = scheduled - 0.01
            supervisor.poll()
            assert supervisor.watches["crashy"].restart_at == scheduled, "restarted before its delay"
            clock.now = scheduled
            supervisor.poll()  # restarts it
            restarted_at = clock.now
        assert delays == [1, 2, 4, 8, 8, 8]
        assert stack.starts == {"crashy": 7, "steady": 1}
        assert steady.poll() is None and stack.services["steady"].process is steady
        assert sum("crashy stopped unexpectedly (exit code 3); restarting it in" in line for line in lines) == 6
        assert sum(line == f"restarting crashy (restart {n})" for n in range(1, 7) for line in lines) == 6
        assert restarted_at is not None
    finally:
        for service in stack.services.values():
            service.process.kill()
            service.process.wait()


def test_the_backoff_goes_back_to_its_start_once_a_service_has_run_for_a_while():
    stack, clock, lines = FailingStack(), FakeClock(), []
    try:
        supervisor = Supervisor(stack, lines.append, initial_delay=1, max_delay=8, stable_after=60, clock=clock)
        watch = supervisor.watches["crashy"]
        watch.delay = 8  # as after several crashes
        # it has been answering since its last restart
        watch.up_since = clock.now
        steady = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        stack.services["crashy"] = Service("crashy", steady, "")
        clock.now += 59
        supervisor.poll()
        assert watch.delay == 8
        clock.now += 2
        supervisor.poll()
        assert watch.delay == 1
    finally:
        for service in stack.services.values():
            service.process.kill()
            service.process.wait()
