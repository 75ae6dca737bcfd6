"""Forget me on a real PostgreSQL tracker store (the scaled deployment's, docs/endpoints.scaled.yml): the
question, then every stored event of that conversation deleted, other conversations untouched."""

import asyncio

import sqlalchemy as sa
from rasa.shared.core.events import UserUttered

from bot.rasa_ext.conversations import ConversationStore
from bot.rasa_ext.tracker_store import WindowedSQLTrackerStore
from tests.e2e.test_clinic_report_postgres import configured_env, domain, postgres  # noqa: F401  fixtures
from tests.unit.test_privacy import send


def test_forget_me_deletes_the_conversation_on_postgresql(postgres, domain, monkeypatch):  # noqa: F811
    server = sa.create_engine(f"postgresql://ivig@127.0.0.1:{postgres}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text("CREATE DATABASE forget"))
    server.dispose()
    for key, value in configured_env(postgres, "forget").items():
        if key.startswith("IVIG_"):
            monkeypatch.setenv(key, value)
    store = WindowedSQLTrackerStore(domain=domain, dialect="postgresql", host="127.0.0.1", port=postgres, db="forget", username="ivig")
    for sender in ("patient-forget", "patient-keep"):
        tracker = asyncio.run(store.get_or_create_tracker(sender))
        tracker.update(UserUttered("what is ivig", {"name": "ivig_basics"}))
        asyncio.run(store.save(tracker))

    assert send(store, "patient-forget", "delete my conversation")[0][-1]["custom"]["kind"] == "forget_confirm"
    assert send(store, "patient-forget", "Yes, delete it")[0][-1]["custom"]["kind"] == "forgotten"
    conversations = ConversationStore.configured()
    assert conversations.engine.dialect.name == "postgresql"
    assert conversations.events("patient-forget") == []
    assert [e["text"] for e in conversations.events("patient-keep") if e["event"] == "user"] == ["what is ivig"]
