"""Shared fixtures: the real assistant started as processes on free loopback ports."""
import pathlib

import pytest

from bot.stack import MODEL_PATH, Stack, StackConfig

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
