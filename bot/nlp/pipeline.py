"""Builds the project's spaCy pipeline: blank English, lookup lemmatizer, domain entity ruler.

No pre-trained English model is used; meaning comes from the featurizers Rasa trains. Rasa's
SpacyNLP loads the result by directory path (config.yml). Usage:
    python -m bot.nlp.pipeline build/spacy/ivig_en
"""
import argparse
import functools
import pathlib
import sys
from typing import Dict, List

import spacy
import yaml

from bot.nlp import VOCABULARY_FILE


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


def build_pipeline() -> "spacy.language.Language":
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup tables; also clears ruler patterns, so the ruler comes after
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(ruler_patterns(load_vocabulary()))
    return nlp


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=pathlib.Path, help="directory to write the pipeline to")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    build_pipeline().to_disk(args.output)
    print(f"spaCy pipeline written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
