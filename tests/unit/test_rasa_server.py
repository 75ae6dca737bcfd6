"""The Rasa runtime fix of bot/rasa_server.py: action responses are validated exactly as Rasa does."""
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_server

ORIGINAL = RemoteAction._validate_action_result
RESPONSES = [
    {"events": [{"event": "slot", "name": "current_topic", "value": "dosing"}],
     "responses": [{"text": "hello", "buttons": [], "custom": {"topic": "dosing"}}]},
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
