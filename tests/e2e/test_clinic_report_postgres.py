"""The conversation store and the clinic report on a real PostgreSQL server (the tracker store of the scaled
deployment, docs/endpoints.scaled.yml), seeded through the project's own tracker store: the same answers as
on SQLite, and the commands find the store from the same settings Rasa uses."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain

from bot.core.settings import PROJECT_DIR
from bot.rasa_ext.conversations import ConversationStore
from bot.rasa_ext.tracker_store import WindowedSQLTrackerStore
from tests.e2e import test_scaled_deployment
from tests.unit.test_clinic_report import Page, assert_loads_nothing, assert_no_personal_details, assert_numbers_of_the_seed
from tests.unit.test_conversation_store import DAY, clinic_seed, expected_feedback, save, seeded_sqlite

# a throwaway PostgreSQL server on loopback, as the scaled deployment's test starts it
postgres = test_scaled_deployment.postgres


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(PROJECT_DIR / "domain.yml"))


@pytest.fixture(scope="module")
def seeded():
    return clinic_seed()


def seeded_database(port: int, name: str, domain, seeded) -> ConversationStore:
    """A new database on the server, filled turn by turn as Rasa's processor fills it."""
    server = sa.create_engine(f"postgresql://ivig@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    server.dispose()
    save(WindowedSQLTrackerStore(domain=domain, dialect="postgresql", host="127.0.0.1", port=port, db=name, username="ivig"), seeded)
    return ConversationStore(f"postgresql://ivig@127.0.0.1:{port}/{name}")


def configured_env(port: int, database: str, **extra) -> dict:
    """The settings of a scaled deployment (docs/deployment.md), and nothing else of this machine's IVIG_ ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVIG_")}
    return {
        **env,
        "IVIG_ENDPOINTS": "docs/endpoints.scaled.yml",
        "IVIG_POSTGRES_HOST": "127.0.0.1",
        "IVIG_POSTGRES_PORT": str(port),
        "IVIG_POSTGRES_DB": database,
        "IVIG_POSTGRES_USER": "ivig",
        "IVIG_POSTGRES_PASSWORD": "",
        **extra,
    }


@pytest.fixture(scope="module")
def on_postgres(postgres, domain, seeded):
    return seeded_database(postgres, "clinic", domain, seeded)


def test_the_store_answers_on_postgresql_as_on_sqlite(on_postgres, seeded, domain, tmp_path):
    on_sqlite = ConversationStore.sqlite(seeded_sqlite(tmp_path / "conversations.db", domain, seeded))
    assert on_postgres.engine.dialect.name == "postgresql"
    assert on_postgres.conversations() == on_sqlite.conversations()
    assert len(on_postgres.conversations()) == len(seeded)
    for conversation in seeded:
        assert on_postgres.events(conversation.sender_id) == [event.as_dict() for event in conversation.events()]
    assert list(on_postgres.every_event(("user", "bot"))) == list(on_sqlite.every_event(("user", "bot")))
    assert on_postgres.feedback_counts() == on_sqlite.feedback_counts() == expected_feedback(seeded)


def test_the_report_reads_the_configured_postgresql_store(on_postgres, postgres, seeded, tmp_path):
    out = tmp_path / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "bot.tools.report", "--out", str(out)],
        cwd=PROJECT_DIR,
        env=configured_env(postgres, "clinic", IVIG_REPORT_UNANSWERED_TEXT="true"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert_numbers_of_the_seed(page, seeded)
    assert len(page.rows("unanswered_text-table")) == sum(t.kind == "unanswered" for c in seeded for t in c.turns)
    assert_no_personal_details(page)
    assert_loads_nothing(text, page)


def test_the_feedback_command_reads_the_configured_postgresql_store(on_postgres, postgres, seeded):
    result = subprocess.run(
        [sys.executable, "-m", "bot.rasa_ext.conversations", "feedback"],
        cwd=PROJECT_DIR,
        env=configured_env(postgres, "clinic"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    counts = expected_feedback(seeded)
    assert {topic: (int(up), int(down)) for topic, up, down in rows} == {
        topic: (counts[(topic, "up")], counts[(topic, "down")]) for topic, _ in counts
    }


def test_forgetting_a_patient_and_retention_on_postgresql(postgres, domain, seeded):
    store = seeded_database(postgres, "forget", domain, seeded)
    forgotten = seeded[0]
    assert store.delete_conversation(forgotten.sender_id) == len(forgotten.events())
    assert store.events(forgotten.sender_id) == [] and store.delete_conversation(forgotten.sender_id) == 0
    remaining = seeded[1:]
    now = max(e.timestamp for c in remaining for e in c.events()) + 10 * DAY
    old = {c.sender_id for c in remaining if max(e.timestamp for e in c.events()) < now - 30 * DAY}
    assert 0 < len(old) < len(remaining) and "patient-coming-back" not in old
    assert store.delete_older_than(30, now=now) == len(old)
    assert {c.sender_id for c in store.conversations()} == {c.sender_id for c in remaining} - old
