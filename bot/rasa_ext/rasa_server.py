"""`rasa run` with three fixes to Rasa's runtime installed first: `python -m bot.rasa_ext.rasa_server run ...`,
and health endpoints for a load balancer and a monitor (`GET /health/live`, `GET /health/ready`, below).

The three fixes are measured in docs/benchmarks.md and change nothing but time.

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
25 to 320 ms each, while every message in flight waited. A Sanic `after_server_start` listener (Rasa loads
the model in a `before_server_start` one) collects once and then calls `gc.freeze()` on what exists: later
collections only walk newer objects.

Health: `GET /health/live` answers 200 as soon as the server listens (the process is alive).
`GET /health/ready` answers 200 with `{"status": "ready", "checks": {...}}` only when the model is
loaded, the action server answers its `/health` (at the action endpoint's URL) and the tracker store
(and a Redis lock store, when configured) answers a query; otherwise 503 with the failing checks. A load
balancer sends patients only to ready servers; `python -m bot health` (bot/launcher/cli.py) calls it for a monitor.

Summary for the doctor (bot/core/summary.py): `GET /summary/<conversation id>` answers the printable page of that
conversation, built from the tracker store, or one 404 page for a malformed or unknown id. A
patient's message that only asks for it ("summary", "print this") is answered with a link to it before it
reaches the NLU (`Agent.handle_message`, see `answering_requests_before_nlu`), and so are the privacy
requests of bot/core/privacy.py ("what do you keep about me?", "forget me": asks, then deletes the conversation).

Before starting, the server checks the installed versions of Rasa and its server libraries against
constraints.txt and the tracker store's window against the policies (bot/rasa_ext/startup_checks.py); the Rasa
internals used here are listed in tests/unit/test_rasa_contract.py.

Everything else is `rasa run` unchanged (bot/launcher/stack.py starts the server this way).
"""

import argparse
import asyncio
import functools
import gc
import logging
import pathlib
import sys
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Text

import skops.io  # noqa: F401  before anything imports TensorFlow or Rasa (see above)

# isort: split
import jsonschema
import rasa.core.run
from jsonschema import exceptions
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.constants import DEFAULT_ENDPOINTS_PATH, DOCS_BASE_URL
from rasa.shared.core.events import BotUttered

from bot.core import privacy, summary
from bot.core.answers import Reply
from bot.rasa_ext import startup_checks
from bot.rasa_ext.channels import as_message
from bot.rasa_ext.conversations import ConversationStore

logger = logging.getLogger(__name__)

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


# Parsed once before the first patient: the encoder, the triage patterns and the typo index load on first use.
WARM_UP_TEXT = "what are the side effects of ivig?"


async def freeze_once_loaded(app: Any, loop: Any) -> None:
    """Sanic `after_server_start` listener: one warm-up parse, one collection, then `gc.freeze()`.

    Rasa loads the model in a `before_server_start` listener (`rasa.core.run.load_agent_on_start`), so by
    now the model exists. Its components load some parts on the first message; without the warm-up the first
    patients after a start or restart waited for them, past the channel's reply timeout.
    """
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is not None and agent.is_ready():
        started = time.monotonic()
        await agent.parse_message(WARM_UP_TEXT)
        logger.info("warm-up parse took %.1f s", time.monotonic() - started)
    gc.collect()
    gc.freeze()


CHECK_TIMEOUT_SECONDS = 3.0
LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"


def _innermost_store(store: Any) -> Any:
    """The configured store inside Rasa's wrappers (FailSafeTrackerStore keeps it as `_tracker_store`)."""
    seen = 0
    while hasattr(store, "_tracker_store") and seen < 5:
        store, seen = store._tracker_store, seen + 1
    return store


async def _in_thread(function: Any) -> None:
    await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, function), CHECK_TIMEOUT_SECONDS)


async def _check_actions(agent: Any) -> str:
    import aiohttp

    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None or not getattr(endpoint, "url", None):
        return "no action endpoint configured"
    url = urllib.parse.urljoin(endpoint.url, "health")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)) as session:
            async with session.get(url) as answer:
                return "ok" if answer.status == 200 else f"{url} answered {answer.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        return f"{url} does not answer ({type(error).__name__})"


async def _check_tracker_store(agent: Any) -> str:
    import sqlalchemy as sa

    engine = getattr(_innermost_store(getattr(agent, "tracker_store", None)), "engine", None)
    if engine is None:
        return "not checked (not an SQL tracker store)"

    def query() -> None:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    try:
        await _in_thread(query)
        return "ok"
    except asyncio.TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s"
    except Exception as error:  # the database's own error says what is wrong (no patient data in it)
        return f"failed ({type(error).__name__})"


async def _check_lock_store(agent: Any) -> str:
    redis_client = getattr(getattr(agent, "lock_store", None), "red", None)
    if redis_client is None:
        return "not checked (in memory)"
    try:
        await _in_thread(redis_client.ping)
        return "ok"
    except asyncio.TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s"
    except Exception as error:
        return f"failed ({type(error).__name__})"


async def readiness(app: Any) -> Dict[Text, Any]:
    """The checks behind `GET /health/ready`: {"ready": bool, "checks": {name: "ok" or what is wrong}}."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        checks = {"model": "not loaded"}
    else:
        actions, tracker_store, lock_store = await asyncio.gather(
            _check_actions(agent), _check_tracker_store(agent), _check_lock_store(agent)
        )
        checks = {"model": "ok", "actions": actions, "tracker_store": tracker_store, "lock_store": lock_store}
    ready = all(value == "ok" or value.startswith("not checked") for value in checks.values())
    return {"ready": ready, "checks": checks}


def add_health_routes(app: Any) -> Any:
    from sanic import response

    async def live(_: Any) -> Any:
        return response.json({"status": "ok"})

    async def ready(request: Any) -> Any:
        result = await readiness(request.app)
        return response.json(
            {"status": "ready" if result["ready"] else "not ready", "checks": result["checks"]},
            status=200 if result["ready"] else 503,
        )

    app.add_route(live, LIVE_PATH, methods=["GET"], name="ivig_health_live")
    app.add_route(ready, READY_PATH, methods=["GET"], name="ivig_health_ready")
    return app


SUMMARY_ROUTE = summary.PATH_PREFIX + "<conversation_id>"


async def doctor_summary(request: Any, conversation_id: str) -> Any:
    """`GET /summary/<conversation id>`: the printable page of the conversation, from the tracker store.

    The id is the only key: nothing is looked up for one the widget cannot have made, and a malformed or
    unknown id gets the same page and status.
    """
    from sanic import response

    agent = getattr(request.app.ctx, "agent", None)
    tracker = None
    if summary.is_conversation_id(conversation_id) and agent is not None:
        tracker = await agent.tracker_store.retrieve_full_tracker(conversation_id)
    if tracker is None:
        return response.html(summary.not_found_page(), status=404, headers=summary.RESPONSE_HEADERS)
    page = summary.summary_page(event.as_dict() for event in tracker.events)
    return response.html(page, headers=summary.RESPONSE_HEADERS)


def add_summary_route(app: Any) -> Any:
    app.add_route(doctor_summary, SUMMARY_ROUTE, methods=["GET"], name="ivig_doctor_summary")
    return app


def with_project_routes(configure_app):
    """`rasa.core.run.configure_app`, then the health routes, the summary route and the listener that freezes
    what exists once the model is loaded, added to the app it built."""

    @functools.wraps(configure_app)
    def configure_app_with_routes(*args: Any, **kwargs: Any) -> Any:
        app = add_summary_route(add_health_routes(configure_app(*args, **kwargs)))
        app.register_listener(freeze_once_loaded, "after_server_start")
        return app

    configure_app_with_routes.adds_routes = True  # type: ignore[attr-defined]
    return configure_app_with_routes


# The slot that counts the turns after an urgent reply that start with its reminder (actions/actions.py).
URGENT_TURNS_LEFT_SLOT = "urgent_turns_left"


async def _urgency_carries_over(agent: Agent, sender_id: str) -> bool:
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    return tracker is not None and bool(tracker.get_slot(URGENT_TURNS_LEFT_SLOT))


def answering_requests_before_nlu(handle_message):
    """`Agent.handle_message`, except for messages that ask only for the doctor summary ("summary", "print this":
    doctor_summary.yml `requests`) or make a privacy request ("what do you keep about me?", "forget me" and the
    answer to its question: privacy.yml), all matched whole.

    Why here and not by the classifier: they need no NLU training examples, they are exact (a longer message goes
    on to the safety triage as usual) and they serve every channel (they all call the agent). The summary and
    privacy requests are not stored, so the summary never lists them as questions. The summary link is only
    given for ids the page can be served for and not in the turns after an urgent reply (those go to the bot as
    usual, so the reply starts with the reminder); privacy requests are always answered.
    """

    @functools.wraps(handle_message)
    async def handle(self: Agent, message: Any) -> Any:
        sender, text = message.sender_id, message.text
        reply: Optional[Reply]
        if summary.is_summary_request(text) and summary.is_conversation_id(sender) and not await _urgency_carries_over(self, sender):
            reply = summary.summary_reply(sender)
        else:
            reply = await _privacy_reply(self, sender, privacy.request_of(text))
        if reply is None:
            return await handle_message(self, message)
        await message.output_channel.send_response(sender, as_message(reply))
        return None

    handle.answers_requests_before_nlu = True  # type: ignore[attr-defined]
    return handle


async def _privacy_reply(agent: Agent, sender: str, request: Optional[str]) -> Optional[Reply]:
    """The reply to a privacy request, or None when the message is something else ("yes" to another question)."""
    if request == privacy.ASK_POLICY:
        return privacy.reply(privacy.POLICY)
    if request == privacy.FORGET:
        return await _stored(agent, sender, privacy.reply(privacy.ASK))
    if request in (privacy.CONFIRM, privacy.CANCEL):
        tracker = await agent.tracker_store.retrieve_full_tracker(sender)
        last = next((e for e in reversed(tracker.events) if isinstance(e, BotUttered)), None) if tracker else None
        if last is None or not privacy.is_forget_question(last.data.get("custom")):
            return None
        if request == privacy.CANCEL:
            return await _stored(agent, sender, privacy.reply(privacy.KEPT))  # a later "yes" deletes nothing
        store = ConversationStore.configured()
        try:
            await asyncio.to_thread(store.delete_conversation, sender)
        finally:
            store.engine.dispose()
        return privacy.reply(privacy.FORGOTTEN)
    return None


async def _stored(agent: Agent, sender: str, reply: Reply) -> Reply:
    """Adds the reply to the conversation as the bot's turn, so the next message (on any server) can read it."""
    tracker = await agent.tracker_store.get_or_create_tracker(sender)
    message = as_message(reply)
    tracker.update(BotUttered(message.get("text"), {"buttons": message.get("buttons"), "custom": message.get("custom")}))
    await agent.tracker_store.save(tracker)
    return reply


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
    if not getattr(rasa.core.run.configure_app, "adds_routes", False):
        rasa.core.run.configure_app = with_project_routes(rasa.core.run.configure_app)
    if not getattr(Agent.handle_message, "answers_requests_before_nlu", False):
        Agent.handle_message = answering_requests_before_nlu(Agent.handle_message)


def endpoints_file(argv: List[str]) -> pathlib.Path:
    """The endpoints file a `rasa run` command line names (Rasa's default: endpoints.yml)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--endpoints", default=DEFAULT_ENDPOINTS_PATH)
    return pathlib.Path(parser.parse_known_args(argv)[0].endpoints)


def check_before_start(argv: List[str]) -> None:
    """The start-up checks of bot/rasa_ext/startup_checks.py; StartupCheckFailed says what is wrong."""
    startup_checks.check_versions(startup_checks.RASA_SERVER_PACKAGES)
    if argv[:1] == ["run"]:
        startup_checks.check_tracker_window(endpoints_file(argv[1:]))


def main() -> None:
    try:
        check_before_start(sys.argv[1:])
    except startup_checks.StartupCheckFailed as failure:
        sys.exit(f"The Rasa server does not start: {failure}")
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
