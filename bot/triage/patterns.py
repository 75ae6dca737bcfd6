"""The deterministic part of the triage: spaCy token patterns (patterns.yml) over spaCy's tokens and lemmas.

It runs on every message, on the whole text, independently of the topic classifier, so what must
never be missed is caught in any turn, even inside a long message about something else.

Pattern grammar (see patterns.yml): words separated by spaces, each matched on the token's
lowercase form or its lemma; `a|b|c` are alternatives; a trailing `?` makes a word optional;
`...` stands for up to three arbitrary words;
`=word` matches that written form only (not its lemma); `$NAME` stands for every word of the word class NAME
(`words:` in patterns.yml, e.g. `$DRUG`); `#140-299` for any whole number in that range (also written
with "bpm" attached). An `ignore` line may start with the levels it drops (`[poisoning] ...`); unscoped,
it drops every level inside its span. A `figures` line is a figure of speech ("this fog is killing me"): its words
are left out of the text the learned risk model reads (`Reading.literal`).
"""

import dataclasses
import datetime
import functools
import itertools
import pathlib
import re
from typing import Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

import yaml
from spacy.language import Language
from spacy.tokens import Doc

from bot.nlp.language import strip_accents
from bot.triage.typos import MIN_LENGTH, TypoCorrector, one_edit_apart

PATTERNS_FILE = pathlib.Path(__file__).parent / "patterns.yml"
# Most urgent first: when several levels match, the first one's reply is given. Poisoning comes first
# because its reply also carries the emergency number and the crisis line.
LEVELS: Tuple[str, ...] = ("poisoning", "crisis", "emergency", "distress")
IGNORE = "ignore"
FIGURES = "figures"  # figures of speech the risk model must not read literally
WORDS = "words"  # named word classes, used in patterns as $NAME
LANGUAGES: Tuple[str, ...] = ("en", "es", "fr")
GAP = "..."
MAX_GAP = 3
# The triage reads this much of a message: ten times the classifier's cut, far beyond any message a patient
# types, and a bound on the CPU one oversized message can cost (about 0.1 s at this length, `make bench`).
MAX_CHARS = 20_000
# History is not an emergency: "Two years ago I had a blood clot", "Back in 2019 I had anaphylaxis", "il y a
# quelques annees j'ai fait une phlebite". An emergency or poisoning match whose sentence is dated in the past
# and says nothing of the present ("now", "again", "since the infusion") is dropped. Crisis words are never
# dropped this way. Words are matched accent-free and lowercased, as the patterns are.
DATED_LEVELS = frozenset({"emergency", "poisoning"})
SENTENCE_ENDS = frozenset({".", "!", "?", ";"})
# Only long ago dates a sentence: "an hour ago" or "two months ago" may still be now.
LONG_AGO_UNITS = frozenset({"years", "year", "decade", "decades", "ages", "long"})
OTHER_LANGUAGE_YEARS = frozenset({"anos", "ano", "decadas", "ans", "annees", "annee"})  # "hace dos anos", "il y a trois ans"
LAST_PERIODS = frozenset({"year", "summer", "winter", "spring", "autumn", "fall", "christmas", "decade"})
CHILDHOOD = frozenset({"kid", "child", "teenager", "teen", "baby", "student"})
YOUNG = frozenset({"younger", "little", "small"})
AGE_DECADES = frozenset("teens twenties thirties forties fifties 20s 30s 40s 50s".split())
# Words of the present, including present-tense verbs: "last year I had a clot and I've got chest pain" stays.
# ("got" alone is not one: "last winter a pain that got worse when I breathed" is history.)
PRESENT_WORDS = frozenset(
    "now today tonight currently again still since am 'm is are 're 've 's have has feel feels can ca cannot keep keeps "
    "getting having ahora hoy todavia tengo estoy siento duele puedo maintenant aujourd'hui encore".split()
)
THIS_PERIODS = frozenset({"morning", "afternoon", "evening", "week"})
# "I'm nervous about it" tells a feeling now, not a sign now: "a clot in my leg five years ago, and I'm nervous" is history.
FEELING_VERBS = frozenset("am 'm is are 're feel feels".split())
FEELINGS = frozenset("nervous worried scared anxious afraid frightened concerned curious wondering terrified".split())
FEELING_FILLERS = frozenset("so very really a bit little quite kind sort of".split())
RESOLVED = frozenset("fine ok okay sorted better well good resolved gone over settled".split())
# "eighteen months ago" is long ago; "two months ago" may still be now.
MANY_MONTHS = frozenset("six seven eight nine ten eleven twelve eighteen many several 6 7 8 9 10 11 12 15 18 24".split())
# A sign said not to be there is not an emergency: "no chest pain, no trouble breathing", "pas de fievre", "no tengo
# dolor de pecho", "I don't have any chest pain or shortness of breath". An emergency match is dropped when one of
# these words comes right before it (within two words besides the fillers below, not across a comma or "but"), or
# when it follows "or" after a negated sign; a negation inside the match ("I can't breathe") is the sign itself, and
# "never ... like this" says the sign is new ("I've never had chest pain like this").
NEGATIONS = frozenset({"no", "not", "n't", "nt", "without", "never", "nor", "zero", "sin", "ni", "pas", "sans", "aucun", "aucune"})
NEGATION_FILLERS = frozenset({"have", "has", "had", "got", "any", "a", "an", "feel", "felt", "notice", "noticed", "tengo", "de", "d'"})
ALTERNATIVES = frozenset({"or", "nor", "o", "ni", "ou"})
NEW_SIGN = frozenset({"like", "before", "worse", "comme", "como"})
CLAUSE_BREAKS = frozenset({",", ".", "!", "?", ";", ":", "but", "pero", "mais", "-"})
# Crisis words told as history with a recovery ("back in 2021 I was suicidal ... I'm doing well now") get the gentle
# distress reply, which still offers the crisis line; without a recovery said in the message they stay a crisis.
RECOVERY = re.compile(
    r"\b(doing (really |much |so much |a lot |way )?(better|well|ok|okay|fine)|in a (much |far |really |way )?"
    r"(better|good|great|solid|stable|safe) place|got (me )?through( it)?|got help|(much|far|way) better now|"
    r"(well|stable|fine|okay|ok) now|recovered|long behind me)\b"
)
# A year ("in 2015", "from 2021", "in May 2022") dates a sentence when it is before this one.
FIRST_YEAR = 1950
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# "[poisoning, crisis] words ..." at the start of an ignore line: the levels it drops.
SCOPE = re.compile(r"^\[([a-z, ]+)\]\s*")


@dataclasses.dataclass(frozen=True)
class PatternHit:
    level: str
    language: str
    pattern: str
    matched_text: str


@dataclasses.dataclass(frozen=True)
class Reading:
    hit: Optional[PatternHit]  # the most urgent pattern hit, or None
    literal: str  # the message without its figures of speech: what the risk model reads


def expand(word: str, classes: Mapping[str, List[str]]) -> str:
    """`$DRUG|pills` -> `tylenol|paracetamol|...|pills`; `#140-142` -> `140|141|142|140bpm|...`."""
    optional = word.endswith("?") and len(word) > 1
    parts = []
    for alt in (word[:-1] if optional else word).split("|"):
        if alt.startswith("$"):
            if alt[1:] not in classes:
                raise ValueError(f"unknown word class {alt} in a triage pattern")
            parts += [normalise(w) for w in classes[alt[1:]]]
        elif alt.startswith("#") and "-" in alt:
            low, high = (int(n) for n in alt[1:].split("-"))
            parts += [f"{n}{unit}" for n in range(low, high + 1) for unit in ("", "bpm")]
        else:
            parts.append(alt)
    return "|".join(parts) + ("?" if optional else "")


def compile_pattern(nlp: Language, pattern: str, classes: Mapping[str, List[str]] = {}) -> List[List[dict]]:
    """One grammar line -> the spaCy token patterns it stands for.

    Single-word alternatives share one token spec (`LEMMA IN [...]`); only alternatives that
    spaCy splits into several tokens ("can't" -> "ca", "n't") add patterns.
    """
    positions = []
    for word in normalise(pattern).split():
        word = expand(word, classes) if ("$" in word or "#" in word) else word
        if word == GAP:
            positions.append([[{"OP": "?"}] * MAX_GAP])
            continue
        optional = word.endswith("?") and len(word) > 1
        written = [alt for alt in (word[:-1] if optional else word).split("|") if alt]
        # `=fitting`: this written form only, not every form of its lemma ("fitting" would also match "fit").
        exact = sorted(alt[1:] for alt in written if alt.startswith("="))
        alternatives = [[t.text for t in nlp.make_doc(alt)] for alt in written if not alt.startswith("=")]
        single = sorted({lemma for tokens in alternatives if len(tokens) == 1 for lemma in _lemmas(nlp, tokens[0])})
        choices = [[_spec(nlp, token) for token in tokens] for tokens in alternatives if len(tokens) > 1]
        if single:
            choices.append([{"LEMMA": {"IN": single}}])
        if exact:
            choices.append([{"LOWER": {"IN": exact}}])
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


def split_scope(line: str) -> Tuple[Optional[FrozenSet[str]], str]:
    """`[poisoning] took my ...` -> ({"poisoning"}, "took my ..."); an unscoped line drops every level (None)."""
    match = SCOPE.match(line)
    if not match:
        return None, line
    levels = frozenset(level.strip() for level in match.group(1).split(",") if level.strip())
    unknown = levels - set(LEVELS)
    if unknown:
        raise ValueError(f"ignore pattern {line!r}: unknown levels {sorted(unknown)}")
    return levels, line[match.end() :]


def load_patterns(path: pathlib.Path = PATTERNS_FILE) -> Dict[str, Dict[str, List[str]]]:
    """`level -> language -> [pattern]`, checked: unknown levels or languages fail loudly."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(raw) - set(LEVELS) - {IGNORE, FIGURES, WORDS}
    if unknown:
        raise ValueError(f"{path}: unknown triage levels {sorted(unknown)}")
    for level, by_language in raw.items():
        if level == WORDS:
            continue
        odd = set(by_language or {}) - set(LANGUAGES)
        if odd:
            raise ValueError(f"{path}: level {level}: unknown languages {sorted(odd)}")
        for language, lines in (by_language or {}).items():
            for line in lines or []:
                # An unquoted `#140-299` after a space starts a YAML comment and cuts the pattern short.
                if not isinstance(line, str) or not line.strip() or line.split()[-1] == GAP or line.split()[0] == GAP:
                    raise ValueError(
                        f"{path}: {level}/{language}: pattern {line!r} is empty or starts or ends "
                        "with '...' (quote patterns that contain #)"
                    )
    return raw


def listed_misspellings(word_sets: Sequence[Set[str]], known: FrozenSet[str]) -> Dict[str, Set[str]]:
    """word -> its misspellings that some pattern lists beside it (not English, one edit away: "hedache")."""
    misspellings: Dict[str, Set[str]] = {}
    for words in word_sets:
        for typo in words - known:
            for word in words & known:
                if len(typo) >= MIN_LENGTH and typo.isalpha() and one_edit_apart(typo, word):
                    misspellings.setdefault(word, set()).add(typo)
    return misspellings


def with_misspellings(spec: dict, misspellings: Mapping[str, Set[str]]) -> dict:
    if "LEMMA" not in spec:
        return spec
    words = set(spec["LEMMA"]["IN"])
    return {**spec, "LEMMA": {"IN": sorted(words.union(*(misspellings.get(w, ()) for w in words)))}}


class PatternMatcher:
    """Finds the most urgent level whose wording is in a message."""

    def __init__(self, nlp: Language, patterns: Mapping[str, Mapping[str, List[str]]], known_words=None):
        self.nlp = nlp
        self.matcher = FirstWordMatcher()
        self.patterns: Dict[str, Tuple[str, str, str]] = {}
        self.scopes: Dict[str, FrozenSet[str]] = {}  # ignore key -> the levels it drops (absent: all)
        self.compiled: Dict[str, List[List[dict]]] = {}  # key -> the token patterns the matcher runs
        classes = {name.lower(): words for name, words in (patterns.get(WORDS) or {}).items()}
        for level in (*LEVELS, IGNORE, FIGURES):
            for language, lines in (patterns.get(level) or {}).items():
                for index, line in enumerate(lines or []):
                    key = f"{level}:{language}:{index}"
                    self.patterns[key] = (level, language, line)
                    scope, words = split_scope(line) if level == IGNORE else (None, line)
                    if scope is not None:
                        self.scopes[key] = scope
                    self.compiled[key] = [p for p in compile_pattern(nlp, words, classes) if p]
        self.typos = TypoCorrector(set().union(*self._word_sets()), known_words)
        # A misspelling is read as such, not corrected, when some line lists it ("hedache" beside "headache"): then
        # every line that has the word has the misspelling too, or "worst hedache" would slip past the others.
        # Only in English, where typos are read ("tomo" is Spanish, not a typo of "tome").
        misspellings = listed_misspellings(self._word_sets("en"), self.typos.known)
        for key, compiled in self.compiled.items():
            if self.patterns[key][1] == "en":
                self.compiled[key] = [[with_misspellings(spec, misspellings) for spec in p] for p in compiled]
            self.matcher.add(key, self.compiled[key])

    def _word_sets(self, language: Optional[str] = None) -> List[Set[str]]:
        """The word set of every token spec (of one language's lines, or all)."""
        return [
            set(spec["LEMMA"]["IN"])
            for key, patterns in self.compiled.items()
            if language in (None, self.patterns[key][1])
            for pattern in patterns
            for spec in pattern
            if "LEMMA" in spec
        ]

    @classmethod
    def from_file(cls, nlp: Language, path: pathlib.Path = PATTERNS_FILE) -> "PatternMatcher":
        return cls(nlp, load_patterns(path))

    def detect(self, text: str, language: str = "en") -> Optional[PatternHit]:
        """The most urgent hit in `text` (the whole of it), or None."""
        return self.read(text, language).hit

    def read(self, text: str, language: str = "en") -> Reading:
        """The most urgent hit in `text`, and the text without its figures of speech (unchanged when it has none)."""
        doc = self._doc(text, language)
        keys = self.matcher(doc)
        negated: Set[int] = set()  # the words of signs said not to be there
        by_level: Dict[str, PatternHit] = {}
        for hit in self._hits(doc, keys, negated):
            by_level.setdefault(hit.level, hit)
        # The risk model reads neither figures of speech nor negated signs: "no chest pain, just exhausted".
        figures = {i for key, start, end in keys if self.patterns[key][0] == FIGURES for i in range(start, end)} | negated
        literal = "".join(t.text_with_ws for t in doc if t.i not in figures).strip() if figures else text
        return Reading(next((by_level[level] for level in LEVELS if level in by_level), None), literal)

    def _doc(self, text: str, language: str):
        doc = self.nlp(normalise(text[:MAX_CHARS]))
        # Typos are read as English words only in English: in French "soeur" is a sister, not "slur".
        for token in doc if language == "en" else ():
            correction = self.typos.correct(token.lower_)
            if correction:
                token.lemma_ = correction  # the lemma is what the patterns match
        return doc

    def _hits(self, doc, keys: List[Tuple[str, int, int]], negated: Set[int]) -> Iterator[PatternHit]:
        """The hits not dropped by an ignore span, history or a negation; adds the negated signs' words to `negated`."""
        ignored = [(start, end, self.scopes.get(key)) for key, start, end in keys if self.patterns[key][0] == IGNORE]
        recovered = None
        for key, start, end in keys:
            level, language, line = self.patterns[key]
            dropped = any(s <= start and end <= e and (scope is None or level in scope) for s, e, scope in ignored)
            if level in DATED_LEVELS and not dropped:
                dropped = is_history(doc, start, end)
            if level == "emergency":
                listed = start > 1 and doc[start - 1].lower_ in ALTERNATIVES and start - 2 in negated  # "no X or Y"
                negation = start if listed else negation_before(doc, start, end)
                if negation is not None:
                    dropped = True
                    negated.update(range(negation, negated_list_end(doc, negation)))
            if level == "crisis" and not dropped and is_history(doc, start, end, clause_only=True):
                recovered = bool(RECOVERY.search(doc.text)) if recovered is None else recovered
                level = "distress" if recovered else level
            if level in LEVELS and not dropped:
                yield PatternHit(level, language, line, doc[start:end].text)


# A token spec of a compiled pattern: (attribute, the values it accepts), or None for one optional word of a gap.
Spec = Optional[Tuple[str, FrozenSet[str]]]


class FirstWordMatcher:
    """Finds every (key, start, end) where a compiled token pattern matches, as spaCy's Matcher does, but tries at
    each token only the patterns whose first word it is, and only those whose other words are all in the message.
    spaCy's Matcher tries every pattern at every token and tests `IN` sets in Python: with this many patterns that
    cost about 1 ms of CPU per token."""

    ATTRIBUTES = {"LEMMA": "lemma_", "LOWER": "lower_"}

    def __init__(self) -> None:
        self.rests: List[Tuple[str, Tuple[Spec, ...]]] = []  # (key, the specs after the first word)
        self.by_first_word: Dict[Tuple[str, str], List[int]] = {}  # (attribute, value) -> indexes into rests

    def add(self, key: str, patterns: List[List[dict]]) -> None:
        for pattern in patterns:
            specs = tuple(self._spec(token) for token in pattern)
            if specs[0] is None:
                raise ValueError(f"pattern {key} starts with a gap")
            attribute, values = specs[0]
            self.rests.append((key, specs[1:]))
            for value in values:
                self.by_first_word.setdefault((attribute, value), []).append(len(self.rests) - 1)

    def __call__(self, doc: Doc) -> List[Tuple[str, int, int]]:
        words = {attribute: [getattr(token, name) for token in doc] for attribute, name in self.ATTRIBUTES.items()}
        present = {attribute: set(values) for attribute, values in words.items()}
        viable: Dict[int, bool] = {}  # pattern index -> all its words are somewhere in the message
        found: Set[Tuple[str, int, int]] = set()
        for i in range(len(doc)):
            for attribute, values in words.items():
                for index in self.by_first_word.get((attribute, values[i]), ()):
                    key, rest = self.rests[index]
                    if index not in viable:
                        viable[index] = all(spec is None or not spec[1].isdisjoint(present[spec[0]]) for spec in rest)
                    if viable[index]:
                        found.update((key, i, end) for end in self._ends(words, rest, i + 1))
        return sorted(found, key=lambda match: (match[1], match[2], match[0]))

    @staticmethod
    def _ends(words: Dict[str, List[str]], specs: Tuple[Spec, ...], start: int) -> List[int]:
        """Every end of a match of `specs` from token `start` on."""
        length, ends, todo = len(words["LOWER"]), [], [(0, start)]
        while todo:
            k, i = todo.pop()
            if k == len(specs):
                ends.append(i)
                continue
            spec = specs[k]
            if spec is None:  # a gap's word: skipped, or one token
                todo.append((k + 1, i))
                if i < length:
                    todo.append((k + 1, i + 1))
            elif i < length and words[spec[0]][i] in spec[1]:
                todo.append((k + 1, i + 1))
        return ends

    @classmethod
    def _spec(cls, token: dict) -> Spec:
        if token == {"OP": "?"}:
            return None
        ((attribute, condition),) = token.items()
        if attribute not in cls.ATTRIBUTES or set(condition) != {"IN"}:
            raise ValueError(f"unsupported token spec {token}")
        return attribute, frozenset(condition["IN"])


def is_history(doc, start: int, end: int, clause_only: bool = False) -> bool:
    """True when doc[start:end] is told as history: its sentence (bounded by . ! ? ; and line breaks) is dated in
    the past before the match or in the match's own clause ("I had a clot two years ago"; not "chest pain, I
    had a heart attack in 2019"), and no word of the sentence (with `clause_only`, of the text up to the end of
    the match's clause) speaks of the present."""
    first, last = start, end
    while first > 0 and doc[first - 1].text not in SENTENCE_ENDS and "\n" not in doc[first - 1].text:
        first -= 1
    while last < len(doc) and doc[last].text not in SENTENCE_ENDS and "\n" not in doc[last].text:
        last += 1
    clause_end = next((i for i in range(end, last) if doc[i].text == ","), last)
    told = [token.lower_ for token in doc[first : clause_end if clause_only else last]]
    return not speaks_of_present(told) and dated_in_the_past([token.lower_ for token in doc[first:clause_end]])


def negation_before(doc, start: int, end: int) -> Optional[int]:
    """Where a negation comes right before doc[start:end] ("no chest pain", "I don't have any chest pain", "pas de
    raideur de la nuque"), or None; "never ... like this" says the sign is new, not absent, and a negation does not
    reach past a clause break ("no fever but my neck is stiff"; "no fever, no stiff neck" is negated twice)."""
    last_break = max((t.i for t in doc[start:end] if breaks_clause(t)), default=None)
    if last_break is not None and not any(t.lower_ in NEGATIONS for t in doc[last_break + 1 : last_break + 4]):
        return None  # the match's last part is not negated
    words = 0
    for token in reversed(doc[max(0, start - 6) : start]):
        if breaks_clause(token):
            return None
        if token.lower_ in NEGATIONS:
            new = token.lower_ == "never" and any(t.lower_ in NEW_SIGN for t in doc[end : clause_end(doc, end)])
            return None if new else token.i
        if token.lower_ not in NEGATION_FILLERS:
            words += 1
            if words == 2:
                return None
    return None


def negated_list_end(doc, i: int) -> int:
    """The end of a list of negated clauses from doc[i]: "no chest pain, no fainting, no swelling"."""
    end = clause_end(doc, i)
    while end + 1 < len(doc) and doc[end].text == "," and doc[end + 1].lower_ in NEGATIONS:
        end = clause_end(doc, end + 1)
    return end


def clause_end(doc, i: int) -> int:
    """The index of the first clause break from doc[i] on (or the end of the doc)."""
    return next((t.i for t in doc[i:] if breaks_clause(t)), len(doc))


def breaks_clause(token) -> bool:
    return token.lower_ in CLAUSE_BREAKS or "\n" in token.text


def speaks_of_present(words: Sequence[str]) -> bool:
    """A word of the present ("now", "again", "still", a present-tense verb) or "this morning/week"."""
    present = {word for i, word in enumerate(words) if word in PRESENT_WORDS and not _not_a_present_sign(words, i)}
    if present == {"since"} and all(_since_then(words, i) for i, word in enumerate(words) if word == "since"):
        present = set()  # "long since sorted", "all fine since", "since then": since that time, not since this morning
    return bool(present) or ("this" in words and bool(THIS_PERIODS & set(words)))


def _not_a_present_sign(words: Sequence[str], i: int) -> bool:
    """True when words[i] is "am", "is", "feel"... followed by a feeling ("I'm a bit nervous"), asks "is there", or
    is the "now" of "fine now"."""
    after = [word for word in words[i + 1 : i + 5] if word not in FEELING_FILLERS]
    if words[i] == "now" and words[i - 1 : i] and words[i - 1] in RESOLVED:
        return True  # "all sorted now", "fine now": the event is over
    return words[i] in FEELING_VERBS and bool(after) and (after[0] in FEELINGS or after[0] == "there")  # "are there risks?"


def _since_then(words: Sequence[str], i: int) -> bool:
    return i + 1 == len(words) or words[i + 1] in (",", ")", "then") or words[i - 1 : i] == ["long"]


def dated_in_the_past(words: Sequence[str], this_year: Optional[int] = None) -> bool:
    """True when the words are dated in the past ("years ago", "last year", "back in", "in 2015", "as a kid",
    "hace dos anos", "il y a trois ans") and have no word of the present."""
    if speaks_of_present(words):
        return False
    this_year = this_year or datetime.date.today().year
    for i, word in enumerate(words):
        before, after = words[max(0, i - 3) : i], words[i + 1 : i + 5]
        if word in ("ago", "back") and LONG_AGO_UNITS & set(before):
            return True  # "two years ago", "a few months back"
        if word == "ago" and {"months", "month"} & set(before) and MANY_MONTHS & set(before):
            return True  # "eighteen months ago"
        if word in ("last", "that") and after[:1] and (after[0] in LAST_PERIODS or (word == "last" and after[0] == "month")):
            return True  # "last year", "last month", "later that year"
        if words[i : i + 2] in (["when", "i"], ["when", "he"], ["when", "she"]) and words[i + 2 : i + 3] == ["was"]:
            age = after[2:4]  # "17", "little", "a teenager"
            if age and (age[0].isdigit() or age[0] in CHILDHOOD | YOUNG or age[1:] and age[1] in CHILDHOOD):
                return True  # "when I was 17", "when she was little"
        if word == "back" and after[:1] and after[0] in ("in", "when"):
            return True
        year = after[1:2] if after[:1] and after[0] in MONTHS else after[:1]  # "in 2015", "in May 2022"
        if word in ("in", "en", "from") and year and year[0].isdigit() and FIRST_YEAR <= int(year[0]) < this_year:
            return True
        if word == "as" and after[:2] and after[0] == "a" and after[1:2] and after[1] in CHILDHOOD:
            return True
        if word == "in" and after[:1] in (["my"], ["his"], ["her"]) and AGE_DECADES & set(after[1:3]):
            return True  # "in my early twenties"
        if (word == "hace" or words[i - 1 : i + 2] == ["il", "y", "a"]) and OTHER_LANGUAGE_YEARS & set(after):
            return True
        if word in ("pasado", "dernier", "derniere") and {"ano", "an", "l'an", "annee", "l'annee"} & set(before):
            return True
    return False


def told_as_recovered(passage: str) -> bool:
    """Crisis words told as history with a recovery, as a passage the risk model raised: its first clause dated in
    the past ("I had dark thoughts a few years back, ...") and a recovery said ("... doing well now")."""
    text = normalise(passage)
    first_clause = re.split(r"[,;.!?]", text, maxsplit=1)[0]
    return bool(RECOVERY.search(text)) and dated_in_the_past(re.findall(r"[\w']+", first_clause))


def normalise(text: str) -> str:
    """Lowercase, typographic apostrophes made plain, accents removed, so lemmas and patterns line up."""
    return strip_accents(text.lower().replace("\u2019", "'").replace("\u2018", "'"))
