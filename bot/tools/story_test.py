"""Runs testers' story files against the trained bot and says exactly what went wrong.

    python -m bot.tools.story_test [tests/stories | path/to/file.yml ...]

Wraps `rasa test core --e2e`; for every failed story it prints the story name, the turn, and
the expected intent or action against the predicted one, and exits non-zero. Entities are not
compared: the vocabulary's entity ruler finds them deterministically.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
from typing import List

from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import MODEL_PATH, QUIET_ENV

OUT_DIR = PROJECT_DIR / "results" / "stories"
STORY = re.compile(r"^\s*- story:\s*(.+?)(?:\s+\(\S+\))?$")
INTENT = re.compile(r"^\s*- intent:\s*(\S+)(?:\s+#\s*predicted:\s*(\S+?):\s*(.*))?$")
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
ACTION = re.compile(r"^\s*- action:\s*(\S+)(?:\s+#\s*predicted:\s*(\S+))?")


def _plain(text: str) -> str:
    """User text without Rasa's entity markup: '[brain fog](SYMPTOM)' -> 'brain fog'."""
    return ENTITY_MARKUP.sub(r"\1", text).strip()


def failures(failed_stories: str) -> List[str]:
    """Readable lines from Rasa's failed_test_stories.yml (`# predicted:` marks the wrong steps)."""
    report, story, turn = [], "?", 0
    for line in failed_stories.splitlines():
        if match := STORY.match(line):
            story, turn = match.group(1).strip(), 0
        elif match := INTENT.match(line):
            turn += 1
            expected, predicted, text = match.groups()
            # entities come from the deterministic vocabulary, so only the intent is checked
            if predicted and predicted != expected:
                report.append(
                    f"story {story!r}, turn {turn} (user: {_plain(text)!r}): " f"expected intent {expected}, predicted {predicted}"
                )
        elif (match := ACTION.match(line)) and match.group(2):
            report.append(f"story {story!r}, after turn {turn}: " f"expected action {match.group(1)}, predicted {match.group(2)}")
    return report


def main(argv=None) -> int:
    paths = [pathlib.Path(p) for p in (argv if argv is not None else sys.argv[1:])] or [PROJECT_DIR / "tests" / "stories"]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"no such story file: {', '.join(missing)}", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        out = OUT_DIR / path.stem
        shutil.rmtree(out, ignore_errors=True)
        stories_dir = out / "stories"
        stories_dir.mkdir(parents=True)
        for number, story_file in enumerate(_story_files(path)):
            # Rasa only reads end-to-end test stories from files named test_*.yml
            shutil.copy(story_file, stories_dir / f"test_{number}_{story_file.name}")
        command = [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(MODEL_PATH),
            "--stories",
            str(stories_dir),
            "--out",
            str(out),
            "--no-plot",
            "--e2e",
        ]
        run = subprocess.run(command, cwd=PROJECT_DIR, env={**os.environ, **QUIET_ENV}, capture_output=True, text=True)
        failed_file = out / "failed_test_stories.yml"
        if run.returncode != 0 or not failed_file.exists():
            print(run.stdout[-3000:], run.stderr[-3000:], sep="\n", file=sys.stderr)
            print(f"FAILED to run the stories in {path}", file=sys.stderr)
            status = 1
            continue
        problems = failures(failed_file.read_text(encoding="utf-8"))
        stories = len(re.findall(r"^\s*- story:", _read_all(path), flags=re.M))
        if problems:
            status = 1
            print(f"{path}: {len(problems)} wrong step(s) in {stories} stories")
            for line in problems:
                print(f"  FAIL {line}")
        else:
            print(f"{path}: all {stories} stories passed")
    return status


def _story_files(path: pathlib.Path) -> List[pathlib.Path]:
    return sorted(path.rglob("*.yml")) if path.is_dir() else [path]


def _read_all(path: pathlib.Path) -> str:
    return "\n".join(f.read_text(encoding="utf-8") for f in _story_files(path))


if __name__ == "__main__":
    sys.exit(main())
