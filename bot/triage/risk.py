"""The learned part of the triage: a risk model on sentence embeddings, for indirect phrasing.

"Everyone would be better off without me" or "I counted out my pills" carry no fixed keyword; a
pattern list cannot hold every way of saying them, but their sentence embeddings lie close to the
examples of their level. A multinomial logistic regression (levels + `none`) is trained on
risk_examples.yml and on every topic example of the NLU data (as `none`), without class balancing: the
thousands of ordinary examples keep it quiet on everyday words (balanced classes tripled the false alarms
on the first blind safety set for no gain in recall at the same threshold).

It only ever raises a level when its probability clears THRESHOLD, sentence by sentence, so
everyday words stay quiet; the deterministic patterns remain the guarantee for what must never be
missed.
"""
import dataclasses
import pathlib
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot.triage.patterns import LEVELS

EXAMPLES_FILE = pathlib.Path(__file__).parent / "risk_examples.yml"
NONE = "none"
CLASSES: Tuple[str, ...] = (NONE, *LEVELS)
# Probability a sentence needs before the model raises a level, chosen on blind safety set A (0.5, 0.7 and
# 0.9 compared; tests/blind/README.md). Higher is quieter on everyday words, lower catches more indirect phrasing.
THRESHOLD = 0.5
# A long message is read sentence by sentence (and as a whole); beyond this many sentences the
# model stops (the patterns still read every word up to their bound): about 1 s of CPU at most.
MAX_SENTENCES = 40
SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+|\n+")


@dataclasses.dataclass(frozen=True)
class RiskHit:
    level: str
    probability: float
    sentence: str


def load_examples(path: pathlib.Path = EXAMPLES_FILE) -> Dict[str, List[str]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(raw) - set(CLASSES)
    if unknown:
        raise ValueError(f"{path}: unknown levels {sorted(unknown)}")
    return {level: [str(t) for t in raw.get(level) or []] for level in CLASSES}


def sentences(text: str) -> List[str]:
    """The message, then its sentences when it has several (at most MAX_SENTENCES)."""
    parts = [p.strip() for p in SENTENCE_END.split(text) if p and p.strip()]
    return [text.strip(), *parts[:MAX_SENTENCES]] if len(parts) > 1 else [text.strip()]


class RiskModel:
    """Level probabilities of a text from its sentence embeddings."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: Sequence[str] = CLASSES):
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.classes = tuple(classes)

    @classmethod
    def train(cls, encoder, examples: Dict[str, List[str]], ordinary: Iterable[str] = ()) -> "RiskModel":
        from sklearn.linear_model import LogisticRegression

        texts, labels = [], []
        for level, items in examples.items():
            texts += items
            labels += [level] * len(items)
        extra = sorted(set(ordinary) - set(texts))
        texts += extra
        labels += [NONE] * len(extra)
        model = LogisticRegression(C=10.0, max_iter=3000)
        model.fit(encoder.encode(texts), labels)
        order = [list(model.classes_).index(c) for c in CLASSES]
        return cls(model.coef_[order], model.intercept_[order])

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def assess(self, encoder, text: str, threshold: float = THRESHOLD) -> Optional[RiskHit]:
        """The most urgent level any sentence of `text` reaches, or None."""
        parts = sentences(text)
        probabilities = self.probabilities(encoder.encode(parts))
        for level in LEVELS:
            column = probabilities[:, self.classes.index(level)]
            best = int(column.argmax())
            if column[best] >= threshold:
                return RiskHit(level, float(column[best]), parts[best])
        return None

    def save(self, path: pathlib.Path) -> None:
        np.savez(path, coef=self.coef, intercept=self.intercept, classes=np.array(self.classes))

    @classmethod
    def load(cls, path: pathlib.Path) -> "RiskModel":
        data = np.load(path)
        return cls(data["coef"], data["intercept"], [str(c) for c in data["classes"]])
