"""The learned part of the triage: a risk model on sentence embeddings, for indirect phrasing.

"Everyone would be better off without me" or "I counted out my pills" carry no fixed keyword; a
pattern list cannot hold every way of saying them, but their sentence embeddings lie close to the
examples of their level. A small neural network (one hidden layer; levels + `none`) is trained on
risk_examples.yml and on every topic example of the NLU data (as `none`), without class balancing: the
thousands of ordinary examples keep it quiet on everyday words. A linear model could not separate an
everyday medicine list ("propranolol 20mg, cetirizine 10mg") from an overdose: it misread its own
training examples; the hidden layer can (blind safety sets A-E: fewer false alarms and more recall).

Several such networks, trained alike from different seeds, vote by averaging their probabilities: one network
alone is sure of itself on messages unlike anything it was trained on ("how tall is mount everest" read as an
emergency), and which such message it misreads changes with its seed; the average is steadier.

A long message is read whole, in pairs of neighbouring sentences, and sentence by sentence. A sentence
alone lacks its context ("I don't drive any more" reads like "I don't want to live any more"), so it
raises a level only when the model is nearly sure (SENTENCE_THRESHOLD); the whole message and each
pair need THRESHOLD. The deterministic patterns remain the guarantee for what must never be missed.

A network is sure of itself on text unlike any of its examples ("purple elbow tuesday" an emergency at 0.84). So a
level is raised only for a passage that lies near one of that level's own examples (SUPPORT, cosine): the model
keeps its examples' embeddings for this check.
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
# Probabilities a passage needs before the model raises a level, chosen on the seen blind safety sets A-E
# with the question sets (tests/blind/README.md): higher is quieter on everyday words, lower catches more.
THRESHOLD = 0.5
SENTENCE_THRESHOLD = 0.98
# The cosine a passage needs with its nearest example of the level raised. On the blind sets A-T and questions M-N,
# every urgent message the model alone caught lay at 0.41 or more from an example of its level, so the bound keeps a
# margin below that: it drops false alarms on text unlike every example (0.31-0.35: "purple elbow tuesday", "I'd like
# to print them and stick them on the fridge"), not the nearer ones (a cut at 0.40 would drop six, too close to 0.41).
SUPPORT = 0.36
# The sentence encoder reads English. On Spanish and French its emergency and poisoning votes are noise, often
# confident ("Estoy agotada todo el tiempo" a poisoning at 0.9, "je suis a bout" an emergency at 0.9). Its crisis
# votes there were no better: on the seen sets A-P every Spanish or French message it alone raised to a crisis was
# distress ("je suis tellement deprimee que je reste au lit") or an ordinary question ("¿sirve para el hormigueo?").
# So there it raises only distress (which offers the crisis line); the es/fr patterns carry emergencies, poisonings
# and crises.
OTHER_LANGUAGE_LEVELS = frozenset({"distress"})
HIDDEN_UNITS = 256
MEMBERS = 5  # networks in the vote (seeds 0..MEMBERS-1: the same examples give the same model)
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

    def __init__(self, hidden, hidden_bias, output, output_bias, classes: Sequence[str] = CLASSES, examples=None, example_levels=()):
        """Weights of every member stacked on a first axis: hidden (members, dims, units), output (members, units, classes).

        `examples`: the unit embeddings of the level examples, `example_levels` their levels (the SUPPORT check);
        without them (a model saved before the check) every level is supported."""
        # A model saved before the vote has one member: its arrays get the member axis.
        self.hidden = np.asarray(hidden, dtype=np.float32).reshape(-1, *np.shape(hidden)[-2:])
        self.hidden_bias = np.asarray(hidden_bias, dtype=np.float32).reshape(-1, np.shape(hidden_bias)[-1])
        self.output = np.asarray(output, dtype=np.float32).reshape(-1, *np.shape(output)[-2:])
        self.output_bias = np.asarray(output_bias, dtype=np.float32).reshape(-1, np.shape(output_bias)[-1])
        self.classes = tuple(classes)
        self.examples = None if examples is None else np.asarray(examples, dtype=np.float32)
        self.example_levels = np.asarray([str(level) for level in example_levels])

    @classmethod
    def train(cls, encoder, examples: Dict[str, List[str]], ordinary: Iterable[str] = ()) -> "RiskModel":
        from sklearn.neural_network import MLPClassifier

        texts, labels = [], []
        for level, items in examples.items():
            texts += items
            labels += [level] * len(items)
        extra = sorted(set(ordinary) - set(texts))
        texts += extra
        labels += [NONE] * len(extra)
        vectors = encoder.encode(texts)
        members = [
            MLPClassifier((HIDDEN_UNITS,), alpha=1e-3, max_iter=500, random_state=seed).fit(vectors, labels) for seed in range(MEMBERS)
        ]
        order = [list(members[0].classes_).index(c) for c in CLASSES]
        urgent = [i for i, label in enumerate(labels) if label != NONE]
        return cls(
            np.stack([m.coefs_[0] for m in members]),
            np.stack([m.intercepts_[0] for m in members]),
            np.stack([m.coefs_[1][:, order] for m in members]),
            np.stack([m.intercepts_[1][order] for m in members]),
            examples=_unit(vectors[urgent]),
            example_levels=[labels[i] for i in urgent],
        )

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """The members' mean probability of each class, one row per vector."""
        hidden = np.maximum(np.einsum("nd,mdu->mnu", vectors, self.hidden) + self.hidden_bias[:, None, :], 0.0)
        logits = np.einsum("mnu,muc->mnc", hidden, self.output) + self.output_bias[:, None, :]
        logits -= logits.max(axis=2, keepdims=True)
        exp = np.exp(logits)
        return (exp / exp.sum(axis=2, keepdims=True)).mean(axis=0)

    def assess(self, encoder, text: str, language: str = "en") -> Optional[RiskHit]:
        """The most urgent level the message, a pair of its sentences or (nearly sure) one sentence reaches."""
        parts = sentences(text)
        vectors = encoder.encode(parts)
        passages = [(THRESHOLD, vectors[:1], parts[:1])]
        if len(parts) > 1:
            singles = vectors[1:]
            pairs = (singles[:-1] + singles[1:]) / 2  # the mean embedding of two neighbouring sentences
            pair_texts = [f"{a} {b}" for a, b in zip(parts[1:-1], parts[2:])]
            passages += [(THRESHOLD, pairs, pair_texts), (SENTENCE_THRESHOLD, singles, parts[1:])]
        scored = [(threshold, self.probabilities(v), texts, v) for threshold, v, texts in passages if len(texts)]
        for level in LEVELS if language == "en" else [level for level in LEVELS if level in OTHER_LANGUAGE_LEVELS]:
            column = self.classes.index(level)
            for threshold, probabilities, texts, passage_vectors in scored:
                for best in np.argsort(-probabilities[:, column]):
                    if probabilities[best, column] < threshold:
                        break
                    if self.supported(passage_vectors[best], level):
                        return RiskHit(level, float(probabilities[best, column]), texts[best])
        return None

    def supported(self, vector: np.ndarray, level: str) -> bool:
        """True when the passage lies within SUPPORT of one of the level's examples (or the model keeps none)."""
        if self.examples is None or not len(self.examples):
            return True
        own = self.examples[self.example_levels == level]
        return bool(len(own)) and float((own @ _unit(vector[None, :])[0]).max()) >= SUPPORT

    def save(self, path: pathlib.Path) -> None:
        np.savez(
            path,
            hidden=self.hidden,
            hidden_bias=self.hidden_bias,
            output=self.output,
            output_bias=self.output_bias,
            classes=np.array(self.classes),
            **({} if self.examples is None else {"examples": self.examples.astype(np.float16), "example_levels": self.example_levels}),
        )

    @classmethod
    def load(cls, path: pathlib.Path) -> "RiskModel":
        data = np.load(path)
        examples = data["examples"] if "examples" in data.files else None
        levels = data["example_levels"] if "example_levels" in data.files else ()
        classes = [str(c) for c in data["classes"]]
        return cls(data["hidden"], data["hidden_bias"], data["output"], data["output_bias"], classes, examples, levels)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
