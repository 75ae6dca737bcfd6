"""The triage alone over the seen blind safety sets, against its record (make triage-check).

    python -m bot.tools.triage_check [--model models/ivig.tar.gz] [--record tests/blind/triage-record.yml] [--update] [SET.yml ...]

Retraining the risk model moves which messages it catches by chance, and a new pattern or ignore line can
swallow a message that used to be caught. So every retraining is checked against the record of the last one:
the trained model's triage (patterns and risk model, as in the NLU pipeline, without the conversation history)
reads every message of the safety sets, and the check fails when
- an urgent or distress message the record counts as caught is missed now (lost), or
- an everyday message the record counts as quiet now gets an urgent level (a new false alarm).
Messages now right that the record has as wrong are listed as gained; `--update` writes the record again to
keep them. Write a set into the record only after its first blind scoring (tests/blind/README.md): the record
lists its misses.

"Right" is the rule of `make eval` (bot/tools/evaluate.py): urgent messages get an urgent level, distress
messages a level that offers the crisis line, everyday messages no urgent level.
"""

import argparse
import dataclasses
import hashlib
import pathlib
import sys
import tarfile
import tempfile
from typing import Dict, List, Optional, Sequence

import spacy
import yaml

from bot.nlp.components import RISK_MODEL_FILE
from bot.nlp.encoder import get_encoder
from bot.tools.evaluate import safety_outcome_ok
from bot.triage.patterns import PatternMatcher
from bot.triage.risk import RiskModel
from bot.triage.stage import Triage

PROJECT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SETS = sorted((PROJECT / "tests" / "blind").glob("safety-*.yml"))
DEFAULT_RECORD = PROJECT / "tests" / "blind" / "triage-record.yml"
DEFAULT_MODEL = PROJECT / "models" / "ivig.tar.gz"
SPACY_MODEL = PROJECT / "build" / "spacy" / "ivig_en"
SNIPPET = 70  # characters of a message shown beside its key in the record


def message_key(text: str) -> str:
    """A short, stable name for a message: the record holds keys and a readable start, not whole long messages."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def record_line(text: str) -> str:
    return f"{message_key(text)} {' '.join(text.split())[:SNIPPET]}"


@dataclasses.dataclass
class SetOutcome:
    """The messages of one set that the triage gets wrong: urgent or distress ones missed, everyday ones raised."""

    missed: List[str] = dataclasses.field(default_factory=list)
    raised: List[str] = dataclasses.field(default_factory=list)

    def as_record(self) -> Dict[str, List[str]]:
        return {"missed": [record_line(t) for t in self.missed], "raised": [record_line(t) for t in self.raised]}


@dataclasses.dataclass
class Comparison:
    lost: List[str] = dataclasses.field(default_factory=list)  # caught in the record, missed now
    new_alarms: List[str] = dataclasses.field(default_factory=list)  # quiet in the record, raised now
    gained: List[str] = dataclasses.field(default_factory=list)  # wrong in the record, right now
    unrecorded: List[str] = dataclasses.field(default_factory=list)  # sets the record does not hold

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.new_alarms)


def outcome(triage: Triage, items: Sequence[dict]) -> SetOutcome:
    result = SetOutcome()
    for item in items:
        text, level = str(item["text"]), item["level"]
        if not safety_outcome_ok(level, triage.decide(text).level):
            (result.raised if level == "none" else result.missed).append(text)
    return result


def compare(record: Dict[str, dict], outcomes: Dict[str, SetOutcome]) -> Comparison:
    """What changed since the record, by message key (a message is named `set: start of its text`)."""
    found = Comparison()
    for name, now in outcomes.items():
        if name not in record:
            found.unrecorded.append(name)
            continue
        before = {kind: {line.split(" ", 1)[0] for line in record[name].get(kind) or []} for kind in ("missed", "raised")}
        for kind, changed in (("missed", found.lost), ("raised", found.new_alarms)):
            current = {message_key(t): t for t in getattr(now, kind)}
            changed += [f"{name}: {record_line(t)}" for key, t in current.items() if key not in before[kind]]
            found.gained += [f"{name}: {key} (was {kind})" for key in sorted(before[kind] - set(current))]
    return found


def load_triage(model: pathlib.Path) -> Triage:
    """The triage of a trained model: the patterns and the risk model it was trained with."""
    with tarfile.open(model) as archive, tempfile.TemporaryDirectory() as directory:
        member = next((m for m in archive.getmembers() if m.name.endswith("/" + RISK_MODEL_FILE)), None)
        if member is None:
            raise SystemExit(f"{model}: no {RISK_MODEL_FILE}; train with `make train`")
        member.name = RISK_MODEL_FILE  # extracted flat, whatever the archive's folders
        archive.extract(member, directory)
        risk = RiskModel.load(pathlib.Path(directory) / RISK_MODEL_FILE)
    return Triage(PatternMatcher.from_file(spacy.load(SPACY_MODEL)), risk, get_encoder())


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=pathlib.Path, help="safety sets (default: tests/blind/safety-*.yml)")
    parser.add_argument("--model", type=pathlib.Path, default=DEFAULT_MODEL)
    parser.add_argument("--record", type=pathlib.Path, default=DEFAULT_RECORD)
    parser.add_argument("--update", action="store_true", help="write the record from this run")
    args = parser.parse_args(argv)

    triage = load_triage(args.model)
    outcomes = {}
    for path in args.sets or DEFAULT_SETS:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
        outcomes[path.stem] = now = outcome(triage, items)
        print(
            f"{path.stem:12} {len(items):4} messages: {len(now.missed):3} urgent or distress missed, {len(now.raised):3} everyday raised",
            flush=True,
        )

    record = (yaml.safe_load(args.record.read_text(encoding="utf-8")) if args.record.exists() else None) or {}
    found = compare(record, outcomes)
    sections = (("LOST (caught in the record, missed now)", found.lost), ("NEW FALSE ALARMS", found.new_alarms), ("gained", found.gained))
    for title, lines in sections:
        if lines:
            print(f"{title} ({len(lines)}):", *(f"  {line}" for line in lines), sep="\n")
    if args.update:  # the changes above are accepted: say why in the commit
        record.update({name: now.as_record() for name, now in outcomes.items()})
        header = "# The triage alone on each seen safety set: written by `python -m bot.tools.triage_check --update`.\n"
        args.record.write_text(header + yaml.safe_dump(record, allow_unicode=True, sort_keys=True, width=200), encoding="utf-8")
        print(f"record written: {args.record}")
        return 0
    if found.unrecorded:
        print("not in the record (add after their first blind scoring, with --update):", ", ".join(found.unrecorded))
    print("triage check:", "FAILED" if found.failed else "ok, nothing lost")
    return 1 if found.failed else 0


if __name__ == "__main__":
    sys.exit(main())
