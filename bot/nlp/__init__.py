"""The project's own spaCy pipeline (its entity ruler reads the domain vocabulary, bot/core/vocabulary.yml), the
sentence encoder, language detection and the Rasa components."""
