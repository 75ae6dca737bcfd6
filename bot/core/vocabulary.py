"""The domain vocabulary (vocabulary.yml): symptoms, conditions and studies, with their canonical values.

Read by the spaCy pipeline build (entity ruler patterns) and by the routing of actions (what an entity
refers to). Free of spaCy, so the action server never loads it; kept in the core for that reason, beside
the routing that reads it (bot/nlp/pipeline.py builds the entity ruler from it).
"""

import functools
import pathlib
from typing import Dict, List

import yaml

VOCABULARY_FILE = pathlib.Path(__file__).with_name("vocabulary.yml")


def load_vocabulary(path: pathlib.Path = VOCABULARY_FILE) -> Dict[str, Dict[str, List[str]]]:
    """`LABEL -> canonical value -> phrases`, as kept in vocabulary.yml."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def ruler_patterns(vocabulary: Dict[str, Dict[str, List[str]]]) -> List[dict]:
    return [
        {"label": label, "pattern": phrase.lower(), "id": canonical}
        for label, values in vocabulary.items()
        for canonical, phrases in values.items()
        for phrase in phrases
    ]


@functools.lru_cache(maxsize=1)
def canonical_values() -> Dict[str, Dict[str, str]]:
    """`LABEL -> lowercase phrase -> canonical value`, to name what an entity refers to."""
    return {
        label: {phrase.lower(): canonical for canonical, phrases in values.items() for phrase in phrases}
        for label, values in load_vocabulary().items()
    }


def canonical(label: str, text: str) -> str:
    return canonical_values().get(label, {}).get(text.lower(), text.lower())
