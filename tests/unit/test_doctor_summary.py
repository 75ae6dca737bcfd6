"""The "summary for my doctor" page, built from a conversation's stored events (bot/core/summary.py), its route and
the chat reply to "summary" / "print this" (bot/rasa_ext/rasa_server.py)."""

import asyncio
import base64
import datetime
import hashlib
import re
import uuid
from types import SimpleNamespace

import pytest
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, Restarted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core import summary
from bot.core.answers import ReplyBuilder
from bot.core.content_store import KNOWLEDGE_TOPICS, URGENT_TOPICS, ContentError
from bot.core.settings import Clinic
from bot.rasa_ext import rasa_server

CLINIC = Clinic(
    clinic_name="Riverside <Long COVID> Clinic",
    clinic_contact="the nurse line",
    emergency_number="999",
    crisis_line="the crisis line",
    poison_line="the poison line",
)
CHAT_DAY = datetime.datetime(2026, 11, 28, 10, 0)
CONVERSATION_ID = str(uuid.uuid4())


@pytest.fixture(scope="module")
def text():
    return summary.load_text()


@pytest.fixture(scope="module")
def replies(content):
    return ReplyBuilder(content, CLINIC)


class Chat:
    """Stored events of a conversation, as the tracker store keeps them (`Event.as_dict()`)."""

    def __init__(self):
        self.events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
        self.clock = CHAT_DAY.timestamp()

    def turn(self, said, intent, reply=None):
        self.clock += 60
        self.events.append(UserUttered(said, {"name": intent, "confidence": 0.9}, timestamp=self.clock))
        if reply is not None:
            self.events += [
                ActionExecuted("action_answer_topic", timestamp=self.clock + 1),
                BotUttered(reply.text, {"buttons": reply.buttons, "custom": reply.payload}, timestamp=self.clock + 1),
            ]
        self.events.append(ActionExecuted("action_listen", timestamp=self.clock + 1))
        return self

    def stored(self):
        return [event.as_dict() for event in self.events]

    def summary(self, content, text):
        return summary.build_summary(self.stored(), content, CLINIC, text)


def test_questions_in_order_in_the_patients_words_with_the_short_forms(content, replies, text):
    chat = (
        Chat()
        .turn("/greeting", "greeting", replies.answer("greeting"))
        .turn("what are the side effects?", "side_effects", replies.answer("side_effects"))
        .turn('/feedback{"rating": "up", "feedback_topic": "side_effects"}', "feedback")
        .turn("/infusion_process", "infusion_process", replies.answer("infusion_process"))
        .turn("and how long does the drip take", "more_detail", replies.more("infusion_process"))
        .turn("thanks!", "thanks", replies.answer("thanks"))
        .turn("how much is given?", "dosing", replies.answer("dosing"))
        .turn("tell me more about side effects", "side_effects", replies.answer("side_effects"))
    )
    built = chat.summary(content, text)
    # A tapped suggested question is shown as its title; greeting, feedback and thanks are left out; consecutive
    # questions on one topic share its answer; a topic discussed again later is listed again, in order.
    assert [(entry.topic, entry.questions) for entry in built.entries] == [
        ("side_effects", ("what are the side effects?",)),
        ("infusion_process", (content.topics["infusion_process"].question, "and how long does the drip take")),
        ("dosing", ("how much is given?",)),
        ("side_effects", ("tell me more about side effects",)),
    ]
    assert [entry.answer for entry in built.entries] == [content.topics[entry.topic].short for entry in built.entries]
    assert {entry.how for entry in built.entries} == {summary.ANSWERED}
    assert built.date == CHAT_DAY.date()
    assert built.safety == content.messages["safety"]


def test_only_the_conversation_after_its_latest_restart(content, replies, text):
    chat = Chat().turn("what are the side effects?", "side_effects", replies.answer("side_effects"))
    chat.turn("/restart", "restart")
    chat.events.append(Restarted())
    assert chat.summary(content, text).entries == ()
    chat.turn("what is ivig", "ivig_basics", replies.answer("ivig_basics"))
    assert [entry.questions for entry in chat.summary(content, text).entries] == [("what is ivig",)]


def test_sources_once_each_with_the_contents_labels_and_links(content, replies, text):
    tampered = replies.answer("side_effects")
    tampered.payload["citations"] = [
        {"id": "fda_ig_boxed_warning", "label": "PMID 36800000, complete or substantial", "url": "https://evil.example"},
        {"id": "smith1999", "label": "Not a reference", "url": "https://example.org"},
    ]
    chat = (
        Chat()
        .turn("side effects?", "side_effects", tampered)
        .turn("what is the infusion like", "infusion_process", replies.answer("infusion_process"))
        .turn("link please", "sources", replies.sources("infusion_process"))
    )
    built = chat.summary(content, text)
    expected = ["fda_ig_boxed_warning", "trial_recover_autonomic"]
    assert [source["id"] for source in built.sources] == expected
    assert list(built.sources) == content.citations(expected)
    page = summary.render_page(built, text)
    assert "PMID" not in page and "complete or substantial" not in page and "evil.example" not in page
    for source in built.sources:
        assert page.count(f'href="{source["url"]}"') == 1


def test_urgent_turns_are_listed_as_urgent_with_their_lines(content, replies, text):
    chat = (
        Chat()
        .turn("what are the side effects?", "side_effects", replies.answer("side_effects"))
        .turn("my chest hurts and I can't breathe", "emergency", replies.urgent("emergency"))
        .turn("ok thanks", "thanks", replies.carry_over("emergency"))
    )
    built = chat.summary(content, text)
    urgent = built.entries[-1]
    assert (urgent.topic, urgent.how) == ("emergency", summary.URGENT)
    assert urgent.questions == ("my chest hurts and I can't breathe", "ok thanks")
    assert urgent.answer == replies.urgent("emergency").text and "Call 999 now" in urgent.answer
    assert text.group_questions["urgent_help"][0] in built.doctor_questions
    page = summary.render_page(built, text)
    item = re.search(r'<li data-topic="emergency">.*?</li>(?=<li|</ol>)', page).group(0)
    assert 'class="a urgent"' in item and text.page["urgent_answer"] in item
    assert "<li>If you are at the infusion centre, tell the nurse right now.</li>" in item  # its "- " lines as a list


def test_unanswered_questions_are_listed_as_such(content, replies, text):
    chat = (
        Chat()
        .turn("what's the weather", "out_of_scope", replies.answer("out_of_scope"))
        .turn("¿qué es la IVIG?", "nlu_fallback", replies.language_note("es"))
    )
    built = chat.summary(content, text)
    assert [(entry.topic, entry.how) for entry in built.entries] == [
        ("out_of_scope", summary.NOT_ANSWERED),
        ("fallback", summary.NOT_ANSWERED),
    ]
    assert {entry.answer for entry in built.entries} == {text.page["not_answered"]}


def test_html_typed_by_the_patient_is_shown_as_text(content, replies, text):
    typed = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    chat = Chat().turn(typed, "nlu_fallback", replies.answer("fallback"))
    page = summary.render_page(chat.summary(content, text), text)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;" in page
    assert "<img" not in page and page.count("<script>") == 1  # only the page's own print script
    # The clinic's name is escaped too.
    assert "Riverside &lt;Long COVID&gt; Clinic" in page


@pytest.mark.parametrize(
    "topics, groups",
    [
        (["side_effects"], ["safety_and_infusions"] * 3),
        (
            ["side_effects", "infusion_day", "symptom_pots", "cost_insurance"],
            ["safety_and_infusions", "nerves_and_heart", "access_and_cost", "safety_and_infusions", "nerves_and_heart"],
        ),
        (["emergency"], ["urgent_help", "urgent_help", "general"]),
        ([], ["general"] * 3),
        (["fallback"], ["general"] * 3),
    ],
)
def test_doctor_questions_are_picked_by_the_topics_discussed(topics, groups, text):
    picked = summary.pick_doctor_questions(topics, text)
    taken = {group: 0 for group in set(groups)}
    expected = []
    for group in groups:
        expected.append((text.general_questions if group == "general" else text.group_questions[group])[taken[group]])
        taken[group] += 1
    assert picked == tuple(expected)


@pytest.mark.parametrize("topic", KNOWLEDGE_TOPICS + URGENT_TOPICS)
def test_every_topic_gets_three_to_five_questions_of_its_own_group_first(topic, text):
    picked = summary.pick_doctor_questions([topic], text)
    assert summary.MIN_DOCTOR_QUESTIONS <= len(picked) <= summary.MAX_DOCTOR_QUESTIONS
    assert picked[0] == text.group_questions[text.group_of[topic]][0]
    assert len(set(picked)) == len(picked)


def test_page_shows_the_clinic_the_date_the_safety_message_and_no_request_for_it(content, replies, text):
    chat = Chat().turn("what are the side effects?", "side_effects", replies.answer("side_effects"))
    built = chat.summary(content, text)
    page = summary.render_page(built, text)
    assert "<h1>Summary for my doctor</h1>" in page and '<html lang="en">' in page
    assert "Riverside &lt;Long COVID&gt; Clinic" in page and "28 November 2026" in page
    assert summary._e(content.messages["safety"]) in page
    assert all(summary._e(question) in page for question in built.doctor_questions)
    assert summary._e(content.topics["side_effects"].short) in page
    empty = summary.render_page(Chat().summary(content, text), text)
    assert text.page["nothing_asked"] in empty and "<ol" not in empty


def csp_sources(header, directive):
    return re.search(rf"{directive} ([^;]+)", header).group(1).split()


def test_the_page_runs_only_its_own_style_and_script(content, replies, text):
    page = summary.render_page(Chat().turn("hi there", "side_effects", replies.answer("side_effects")).summary(content, text), text)
    headers = summary.RESPONSE_HEADERS
    policy = headers["Content-Security-Policy"]
    assert csp_sources(policy, "default-src") == ["'none'"]
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        inline = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
        assert len(inline) == 1 and csp_sources(policy, directive) == [f"'sha256-{digest}'"]
    assert " style=" not in page and " on" not in re.sub(r">[^<]*<", "><", page)  # no inline style or handler attributes
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    "value, valid",
    [
        (str(uuid.uuid4()), True),
        (uuid.uuid4().hex, True),
        ("patient-1", False),
        (str(uuid.uuid4()).upper(), False),
        (str(uuid.uuid1()), False),  # not random
        (uuid.uuid4().hex + "0", False),
        ("../" + uuid.uuid4().hex, False),
        (uuid.uuid4().hex + "\n", False),
        ("", False),
        (None, False),
    ],
)
def test_only_ids_of_the_widgets_random_form_are_conversation_ids(value, valid):
    assert summary.is_conversation_id(value) is valid


@pytest.mark.parametrize(
    "message, asks",
    [
        ("summary", True),
        ("Print this.", True),
        ("  Summary   for my DOCTOR! ", True),
        ("summary of the side effects", False),
        ("print this, my chest hurts", False),
        ("summaries", False),
        ("", False),
        (None, False),
    ],
)
def test_only_whole_requests_for_the_summary_are_recognised(message, asks, text):
    assert summary.is_summary_request(message, text) is asks


def test_the_chat_reply_keeps_the_answer_contract_and_gives_the_path(content, text):
    reply = summary.summary_reply(CONVERSATION_ID, content, CLINIC, text)
    payload = reply.payload
    assert payload["topic"] == summary.SUMMARY_TOPIC and payload["kind"] == summary.SUMMARY_KIND
    assert payload["safety"] is True and reply.text.endswith(payload["safety_text"])
    assert "medical supervision" in payload["safety_text"] and payload["citations"] == []
    assert payload["summary_path"] == f"/summary/{CONVERSATION_ID}"


# ---------------------------------------------------------------- content checks


def edited(tmp_path, change):
    raw = yaml.safe_load(summary.SUMMARY_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "doctor_summary.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda d: d["doctor_questions"]["groups"]["safety_and_infusions"]["questions"].append("Should I take 2 g/kg?"), "no dose"),
        (lambda d: d["doctor_questions"]["general"].append("Do the 2 trials apply to me?"), "figure"),
        (lambda d: d["doctor_questions"]["groups"]["research"]["topics"].remove("sources"), "in no group"),
        (lambda d: d["doctor_questions"]["groups"]["research"]["topics"].append("side_effects"), "another group"),
        (lambda d: d["doctor_questions"]["groups"]["research"]["topics"].append("made_up_topic"), "not a topic id"),
        (lambda d: d["doctor_questions"].update(general=["Is it for me?"]), "general doctor questions"),
        (lambda d: d["page"].pop("sources"), "expected the keys"),
        (lambda d: d.update(reply="Call {doctor_phone}."), "placeholders"),
    ],
)
def test_broken_summary_content_fails_loudly(tmp_path, change, error):
    with pytest.raises(ContentError, match=error):
        summary.load_text(edited(tmp_path, change))


# ---------------------------------------------------------------- the server


def request_for(store):
    return SimpleNamespace(app=SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=store))))


def test_the_route_serves_the_stored_conversation_and_one_404_for_anything_else(domain, content, replies):
    store = InMemoryTrackerStore(domain)
    events = Chat().turn("is <b>IVIG</b> safe?", "side_effects", replies.answer("side_effects")).events
    for sender in (CONVERSATION_ID, "patient-1"):
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))

    found = asyncio.run(rasa_server.doctor_summary(request_for(store), CONVERSATION_ID))
    assert found.status == 200 and found.content_type.startswith("text/html")
    assert "is &lt;b&gt;IVIG&lt;/b&gt; safe?" in found.body.decode()
    # Unknown, malformed, or stored under an id the widget never makes: the same page, nothing looked up.
    answers = [
        asyncio.run(rasa_server.doctor_summary(request_for(store), conversation_id))
        for conversation_id in (str(uuid.uuid4()), "patient-1", CONVERSATION_ID.upper())
    ]
    assert {(answer.status, answer.body) for answer in answers} == {(404, summary.not_found_page().encode())}
    for answer in answers + [found]:
        assert {key: answer.headers[key] for key in summary.RESPONSE_HEADERS} == summary.RESPONSE_HEADERS
    assert (
        asyncio.run(rasa_server.doctor_summary(SimpleNamespace(app=SimpleNamespace(ctx=SimpleNamespace())), CONVERSATION_ID)).status == 404
    )  # model not loaded yet


def test_a_request_for_the_summary_is_answered_before_the_nlu_and_not_stored(domain):
    handled = []

    async def handle_message(agent, message):
        handled.append(message.text)

    handle = rasa_server.answering_requests_before_nlu(handle_message)
    agent = SimpleNamespace(tracker_store=InMemoryTrackerStore(domain))
    output = CollectingOutputChannel()
    asyncio.run(handle(agent, UserMessage("Print this!", output, sender_id=CONVERSATION_ID)))
    assert handled == []
    payload = output.messages[-1]["custom"]
    assert payload["kind"] == summary.SUMMARY_KIND and payload["summary_path"] == f"/summary/{CONVERSATION_ID}"
    assert "".join(m.get("text") or "" for m in output.messages).endswith(payload["safety_text"])
    # Anything longer goes on to the triage and the classifier, and so does a conversation without a page.
    asyncio.run(handle(agent, UserMessage("print this, my chest hurts", CollectingOutputChannel(), sender_id=CONVERSATION_ID)))
    asyncio.run(handle(agent, UserMessage("summary", CollectingOutputChannel(), sender_id="patient-1")))
    assert handled == ["print this, my chest hurts", "summary"]


def test_after_an_urgent_reply_a_request_for_the_summary_gets_the_reminder_first(domain):
    handled = []

    async def handle_message(agent, message):
        handled.append(message.text)

    store = InMemoryTrackerStore(domain)
    urgent = [SlotSet("urgent_level", "emergency"), SlotSet(rasa_server.URGENT_TURNS_LEFT_SLOT, 2)]
    asyncio.run(store.save(DialogueStateTracker.from_events(CONVERSATION_ID, urgent, slots=domain.slots)))
    handle = rasa_server.answering_requests_before_nlu(handle_message)
    asyncio.run(handle(SimpleNamespace(tracker_store=store), UserMessage("summary", CollectingOutputChannel(), sender_id=CONVERSATION_ID)))
    assert handled == ["summary"]  # the bot answers it, with the urgent reply's reminder first


def test_the_urgent_slot_is_the_one_the_actions_count_down(domain):
    from actions.actions import SLOT_URGENT_TURNS_LEFT

    assert rasa_server.URGENT_TURNS_LEFT_SLOT == SLOT_URGENT_TURNS_LEFT
    assert SLOT_URGENT_TURNS_LEFT in [slot.name for slot in domain.slots]


def test_install_wraps_the_agent_once(monkeypatch):
    from rasa.core.agent import Agent

    original = getattr(Agent.handle_message, "__wrapped__", Agent.handle_message)
    monkeypatch.setattr(Agent, "handle_message", original)
    rasa_server.install()
    rasa_server.install()
    assert Agent.handle_message.answers_requests_before_nlu and Agent.handle_message.__wrapped__ is original
