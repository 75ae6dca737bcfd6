"""The triage decision for one message: patterns first, then the learned risk model.

The decision names the level (or None), what raised it, and the language of the message, so the
reply can give its key line in that language too.
"""

import dataclasses
from typing import Any, Dict, Optional

from bot.nlp.language import detect_language
from bot.triage.patterns import MAX_CHARS, PatternMatcher, told_as_recovered
from bot.triage.risk import RiskModel

DISTRESS = "distress"
CRISIS = "crisis"


@dataclasses.dataclass(frozen=True)
class TriageDecision:
    level: Optional[str]  # one of LEVELS, or None: go on to topic understanding
    source: str  # "pattern", "risk_model" or "" (no level)
    language: str  # "en", "es", "fr", ... (the language of the message)
    evidence: str = ""  # the pattern or the sentence that raised the level

    def as_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


class Triage:
    """Reads the whole message; a pattern hit wins (unless it is only distress and the risk model finds more), else
    the risk model may raise a level."""

    def __init__(self, patterns: PatternMatcher, risk: Optional[RiskModel] = None, encoder=None):
        self.patterns = patterns
        self.risk = risk
        self.encoder = encoder

    def decide(self, text: str) -> TriageDecision:
        text = text[:MAX_CHARS]  # the same bound for every part, so an oversized message costs a bounded time
        language = detect_language(text)
        reading = self.patterns.read(text, language)
        hit = reading.hit
        if hit is not None:
            language = hit.language if hit.language != "en" else language
            if hit.level != DISTRESS:
                return TriageDecision(hit.level, "pattern", language, hit.pattern)
        # Distress words do not rule out more: "I've been struggling ... I started burning my arm" is a crisis.
        # A message without a letter ("...", "??", "👍") carries nothing the risk model can read; its vote on one is noise.
        # The model reads the message without its figures of speech ("this fog is killing me", "dying to know").
        if self.risk is not None and self.encoder is not None and any(c.isalpha() for c in reading.literal):
            risk = self.risk.assess(self.encoder, reading.literal, language)
            if risk is not None and risk.level == CRISIS and told_as_recovered(risk.sentence):
                # As for the patterns: "suicidal years back, got help, much better now" gets the gentle reply.
                risk = dataclasses.replace(risk, level=DISTRESS)
            if risk is not None and (hit is None or risk.level != DISTRESS):
                return TriageDecision(risk.level, "risk_model", language, risk.sentence)
        if hit is not None:
            return TriageDecision(hit.level, "pattern", language, hit.pattern)
        return TriageDecision(None, "", language)
