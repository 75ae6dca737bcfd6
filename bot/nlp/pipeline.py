"""Builds the project's spaCy pipeline: blank English, lookup lemmatizer, domain entity ruler.

No pre-trained English model is used; meaning comes from the featurizers Rasa trains. Rasa's
SpacyNLP loads the result by directory path (config.yml). Usage:
    python -m bot.nlp.pipeline build/spacy/ivig_en
"""

import argparse
import pathlib
import sys

import spacy
from spacy.pipeline import EntityRuler

from bot.core.vocabulary import load_vocabulary, ruler_patterns


def build_pipeline() -> "spacy.language.Language":
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup tables; also clears ruler patterns, so the ruler comes after
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    assert isinstance(ruler, EntityRuler)  # add_pipe is typed as returning any pipe
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
