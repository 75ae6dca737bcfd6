"""The one wait-until helper (bot/launcher/stack.py)."""

import subprocess
import sys

import pytest

from bot.launcher.stack import free_port, wait_for_http, wait_until


def test_returns_the_first_true_value():
    answers = iter([0, None, "", "up", "later"])
    assert wait_until(lambda: next(answers), timeout=30, interval=0) == "up"


def test_returns_the_last_false_value_once_the_time_is_up():
    assert wait_until(lambda: [], timeout=0, interval=0) == []


def test_ignored_exceptions_count_as_not_yet_and_others_propagate():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not yet")
        return len(calls)

    assert wait_until(flaky, timeout=30, interval=0, ignore=(OSError,)) == 3
    with pytest.raises(ValueError):
        wait_until(lambda: int("x"), timeout=30, interval=0, ignore=(OSError,))


def test_waiting_for_a_process_that_exits_says_so():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    with pytest.raises(RuntimeError, match="exited with code 3"):
        wait_for_http(f"http://127.0.0.1:{free_port()}/", process, timeout=30)
