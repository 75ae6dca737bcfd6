"""Shared fixtures: the real assistant started as processes on free loopback ports."""

import pathlib
import warnings

import pytest

from bot.launcher.stack import MODEL_PATH, Stack, StackConfig

# Sanic 21.12 puts `filterwarnings("once", category=DeprecationWarning)` in front of every filter when it is imported,
# which would override pytest.ini's narrow filters for the rest of that phase; imported here first (nothing above
# imports it), inside catch_warnings, its filter is dropped again, and it is never imported a second time.
with warnings.catch_warnings():
    import sanic  # noqa: F401

ARTIFACTS = pathlib.Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory):
    """Action server + Rasa server, both really running; `.rasa_url`, `.demo_port`, `.stack`."""
    if not MODEL_PATH.exists():
        pytest.fail(f"{MODEL_PATH} is missing: run `make train` first")
    config = StackConfig.on_free_ports(tmp_path_factory.mktemp("stack"))
    stack = Stack(config)
    try:
        stack.start_actions()
        stack.start_rasa()
        yield RunningBot(stack)
    finally:
        stack.stop_all()


class RunningBot:
    def __init__(self, stack: Stack):
        self.stack = stack
        self.config = stack.config
        self.rasa_url = stack.config.rasa_url
        self.demo_port = stack.config.demo_port
