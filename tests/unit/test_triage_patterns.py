"""The deterministic triage alone (no Rasa): hand-written cases per level, the grammar, the whole message."""

import pytest

from bot.triage.patterns import LEVELS, PatternMatcher, compile_pattern, dated_in_the_past


@pytest.fixture(scope="module")
def matcher(nlp):
    return PatternMatcher.from_file(nlp)


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_is_caught(matcher, triage_cases, level):
    assert triage_cases.get(level), f"triage_cases.yml has no cases for {level}"
    wrong = [(text, getattr(matcher.detect(text), "level", None)) for text in triage_cases[level]]
    assert [(text, got) for text, got in wrong if got != level] == []


def test_everyday_messages_raise_no_level(matcher, triage_cases):
    raised = [(text, hit.level, hit.pattern) for text in triage_cases["none"] if (hit := matcher.detect(text))]
    assert raised == []


def test_a_red_flag_far_into_a_long_message(matcher):
    story = "I have had Long COVID for two years and I am reading about IVIG and my insurance. " * 40
    assert len(story) > 2000
    assert matcher.detect(story) is None
    assert matcher.detect(story + " Also my throat is closing up right now.").level == "emergency"


def test_a_red_flag_far_past_the_cut_is_read_and_the_reading_is_bounded(matcher):
    from bot.triage.patterns import MAX_CHARS

    filler = "ordinary words about fatigue. " * (MAX_CHARS // 50)  # 0.6 of the bound
    assert len(filler) > 4 * 2000
    assert matcher.detect(filler + "i swallowed a whole bottle of tylenol").level == "poisoning"
    assert matcher.detect(filler * 2 + "i swallowed a whole bottle of tylenol") is None
    assert len(filler * 2) > MAX_CHARS


def test_the_first_word_matcher_finds_every_match_spacys_matcher_finds(nlp, matcher, triage_cases):
    """Same (pattern, start, end) triples as spaCy's own Matcher over the real patterns and every case text."""
    from spacy.matcher import Matcher

    reference = Matcher(nlp.vocab)
    for key, patterns in matcher.compiled.items():
        reference.add(key, patterns)
    texts = [text for cases in triage_cases.values() for text in cases]
    texts.append(" ".join(texts[:200]))  # one long message with many matches, some overlapping
    for text in texts:
        doc = matcher._doc(text, "en")
        expected = {(nlp.vocab.strings[key], start, end) for key, start, end in reference(doc)}
        assert set(matcher.matcher(doc)) == expected, text
    assert sum(1 for text in texts[:50] if matcher.matcher(matcher._doc(text, "en"))) > 25  # the check compared real matches


def test_a_misspelling_listed_in_one_line_is_read_in_every_line_with_its_word(nlp):
    matcher = PatternMatcher(nlp, {"emergency": {"en": ["worst headache", "headache|hedache ... stiff neck"]}})
    assert matcher.detect("worst hedache of my life").level == "emergency"
    assert matcher.detect("worst headache of my life").level == "emergency"
    assert matcher.detect("worst heartache of my life") is None  # an English word is never read as another


def test_a_gap_gives_every_end_and_no_pattern_starts_with_one(nlp):
    matcher = PatternMatcher(nlp, {"emergency": {"en": ["chest ... pain"]}})
    doc = matcher._doc("chest pain and pain", "en")
    assert [(start, end) for _, start, end in matcher.matcher(doc)] == [(0, 2), (0, 4)]
    with pytest.raises(ValueError):
        matcher.matcher.add("odd", [[{"OP": "?"}, {"LEMMA": {"IN": ["pain"]}}]])


def test_grammar_alternatives_optional_words_and_gaps(nlp):
    matcher = PatternMatcher(nlp, {"emergency": {"en": ["sharp? chest pain|pressure", "can't ... breathe"]}})
    assert matcher.detect("sharp chest pressure").level == "emergency"
    assert matcher.detect("Chest pains since lunch").level == "emergency"  # lemma match
    assert matcher.detect("I can't really properly breathe").level == "emergency"
    assert matcher.detect("I can't go out, hard to breathe") is None  # gap longer than three words
    # single-word alternatives share one token spec: only the optional word doubles the patterns
    assert len(compile_pattern(nlp, "sharp? chest pain|pressure")) == 2


def test_most_urgent_level_wins_and_ignore_spans_drop_a_match(nlp):
    matcher = PatternMatcher(
        nlp,
        {
            "emergency": {"en": ["can't breathe"]},
            "crisis": {"en": ["want to die", "killing me"]},
            "poisoning": {"en": ["took 20 pills"]},
            "ignore": {"en": ["paperwork is killing me"]},
        },
    )
    assert matcher.detect("i can't breathe and i want to die").level == "crisis"
    assert matcher.detect("i took 20 pills and want to die").level == "poisoning"
    assert matcher.detect("this paperwork is killing me") is None
    assert matcher.detect("this paperwork is killing me and i want to die").level == "crisis"


def test_a_scoped_ignore_drops_only_its_levels(nlp):
    matcher = PatternMatcher(
        nlp,
        {
            "crisis": {"en": ["'ll take everything"]},
            "poisoning": {"en": ["take everything"]},
            "ignore": {"en": ["[poisoning] 'll take everything"]},
        },
    )
    assert matcher.detect("i took everything").level == "poisoning"
    assert matcher.detect("i'll take everything").level == "crisis"
    with pytest.raises(ValueError, match="unknown levels"):
        PatternMatcher(nlp, {"ignore": {"en": ["[panic] take everything"]}})


@pytest.mark.parametrize(
    "sentence, dated",
    [
        ("two years ago i had a clot in my leg", True),
        ("back in 2019 i had anaphylaxis", True),
        ("in 2015 he ended up in the er", True),
        ("as a kid i swallowed bleach", True),
        ("hace dos anos tuve un coagulo", True),
        ("il y a trois ans j'ai fait une phlebite", True),
        ("l'annee derniere j'ai fait un avc", True),
        ("i took 30 pills an hour ago", False),
        ("my last infusion was two months ago", False),
        ("two years ago i had a clot and now my leg is swollen", False),
        ("in 2026 i had chest pain", False),
        ("dolor en el pecho y tengo 40 anos", False),
        ("i took an overdose when i was 17", True),
        ("when she was a teenager she swallowed bleach", True),
        ("about eighteen months ago i had a clot", True),
        ("later that year i took too many tablets", True),
        ("last month i went to a&e with chest pain", True),
        ("when i was at the infusion i fainted", False),
        ("three months ago i had a clot", False),
        ("five years ago i had a clot , and i 'm a bit nervous", True),  # a feeling now, not the sign
        ("five years ago i had a clot , and i 'm in pain", False),
    ],
)
def test_history_dated_in_the_past(sentence, dated):
    assert dated_in_the_past(sentence.split(), this_year=2026) is dated


def test_accents_and_language_of_the_hit(nlp):
    matcher = PatternMatcher(nlp, {"crisis": {"fr": ["veux mourir"], "es": ["quiero morir"]}})
    assert matcher.detect("Je VEUX mourir").language == "fr"
    assert matcher.detect("quiero morír").language == "es"


def test_unknown_levels_and_languages_are_refused(tmp_path):
    from bot.triage.patterns import load_patterns

    (tmp_path / "p.yml").write_text("panic:\n  en: [help]\n")
    with pytest.raises(ValueError, match="unknown triage levels"):
        load_patterns(tmp_path / "p.yml")
    (tmp_path / "p.yml").write_text("emergency:\n  en:\n    - pulse ... #150-299\n")
    with pytest.raises(ValueError, match="quote patterns"):
        load_patterns(tmp_path / "p.yml")
    (tmp_path / "p.yml").write_text("crisis:\n  de: [sterben]\n")
    with pytest.raises(ValueError, match="unknown languages"):
        load_patterns(tmp_path / "p.yml")


# --- the pattern file itself ---------------------------------------------------------------------


def test_the_case_file_has_exactly_the_levels_and_enough_cases(triage_cases):
    assert set(triage_cases) == {*LEVELS, "none"}
    for level in ("poisoning", "crisis", "emergency"):
        assert len(triage_cases[level]) >= 40, level
    seen = {}
    for level, texts in triage_cases.items():
        for text in texts:
            assert text not in seen, f"{text!r} is listed under {seen[text]} and {level}"
            seen[text] = level


@pytest.mark.parametrize("language", ["es", "fr"])
@pytest.mark.parametrize("level, minimum", [("emergency", 15), ("crisis", 15), ("poisoning", 8), ("distress", 8)])
def test_spanish_and_french_patterns_for_every_level(level, minimum, language):
    from bot.triage.patterns import load_patterns

    assert len(load_patterns()[level].get(language) or []) >= minimum


def test_patterns_are_accent_free_and_every_alternative_can_match(nlp):
    """Accents are removed from messages, so an accented pattern word could never match; and an
    alternative that spaCy splits at a bare apostrophe ("'m" -> "'", "m") never meets that split in a
    message ("I'm" -> "i", "'m")."""
    import unicodedata

    from bot.triage.patterns import GAP, WORDS, load_patterns

    problems = []
    patterns = load_patterns()
    classes = {name.lower(): words for name, words in patterns[WORDS].items()}
    for level in (*LEVELS, "ignore"):
        for language, lines in (patterns.get(level) or {}).items():
            for line in lines:
                if any(unicodedata.combining(c) for c in unicodedata.normalize("NFKD", line)):
                    problems.append((level, language, line, "accent"))
                for word in line.split():
                    if word == GAP:
                        continue
                    for alternative in word.rstrip("?").split("|"):
                        tokens = [t.text for t in nlp.make_doc(alternative)]
                        if not alternative or (len(tokens) > 1 and "'" in tokens):
                            problems.append((level, language, line, alternative or "empty alternative"))
                if not all(compile_pattern(nlp, line, classes)):
                    problems.append((level, language, line, "matches the empty sequence"))
    assert problems == []


def test_french_elisions_are_single_tokens(nlp):
    """The writing rule of patterns.yml: "n'arrive", "s'est", "j'ai" are one token each."""
    assert [t.text for t in nlp.make_doc("je n'arrive pas")] == ["je", "n'arrive", "pas"]
    assert [t.text for t in nlp.make_doc("il s'est evanoui")] == ["il", "s'est", "evanoui"]
    assert [t.text for t in nlp.make_doc("j'ai pris")] == ["j'ai", "pris"]


@pytest.mark.parametrize(
    "text",
    [
        "je n'arrive pas à respirer",
        "je n’arrive pas a respirer",
        "j'arrive pas à respirer",
        "jarrive pas a respirer",
        "il s'est évanoui",
        "elle s’est évanouie",
        "j'ai pris toutes mes pilules",
        "jai pris toutes mes pilules",
        "j'ai envie d'en finir",
    ],
)
def test_french_with_and_without_elisions(matcher, text):
    hit = matcher.detect(text)
    assert hit is not None and hit.language == "fr"


# --- what the lemma cannot tell: the tense -------------------------------------------------------


@pytest.mark.parametrize(
    "text, level",
    [
        # intent is crisis, the same words in the past are poisoning ("took" and "take" share a lemma)
        ("I'm thinking about taking all my pills", "crisis"),
        ("I took all my pills", "poisoning"),
        ("i want to drink bleach", "crisis"),
        ("i drank bleach", "poisoning"),
        ("I'm going to take the whole bottle tonight", "crisis"),
        ("she took the whole bottle", "poisoning"),
        ("thinking about an overdose", "crisis"),
        ("I overdosed", "poisoning"),
        ("quiero tomarme todas las pastillas", "crisis"),
        ("me tomé todas las pastillas", "poisoning"),
        ("je pense à avaler toute la boîte", "crisis"),
        ("j'ai avalé toute la boîte", "poisoning"),
        # habits and duties are nothing
        ("I forgot to take all my pills", None),
        ("I take 10 pills a day", None),
        ("I took all my meds this morning like usual", None),
    ],
)
def test_the_tense_decides_between_crisis_and_poisoning(matcher, text, level):
    assert getattr(matcher.detect(text), "level", None) == level


# --- ignore spans: narrow, and never hiding a real red flag beside them ---------------------------


@pytest.mark.parametrize(
    "text, level",
    [
        ("this paperwork is killing me", None),
        ("this paperwork is killing me and i want to die", "crisis"),
        ("I'm dying to know if it works", None),
        ("I'd kill for a nap", None),
        ("I fainted once last year", None),
        ("I fainted once last year and today I passed out again", "emergency"),
        ("can ivig cause seizures?", None),
        ("can ivig cause seizures? my son is having a seizure now", "emergency"),
        ("can you overdose on ivig?", None),
        ("what if the infusion is too much", None),
        ("what's the lethal dose of IVIG", "crisis"),
        ("what's the risk of blood clots with ivig", None),
        ("I don't want to die from this disease", None),
        ("I don't want to die from this disease, I want to die tonight", "crisis"),
        ("me muero de ganas de saber si funciona", None),
        ("je meurs d'envie de savoir si ça marche", None),
    ],
)
def test_figures_of_speech_and_questions_stay_quiet_but_not_a_red_flag_beside_them(matcher, text, level):
    assert getattr(matcher.detect(text), "level", None) == level


def test_word_classes_and_number_ranges(nlp):
    matcher = PatternMatcher(
        nlp,
        {
            "words": {"drug": ["tylenol", "gabapentin"]},
            "poisoning": {"en": ["took ... #8-200 ... $DRUG|pills"]},
            "emergency": {"en": ["pulse ... #150-299"]},
        },
    )
    assert matcher.detect("I took 30 of my gabapentin").level == "poisoning"
    assert matcher.detect("took 2 tylenol") is None
    assert matcher.detect("my pulse is 185bpm").level == "emergency"
    assert matcher.detect("my pulse is 95") is None
    with pytest.raises(ValueError, match="unknown word class"):
        PatternMatcher(nlp, {"crisis": {"en": ["$NOPE"]}})


def test_figures_of_speech_are_left_out_of_what_the_risk_model_reads(matcher):
    reading = matcher.read("This brain fog is killing me, does ivig help?")
    assert reading.hit is None and "killing" not in reading.literal and "brain fog" in reading.literal
    assert "dying" not in matcher.read("I'm dying to know if it works").literal
    assert matcher.read("ce brouillard me tue", "fr").literal == ""
    # Figures change nothing for the patterns, and a message without one is read as written.
    assert matcher.read("this fog is killing me and i want to die").hit.level == "crisis"
    assert matcher.read("What is IVIG?").literal == "What is IVIG?"
