"""`make run`'s launcher: starts the bot, its action server and the demo page; Ctrl-C stops all."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from bot.client import RestClient
from bot.settings import PROJECT_DIR
from bot.stack import free_port


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_run_prints_the_urls_answers_and_stops_everything_on_ctrl_c(tmp_path):
    ports = {"IVIG_RASA_PORT": free_port(), "IVIG_ACTIONS_PORT": free_port(), "IVIG_DEMO_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "IVIG_TRACKER_DB": str(tmp_path / "c.db")}
    env.pop("IVIG_CORS_ORIGINS", None)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=PROJECT_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            assert line, f"launcher exited early:\n{''.join(lines)}"
            lines.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        output = "".join(lines)
        demo_url = f"http://localhost:{ports['IVIG_DEMO_PORT']}/"
        assert demo_url in output
        assert f"http://localhost:{ports['IVIG_RASA_PORT']}/webhooks/rest/webhook" in output
        turn = RestClient(f"http://127.0.0.1:{ports['IVIG_RASA_PORT']}").send("launcher-test", "/side_effects")
        assert turn.topic == "side_effects" and turn.has_safety
        with urllib.request.urlopen(demo_url, timeout=10) as page:
            assert b"ivig-chat.js" in page.read()
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
    assert launcher.returncode == 0
    assert not any(port_open(port) for port in ports.values()), "a process kept listening after Ctrl-C"
