"""End-to-end: the real Rasa server and action server, spoken to over the REST webhook."""

import uuid

import pytest

from bot.core.content_store import TOPIC_IDS, TOPICS_WITHOUT_SAFETY, URGENT_TOPICS, get_content
from bot.tools.client import RestClient


@pytest.fixture(scope="module")
def client(rasa_stack):
    return RestClient(rasa_stack.rasa_url)


def new_sender():
    return f"e2e-{uuid.uuid4().hex}"


@pytest.mark.parametrize("topic_id", [t for t in TOPIC_IDS if t != "fallback"])
def test_every_topic_answers_with_its_citations_and_the_safety_message(client, topic_id):
    """Each topic reached over HTTP (via its suggested-question button payload)."""
    content = get_content()
    turn = client.send(new_sender(), f"/{topic_id}")
    assert turn.topic == topic_id
    if topic_id in URGENT_TOPICS:
        assert turn.kind == "urgent" and turn.has_safety and turn.payload["citations"] == []
        return
    assert [c["id"] for c in turn.payload["citations"]] == list(content.topics[topic_id].citations) or topic_id == "sources"
    if topic_id not in TOPICS_WITHOUT_SAFETY:
        assert turn.has_safety and turn.text.endswith(turn.payload["safety_text"])


@pytest.mark.parametrize(
    "text, topic",
    [
        ("what is ivig made from", "ivig_basics"),
        ("is it safe? what are the side effects", "side_effects"),
        ("how much does ivig cost with insurance", "cost_insurance"),
        ("hi there", "greeting"),
        ("asdfgh qwerty zxcvb", "fallback"),
        ("???", "fallback"),
        ("🙃🙃", "fallback"),
    ],
)
def test_patient_wording_reaches_the_topic(client, text, topic):
    turn = client.send(new_sender(), text)
    assert turn.topic == topic, turn.text


def test_follow_ups_are_about_the_topic_just_discussed(client):
    sender = new_sender()
    assert client.send(sender, "/study_vascular").topic == "study_vascular"
    details = client.send(sender, "how many people were in it?")
    assert details.topic == "study_vascular" and "29" in details.text
    more = client.send(sender, "tell me more")
    assert more.topic == "study_vascular" and more.payload["kind"] == "more"
    source = client.send(sender, "what's the source for that?")
    assert source.topic == "sources"
    assert [c["id"] for c in source.payload["citations"]] == ["seibert2024"]


def test_going_back_to_the_first_topic_of_the_conversation(client):
    """The topics answered are read back from the tracker over HTTP: the real slot history, not a stub."""
    sender = new_sender()
    assert client.send(sender, "/mechanism_immune").topic == "mechanism_immune"
    assert client.send(sender, "/cost_insurance").topic == "cost_insurance"
    assert client.send(sender, "/side_effects").topic == "side_effects"
    assert client.send(sender, "go back to the previous one").topic == "cost_insurance"
    first = client.send(sender, "ok, back to the first one")
    assert first.topic == "mechanism_immune" and first.payload["kind"] == "answer" and first.has_safety


def test_red_flag_mid_conversation_is_answered_first(client):
    sender = new_sender()
    client.send(sender, "/cost_insurance")
    turn = client.send(sender, "ok thanks. also my chest really hurts and I can't breathe")
    assert turn.topic == "emergency"
    assert turn.text.lower().startswith("call") or "911" in turn.text.split("\n")[0]
    assert turn.has_safety


def test_crisis_message_gets_the_crisis_line(client):
    turn = client.send(new_sender(), "honestly I just want to end my life")
    assert turn.topic == "crisis" and "988" in turn.text


def test_feedback_is_recorded_without_a_reply(client):
    sender = new_sender()
    client.send(sender, "/side_effects")
    turn = client.send(sender, '/feedback{"rating": "up", "feedback_topic": "side_effects"}')
    assert turn.messages == []
