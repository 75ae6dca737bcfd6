"""`rasa run` with three fixes to Rasa's runtime installed first: `python -m bot.rasa_server run ...`.

All are measured in docs/benchmarks.md and change nothing but time.

Start: skops (the file format of LogisticRegressionClassifier) builds its list of trusted types when
it is imported, looking up every scipy ufunc in every loaded module (`skops.io._utils.whichmodule`).
Imported by Rasa's model loader, after TensorFlow and Rasa (thousands of modules), that takes about
5 s of the server's start; imported first, 0.2 s, with the same list (tests/unit/test_rasa_server.py).

Per message: Rasa checks every action server response against its JSON
schema with `jsonschema.validate(response, schema)`, which first validates the *schema itself*
against the JSON Schema meta-schema (`check_schema`), at every action call. The schema is a constant
(`RemoteAction.action_response_format_spec()`), and with jsonschema 4.17 that check is about half of
the Rasa server's CPU time per message. `install()` makes `RemoteAction._validate_action_result` check
the schema once and then validate each response exactly as before (same validator class, same
`best_match` error, same message added to it, same exception).

Pauses: once the model is loaded, the server holds about half a million Python objects (TensorFlow,
Rasa, the model) that live as long as the process. Python's full garbage collection walks all of
them each time, and as the cache of conversations grows those collections came every few seconds,
25 to 320 ms each, while every message in flight waited. `install()` makes the server, once the model
is loaded, collect once and then `gc.freeze()` what exists: later collections only walk newer objects.

Everything else is `rasa run` unchanged (bot/stack.py starts the server this way).
"""
import functools
import gc
import sys
from typing import Any, Dict, Optional, Text

import skops.io  # noqa: F401  before anything imports TensorFlow or Rasa (see above)

# isort: split
import jsonschema
import rasa.core.run
from jsonschema import exceptions
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_validator: Optional[Any] = None


def _response_validator() -> Any:
    """The validator `jsonschema.validate` would build for the response schema, built once."""
    global _validator
    if _validator is None:
        schema = RemoteAction.action_response_format_spec()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    return _validator


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """`RemoteAction._validate_action_result` (Rasa 3.6) without re-checking the constant schema."""
    error = exceptions.best_match(_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def freeze_after(load_agent_on_start):
    """`rasa.core.run.load_agent_on_start`, then one collection and `gc.freeze()`."""

    @functools.wraps(load_agent_on_start)
    async def load_agent_then_freeze(*args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return agent

    load_agent_then_freeze.freezes = True  # type: ignore[attr-defined]
    return load_agent_then_freeze


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[assignment]
    if not getattr(rasa.core.run.load_agent_on_start, "freezes", False):
        rasa.core.run.load_agent_on_start = freeze_after(rasa.core.run.load_agent_on_start)


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
