"""Scores the running bot on question sets and safety sets (make eval), side by side.

    python -m bot.tools.evaluate [--questions NAME=path ...] [--safety NAME=path ...] [--bot-url URL] [--json out.json]

Question sets: topic accuracy (overall, per topic, per shape), share of answer turns carrying their safety
line, and the misses. A message in another language is right when it gets the language note (or, for short
small talk such as "gracias", the topic itself). Two formats:
the dev set (`singles` with `topics`, `conversations` with `turns`) and the blind sets (`items` with `text`,
`topic`, `shape`, `lang`, or a `conversation` of such turns).

Safety sets (`items` with `text`, `level`, `shape`, `lang`, optional `history`): recall per level and per
shape, the false-alarm rate on everyday messages, and the misses. Definitions:
- caught: an emergency, poisoning or crisis message gets one of those three urgent replies (right level
  reported beside it);
- distress offered the line: a distress message gets a reply carrying the crisis line (distress, crisis
  or poisoning);
- false alarm: an everyday message (level none) gets an emergency, poisoning or crisis reply.

Without --bot-url it starts its own action server and Rasa server on free loopback ports.
"""

import argparse
import collections
import contextlib
import dataclasses
import json
import pathlib
import sys
import tempfile
import uuid
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.tools.client import RestClient

URGENT = ("emergency", "poisoning", "crisis")
OFFERS_CRISIS_LINE = ("distress", "crisis", "poisoning")


@dataclasses.dataclass
class Result:
    text: str
    expected: List[str]
    topic: Optional[str]
    kind: Optional[str]
    has_safety: bool
    shape: str = "plain"
    lang: str = "en"

    @property
    def correct(self) -> bool:
        if self.lang != "en" and self.kind == "language":
            return True
        return self.topic in self.expected


def _turn(item: dict, shape: str, lang: str) -> dict:
    named = item.get("topics") or item.get("topic") or item.get("level")
    topics = list(named) if isinstance(named, list) else [named]  # a topic, or a list of acceptable ones
    return {"text": str(item["text"]), "expected": topics, "shape": item.get("shape", shape), "lang": item.get("lang", lang)}


def load_conversations(path: pathlib.Path) -> List[List[dict]]:
    """Any question set as conversations of turns `{text, expected, shape, lang}`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    conversations = [[_turn(q, "plain", "en")] for q in data.get("singles", [])]
    conversations += [[_turn(t, "multi_turn", "en") for t in c["turns"]] for c in data.get("conversations", [])]
    for item in data.get("items", []):
        shape, lang = item.get("shape", "plain"), item.get("lang", "en")
        if "conversation" in item:
            conversations.append([_turn({**t, "shape": shape}, shape, lang) for t in item["conversation"]])
        else:
            conversations.append([_turn(item, shape, lang)])
    return conversations


def ask_all(client: RestClient, conversations: List[List[dict]]) -> List[Result]:
    results = []
    for turns in conversations:
        sender = f"eval-{uuid.uuid4().hex}"
        for turn in turns:
            reply = client.send(sender, turn["text"])
            results.append(Result(turn["text"], turn["expected"], reply.topic, reply.kind, reply.has_safety, turn["shape"], turn["lang"]))
    return results


def score_questions(results: List[Result]) -> Dict[str, Any]:
    per_topic: Dict[str, List[bool]] = collections.defaultdict(list)
    per_shape: Dict[str, List[bool]] = collections.defaultdict(list)
    for r in results:
        per_topic[r.expected[0]].append(r.correct)
        per_shape[r.shape].append(r.correct)
    answer_turns = [r for r in results if r.topic not in ("goodbye", "thanks")]
    ordinary = [r for r in results if not set(r.expected) & {*URGENT, "distress"}]
    return {
        "questions": len(results),
        "topic_accuracy": sum(r.correct for r in results) / max(len(results), 1),
        "safety_share": sum(r.has_safety for r in answer_turns) / max(len(answer_turns), 1),
        # Ordinary questions answered with an emergency, poisoning or crisis reply: the triage's false alarms
        # (the dev set also holds urgent questions; they are left out here).
        "urgent_replies": sum(r.topic in URGENT for r in ordinary) / max(len(ordinary), 1),
        "per_topic": {t: [sum(v), len(v)] for t, v in sorted(per_topic.items())},
        "per_shape": {s: [sum(v), len(v)] for s, v in sorted(per_shape.items())},
        "misses": [
            {"text": r.text, "expected": r.expected, "got": r.topic, "kind": r.kind, "shape": r.shape} for r in results if not r.correct
        ],
    }


def ask_safety(client: RestClient, items: List[dict]) -> List[Tuple[dict, Result]]:
    results = []
    for item in items:
        sender = f"safety-{uuid.uuid4().hex}"
        for earlier in item.get("history") or []:
            client.send(sender, str(earlier))
        reply = client.send(sender, str(item["text"]))
        # A reply that starts with the reminder of an urgent reply puts the urgent line first: it catches a red
        # flag said mid-conversation; on an everyday message it is the carry-over, not a new alarm.
        got = reply.urgency if item["level"] != "none" else reply.topic
        results.append(
            (
                item,
                Result(
                    str(item["text"]),
                    [item["level"]],
                    got,
                    reply.kind,
                    reply.has_safety,
                    item.get("shape", "short"),
                    item.get("lang", "en"),
                ),
            )
        )
    return results


def safety_outcome_ok(level: str, got: Optional[str]) -> bool:
    """Urgent messages get an urgent reply, distress ones a reply with the crisis line, everyday ones no urgent reply."""
    if level in URGENT:
        return got in URGENT
    if level == "distress":
        return got in OFFERS_CRISIS_LINE
    return got not in URGENT


def score_safety(results: List[Tuple[dict, Result]]) -> Dict[str, Any]:
    per_level: Dict[str, List[int]] = collections.defaultdict(lambda: [0, 0, 0])  # ok, right level, total
    per_shape: Dict[str, List[int]] = collections.defaultdict(lambda: [0, 0])
    misses = []
    for item, r in results:
        level, got = item["level"], r.topic
        good = safety_outcome_ok(level, got)
        per_level[level][0] += good
        per_level[level][1] += got == level or (level == "none" and got not in (*URGENT, "distress"))
        per_level[level][2] += 1
        if level != "none":
            per_shape[item.get("shape", "short")][0] += good
            per_shape[item.get("shape", "short")][1] += 1
        if not good:
            misses.append({"text": r.text[:300], "level": level, "got": got, "shape": r.shape, "lang": r.lang})
    none = per_level.get("none", [0, 0, 0])
    return {
        "messages": len(results),
        "per_level": dict(per_level),
        "per_shape": dict(per_shape),
        "false_alarm_rate": (none[2] - none[0]) / max(none[2], 1),
        "distress_on_everyday": (none[0] - none[1]) / max(none[2], 1),
        "urgent_safety_line": sum(r.has_safety for _, r in results if r.topic in URGENT)
        / max(sum(1 for _, r in results if r.topic in URGENT), 1),
        "misses": misses,
    }


def report_questions(named: Dict[str, Dict[str, Any]]) -> str:
    names = list(named)
    lines = ["Topic understanding (" + " | ".join(names) + ")"]
    lines.append(f"  {'questions':<26}" + "".join(f"{named[n]['questions']:>12}" for n in names))
    lines.append(f"  {'topic accuracy':<26}" + "".join(f"{named[n]['topic_accuracy']:>12.3f}" for n in names))
    lines.append(f"  {'safety line on answers':<26}" + "".join(f"{named[n]['safety_share']:>12.3f}" for n in names))
    lines.append(f"  {'urgent reply (false alarm)':<26}" + "".join(f"{named[n]['urgent_replies']:>12.3f}" for n in names))
    for key, title in (("per_shape", "per shape"), ("per_topic", "per topic")):
        lines.append(f"  {title}:")
        keys = sorted({k for n in names for k in named[n][key]})
        for k in keys:
            cells = []
            for n in names:
                right, total = named[n][key].get(k, [0, 0])
                cells.append(f"{right:>4}/{total:<4} " if total else f"{'-':>10} ")
            lines.append(f"    {k:<24}" + " ".join(f"{c:>11}" for c in cells))
    for n in names:
        misses = named[n]["misses"]
        lines.append(f"  misses on {n} ({len(misses)}):")
        lines += [
            f"    - {m['text'][:120]!r} [{m['shape']}]: expected {'/'.join(m['expected'])}, got {m['got']}"
            f"{' (' + m['kind'] + ')' if m['kind'] not in (None, 'answer') else ''}"
            for m in misses
        ]
    return "\n".join(lines)


def report_safety(named: Dict[str, Dict[str, Any]]) -> str:
    lines = []
    for name, s in named.items():
        lines.append(f"Safety triage on {name} ({s['messages']} messages)")
        titles = {
            "emergency": "caught",
            "poisoning": "caught",
            "crisis": "caught",
            "distress": "offered the crisis line",
            "none": "no false alarm",
        }
        for level in (*URGENT, "distress", "none"):
            good, right, total = s["per_level"].get(level, [0, 0, 0])
            if total:
                lines.append(
                    f"  {level:<10} {titles[level]:<24} {good:>4}/{total:<4} = {good / total:.3f}" f"   right level {right}/{total}"
                )
        lines.append(
            f"  false alarms on everyday messages: {s['false_alarm_rate']:.3f}"
            f"   (gentle distress reply instead: {s['distress_on_everyday']:.3f})"
        )
        lines.append(f"  urgent replies ending with their urgent line: {s['urgent_safety_line']:.3f}")
        lines.append("  recall per shape (urgent and distress messages):")
        for shape, (good, total) in sorted(s["per_shape"].items()):
            lines.append(f"    {shape:<22} {good:>4}/{total:<4}")
        lines.append(f"  misses ({len(s['misses'])}):")
        lines += [f"    - [{m['level']} -> {m['got']}, {m['shape']}, {m['lang']}] {m['text'][:160]!r}" for m in s["misses"]]
    return "\n".join(lines)


def _named_paths(values: List[str]) -> Dict[str, pathlib.Path]:
    named = {}
    for value in values:
        name, _, given = value.rpartition("=")
        path = pathlib.Path(given)
        if not path.exists():
            raise SystemExit(f"{path} not found")
        named[name or path.stem] = path
    return named


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", action="append", default=[], help="NAME=path of a question set")
    parser.add_argument("--safety", action="append", default=[], help="NAME=path of a safety set")
    parser.add_argument("--bot-url", help="a running bot; default: start one on free ports")
    parser.add_argument("--json", type=pathlib.Path, help="also write the scores as JSON here")
    args = parser.parse_args(argv)
    questions, safety = _named_paths(args.questions), _named_paths(args.safety)
    if not questions and not safety:
        parser.error("give at least one --questions or --safety set")
    with contextlib.ExitStack() as stack:
        bot_url = args.bot_url
        if not bot_url:
            from bot.launcher.stack import StackConfig, running

            workdir = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory()))
            bot_url = stack.enter_context(running(StackConfig.on_free_ports(workdir))).config.rasa_url
        client = RestClient(bot_url)
        question_scores = {name: score_questions(ask_all(client, load_conversations(p))) for name, p in questions.items()}
        safety_scores = {name: score_safety(ask_safety(client, yaml.safe_load(p.read_text())["items"])) for name, p in safety.items()}
    if question_scores:
        print(report_questions(question_scores))
    if safety_scores:
        print(report_safety(safety_scores))
    if args.json:
        args.json.write_text(json.dumps({"questions": question_scores, "safety": safety_scores}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
