"""The Rasa runtime fixes of bot/rasa_ext/rasa_server.py change nothing but time."""

import asyncio
import json
import subprocess
import sys

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_ext import rasa_server

ORIGINAL = RemoteAction._validate_action_result
RESPONSES = [
    {
        "events": [{"event": "slot", "name": "current_topic", "value": "dosing"}],
        "responses": [{"text": "hello", "buttons": [], "custom": {"topic": "dosing"}}],
    },
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "value": "dosing"}], "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
]


def outcome(validate, response):
    try:
        return validate(RemoteAction("action_answer_topic", None), response)
    except ValidationError as error:
        return type(error), error.message, list(error.path), error.validator


@pytest.mark.parametrize("response", RESPONSES)
def test_responses_are_accepted_and_refused_as_by_rasa(response):
    assert outcome(rasa_server.validate_action_result, response) == outcome(ORIGINAL, response)


def test_install_replaces_the_validation_of_remote_actions(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL)
    rasa_server.install()
    assert RemoteAction._validate_action_result is rasa_server.validate_action_result


class RecordingApp:
    """What `with_project_routes` adds to the app Rasa builds."""

    def __init__(self):
        self.routes, self.listeners = [], []

    def add_route(self, handler, uri, methods, name):
        self.routes.append(uri)

    def register_listener(self, listener, event):
        self.listeners.append((listener, event))


def test_the_server_freezes_what_exists_once_the_model_is_loaded():
    import gc

    app = rasa_server.with_project_routes(RecordingApp)()
    # Rasa loads the model in a before_server_start listener, so it is loaded once the server has started.
    assert app.listeners == [(rasa_server.freeze_once_loaded, "after_server_start")]
    assert {rasa_server.LIVE_PATH, rasa_server.READY_PATH, rasa_server.SUMMARY_ROUTE} <= set(app.routes)
    try:
        asyncio.run(rasa_server.freeze_once_loaded(app, None))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


TRUSTED_TYPES = (
    "import json, skops.io._trusted_types as t; "
    "print(json.dumps([t.SKLEARN_ESTIMATOR_TYPE_NAMES, t.SCIPY_UFUNC_TYPE_NAMES, "
    "t.NUMPY_UFUNC_TYPE_NAMES, t.NUMPY_DTYPE_TYPE_NAMES]))"
)


def test_skops_imported_first_trusts_the_same_types_as_when_rasa_imports_it():
    def trusted(first: str):
        code = f"import {first}; import rasa.core.run; {TRUSTED_TYPES}"
        run = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
        return json.loads(run.stdout.strip().splitlines()[-1])

    assert trusted("skops.io") == trusted("rasa")


def test_the_server_parses_once_before_the_first_patient():
    import gc
    import types

    parsed = []

    class LoadedAgent:
        def is_ready(self):
            return True

        async def parse_message(self, text):
            parsed.append(text)

    app = types.SimpleNamespace(ctx=types.SimpleNamespace(agent=LoadedAgent()))
    try:
        asyncio.run(rasa_server.freeze_once_loaded(app, None))
    finally:
        gc.unfreeze()
    assert parsed == [rasa_server.WARM_UP_TEXT]
