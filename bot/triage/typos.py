"""Typos of the triage's own words: "myslef", "breth", "swolen", "pils", "anxity".

A tired patient's red flag often comes misspelled. Listing every misspelling in patterns.yml cannot
keep up, so before the patterns are matched, a word that is not English (not among the common words of
spaCy's English frequency table) and is one edit (a letter added, dropped, changed or two swapped) away
from a word the patterns use is read as that word. Real words are never changed: "blend" stays "blend"
even though "bleed" is one edit away, and a pattern must still match as a whole.
"""

import functools
import gzip
import json
from typing import Dict, Iterable, List, Optional, Set

from spacy.lang.en.stop_words import STOP_WORDS

# Words at least this frequent (natural log of their probability in spaCy's English table) are real words
# and are never corrected; "pils" (-16.3) and "myslef" (-16.5) are rarer, "tbh" (-11.4) is not.
KNOWN_LOG_PROB = -15.0
MIN_LENGTH = 4  # shorter words have too many neighbours one edit away


@functools.lru_cache(maxsize=1)
def known_words() -> frozenset:
    """The common English words (about 53,000), from the frequency table spaCy's lookups ship."""
    from spacy_lookups_data import en

    with gzip.open(en["lexeme_prob"].with_suffix(".json.gz")) as handle:  # the package lists the unzipped name
        probabilities: Dict[str, float] = json.load(handle)
    return frozenset(word for word, logprob in probabilities.items() if logprob >= KNOWN_LOG_PROB)


def _deletions(word: str) -> Set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit_apart(a: str, b: str) -> bool:
    """True when `b` is `a` with one letter added, dropped, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        short, long_ = sorted((a, b), key=len)
        return short in _deletions(long_)
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])


class TypoCorrector:
    """Reads an unknown word as the pattern word one edit away (the most common one if several are)."""

    def __init__(self, vocabulary: Iterable[str], known: Optional[frozenset] = None):
        self.known = known_words() if known is None else known
        self.vocabulary = frozenset(w for w in vocabulary if w.isalpha() and len(w) >= MIN_LENGTH)
        # Symmetric deletions: a word and a typo one edit apart share the word itself or a one-letter deletion.
        self._index: Dict[str, List[str]] = {}
        for word in sorted(self.vocabulary):
            for key in {word, *_deletions(word)}:
                self._index.setdefault(key, []).append(word)

    def correct(self, word: str) -> Optional[str]:
        if len(word) < MIN_LENGTH or not (word.isascii() and word.isalpha()) or word in self.vocabulary or word in self.known:
            return None
        candidates = {c for key in {word, *_deletions(word)} for c in self._index.get(key, ())}
        matches = sorted(c for c in candidates if one_edit_apart(word, c))
        # Of several ("pils": pills, pits), a word that carries meaning before a function word ("thoat": throat,
        # not that), then the one in the known words, then the first alphabetically.
        matches.sort(key=lambda c: (c in STOP_WORDS, c not in self.known))
        return matches[0] if matches else None
