"""Which language a message is written in: English, or one the assistant can at least point onward.

The assistant answers in English. A message in another language gets a short note in that language
(where the content has it) saying so, with the suggested questions and the clinic contact; an urgent
message gets the key line of its urgent reply in that language. A few hundred everyday function words
per language decide; short or mixed messages default to English, so "ok", "ivig?" or a drug name
never switch the language.
"""

import re
import unicodedata
from typing import Dict, FrozenSet

FUNCTION_WORDS: Dict[str, FrozenSet[str]] = {
    "en": frozenset(
        "the a an and or but is are was were be been i you he she it we they my your his her our their me "
        "what how why when where who which do does did can could should would will have has had not no "
        "this that these those to of in on for with about from at by if so just there get got".split()
    ),
    "es": frozenset(
        "el la los las un una unos unas y o pero es son esta estan estoy fue ser yo tu usted el ella "
        "nosotros ellos mi mis su sus que como por para con sin sobre de del al en lo le les se me te "
        "porque cuando donde quien cual puedo puede tengo tiene hay muy mas pero tambien ya si no "
        "esto eso ese esa este".split()
    ),
    "fr": frozenset(
        "le la les un une des et ou mais est sont etait etre je tu il elle nous vous ils elles mon ma mes "
        "ton tes son sa ses notre votre leur que qui quoi comment pourquoi quand ou pour avec sans sur "
        "de du au aux en dans ce cette ces ne pas plus tres aussi deja si oui non peux peut ai avez a "
        "suis veux sens j c qu l d n s est-ce".split()
    ),
    "de": frozenset(
        "der die das ein eine und oder aber ist sind war ich du er sie es wir ihr mein meine dein sein "
        "was wie warum wann wo wer kann konnen habe hat nicht kein mit fur von zu auf bei ist".split()
    ),
    "pt": frozenset(
        "o a os as um uma e ou mas sao estou eu voce ele ela nos eles meu minha seu sua que como "
        "por para com sem sobre do da dos das no na em nao sim muito tambem posso pode tenho tem isso".split()
    ),
    "it": frozenset(
        "il lo la gli le un una e o ma sono ero io tu lui lei noi voi loro mio mia suo sua che come "
        "perche quando dove chi posso puo ho ha non si molto anche con per di del della nel questo".split()
    ),
}
# Words that alone say the language (greetings, thanks, question words, "say it simpler"): they count double.
MARKER_WORDS: Dict[str, FrozenSet[str]] = {
    "es": frozenset(
        "hola gracias buenas buenos adios cuanto cuanta cuesta ayuda puedo necesito sencillo entiendo dimelo explicalo".split()
    ),
    "fr": frozenset("bonjour bonsoir merci beaucoup salut combien coute aide besoin simplement expliquez comprends svp stp".split()),
    "de": frozenset("hallo danke welche wieviel kostet hilft".split()),
    "pt": frozenset("ola obrigado obrigada quanto custa ajuda".split()),
    "it": frozenset("grazie quali quanto costa aiuta sei".split()),
}
WORD = re.compile(r"[a-zñçàâäéèêëîïôöûüùœáíóúã']+")
SPANISH_MARKS = re.compile(r"[¿¡ñ]")
MIN_WORDS = 2  # at least this many function words of a language before it can outvote English
# Shorter messages ("gracias", "bonjour!", "ciao for now") stay English: the classifier knows them as small
# talk, and a language note in reply to "thanks" would be a dead end.
MIN_MESSAGE_WORDS = 3


def strip_accents(text: str) -> str:
    """Accents removed ("dépression" -> "depression"), so a word typed with or without them reads the same."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def detect_language(text: str) -> str:
    """`en` unless another language's function words clearly outnumber English ones."""
    lowered = text.lower()
    plain = strip_accents(lowered)
    words = [w.strip("'") for w in WORD.findall(plain.replace("'", "' "))]
    if len(words) < MIN_MESSAGE_WORDS:
        # "¿cuánto cuesta?" is short but cannot be English
        return "es" if SPANISH_MARKS.search(lowered) and "?" in lowered or "¡" in lowered else "en"
    counts = {
        language: sum(w in vocabulary for w in words) + 2 * sum(w in MARKER_WORDS.get(language, ()) for w in words)
        for language, vocabulary in FUNCTION_WORDS.items()
    }
    if SPANISH_MARKS.search(lowered):
        counts["es"] += 2
    best = max(counts, key=lambda language: (counts[language], language == "en"))
    if best != "en" and counts[best] >= MIN_WORDS and counts[best] > counts["en"]:
        return best
    return "en"
