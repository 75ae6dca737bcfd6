"""The one reader of stored conversations: what a clinic reads, counts and deletes.

    python -m bot.rasa_ext.conversations feedback [--db PATH]
    python -m bot.rasa_ext.conversations retention [--days N] [--db PATH]

Works on the table Rasa's SQL tracker store writes (`events`: one row per event, its JSON in `data`),
through SQLAlchemy, so SQLite and PostgreSQL behave the same. The database is the one the tracker store
of the endpoints file uses (IVIG_ENDPOINTS, default endpoints.yml, with its ${VARIABLES} from the
environment); `--db PATH` reads a SQLite file instead.
"""

import argparse
import collections
import dataclasses
import json
import os
import pathlib
import string
import sys
import time
import urllib.parse
from typing import Any, Counter, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import sqlalchemy as sa
import yaml

from bot.core.settings import PROJECT_DIR, RUNTIME_DIR, get_settings, resolve_project_path
from bot.rasa_ext import WINDOWED_TRACKER_STORE

# The columns read here; the table itself is Rasa's (rasa.core.tracker_store.SQLTrackerStore.SQLEvent).
EVENTS = sa.table(
    "events",
    sa.column("id"),
    sa.column("sender_id"),
    sa.column("type_name"),
    sa.column("timestamp"),
    sa.column("intent_name"),
    sa.column("data"),
)
SQL_TRACKER_STORES = ("SQL", *WINDOWED_TRACKER_STORE)
SECONDS_PER_DAY = 86400


def tracker_store_url() -> sa.engine.URL:
    """The database of the tracker store the endpoints file configures, by the rules of Rasa's SQL store
    (`SQLTrackerStore.get_db_url`: `url` is the host, or host:port, or a whole database URL)."""
    endpoints = resolve_project_path(os.environ.get("IVIG_ENDPOINTS", str(PROJECT_DIR / "endpoints.yml")))
    store = (yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    if store.get("type") not in SQL_TRACKER_STORES:
        raise ValueError(f"{endpoints}: the tracker store is not an SQL store ({store.get('type')!r})")
    # The launcher gives Rasa this default when IVIG_TRACKER_DB is unset (bot/launcher/stack.py).
    environment = {"IVIG_TRACKER_DB": str(RUNTIME_DIR / "conversations.db"), **os.environ}
    try:
        values = {key: string.Template(value).substitute(environment) if isinstance(value, str) else value for key, value in store.items()}
    except KeyError as missing:
        raise ValueError(f"{endpoints} names the environment variable {missing}, which is not set") from None
    host, dialect = str(values.get("url") or ""), values.get("dialect", "sqlite")
    if "://" in host:
        return sa.engine.make_url(host)
    if dialect == "sqlite":
        # Rasa runs in the project folder, so a relative SQLite path is relative to it.
        return sa.engine.URL.create("sqlite", database=str(resolve_project_path(values.get("db", "rasa.db"))))
    address = urllib.parse.urlsplit(f"scheme://{host}")
    return sa.engine.URL.create(
        dialect,
        username=values.get("username") or None,
        password=values.get("password") or None,
        host=address.hostname or None,
        port=address.port or (int(values["port"]) if values.get("port") else None),
        database=values.get("db"),
        query=values.get("query") or {},
    )


@dataclasses.dataclass(frozen=True)
class Conversation:
    sender_id: str
    first_timestamp: float
    last_timestamp: float


class ConversationStore:
    """Stored conversations, read and deleted on whatever SQL database the tracker store uses."""

    def __init__(self, url: Union[str, sa.engine.URL]):
        self.engine = sa.create_engine(url)

    @classmethod
    def configured(cls) -> "ConversationStore":
        return cls(tracker_store_url())

    @classmethod
    def sqlite(cls, path: pathlib.Path) -> "ConversationStore":
        return cls(sa.engine.URL.create("sqlite", database=str(path)))

    def exists(self) -> bool:
        """Whether Rasa has created the table yet (asking never creates a SQLite file)."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and not (url.database and pathlib.Path(url.database).exists()):
            return False
        return sa.inspect(self.engine).has_table("events")

    def events(self, sender_id: str) -> List[Dict[str, Any]]:
        """Every event of one conversation, in the order stored, as Rasa serialised it."""
        return [event for _, event in self._events(EVENTS.c.sender_id == sender_id)]

    def every_event(self, type_names: Sequence[str]) -> Iterator[Tuple[str, Dict[str, Any]]]:
        """(sender_id, event) for every stored event of these types, conversation by conversation, in order."""
        return self._events(EVENTS.c.type_name.in_(type_names))

    def _events(self, condition) -> Iterator[Tuple[str, Dict[str, Any]]]:
        query = sa.select(EVENTS.c.sender_id, EVENTS.c.data).where(condition).order_by(EVENTS.c.sender_id, EVENTS.c.id)
        with self.engine.connect() as connection:
            for sender_id, data in connection.execute(query):
                yield sender_id, json.loads(data)

    def conversations(self) -> List[Conversation]:
        """Every stored conversation with the time of its first and latest event, oldest first."""
        first, last = sa.func.min(EVENTS.c.timestamp), sa.func.max(EVENTS.c.timestamp)
        query = sa.select(EVENTS.c.sender_id, first, last).group_by(EVENTS.c.sender_id).order_by(first, EVENTS.c.sender_id)
        with self.engine.connect() as connection:
            return [Conversation(*row) for row in connection.execute(query)]

    def feedback_counts(self) -> Counter[Tuple[str, str]]:
        """(topic, rating) -> how many thumbs up/down the widget recorded (a user event of intent `feedback`
        whose entities are `rating` and `feedback_topic`)."""
        counts: Counter[Tuple[str, str]] = collections.Counter()
        query = sa.select(EVENTS.c.data).where(EVENTS.c.type_name == "user", EVENTS.c.intent_name == "feedback")
        with self.engine.connect() as connection:
            for (data,) in connection.execute(query):
                entities = {e.get("entity"): e.get("value") for e in json.loads(data)["parse_data"]["entities"]}
                if entities.get("rating") in ("up", "down"):
                    counts[(str(entities.get("feedback_topic") or "unknown"), entities["rating"])] += 1
        return counts

    def delete_conversation(self, sender_id: str) -> int:
        """Deletes every event of one conversation (a patient's "forget me"); returns how many were removed."""
        with self.engine.begin() as connection:
            return connection.execute(EVENTS.delete().where(EVENTS.c.sender_id == sender_id)).rowcount

    def delete_older_than(self, days: float, now: Optional[float] = None) -> int:
        """Deletes every conversation whose latest event is older than `days`; returns how many."""
        cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
        old = sa.select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id).having(sa.func.max(EVENTS.c.timestamp) < cutoff)
        with self.engine.begin() as connection:
            senders = connection.execute(old).scalars().all()
            if senders:
                delete = EVENTS.delete().where(EVENTS.c.sender_id == sa.bindparam("sender"))
                connection.execute(delete, [{"sender": sender} for sender in senders])
        return len(senders)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["feedback", "retention"])
    parser.add_argument("--db", type=pathlib.Path, default=None, help="a SQLite tracker store (default: the configured one)")
    parser.add_argument("--days", type=int, default=None)
    args = parser.parse_args(argv)
    store = ConversationStore.sqlite(args.db) if args.db else ConversationStore.configured()
    where = store.engine.url.render_as_string(hide_password=True)
    if not store.exists():
        print(f"no conversations stored yet ({where} has none)")
        return 0
    if args.command == "feedback":
        counts = store.feedback_counts()
        print(f"{'topic':28} {'up':>5} {'down':>5}")
        for topic in sorted({topic for topic, _ in counts}):
            print(f"{topic:28} {counts[(topic, 'up')]:>5} {counts[(topic, 'down')]:>5}")
        return 0
    days = args.days if args.days is not None else get_settings().retention_days
    print(f"deleted {store.delete_older_than(days)} conversation(s) older than {days} days from {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
