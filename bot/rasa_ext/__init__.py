"""Extensions of Rasa's runtime: channels, tracker and lock stores, the server's fixes and routes, its start-up
checks and the reader of the tables Rasa's SQL tracker store writes. Everything a Rasa upgrade touches.

Imports the core (and the triage's metadata key), never the launcher or the tools.
"""
