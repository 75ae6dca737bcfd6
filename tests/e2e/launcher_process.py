"""`python -m bot run` as a process for the tests: its output, its children, its ports."""

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
from typing import Dict, Iterator, List, Optional

import pytest

from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import MODEL_PATH, free_port, wait_until
from bot.tools.client import RestClient

UNAVAILABLE_WORDS = "can't answer right now"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def children(pid: int) -> Dict[int, str]:
    """The launcher's child processes: pid -> command line."""
    found = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                found[int(child)] = pathlib.Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except FileNotFoundError:
                pass
    return found


def alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class Launcher:
    def __init__(self, process: subprocess.Popen, ports: Dict[str, int], db: pathlib.Path):
        self.process = process
        self.ports = ports
        self.db = db
        self.lines: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.client = RestClient(f"http://127.0.0.1:{ports['IVIG_RASA_PORT']}", timeout=60)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, words: str, timeout: float, start: int = 0) -> str:
        def found() -> Optional[str]:
            line = next((line for line in self.lines[start:] if words in line), None)
            assert line is not None or self.process.poll() is None, f"launcher exited:\n{self.output}"
            return line

        line = wait_until(found, timeout, interval=0.2)
        assert line is not None, f"no {words!r} in the launcher's output within {timeout:.0f} s:\n{self.output[-5000:]}"
        return line

    def pid_of(self, words: str) -> int:
        matches = [pid for pid, command in children(self.process.pid).items() if words in command]
        assert len(matches) == 1, children(self.process.pid)
        return matches[0]


@contextlib.contextmanager
def start_launcher(workdir: pathlib.Path, **env_overrides: str) -> Iterator[Launcher]:
    """`python -m bot run` on free loopback ports with its own tracker store; stopped (Ctrl-C) on exit."""
    if not MODEL_PATH.exists():
        pytest.fail(f"{MODEL_PATH} is missing: run `make train` first")
    ports = {"IVIG_RASA_PORT": free_port(), "IVIG_ACTIONS_PORT": free_port(), "IVIG_DEMO_PORT": free_port()}
    db = workdir / "conversations.db"
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "IVIG_TRACKER_DB": str(db), **env_overrides}
    env.pop("IVIG_CORS_ORIGINS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Launcher(process, ports, db)
    try:
        running.wait_for_line("Press Ctrl-C to stop", timeout=240)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
