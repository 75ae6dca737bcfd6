"""The deterministic safety net: a spaCy Matcher over the red-flag patterns in red_flags.yml.

It runs on every message, independent of the classifier, so an emergency or a crisis is caught
in any turn, even inside a longer message about something else.

Pattern grammar (see red_flags.yml): words separated by spaces, each matched on the token's
lowercase form or its lemma; `a|b|c` are alternatives; a trailing `?` makes a word optional;
`...` stands for up to three arbitrary words.
"""
import dataclasses
import functools
import itertools
import pathlib
from typing import Dict, List, Optional, Tuple

import yaml
from spacy.language import Language
from spacy.matcher import Matcher

from bot.nlp import RED_FLAGS_FILE

# When both match, the crisis reply is used: it gives the crisis line and the emergency number.
KINDS = ("crisis", "emergency")
GAP = "..."
MAX_GAP = 3


@dataclasses.dataclass(frozen=True)
class RedFlag:
    kind: str
    pattern: str
    matched_text: str


def compile_pattern(nlp: Language, pattern: str) -> List[List[dict]]:
    """One grammar line -> the spaCy token patterns it stands for.

    Single-word alternatives share one token spec (`LEMMA IN [...]`); only alternatives that
    spaCy splits into several tokens ("can't" -> "ca", "n't") add patterns.
    """
    positions = []
    for word in _normalise(pattern).split():
        if word == GAP:
            positions.append([[{"OP": "?"}] * MAX_GAP])
            continue
        optional = word.endswith("?") and len(word) > 1
        alternatives = [
            [t.text for t in nlp.make_doc(alt)] for alt in (word[:-1] if optional else word).split("|") if alt
        ]
        single = sorted({lemma for tokens in alternatives if len(tokens) == 1 for lemma in _lemmas(nlp, tokens[0])})
        choices = [[_spec(nlp, token) for token in tokens] for tokens in alternatives if len(tokens) > 1]
        if single:
            choices.append([{"LEMMA": {"IN": single}}])
        if optional:
            choices.append([])
        positions.append(choices)
    return [list(itertools.chain.from_iterable(combo)) for combo in itertools.product(*positions)]


@functools.lru_cache(maxsize=None)
def _lemmas(nlp: Language, token: str) -> Tuple[str, ...]:
    """The word itself and its lemma (from the lookup tables), so inflections match too."""
    return tuple(sorted({token, nlp(token)[0].lemma_ or token}))


def _spec(nlp: Language, token: str) -> dict:
    return {"LEMMA": {"IN": list(_lemmas(nlp, token))}}


class RedFlagMatcher:
    """Finds emergency and crisis wording in a message."""

    def __init__(self, nlp: Language, patterns: Dict[str, List[str]]):
        self.nlp = nlp
        self.matcher = Matcher(nlp.vocab)
        self.patterns: Dict[str, str] = {}
        for kind in KINDS:
            for index, line in enumerate(patterns.get(kind) or []):
                key = f"{kind}:{index}"
                self.patterns[key] = line
                self.matcher.add(key, [p for p in compile_pattern(nlp, line) if p])

    @classmethod
    def from_file(cls, nlp: Language, path: pathlib.Path = RED_FLAGS_FILE) -> "RedFlagMatcher":
        return cls(nlp, yaml.safe_load(path.read_text(encoding="utf-8")))

    def detect(self, text: str) -> Optional[RedFlag]:
        """The most urgent red flag in `text`, or None."""
        doc = self.nlp(_normalise(text))
        found = {}
        for match_id, start, end in self.matcher(doc):
            key = self.nlp.vocab.strings[match_id]
            kind = key.split(":")[0]
            found.setdefault(kind, RedFlag(kind, self.patterns[key], doc[start:end].text))
        return next((found[kind] for kind in KINDS if kind in found), None)


def _normalise(text: str) -> str:
    """Lowercase, with typographic apostrophes made plain, so lemmas and patterns line up."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")
