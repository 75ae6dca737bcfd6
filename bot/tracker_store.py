"""Old class path: a clinic's endpoints file may name `bot.tracker_store.WindowedSQLTrackerStore`, and Rasa imports
the class by that string. The store is in bot/rasa_ext/tracker_store.py; this line keeps the old name working."""

from bot.rasa_ext.tracker_store import WindowedSQLTrackerStore as WindowedSQLTrackerStore
