"""Privacy commands (bot/core/privacy.py), answered before the NLU against a real SQLite tracker store."""

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import UserUttered

from bot.core import privacy
from bot.core.answers import ReplyBuilder
from bot.core.settings import Clinic, load_clinic
from bot.rasa_ext import rasa_server
from bot.rasa_ext.conversations import ConversationStore
from bot.rasa_ext.tracker_store import WindowedSQLTrackerStore

PATIENT, OTHER = "patient-forget", "patient-keep"


@pytest.mark.parametrize(
    "message, request_kind",
    [
        ("Forget me!", privacy.FORGET),
        ("delete my conversation", privacy.FORGET),
        ("Oublie-moi", privacy.FORGET),
        ("borra mi conversación", privacy.FORGET),
        ("Yes, delete it", privacy.CONFIRM),
        ("no", privacy.CANCEL),
        ("What do you keep about me?", privacy.ASK_POLICY),
        ("¿Qué guardan sobre mí?", privacy.ASK_POLICY),
        ("forget me, my chest hurts", None),
        ("what do you know about ivig", None),
        ("delete", None),
    ],
)
def test_requests_are_read_whole(message, request_kind):
    assert privacy.request_of(message) == request_kind


def test_the_policy_says_what_is_kept_for_how_long_and_where_the_notice_is():
    clinic = Clinic(**{**load_clinic().__dict__, "privacy_notice_url": "https://clinic.example/privacy"})
    text = privacy.reply(privacy.POLICY, ReplyBuilder(clinic=clinic, retention_days=30)).text
    assert "30 days" in text and "https://clinic.example/privacy" in text and "forget me" in text
    assert "Privacy notice: ask" in privacy.reply(privacy.POLICY, ReplyBuilder(retention_days=30)).text
    greeting = ReplyBuilder(clinic=clinic, retention_days=30).answer("greeting").text
    assert "automated" in greeting and "30 days" in greeting and "https://clinic.example/privacy" in greeting


@pytest.fixture()
def store(tmp_path, monkeypatch, domain):
    """The tracker store Rasa uses, on a SQLite file that ConversationStore.configured() also finds."""
    path = tmp_path / "conversations.db"
    monkeypatch.setenv("IVIG_TRACKER_DB", str(path))
    return WindowedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path))


def send(store, sender, text):
    """One message through the wrapped Agent.handle_message: (the bot's messages, whether Rasa got it)."""
    passed = []

    async def handle_message(agent, message):
        passed.append(message.text)

    output = CollectingOutputChannel()
    handle = rasa_server.answering_requests_before_nlu(handle_message)
    asyncio.run(handle(type("Agent", (), {"tracker_store": store})(), UserMessage(text, output, sender_id=sender)))
    return output.messages, bool(passed)


def stored_texts(sender):
    return [e.get("text") for e in ConversationStore.configured().events(sender) if e.get("event") == "user"]


def test_forget_me_asks_then_deletes_every_stored_event_of_that_conversation_only(store, domain):
    for sender in (PATIENT, OTHER):
        tracker = asyncio.run(store.get_or_create_tracker(sender))
        tracker.update(UserUttered("does ivig help brain fog", {"name": "symptom_brain_fog"}))
        asyncio.run(store.save(tracker))
    messages, passed = send(store, PATIENT, "Forget me")
    assert not passed and messages[-1]["custom"]["kind"] == privacy.ASK
    assert [b["title"] for b in messages[0]["buttons"]] == ["Yes, delete it", "No, keep it"]
    assert stored_texts(PATIENT) == ["does ivig help brain fog"]  # nothing deleted before the answer

    messages, passed = send(store, PATIENT, "Yes, delete it")
    assert not passed and messages[-1]["custom"]["kind"] == privacy.FORGOTTEN
    assert ConversationStore.configured().events(PATIENT) == []
    assert stored_texts(OTHER) == ["does ivig help brain fog"]


def test_no_keeps_the_conversation_and_a_later_yes_deletes_nothing(store):
    send(store, OTHER, "delete my chat")
    messages, passed = send(store, OTHER, "No, keep it")
    assert not passed and messages[-1]["custom"]["kind"] == privacy.KEPT
    _, passed = send(store, OTHER, "yes")
    assert passed  # an ordinary "yes", for the bot to answer
    assert ConversationStore.configured().events(OTHER)


def test_yes_without_the_question_goes_to_the_bot(store):
    _, passed = send(store, PATIENT, "yes")
    assert passed
    messages, passed = send(store, PATIENT, "what do you keep about me?")
    assert not passed and messages[-1]["custom"]["kind"] == privacy.POLICY
