"""Extensions of Rasa's runtime: channels, tracker and lock stores, the server's fixes and routes, its start-up
checks and the reader of the tables Rasa's SQL tracker store writes. Everything a Rasa upgrade touches.

Imports the core (and the triage's metadata key), never the launcher or the tools.
"""

# The class paths an endpoints file may name for the windowed tracker store: where it is, and where it was before
# bot/ had rooms (a clinic's own endpoints file may still say so; bot/tracker_store.py re-exports it there).
WINDOWED_TRACKER_STORE = ("bot.rasa_ext.tracker_store.WindowedSQLTrackerStore", "bot.tracker_store.WindowedSQLTrackerStore")
