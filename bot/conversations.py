"""What a clinic does with stored conversations: count the widget's feedback, delete old ones.

    python -m bot.conversations feedback [--db PATH]
    python -m bot.conversations retention [--days N] [--db PATH]

Works on Rasa's SQL tracker store (`events` table), SQLite by default.
"""
import argparse
import collections
import json
import os
import pathlib
import sqlite3
import sys
import time
from typing import Counter, Tuple

from bot.settings import get_settings
from bot.stack import RUNTIME_DIR


def default_db() -> pathlib.Path:
    return pathlib.Path(os.environ.get("IVIG_TRACKER_DB", RUNTIME_DIR / "conversations.db"))


def feedback_counts(db: pathlib.Path) -> Counter[Tuple[str, str]]:
    """(topic, rating) -> how many thumbs up/down the widget recorded."""
    counts: Counter[Tuple[str, str]] = collections.Counter()
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE type_name = 'user' AND intent_name = 'feedback'"
        )
        for (data,) in rows:
            entities = {e.get("entity"): e.get("value") for e in json.loads(data)["parse_data"]["entities"]}
            if entities.get("rating") in ("up", "down"):
                counts[(str(entities.get("feedback_topic") or "unknown"), entities["rating"])] += 1
    return counts


def delete_older_than(db: pathlib.Path, days: int) -> int:
    """Deletes every conversation whose latest event is older than `days`; returns how many."""
    cutoff = time.time() - days * 86400
    with sqlite3.connect(db) as connection:
        old = [
            sender for (sender,) in connection.execute(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < ?", (cutoff,)
            )
        ]
        connection.executemany("DELETE FROM events WHERE sender_id = ?", [(s,) for s in old])
    return len(old)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["feedback", "retention"])
    parser.add_argument("--db", type=pathlib.Path, default=None)
    parser.add_argument("--days", type=int, default=None)
    args = parser.parse_args(argv)
    db = args.db or default_db()
    if not db.exists():
        print(f"no conversations stored yet ({db} does not exist)")
        return 0
    if args.command == "feedback":
        counts = feedback_counts(db)
        print(f"{'topic':28} {'up':>5} {'down':>5}")
        for topic in sorted({topic for topic, _ in counts}):
            print(f"{topic:28} {counts[(topic, 'up')]:>5} {counts[(topic, 'down')]:>5}")
        return 0
    days = args.days if args.days is not None else get_settings().retention_days
    print(f"deleted {delete_older_than(db, days)} conversation(s) older than {days} days from {db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
