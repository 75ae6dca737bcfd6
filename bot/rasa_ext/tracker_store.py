"""A SQL tracker store whose cost per message does not grow with the length of the conversation.

Stock Rasa (SQLTrackerStore) does, at every message of a conversation of N events:
- read all N events of the session from the database, parse their JSON and rebuild every Event
  object (`resolve_by_type` walks all Event subclasses for each event), then replay them;
- copy the tracker for each action by replaying all N events again (`DialogueStateTracker.copy`);
- let every policy turn the whole history into states (`tracker.past_states`, one replay of all N
  events per call, several calls per prediction, two predictions per message), although the
  policies only look at the last few turns (MemoizationPolicy `max_history`, rule lengths);
- send all N events to the action server as JSON (and the action server parses them);
- count the N stored events again to know which ones are new (`_additional_events`).

`WindowedSQLTrackerStore` keeps the same table and writes every event to it (nothing is lost: the
conversation survives a restart; `bot.rasa_ext.conversations`, the HTTP API and `retrieve_full_tracker` see
every event), but hands the processor a `WindowedTracker`: the latest turns of the conversation
(at least `min_turns` user messages) together with the exact state the whole conversation reached
before them (slots, latest message and action, active loop, ...). Trackers of recent conversations
stay in memory between messages (an LRU cache of `cache_size` conversations, checked against the
database's latest event id, so another Rasa process writing the same conversation is noticed).
So each message costs the same at turn 50 as at turn 5.

Behaviour is the same as with the whole history, because:
- the tracker's state is the state of the whole conversation (replay starts from the state the
  conversation had at the start of the window, not from an empty one);
- `past_states` of the window are the last states of the whole history, and the policies only look
  at the last few: the window keeps at least `min_turns` user turns and `min_turns` actions the ML
  policies see (`hide_rule_turn` false), which must be more than the largest `max_history` and the
  longest rule (the project uses max_history 3 and one-turn rules; the default is 5; the Rasa server
  checks it at start, bot/rasa_ext/startup_checks.py);
- the window only starts at an `action_listen` with no active loop (forms are never cut), and not
  just before an undo (`UserUtteranceReverted`, `ActionReverted`);
- events the processor passes that are not from this store (a tracker created by the HTTP API) are
  saved the stock way.

Configure it in endpoints.yml (same keys as the stock SQL store, plus the two options):

    tracker_store:
      type: bot.rasa_ext.tracker_store.WindowedSQLTrackerStore
      dialect: "sqlite"
      db: conversations.db
      min_turns: 5
      cache_size: 1000
"""

import collections
import copy
import dataclasses
import itertools
import json
import logging
from typing import Any, Deque, Dict, Iterable, List, Optional, OrderedDict, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker, TrackerActiveLoop
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

DEFAULT_MIN_TURNS = 5
DEFAULT_CACHE_SIZE = 1000
RESTARTS = (Restarted, SessionStarted)
UNDOS = (UserUtteranceReverted, ActionReverted)
# An undo reaches back this many user turns at most (action_back reverts two); never cut closer.
UNDO_REACH_TURNS = 3


@dataclasses.dataclass
class TrackerState:
    """Everything `DialogueStateTracker._reset` resets: the state replay starts from."""

    slots: Dict[Text, Tuple[Any, bool]]
    paused: bool
    latest_action: Dict[Text, Any]
    latest_message: Optional[UserUttered]
    latest_bot_utterance: Optional[BotUttered]
    followup_action: Optional[Text]
    active_loop: Optional[TrackerActiveLoop]

    @classmethod
    def of(cls, tracker: DialogueStateTracker) -> "TrackerState":
        return cls(
            slots={name: (copy.deepcopy(slot.value), slot.has_been_set) for name, slot in tracker.slots.items()},
            paused=tracker.is_paused(),
            latest_action=copy.deepcopy(tracker.latest_action),
            latest_message=tracker.latest_message,
            latest_bot_utterance=tracker.latest_bot_utterance,
            followup_action=tracker.followup_action,
            active_loop=copy.deepcopy(tracker.active_loop),
        )

    def restore(self, tracker: DialogueStateTracker) -> None:
        for name, (value, has_been_set) in self.slots.items():
            slot = tracker.slots.get(name)
            if slot is not None:
                slot._value = copy.deepcopy(value)
                slot._has_been_set = has_been_set
        tracker._paused = self.paused
        tracker.latest_action = copy.deepcopy(self.latest_action)
        tracker.latest_message = self.latest_message
        tracker.latest_bot_utterance = self.latest_bot_utterance
        tracker.followup_action = self.followup_action
        tracker.active_loop = copy.deepcopy(self.active_loop)


class WindowedTracker(DialogueStateTracker):
    """A tracker holding the latest events of a conversation and the state before them.

    `start_state` is the state of the conversation before `events[0]` (None: the empty state, as
    for a new conversation). Everything that rebuilds state by replaying events (copy, past_states,
    undo events) starts from it, so the results are those of the whole conversation.
    """

    events: Deque[Event]  # set by DialogueStateTracker.__init__ and replaced by `trim`

    def __init__(
        self,
        sender_id: Text,
        slots: Optional[Iterable[Any]],
        max_event_history: Optional[int] = None,
        sender_source: Optional[Text] = None,
        is_rule_tracker: bool = False,
        start_state: Optional[TrackerState] = None,
    ) -> None:
        self.start_state = start_state  # read by _reset(), which the parent's __init__ calls
        super().__init__(sender_id, slots, max_event_history, sender_source, is_rule_tracker)
        if start_state is not None:
            start_state.restore(self)
        # events of the window already in the database (set by the store)
        self.persisted_events = 0

    def _restarted_in_window(self) -> bool:
        return any(isinstance(event, RESTARTS) for event in self.events)

    def _reset(self) -> None:
        """The state replay starts from: the window's start state, or the empty state once a
        restart or a new session is in the window (as for the whole conversation)."""
        super()._reset()
        if self.start_state is not None and not self._restarted_in_window():
            self.start_state.restore(self)

    def _empty_copy(self, start_state: Optional[TrackerState]) -> "WindowedTracker":
        tracker = WindowedTracker(
            self.sender_id,
            self.slots.values(),
            self._max_event_history,
            is_rule_tracker=self.is_rule_tracker,
            start_state=start_state,
        )
        return tracker

    def init_copy(self) -> "WindowedTracker":
        """The tracker `applied_events()` are replayed on (copy, past_states): starts in the window's
        start state, or empty when a restart or session start is in the window."""
        return self._empty_copy(None if self._restarted_in_window() else self.start_state)

    def travel_back_in_time(self, target_time: float) -> "WindowedTracker":
        # replays all events of the window (a restart among them resets the state itself)
        tracker = self._empty_copy(self.start_state)
        for event in self.events:
            if event.timestamp <= target_time:
                tracker.update(event)
            else:
                break
        tracker.persisted_events = 0
        return tracker

    def trim(self, min_turns: int, domain: Domain) -> int:
        """Moves the oldest turns out of the window into the start state; returns how many events.

        Does nothing until the window holds twice `min_turns` user messages (so the replay it costs
        is spread over many messages). Then cuts at the latest point that:
        - is an `action_listen` with no active loop (a form is never cut), and no undo
          (`UserUtteranceReverted`, `ActionReverted`) within reach after it;
        - keeps at least `min_turns` user messages;
        - leaves the last `min_turns` dialogue states unchanged, both as the rule policy and as the
          ML policies see them (those skip turns predicted by rules that are in no story, so the
          window keeps at least `min_turns` turns they see).
        Everything before the start of the latest session goes first: it is never looked at again
        (the stock SQL store does not even read it).
        """
        events = list(self.events)
        session_start = _latest_session_start(events)
        users_after = _suffix_counts(events, lambda e: isinstance(e, UserUttered))
        if users_after[0] <= 2 * min_turns and session_start is None:
            return 0
        undo_free = _undo_free(events)
        candidates: List[Tuple[int, TrackerState]] = []
        replay = self._empty_copy(self.start_state)
        for index, event in enumerate(events):
            in_session = session_start is None or index >= session_start
            if index == session_start or (
                index > 0
                and in_session
                and _is_listen(event)
                and replay.active_loop is None
                and users_after[index] >= min_turns
                and undo_free[index]
            ):
                candidates.append((index, TrackerState.of(replay)))
            if users_after[index] < min_turns and in_session:
                break
            replay.update(event)
        if not candidates:
            return 0
        expected = self._latest_states(domain, min_turns)
        for cut, start_state in reversed(candidates):
            window = self._empty_copy(start_state)
            window.events = self._create_events(events[cut:])
            if window._latest_states(domain, min_turns) == expected:
                self.start_state = start_state
                self.events = window.events
                self.persisted_events = max(0, self.persisted_events - cut)
                return cut
        return 0

    def _latest_states(self, domain: Domain, count: int) -> List[List[Any]]:
        """The last `count` dialogue states as the rule policy and as the ML policies see them."""
        return [self.past_states(domain, ignore_rule_only_turns=ml)[-count:] for ml in (False, True)]


def _is_listen(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME


def _latest_session_start(events: List[Event]) -> Optional[int]:
    """Index of the `action_session_start` of the latest session, unless it is the first event."""
    for index in range(len(events) - 1, 0, -1):
        event = events[index]
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME:
            return index
    return None


def _undo_free(events: List[Event]) -> List[bool]:
    """undo_free[i]: no undo event among events[i:] before the UNDO_REACH_TURNS+1-th user message
    after i, so every later undo finds what it reverts in events[i:]."""
    users = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
    undos = [i for i, e in enumerate(events) if isinstance(e, UNDOS)]
    result = []
    for index in range(len(events)):
        later = [i for i in users if i > index][: UNDO_REACH_TURNS + 1]
        reach_end = later[-1] if len(later) > UNDO_REACH_TURNS else len(events)
        result.append(not any(index <= i < reach_end for i in undos))
    return result


def _suffix_counts(events: List[Event], predicate) -> List[int]:
    """counts[i]: how many of events[i:] satisfy predicate."""
    counts = [0] * (len(events) + 1)
    for i in range(len(events) - 1, -1, -1):
        counts[i] = counts[i + 1] + (1 if predicate(events[i]) else 0)
    return counts


@dataclasses.dataclass
class _Cached:
    tracker: WindowedTracker
    last_event_id: Optional[int]


class WindowedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore (same table, every event stored) handing out windowed, cached trackers.

    With SQLite it keeps its connections open (a pool, instead of one new connection per query) and
    puts the database in write-ahead-log mode (`journal_mode=WAL`; `synchronous` stays FULL, so a
    saved message is as durable as before), which halves the cost of each commit.
    """

    engine: sa.engine.Engine  # set by SQLTrackerStore.__init__; replaced by a pooled one for a SQLite file

    def __init__(
        self,
        domain: Optional[Domain] = None,
        min_turns: int = DEFAULT_MIN_TURNS,
        cache_size: int = DEFAULT_CACHE_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain=domain, **kwargs)
        self.min_turns = int(min_turns)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[Text, _Cached] = collections.OrderedDict()
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self.engine = sa.create_engine(self.engine.url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_write_ahead_log)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        table = self._table = self.SQLEvent.__table__
        self._insert = table.insert()
        # built once: building a statement costs more than running it
        self._latest_id_query = (
            sa.select(table.c.id).where(table.c.sender_id == sa.bindparam("sender")).order_by(table.c.id.desc()).limit(1)
        )

    # -- trackers handed to the processor ---------------------------------------------------

    def init_tracker(self, sender_id: Text) -> WindowedTracker:
        return WindowedTracker(sender_id, self.domain.slots)

    def _latest_event_id(self, connection, sender_id: Text) -> Optional[int]:
        return connection.execute(self._latest_id_query, {"sender": sender_id}).scalar()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The tracker of the latest session, windowed; from memory when the database has nothing newer.

        The cached tracker is handed over (removed from the cache) and comes back with `save`, so a
        message whose handling fails half-way leaves nothing half-updated behind.
        """
        cached = self._cache.pop(sender_id, None)
        with self.engine.connect() as connection:
            latest_id = self._latest_event_id(connection, sender_id)
        if latest_id is None:
            return None
        if cached is not None and cached.last_event_id == latest_id:
            return cached.tracker
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        tracker = self.init_tracker(sender_id)
        for event in deserialise_events(events):
            tracker.update(event)
        tracker.trim(self.min_turns, self.domain)
        tracker.persisted_events = len(tracker.events)
        logger.debug("Rebuilt the tracker of '%s' from %d stored events", sender_id, len(events))
        return tracker

    async def exists(self, conversation_id: Text) -> bool:
        if conversation_id in self._cache:
            return True
        with self.engine.connect() as connection:
            return self._latest_event_id(connection, conversation_id) is not None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the tracker's new events to the table, then keeps the tracker for the next message."""
        if isinstance(tracker, WindowedTracker):
            new_events = list(itertools.islice(tracker.events, tracker.persisted_events, None))
        else:
            # not one of ours: the first message of a conversation (Rasa's FailSafeTrackerStore
            # creates plain trackers) or the HTTP API. New events as the stock store finds them;
            # a windowed copy is kept from now on.
            with self.session_scope() as session:
                new_events = list(self._additional_events(session, tracker))
            tracker = self._windowed_copy(tracker)
        with self.engine.begin() as connection:
            if new_events:
                connection.execute(self._insert, [self._row(tracker.sender_id, e) for e in new_events])
            last_event_id = self._latest_event_id(connection, tracker.sender_id)
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        tracker.persisted_events = len(tracker.events)
        tracker.trim(self.min_turns, self.domain)
        self._cache[tracker.sender_id] = _Cached(tracker, last_event_id)
        self._cache.move_to_end(tracker.sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _windowed_copy(self, tracker: DialogueStateTracker) -> WindowedTracker:
        windowed = self.init_tracker(tracker.sender_id)
        for event in tracker.events:
            windowed.update(event)
        windowed.model_id, windowed.assistant_id = tracker.model_id, tracker.assistant_id
        return windowed

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[Text, Any]:
        """The columns the stock SQL store writes for an event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


def _sqlite_write_ahead_log(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
