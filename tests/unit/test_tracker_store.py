"""The windowed SQL tracker store: same state, same dialogue states and same stored events as the
whole-history stock store, with a bounded window (bot/rasa_ext/tracker_store.py)."""

import asyncio
import json
import random
import sqlite3

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.rasa_ext.tracker_store import WindowedSQLTrackerStore, WindowedTracker

MIN_TURNS = 3
INTENTS = ["ivig_basics", "side_effects", "dosing", "more_detail", "study_details", "sources", "greeting"]


def user(intent, text=None):
    return UserUttered(
        text or intent.replace("_", " "),
        intent={"name": intent, "confidence": 0.9},
        parse_data={"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text or intent},
    )


def session_start():
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def turn(rng, intent=None):
    """One patient message and the bot's answer, as the processor logs them."""
    intent = intent or rng.choice(INTENTS)
    hidden = rng.random() < 0.4
    action = "action_answer_follow_up" if intent in ("more_detail", "study_details") else "action_answer_topic"
    events = [
        user(intent),
        ActionExecuted(action, policy="RulePolicy", confidence=1.0, hide_rule_turn=hidden),
        BotUttered(f"answer to {intent}", data={"custom": {"topic": intent}}),
    ]
    if rng.random() < 0.5:
        events.append(SlotSet("current_topic", rng.choice(["dosing", "side_effects", "study_vascular"])))
    events.append(ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0, hide_rule_turn=hidden))
    return events


def conversation(seed, turns=40, specials=True):
    """Events of a conversation with undos, a form, a slot reset, a restart and a new session."""
    rng = random.Random(seed)
    events = session_start()
    for index in range(turns):
        events += turn(rng)
        if specials and index == 7:
            events += [
                user("side_effects"),
                ActionExecuted("action_answer_topic"),
                UserUtteranceReverted(),
                ActionExecuted("action_listen"),
            ]
        if specials and index == 11:
            events += [
                user("dosing"),
                ActionExecuted("some_form"),
                ActiveLoop("some_form"),
                ActionExecuted("action_listen"),
                user("dosing"),
                ActionExecuted("some_form"),
                ActionExecuted("action_listen"),
                user("dosing"),
                ActionExecuted("some_form"),
                ActiveLoop(None),
                ActionExecuted("action_listen"),
            ]
        if specials and index == 15:
            events += [ActionReverted(), ActionExecuted("action_listen")]
        if specials and index == 18:
            events += [AllSlotsReset()]
        if specials and index == 24:
            events += [Restarted(), ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
        if specials and index == 30:
            events += session_start()
    return events


def state(tracker):
    return {key: value for key, value in tracker.current_state(EventVerbosity.NONE).items() if key not in ("events", "latest_event_time")}


def assert_same_conversation(windowed, full, domain):
    assert state(windowed) == state(full)
    assert state(windowed.copy()) == state(full.copy())
    for options in ({}, {"ignore_rule_only_turns": True}):
        window_states = windowed.past_states(domain, **options)
        full_states = full.past_states(domain, **options)
        # the policies look at the last few states: those are the same
        keep = min(len(window_states), MIN_TURNS)
        assert window_states[-keep:] == full_states[-keep:]
        assert keep >= min(MIN_TURNS, len(full_states))


@pytest.mark.parametrize("seed", range(6))
def test_a_trimmed_window_keeps_the_state_and_latest_dialogue_states(domain, seed):
    events = conversation(seed)
    full = DialogueStateTracker("patient", domain.slots)
    windowed = WindowedTracker("patient", domain.slots)
    for index, event in enumerate(events):
        full.update(event)
        windowed.update(event)
        if isinstance(event, ActionExecuted) and event.action_name == "action_listen":
            windowed.trim(MIN_TURNS, domain)
            assert_same_conversation(windowed, full, domain)
    assert len(windowed.events) < len(full.events) / 3


def test_the_window_is_bounded_and_not_cut_inside_a_form(domain):
    rng = random.Random(1)
    windowed = WindowedTracker("patient", domain.slots)
    for event in session_start():
        windowed.update(event)
    for _ in range(200):
        for event in turn(rng):
            windowed.update(event)
        windowed.trim(MIN_TURNS, domain)
    users = sum(isinstance(e, UserUttered) for e in windowed.events)
    assert MIN_TURNS <= users <= 2 * MIN_TURNS + 1

    windowed.update(ActiveLoop("some_form"))
    for _ in range(3 * MIN_TURNS):
        for event in turn(rng):
            windowed.update(event)
        windowed.trim(MIN_TURNS, domain)
    assert any(isinstance(e, ActiveLoop) for e in windowed.events)


def store_on(path, domain, **options):
    return WindowedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path), min_turns=MIN_TURNS, **options)


def stored_events(path, sender):
    with sqlite3.connect(path) as connection:
        return [json.loads(data) for (data,) in connection.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,))]


async def talk(store, sender, new_events):
    """What the processor does for one message: fetch (or create), update, save."""
    tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
    for event in new_events:
        tracker.update(event)
    await store.save(tracker)
    return tracker


def test_every_event_is_stored_and_a_restarted_server_continues_the_conversation(domain, tmp_path):
    db = tmp_path / "conversations.db"
    events = conversation(3, turns=30, specials=False)
    chunks = [events[:3]] + [events[i : i + 5] for i in range(3, len(events), 5)]

    async def scenario():
        store = store_on(db, domain)
        full = DialogueStateTracker("patient", domain.slots)
        for chunk in chunks:
            tracker = await talk(store, "patient", chunk)
            for event in chunk:
                full.update(event)
            assert_same_conversation(tracker, full, domain)
        assert await store.retrieve("patient") is tracker  # kept in memory between messages
        await store.save(tracker)
        assert len(tracker.events) < len(full.events) / 2
        # what the stock store reads back is the whole conversation, event for event
        assert [e.as_dict() for e in full.events] == stored_events(db, "patient")
        stock = await SQLTrackerStore(domain=domain, dialect="sqlite", db=str(db)).retrieve("patient")
        assert state(stock) == state(full)
        # a new server process rebuilds the same conversation from the database
        reloaded = await store_on(db, domain).retrieve("patient")
        assert_same_conversation(reloaded, full, domain)

    asyncio.run(scenario())


def test_a_conversation_written_by_another_server_is_read_again(domain, tmp_path):
    db = tmp_path / "conversations.db"
    rng = random.Random(5)

    async def scenario():
        first, second = store_on(db, domain), store_on(db, domain)
        said_first, said_second = session_start() + turn(rng, "dosing"), turn(rng, "side_effects")
        await talk(first, "patient", said_first)
        await talk(second, "patient", said_second)
        tracker = await first.retrieve("patient")
        assert tracker.latest_message.intent["name"] == "side_effects"
        assert stored_events(db, "patient") == [e.as_dict() for e in said_first + said_second]

    asyncio.run(scenario())


def test_a_failed_message_leaves_nothing_half_done_in_memory(domain, tmp_path):
    db = tmp_path / "conversations.db"
    rng = random.Random(7)

    async def scenario():
        store = store_on(db, domain)
        await talk(store, "patient", session_start() + turn(rng, "dosing"))
        tracker = await store.retrieve("patient")
        tracker.update(user("side_effects"))  # handling fails before the tracker is saved
        again = await store.retrieve("patient")
        assert again is not tracker
        assert again.latest_message.intent["name"] == "dosing"

    asyncio.run(scenario())


def test_plain_trackers_are_saved_like_the_stock_store(domain, tmp_path):
    db = tmp_path / "conversations.db"
    rng = random.Random(9)
    events = session_start() + turn(rng, "dosing") + turn(rng, "sources")

    async def scenario():
        store = store_on(db, domain)
        await store.save(DialogueStateTracker.from_events("patient", events[:6], domain.slots))
        plain = await SQLTrackerStore(domain=domain, dialect="sqlite", db=str(db)).retrieve("patient")
        for event in events[6:]:
            plain.update(event)
        await store.save(plain)
        assert stored_events(db, "patient") == [e.as_dict() for e in events]
        assert await store.exists("patient") and not await store.exists("nobody")
        assert state(await store.retrieve("patient")) == state(DialogueStateTracker.from_events("patient", events, domain.slots))

    asyncio.run(scenario())
