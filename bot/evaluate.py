"""Scores the running bot on a question set (make eval): topic accuracy, red-flag recall,
share of answer turns carrying the safety message, and the misses.

    python -m bot.evaluate ../shared/content/dev-questions.yml [--bot-url URL] [--json out.json]

Without --bot-url it starts its own action server and Rasa server on free loopback ports.
"""
import argparse
import contextlib
import dataclasses
import json
import pathlib
import sys
import tempfile
import uuid
from typing import Dict, List, Optional

import yaml

from bot.client import RestClient, Turn
from bot.content_store import TOPICS_WITHOUT_SAFETY
from bot.stack import StackConfig, running

RED_FLAG_TOPICS = ("emergency", "crisis")


@dataclasses.dataclass
class Result:
    text: str
    expected: List[str]
    topic: Optional[str]
    has_safety: bool
    conversation: Optional[int] = None

    @property
    def correct(self) -> bool:
        return self.topic in self.expected


def load_questions(path: pathlib.Path) -> List[List[dict]]:
    """Every question set as conversations: a single question is a conversation of one turn."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    conversations = [[q] for q in data.get("singles", [])]
    conversations += [c["turns"] for c in data.get("conversations", [])]
    return conversations


def ask_all(client: RestClient, conversations: List[List[dict]]) -> List[Result]:
    results = []
    for index, turns in enumerate(conversations):
        sender = f"eval-{uuid.uuid4().hex}"
        for turn in turns:
            reply: Turn = client.send(sender, turn["text"])
            results.append(
                Result(turn["text"], turn["topics"], reply.topic, reply.has_safety,
                       index if len(turns) > 1 else None)
            )
    return results


def score(results: List[Result]) -> Dict[str, object]:
    red_flags = [r for r in results if r.expected[0] in RED_FLAG_TOPICS]
    answer_turns = [r for r in results if r.topic not in TOPICS_WITHOUT_SAFETY]
    return {
        "questions": len(results),
        "topic_accuracy": sum(r.correct for r in results) / len(results),
        "red_flag_recall": sum(r.topic in RED_FLAG_TOPICS for r in red_flags) / max(len(red_flags), 1),
        "safety_share": sum(r.has_safety for r in answer_turns) / max(len(answer_turns), 1),
        "misses": [
            {"text": r.text, "expected": r.expected, "got": r.topic}
            for r in results if not r.correct
        ],
    }


def report(scores: Dict[str, object]) -> str:
    lines = [
        f"questions:        {scores['questions']}",
        f"topic accuracy:   {scores['topic_accuracy']:.3f}",
        f"red-flag recall:  {scores['red_flag_recall']:.3f}",
        f"safety message:   {scores['safety_share']:.3f} of answer turns",
        f"misses ({len(scores['misses'])}):",
    ]
    lines += [f"  - {m['text']!r}: expected {'/'.join(m['expected'])}, got {m['got']}" for m in scores["misses"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=pathlib.Path)
    parser.add_argument("--bot-url", help="a running bot; default: start one on free ports")
    parser.add_argument("--json", type=pathlib.Path, help="also write the scores as JSON here")
    args = parser.parse_args(argv)
    if not args.questions.exists():
        parser.error(f"{args.questions} not found (set DEV_QUESTIONS=path/to/dev-questions.yml)")
    conversations = load_questions(args.questions)
    with contextlib.ExitStack() as stack:
        bot_url = args.bot_url
        if not bot_url:
            workdir = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory()))
            bot_url = stack.enter_context(running(StackConfig.on_free_ports(workdir))).config.rasa_url
        scores = score(ask_all(RestClient(bot_url), conversations))
    print(report(scores))
    if args.json:
        args.json.write_text(json.dumps(scores, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
