"""Names that files outside this repository hold keep working after bot/ got its rooms.

A clinic's endpoints and credentials files name the tracker store, the lock store and the channels by class path
(Rasa imports them by that string), and a retention unit it installed runs `python -m bot.conversations`. The old
paths are one-line re-exports (bot/tracker_store.py, bot/channels.py, bot/lock_store.py, bot/conversations.py):
each must give the very object at its new place, and what the project checks about the windowed store must hold
whichever of its two names an endpoints file uses.
"""

import importlib
import subprocess
import sys

import pytest
import yaml

from bot.core.settings import PROJECT_DIR
from bot.rasa_ext import WINDOWED_TRACKER_STORE, startup_checks
from bot.rasa_ext.conversations import tracker_store_url
from bot.rasa_ext.startup_checks import StartupCheckFailed

OLD_TO_NEW = {
    "bot.tracker_store.WindowedSQLTrackerStore": "bot.rasa_ext.tracker_store.WindowedSQLTrackerStore",
    "bot.lock_store.AtomicRedisLockStore": "bot.rasa_ext.lock_store.AtomicRedisLockStore",
    "bot.channels.RestInput": "bot.rasa_ext.channels.RestInput",
    "bot.channels.SocketIOInput": "bot.rasa_ext.channels.SocketIOInput",
}


def resolve(path: str) -> object:
    """What Rasa does with a `type:` or a credentials key (rasa.shared.utils.common.class_from_module_path)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("old, new", OLD_TO_NEW.items())
def test_an_old_class_path_is_the_same_class(old, new):
    assert resolve(old) is resolve(new)
    assert f"{resolve(new).__module__}.{resolve(new).__qualname__}" == new


@pytest.mark.parametrize("path", ["endpoints.yml", "credentials.yml", "docs/endpoints.scaled.yml"])
def test_the_project_files_name_the_new_paths(path):
    text = (PROJECT_DIR / path).read_text(encoding="utf-8")
    assert not [old for old in OLD_TO_NEW if old in text], f"{path} still names an old class path"
    named = [new for new in OLD_TO_NEW.values() if new in text]
    assert named, f"{path} names none of the project's classes"
    for new in named:
        resolve(new)


def test_the_windowed_store_names_are_its_path_and_its_old_one():
    new, old = WINDOWED_TRACKER_STORE
    assert resolve(new) is resolve(old)
    assert OLD_TO_NEW[old] == new


def endpoints_naming(tmp_path, store_type: str, **store):
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump({"tracker_store": {"type": store_type, "dialect": "sqlite", "db": "old.db", **store}}))
    return path


@pytest.mark.parametrize("store_type", WINDOWED_TRACKER_STORE)
def test_the_window_is_checked_whichever_name_the_endpoints_file_uses(tmp_path, store_type):
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump({"policies": [{"name": "TEDPolicy"}]}))
    with pytest.raises(StartupCheckFailed, match="looks back over the whole conversation"):
        startup_checks.check_tracker_window(endpoints_naming(tmp_path, store_type), config, PROJECT_DIR / "data")


@pytest.mark.parametrize("store_type", WINDOWED_TRACKER_STORE)
def test_the_conversations_are_read_whichever_name_the_endpoints_file_uses(tmp_path, monkeypatch, store_type):
    monkeypatch.setenv("IVIG_ENDPOINTS", str(endpoints_naming(tmp_path, store_type)))
    assert tracker_store_url().database == str(PROJECT_DIR / "old.db")


def test_the_old_retention_command_still_runs(tmp_path):
    """The command an installed retention unit runs: here on an empty SQLite file, so nothing is deleted."""
    run = subprocess.run(
        [sys.executable, "-m", "bot.conversations", "retention", "--db", str(tmp_path / "none.db")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "no conversations stored yet" in run.stdout
