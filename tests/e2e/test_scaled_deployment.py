"""Several Rasa servers sharing a real PostgreSQL tracker store and a real Redis lock store
(docs/endpoints.scaled.yml): a conversation continues whichever server answers, and nothing is lost; socket.io
replies travel through the same Redis (IVIG_SOCKETIO_REDIS_URL) to the session's sockets on every server."""

import concurrent.futures
import glob
import pathlib
import shutil
import subprocess
import tempfile
import uuid

import psycopg2
import pytest

from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import Stack, StackConfig, free_port, wait_until
from bot.tools.client import RestClient
from tests.robustness.conftest import one_message_two_tabs

PG_BIN = pathlib.Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]) if glob.glob("/usr/lib/postgresql/*/bin") else None


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on loopback, run as the `postgres` system user."""
    assert PG_BIN, "PostgreSQL server binaries missing: run `make system-deps`"
    # pytest's temporary folders are private to root; the server's must belong to `postgres`
    data = pathlib.Path(tempfile.mkdtemp(prefix="ivig-pg-"))
    shutil.chown(data, "postgres", "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, PG_BIN / "initdb", "-D", data, "-U", "ivig", "--auth=trust"], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*as_postgres, PG_BIN / "postgres", "-D", data, "-p", str(port), "-c", "listen_addresses=127.0.0.1", "-k", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_until(
        lambda: psycopg2.connect(host="127.0.0.1", port=port, user="ivig", dbname="postgres").close() is None,
        ignore=(psycopg2.OperationalError,),
    ), "PostgreSQL did not come up"
    connection = psycopg2.connect(host="127.0.0.1", port=port, user="ivig", dbname="postgres")
    connection.autocommit = True
    connection.cursor().execute("CREATE DATABASE conversations")
    connection.close()
    yield port
    server.terminate()
    server.wait(30)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    executable = shutil.which("redis-server")
    assert executable, "redis-server missing: run `make system-deps`"
    port = free_port()
    server = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path_factory.mktemp("redis")),
        ],
        stdout=subprocess.DEVNULL,
    )
    import redis as redis_client

    assert wait_until(lambda: redis_client.Redis(port=port).ping(), ignore=(redis_client.ConnectionError,)), "Redis did not come up"
    yield port
    server.terminate()
    server.wait(30)


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory, postgres, redis):
    actions_port = free_port()
    env = {
        "IVIG_ENDPOINTS": str(PROJECT_DIR / "docs" / "endpoints.scaled.yml"),
        "IVIG_ACTIONS_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "IVIG_POSTGRES_HOST": "127.0.0.1",
        "IVIG_POSTGRES_PORT": str(postgres),
        "IVIG_POSTGRES_DB": "conversations",
        "IVIG_POSTGRES_USER": "ivig",
        "IVIG_POSTGRES_PASSWORD": "",
        "IVIG_REDIS_HOST": "127.0.0.1",
        "IVIG_REDIS_PORT": str(redis),
        "IVIG_SOCKETIO_REDIS_URL": f"redis://127.0.0.1:{redis}/2",
        # test_concurrent_messages_of_one_conversation_are_all_kept sends 12 messages of one conversation at once
        "IVIG_RATE_SENDER_BURST": "12",
    }
    stacks = []
    for name in ("a", "b"):
        config = StackConfig.on_free_ports(tmp_path_factory.mktemp(f"server-{name}"), extra_env=env)
        config.actions_port = actions_port
        config.endpoints = PROJECT_DIR / "docs" / "endpoints.scaled.yml"
        stacks.append(Stack(config))
    try:
        stacks[0].start_actions()
        for stack in stacks:
            stack.start_rasa()
        yield stacks
    finally:
        for stack in stacks:
            stack.stop_all()


@pytest.fixture(scope="module")
def two_servers(two_stacks):
    return [RestClient(stack.config.rasa_url) for stack in two_stacks]


def stored_user_texts(postgres_port, sender):
    with psycopg2.connect(host="127.0.0.1", port=postgres_port, user="ivig", dbname="conversations") as c:
        cursor = c.cursor()
        cursor.execute("SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'", (sender,))
        return cursor.fetchone()[0]


def test_a_conversation_continues_across_servers(two_servers, postgres):
    server_a, server_b = two_servers
    sender = f"scaled-{uuid.uuid4().hex}"
    assert server_a.send(sender, "/study_vascular").topic == "study_vascular"
    details = server_b.send(sender, "how many people were in it?")
    assert details.topic == "study_vascular" and "29" in details.text and details.has_safety
    assert server_a.send(sender, "tell me more").topic == "study_vascular"
    assert stored_user_texts(postgres, sender) == 3


def test_concurrent_messages_of_one_conversation_are_all_kept(two_servers, postgres):
    sender = f"scaled-{uuid.uuid4().hex}"
    messages = ["/side_effects", "/dosing", "/access", "/infusion_process", "/cost_insurance", "/candidates"] * 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        turns = list(pool.map(lambda item: two_servers[item[0] % 2].send(sender, item[1]), enumerate(messages)))
    assert all(turn.has_safety for turn in turns)
    assert sorted(turn.topic for turn in turns) == sorted(m[1:] for m in messages)
    assert stored_user_texts(postgres, sender) == len(messages)


def test_a_reply_reaches_the_sessions_socket_on_the_other_server(two_stacks):
    """Behind a load balancer a patient's two tabs (or a reconnection) can land on different servers; each socket
    stays on the server it connected to. The message arrives through the tab on B, B answers, and the reply must
    also reach the tab on A: without a shared manager B only emits to its own sockets."""
    url_a, url_b = (stack.config.rasa_url for stack in two_stacks)
    turn, on_tab_a = one_message_two_tabs(url_b, url_a, f"scaled-sio-{uuid.uuid4().hex}")
    assert turn.topic == "side_effects" and turn.has_safety, turn.messages
    assert on_tab_a == turn.messages, "the reply did not reach server A"
