"""The conversation store (bot/rasa_ext/conversations.py) on a real SQLite tracker store, seeded as Rasa writes it.

The seed (a clinic's few weeks of conversations) is saved through the project's own tracker store, turn by
turn as the processor saves them; the clinic report's tests and the PostgreSQL tests use it too.
"""

import asyncio
import collections
import dataclasses
import datetime
import json
import pathlib
import random
from typing import Counter, Dict, List, Sequence, Tuple

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.core.settings import PROJECT_DIR
from bot.rasa_ext import conversations
from bot.rasa_ext.conversations import ConversationStore, tracker_store_url
from bot.rasa_ext.tracker_store import WindowedSQLTrackerStore

DAY = 86400
UTC = datetime.timezone.utc
# The seed's first Monday; week index 2 has no conversation at all.
FIRST_MONDAY = datetime.datetime(2026, 10, 5, tzinfo=UTC).timestamp()
WEEKS_WITH_CONVERSATIONS = (0, 1, 3, 4)
TOPICS = ("side_effects", "dosing", "infusion_process", "cost_insurance", "study_vascular", "symptom_fatigue")
LEVELS = ("emergency", "poisoning", "crisis", "distress")
URGENT_MESSAGES = {
    "emergency": "my chest hurts and I can't breathe",
    "poisoning": "my son swallowed a bottle of my pills",
    "crisis": "I want to end my life",
    "distress": "I feel so hopeless about all this",
}
# What patients typed that the bot could not answer, with what must never reach a report.
UNANSWERED = (
    ("my name is jane and my number is 555-201-7788", ("jane", "555-201-7788", "7788")),
    ("Can you e-mail me at sam.taylor@example.org about the trial?", ("sam.taylor", "example.org")),
    ("Dr. Okafor said to come back on 12/03/2026, is that too late?", ("Okafor", "12/03/2026")),
    ("I'm Maria, born 14 March 1961, what about the vaccine for shingles?", ("Maria", "14 March", "1961")),
    ("what is the weather like in Springfield today", ("Springfield",)),
    ("my hospital number is 00412345 can you book me in", ("00412345",)),
    ("call me back on +1 (415) 555 0199 please", ("415", "0199")),
    ("can I drink coffee before the drip", ()),
)
# Kinds of turns; the first five are messages from the patient.
PATIENT_KINDS = ("topic", "tap", "urgent", "reminder", "unanswered")


@dataclasses.dataclass(frozen=True)
class Turn:
    kind: str  # one of PATIENT_KINDS, or "opening" (the widget's /greeting), "feedback", "restart"
    at: float
    text: str
    topic: str = ""  # the reply's topic (the level for urgent turns), or the rated topic
    rating: str = ""


@dataclasses.dataclass(frozen=True)
class SeededConversation:
    sender_id: str
    turns: Tuple[Turn, ...]

    def turn_events(self) -> List[List[Event]]:
        """The events of each turn, as Rasa's processor logs them (the widget's opening starts a session)."""
        return [
            (
                [
                    ActionExecuted("action_session_start", timestamp=t.at - 1),
                    SessionStarted(timestamp=t.at - 1),
                    ActionExecuted("action_listen", timestamp=t.at - 1),
                ]
                if index == 0 or t.kind == "opening"
                else []
            )
            + events_of(t)
            for index, t in enumerate(self.turns)
        ]

    def events(self) -> List[Event]:
        return [event for turn in self.turn_events() for event in turn]


def user(text: str, intent: str, at: float, entities: Sequence[dict] = ()) -> UserUttered:
    parse_data = {"intent": {"name": intent, "confidence": 1.0}, "entities": list(entities), "text": text}
    return UserUttered(
        text, intent=parse_data["intent"], entities=list(entities), parse_data=parse_data, input_channel="rest", timestamp=at
    )


def reply(topic: str, kind: str, at: float) -> BotUttered:
    """An answer as the action server sends it: text, buttons and the custom payload (bot/core/answers.py)."""
    payload = {"topic": topic, "kind": kind, "citations": [], "safety": True, "safety_text": "...", "follow_ups": []}
    data = {"elements": None, "quick_replies": None, "buttons": [], "attachment": None, "image": None, "custom": payload}
    return BotUttered(f"reply about {topic}", data=data, timestamp=at)


def events_of(turn: Turn) -> List[Event]:
    t = turn.at
    answer = "action_answer_follow_up" if turn.kind == "reminder" else "action_answer_topic"
    if turn.kind == "feedback":
        entities = [{"entity": "rating", "value": turn.rating}, {"entity": "feedback_topic", "value": turn.topic}]
        return [
            user(turn.text, "feedback", t, entities),
            ActionExecuted("action_record_feedback", timestamp=t + 0.1),
            ActionExecuted("action_listen", timestamp=t + 0.2),
        ]
    if turn.kind == "restart":
        return [
            user(turn.text, "restart", t),
            ActionExecuted("action_restart", timestamp=t + 0.1),
            Restarted(timestamp=t + 0.1),
            ActionExecuted("action_session_start", timestamp=t + 0.2),
            SessionStarted(timestamp=t + 0.2),
            ActionExecuted("action_listen", timestamp=t + 0.3),
        ]
    intent = {"opening": "greeting", "urgent": turn.topic, "reminder": "thanks", "unanswered": "nlu_fallback"}.get(turn.kind, turn.topic)
    kind = {"urgent": "urgent", "reminder": "reminder"}.get(turn.kind, "answer")
    events = [user(turn.text, intent, t), ActionExecuted(answer, timestamp=t + 0.1), reply(turn.topic, kind, t + 0.2)]
    if turn.kind == "urgent":
        events.append(SlotSet("urgent_level", turn.topic, timestamp=t + 0.2))
    return events + [ActionExecuted("action_listen", timestamp=t + 0.3)]


def clinic_seed(seed: int = 15) -> List[SeededConversation]:
    """A few weeks of a clinic: topics typed and tapped, thumbs, urgent replies and their reminders,
    unanswered questions with personal details, restarts, a chat opened without a message, a conversation
    that goes on into the next week, a patient who comes back a month later, and a week without any conversation."""
    rng = random.Random(seed)
    unanswered = collections.deque(UNANSWERED)
    seeded = []
    for week in WEEKS_WITH_CONVERSATIONS:
        for number in range(rng.randint(3, 5)):
            at = FIRST_MONDAY + week * 7 * DAY + rng.uniform(0, 6.5 * DAY)
            turns = [Turn("opening", at, "/greeting", "greeting")]
            for _ in range(rng.randint(1, 4)):
                at += rng.uniform(120, 900)  # after the previous turn's thumbs, reminder or restart
                kind = rng.choice(("topic", "topic", "tap", "urgent", "unanswered"))
                if kind == "unanswered" and unanswered:
                    text, _ = unanswered.popleft()
                    turns.append(Turn(kind, at, text, rng.choice(("fallback", "out_of_scope"))))
                elif kind == "urgent":
                    level = rng.choice(LEVELS)
                    turns.append(Turn(kind, at, URGENT_MESSAGES[level], level))
                    turns.append(Turn("reminder", at + 30, "ok thanks", level))
                else:
                    topic, tapped = rng.choice(TOPICS), kind == "tap"
                    turns.append(Turn("tap" if tapped else "topic", at, f"/{topic}" if tapped else f"typed question about {topic}", topic))
                    if rng.random() < 0.5:
                        rating = rng.choice(("up", "up", "down"))
                        text = "/feedback" + json.dumps({"rating": rating, "feedback_topic": topic})
                        turns.append(Turn("feedback", at + 20, text, topic, rating))
            if number == 1:
                turns.append(Turn("restart", at + 60, "/restart"))
                turns.append(Turn("topic", at + 90, "and the dosing?", "dosing"))
            seeded.append(SeededConversation(f"patient-{week}-{number}", tuple(turns)))
    sunday_night = FIRST_MONDAY + 7 * DAY - 600
    seeded.append(
        SeededConversation(
            "patient-across-weeks",
            (
                Turn("opening", sunday_night, "/greeting", "greeting"),
                Turn("topic", sunday_night + 60, "what are the side effects", "side_effects"),
                Turn("topic", sunday_night + 1200, "how long does it take", "infusion_process"),
            ),
        )
    )
    back_later = FIRST_MONDAY + 4 * 7 * DAY + 6.9 * DAY  # the latest conversation event of the seed
    seeded.append(
        SeededConversation(
            "patient-coming-back",
            (
                Turn("opening", FIRST_MONDAY + DAY, "/greeting", "greeting"),
                Turn("topic", FIRST_MONDAY + DAY + 60, "typed question about dosing", "dosing"),
                Turn("opening", back_later, "/greeting", "greeting"),
                Turn("tap", back_later + 60, "/side_effects", "side_effects"),
            ),
        )
    )
    seeded.append(SeededConversation("patient-opened-only", (Turn("opening", FIRST_MONDAY + 2 * DAY, "/greeting", "greeting"),)))
    # every unanswered text is in the seed at least once
    for text, _ in unanswered:
        seeded.append(
            SeededConversation(
                f"patient-unanswered-{len(seeded)}",
                (Turn("unanswered", FIRST_MONDAY + 3 * 7 * DAY + len(seeded) * 3600, text, "fallback"),),
            )
        )
    return seeded


def save(store: WindowedSQLTrackerStore, seeded: Sequence[SeededConversation]) -> None:
    """What the processor does for each message: fetch or create the tracker, add the turn's events, save."""

    async def save_all():
        for conversation in seeded:
            for events in conversation.turn_events():
                tracker = await store.get_or_create_tracker(conversation.sender_id, append_action_listen=False)
                for event in events:
                    tracker.update(event)
                await store.save(tracker)

    asyncio.run(save_all())


def seeded_sqlite(path: pathlib.Path, domain, seeded: Sequence[SeededConversation]) -> pathlib.Path:
    save(WindowedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path)), seeded)
    return path


def expected_feedback(seeded: Sequence[SeededConversation]) -> Counter[Tuple[str, str]]:
    return collections.Counter((t.topic, t.rating) for c in seeded for t in c.turns if t.kind == "feedback")


@pytest.fixture(scope="module")
def seeded():
    return clinic_seed()


@pytest.fixture(scope="module")
def store(seeded, domain, tmp_path_factory):
    return ConversationStore.sqlite(seeded_sqlite(tmp_path_factory.mktemp("store") / "conversations.db", domain, seeded))


def test_events_of_a_conversation_are_what_rasa_stored_in_order(store, seeded):
    for conversation in seeded:
        assert store.events(conversation.sender_id) == [event.as_dict() for event in conversation.events()]
    assert store.events("nobody") == []


def test_conversations_have_their_first_and_latest_times(store, seeded):
    expected = sorted((min(e.timestamp for e in c.events()), c.sender_id, max(e.timestamp for e in c.events())) for c in seeded)
    assert [(c.first_timestamp, c.sender_id, c.last_timestamp) for c in store.conversations()] == expected


def test_every_event_of_some_types_comes_conversation_by_conversation(store, seeded):
    by_sender: Dict[str, List[dict]] = collections.defaultdict(list)
    for sender_id, event in store.every_event(("user", "bot")):
        by_sender[sender_id].append(event)
    assert by_sender == {c.sender_id: [e.as_dict() for e in c.events() if e.type_name in ("user", "bot")] for c in seeded}


def test_feedback_counts_are_the_thumbs_the_widget_recorded(store, seeded):
    assert store.feedback_counts() == expected_feedback(seeded)
    assert sum(store.feedback_counts().values()) > 0


def test_deleting_a_conversation_removes_its_events_only(seeded, domain, tmp_path):
    store = ConversationStore.sqlite(seeded_sqlite(tmp_path / "conversations.db", domain, seeded[:4]))
    forgotten, kept = seeded[0], seeded[1:4]
    assert store.delete_conversation(forgotten.sender_id) == len(forgotten.events())
    assert store.events(forgotten.sender_id) == []
    assert {c.sender_id for c in store.conversations()} == {c.sender_id for c in kept}
    assert all(store.events(c.sender_id) == [e.as_dict() for e in c.events()] for c in kept)
    assert store.delete_conversation(forgotten.sender_id) == 0


def test_retention_deletes_conversations_whose_latest_event_is_older(seeded, domain, tmp_path):
    store = ConversationStore.sqlite(seeded_sqlite(tmp_path / "conversations.db", domain, seeded))
    now = max(e.timestamp for c in seeded for e in c.events()) + 10 * DAY
    old = {c.sender_id for c in seeded if max(e.timestamp for e in c.events()) < now - 30 * DAY}
    assert 0 < len(old) < len(seeded) and "patient-coming-back" not in old, "its first visit is old, its latest is not"
    assert store.delete_older_than(30, now=now) == len(old)
    assert {c.sender_id for c in store.conversations()} == {c.sender_id for c in seeded} - old
    assert store.delete_older_than(30, now=now) == 0


def test_asking_an_absent_sqlite_store_creates_nothing(tmp_path):
    path = tmp_path / "none.db"
    assert not ConversationStore.sqlite(path).exists()
    assert not path.exists()


def test_the_commands_read_the_configured_store(store, seeded, monkeypatch, capsys):
    monkeypatch.setenv("IVIG_TRACKER_DB", store.engine.url.database)
    monkeypatch.delenv("IVIG_ENDPOINTS", raising=False)
    assert conversations.main(["feedback"]) == 0
    printed = {line.split()[0]: (int(line.split()[1]), int(line.split()[2])) for line in capsys.readouterr().out.splitlines()[1:]}
    counts = expected_feedback(seeded)
    assert printed == {topic: (counts[(topic, "up")], counts[(topic, "down")]) for topic, _ in counts}


def test_the_url_is_the_tracker_store_of_the_endpoints_file(monkeypatch, tmp_path):
    monkeypatch.delenv("IVIG_ENDPOINTS", raising=False)
    monkeypatch.setenv("IVIG_TRACKER_DB", "runtime/other.db")
    assert tracker_store_url().database == str(PROJECT_DIR / "runtime" / "other.db")
    monkeypatch.delenv("IVIG_TRACKER_DB")
    assert tracker_store_url().database == str(PROJECT_DIR / "runtime" / "conversations.db")

    monkeypatch.setenv("IVIG_ENDPOINTS", "docs/endpoints.scaled.yml")
    postgres = {
        "IVIG_POSTGRES_HOST": "db.internal",
        "IVIG_POSTGRES_PORT": "6543",
        "IVIG_POSTGRES_DB": "ivig",
        "IVIG_POSTGRES_USER": "bot",
        "IVIG_POSTGRES_PASSWORD": "s3cret",
    }
    for name, value in postgres.items():
        monkeypatch.setenv(name, value)
    url = tracker_store_url()
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql",
        "db.internal",
        6543,
        "ivig",
        "bot",
        "s3cret",
    )
    monkeypatch.delenv("IVIG_POSTGRES_HOST")
    with pytest.raises(ValueError, match="IVIG_POSTGRES_HOST"):
        tracker_store_url()

    endpoints = tmp_path / "endpoints.yml"
    monkeypatch.setenv("IVIG_ENDPOINTS", str(endpoints))
    # Rasa's SQL store also takes host:port, or a whole database URL, as `url`
    endpoints.write_text("tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: db.internal:7000\n  db: ivig\n")
    assert (tracker_store_url().host, tracker_store_url().port) == ("db.internal", 7000)
    endpoints.write_text("tracker_store:\n  type: SQL\n  url: postgresql://bot@db.internal/ivig?sslmode=require\n")
    assert str(tracker_store_url()) == "postgresql://bot@db.internal/ivig?sslmode=require"
    endpoints.write_text("tracker_store:\n  type: redis\n  url: localhost\n")
    with pytest.raises(ValueError, match="not an SQL store"):
        tracker_store_url()


def test_the_store_reads_rasas_table_not_a_copy_of_it(store):
    """The columns the store names exist in the table Rasa created."""
    columns = {column["name"] for column in sa.inspect(store.engine).get_columns("events")}
    assert {column.name for column in conversations.EVENTS.columns} <= columns
