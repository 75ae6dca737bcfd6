"""The project's own spaCy pipeline, its domain vocabulary and the red-flag safety net."""
import pathlib

NLP_DIR = pathlib.Path(__file__).parent
VOCABULARY_FILE = NLP_DIR / "vocabulary.yml"
RED_FLAGS_FILE = NLP_DIR / "red_flags.yml"
