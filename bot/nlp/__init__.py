"""The project's own spaCy pipeline, its domain vocabulary, the sentence encoder and the Rasa components."""

import pathlib

NLP_DIR = pathlib.Path(__file__).parent
VOCABULARY_FILE = NLP_DIR / "vocabulary.yml"
