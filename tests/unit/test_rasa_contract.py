"""The internals of Rasa and its server libraries that the project patches, wraps, overrides or reads.

Each entry of CONTRACT is one member, with the parameter names the project's code was written against (None:
an attribute) and why the code uses it. An upgrade that renames, removes or changes one fails here, naming it;
bot/rasa_ext/startup_checks.py also stops the servers on versions other than constraints.txt pins. After an upgrade,
change the code that uses a failing member (grep for its name) and its entry here together.

Private members (a leading underscore) are listed all; public ones only where the project replaces them,
overrides them in a way that depends on how Rasa calls them, or passes their arguments by position. rasa_sdk
and Sanic: the project uses only their public API (actions/, the channels' Sanic requests and listeners).

The members are looked up in a fresh interpreter (this file run as a script), so the patches that
bot/rasa_ext/rasa_server.py installs in the test process (other tests call `install()`) are not what is checked.
"""

import dataclasses
import importlib
import inspect
import json
import os
import pathlib
import subprocess
import sys
from typing import Any, Callable, Dict, Optional, Tuple

import pytest


@dataclasses.dataclass(frozen=True)
class Member:
    where: str  # "module:Class.member" or "module:function"
    params: Optional[Tuple[str, ...]]  # parameter names as inspect.signature lists them; None: an attribute
    why: str


TRACKER = "rasa.shared.core.trackers:DialogueStateTracker"
STORES = "rasa.core.tracker_store"
CONTRACT = (
    # bot/rasa_ext/rasa_server.py
    Member(
        "rasa.core.actions.action:RemoteAction._validate_action_result",
        ("self", "result"),
        "replaced by validate_action_result: the same validation, the constant schema checked once",
    ),
    Member(
        "rasa.core.actions.action:RemoteAction.action_response_format_spec",
        (),
        "the response schema that validate_action_result validates against",
    ),
    Member(
        "rasa.core.run:configure_app",
        (
            "input_channels",
            "cors",
            "auth_token",
            "enable_api",
            "response_timeout",
            "jwt_secret",
            "jwt_private_key",
            "jwt_method",
            "route",
            "port",
            "endpoints",
            "log_file",
            "conversation_id",
            "use_syslog",
            "syslog_address",
            "syslog_port",
            "syslog_protocol",
            "request_timeout",
            "server_listeners",
            "use_uvloop",
            "keep_alive_timeout",
        ),
        "wrapped by with_project_routes: adds /health/*, /summary/<id> and the gc.freeze listener to Rasa's app",
    ),
    Member(
        "rasa.core.run:load_agent_on_start",
        ("model_path", "endpoints", "remote_storage", "app", "loop"),
        "Rasa's before_server_start listener that sets app.ctx.agent: read by the health and summary routes; "
        "freeze_once_loaded (after_server_start) relies on the model being loaded by then",
    ),
    Member(
        "rasa.core.agent:Agent.handle_message",
        ("self", "message"),
        "wrapped by answering_requests_before_nlu: summary and privacy requests answered before the NLU",
    ),
    Member(
        f"{STORES}:FailSafeTrackerStore._tracker_store",
        None,
        "_innermost_store: the configured store inside Rasa's wrapper, for the readiness check's query",
    ),
    Member(
        f"{STORES}:AwaitableTrackerStore._tracker_store",
        None,
        "_innermost_store: the configured store inside Rasa's wrapper, for the readiness check's query",
    ),
    # bot/rasa_ext/tracker_store.py
    Member(
        f"{STORES}:SQLTrackerStore._event_query",
        ("self", "session", "sender_id", "fetch_events_from_all_sessions"),
        "WindowedSQLTrackerStore.retrieve reads the latest session's rows as the stock store does",
    ),
    Member(
        f"{STORES}:SQLTrackerStore._additional_events",
        ("self", "session", "tracker"),
        "WindowedSQLTrackerStore.save finds the new events of a tracker that is not windowed, the stock way",
    ),
    Member(
        f"{STORES}:TrackerStore._stream_new_events",
        ("self", "event_broker", "new_events", "sender_id"),
        "WindowedSQLTrackerStore.save publishes new events to the event broker as the stock store does",
    ),
    Member(
        f"{STORES}:SQLTrackerStore.SQLEvent",
        None,
        "the events table: the windowed store writes its rows (bot/rasa_ext/conversations.py reads the same table)",
    ),
    Member(
        f"{TRACKER}.__init__",
        ("self", "sender_id", "slots", "max_event_history", "sender_source", "is_rule_tracker"),
        "WindowedTracker.__init__ passes these on by position",
    ),
    Member(f"{TRACKER}._reset", ("self",), "overridden by WindowedTracker: replay starts from the window's start state"),
    Member(f"{TRACKER}.init_copy", ("self",), "overridden by WindowedTracker: Rasa replays applied events on it (copy, past_states)"),
    Member(
        f"{TRACKER}.travel_back_in_time", ("self", "target_time"), "overridden by WindowedTracker: replays the window from its start state"
    ),
    Member(f"{TRACKER}._create_events", ("self", "evts"), "WindowedTracker.trim builds the cut window's events"),
    Member(f"{TRACKER}._max_event_history", None, "WindowedTracker copies keep the same event limit"),
    Member(f"{TRACKER}._paused", None, "TrackerState saves and restores whether the conversation is paused"),
    Member("rasa.shared.core.slots:Slot._value", None, "TrackerState restores a slot's value without an event"),
    Member("rasa.shared.core.slots:Slot._has_been_set", None, "TrackerState restores whether a slot was set"),
    # bot/nlp/components.py
    Member(
        "rasa.nlu.featurizers.featurizer:Featurizer.__init__",
        ("self", "name", "config"),
        "SentenceEmbeddingFeaturizer.__init__ passes them on by position",
    ),
    Member("rasa.nlu.featurizers.featurizer:Featurizer._config", None, "SentenceEmbeddingFeaturizer reads its model_dir and scale from it"),
    # bot/rasa_ext/channels.py
    Member(
        "rasa.core.channels.rest:RestInput._extract_sender",
        ("self", "req"),
        "overridden by RestInput: refuses a missing or malformed sender, message or metadata with a 400",
    ),
    Member(
        "rasa.core.channels.channel:OutputChannel.send_response",
        ("self", "recipient_id", "message"),
        "replaced on each output channel by _CountingOutput (the guard counts what the bot sent)",
    ),
    Member(
        "rasa.core.channels.socketio:SocketIOOutput.send_custom_json",
        ("self", "recipient_id", "json_message", "kwargs"),
        "replaced on each socket.io output by _custom_payload_as_data (Rasa 3.6 fails on custom payloads)",
    ),
    Member("rasa.core.channels.socketio:SocketIOOutput.sio", None, "the replacement send_custom_json emits on it"),
    Member("rasa.core.channels.socketio:SocketIOOutput.bot_message_evt", None, "the event name the replacement send_custom_json emits"),
    Member(
        "rasa.core.channels.socketio:SocketIOInput.blueprint",
        ("self", "on_new_message"),
        "overridden by SocketIOInput: reads back Rasa's message handler from sio.handlers to wrap it, "
        "replaces its session_request handler",
    ),
    Member(
        "socketio:AsyncServer._handle_eio_message",
        ("self", "eio_sid", "data"),
        "SocketIOInput's engine.io message handler refuses binary packets, then calls it",
    ),
    Member("socketio:AsyncServer.handlers", None, "where SocketIOInput finds Rasa's user-message handler"),
    Member(
        "socketio:AsyncServer.manager_initialized",
        None,
        "the manager is initialised at the first connection, so the Redis manager can replace it before",
    ),
    Member(
        "socketio:AsyncServer.enter_room",
        ("self", "sid", "room", "namespace"),
        "a coroutine since 5.9 that Rasa 3.6 never awaits (RasaHQ/rasa#13027); session_request awaits it",
    ),
    Member(
        "engineio:AsyncServer.max_http_buffer_size",
        None,
        "raised after the server is built, so long messages are cut and answered instead of dropped",
    ),
)

# Instances to look for attributes that are set in __init__ (not on the class).
INSTANCES: Dict[str, Callable[[], Any]] = {}


def _instance(owner: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def register(factory: Callable[[], Any]) -> Callable[[], Any]:
        INSTANCES[owner] = factory
        return factory

    return register


@_instance(f"{STORES}:FailSafeTrackerStore")
def _fail_safe_store() -> Any:
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    return FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))


@_instance(f"{STORES}:AwaitableTrackerStore")
def _awaitable_store() -> Any:
    from rasa.core.tracker_store import AwaitableTrackerStore, InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    return AwaitableTrackerStore(InMemoryTrackerStore(Domain.empty()))


@_instance(TRACKER)
def _tracker() -> Any:
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker("contract", [])


@_instance("rasa.shared.core.slots:Slot")
def _slot() -> Any:
    from rasa.shared.core.slots import TextSlot

    return TextSlot("contract", mappings=[])


@_instance("rasa.nlu.featurizers.featurizer:Featurizer")
def _featurizer() -> Any:
    from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer

    class Probe(DenseFeaturizer):
        @classmethod
        def validate_config(cls, config: Dict[str, Any]) -> None:
            pass

    return Probe("contract", DenseFeaturizer.get_default_config())


@_instance("rasa.core.channels.socketio:SocketIOOutput")
def _socketio_output() -> Any:
    from rasa.core.channels.socketio import SocketIOOutput

    return SocketIOOutput(_socketio_server(), "bot_uttered")


@_instance("socketio:AsyncServer")
def _socketio_server() -> Any:
    import socketio

    return socketio.AsyncServer(async_mode="sanic")


@_instance("engineio:AsyncServer")
def _engineio_server() -> Any:
    return _socketio_server().eio


def split(where: str) -> Tuple[str, str, str]:
    """("module", "module:Owner" or "module", member name)."""
    module, _, qualname = where.partition(":")
    owner, _, name = qualname.rpartition(".")
    return module, f"{module}:{owner}" if owner else module, name


def observe(member: Member) -> Dict[str, Any]:
    """What the installed libraries have: {"params": [...]}, {"attribute": True} or {"missing": why}."""
    module_name, owner_name, name = split(member.where)
    try:
        owner: Any = importlib.import_module(module_name)
        for part in owner_name.partition(":")[2].split(".") if ":" in owner_name else ():
            owner = getattr(owner, part)
    except (ImportError, AttributeError) as error:
        return {"missing": f"{owner_name} cannot be found ({error})"}
    if member.params is None:
        found = hasattr(owner, name) or (owner_name in INSTANCES and hasattr(INSTANCES[owner_name](), name))
        return {"attribute": True} if found else {"missing": f"{owner_name} has no attribute {name!r}"}
    if not hasattr(owner, name):
        return {"missing": f"{owner_name} has no member {name!r}"}
    return {"params": list(inspect.signature(inspect.unwrap(getattr(owner, name))).parameters)}


DISTRIBUTIONS = {"rasa": "rasa", "rasa_sdk": "rasa-sdk", "sanic": "sanic", "socketio": "python-socketio", "engineio": "python-engineio"}


def distribution(member: Member) -> str:
    return DISTRIBUTIONS[member.where.split(".")[0].split(":")[0]]


@pytest.fixture(scope="module")
def installed() -> Dict[str, Dict[str, Any]]:
    """`observe` for every member, in a fresh interpreter (nothing patched)."""
    run = subprocess.run(
        [sys.executable, "-W", "ignore", __file__],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=pathlib.Path(__file__).parents[2],
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("member", CONTRACT, ids=[member.where for member in CONTRACT])
def test_the_member_exists_with_the_recorded_parameters(member, installed):
    import importlib.metadata

    found = installed[member.where]
    version = f"{distribution(member)} {importlib.metadata.version(distribution(member))}"
    context = f"{member.where} (used because: {member.why})"
    assert "missing" not in found, f"{context}: not in the installed {version}: {found.get('missing')}"
    if member.params is not None:
        assert tuple(found["params"]) == member.params, (
            f"{context}: the installed {version} has parameters {tuple(found['params'])}, the project's code was "
            f"written for {member.params}; update the code that uses it and this entry together"
        )


def test_the_start_up_check_guards_every_library_in_the_contract():
    from bot.rasa_ext.startup_checks import RASA_SERVER_PACKAGES

    assert {distribution(member) for member in CONTRACT} <= set(RASA_SERVER_PACKAGES)


if __name__ == "__main__":
    print(json.dumps({member.where: observe(member) for member in CONTRACT}))
