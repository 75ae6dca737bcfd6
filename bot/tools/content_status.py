"""`make content-status`: every topic with the month it was last checked, the month it must be
checked again and what is due, for the clinic's reviewer; plus the dated trial statuses of the
references and the reading level of each first answer.

A review month that has passed is reported loudly (a banner on stdout and a line on stderr). The
command still exits 0 so a calendar date never breaks a build; `--strict` makes it exit 1 for a
clinic that wants its own check to stop on overdue content. `--today YYYY-MM-DD` replays any date.

Reading level is the Flesch-Kincaid grade, counted with a plain vowel-group syllable estimate
(no dictionary): good for comparing answers and spotting a hard one, not an exact score.
"""

import argparse
import datetime
import re
import statistics
import sys
from typing import List, Optional, Sequence, TypedDict

from bot.core.content_store import Content, Topic, load, month_name, review_passed, undated_status

SOON_DAYS = 31  # "due soon" this many days before the review month begins
TARGET_GRADE = 8  # the content contract aims at about grade 8 (TOPICS.md)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+(?:[.,]\d+)?%?")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def syllables(word: str) -> int:
    """Vowel groups, less a silent final e; at least one. Numbers count one per digit group."""
    word = word.lower().strip("'-")
    if not word or word[0].isdigit():
        return max(1, len(re.findall(r"\d+", word)))
    count = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade; each line (a bullet too) ends a sentence, as a reader takes it."""
    text = PLACEHOLDER.sub("", text)
    sentences = [s for s in re.split(r"[.!?:;]+(?=\s|$)|\n", text) if WORD.search(s)]
    words = WORD.findall(text)
    if not words:
        return 0.0
    syllable_count = sum(syllables(w) for w in words)
    return 0.39 * len(words) / max(1, len(sentences)) + 11.8 * syllable_count / len(words) - 15.59


def word_count(text: str) -> int:
    return len(WORD.findall(PLACEHOLDER.sub("", text)))


def state(topic: Topic, today: datetime.date) -> str:
    """OVERDUE once the review month is over, DUE during it, due soon just before it, else ok."""
    if review_passed(topic, today):
        return "OVERDUE"
    if topic.review_due <= today:
        return "DUE"
    if (topic.review_due - today).days <= SOON_DAYS:
        return "due soon"
    return "ok"


class Row(TypedDict):
    topic: str
    last_checked: str
    review_due: str
    state: str
    words: int
    grade: float


def rows(content: Content, today: datetime.date) -> List[Row]:
    """One row per topic, most urgent review first."""
    table: List[Row] = [
        {
            "topic": topic.id,
            "last_checked": month_name(topic.last_checked),
            "review_due": month_name(topic.review_due),
            "state": state(topic, today),
            "words": word_count(topic.answer),
            "grade": round(reading_grade(topic.answer), 1),
        }
        for topic in content.topics.values()
    ]
    return sorted(table, key=lambda row: (content.topics[str(row["topic"])].review_due, row["topic"]))


def report(content: Content, today: datetime.date) -> str:
    table = rows(content, today)
    overdue = [row for row in table if row["state"] == "OVERDUE"]
    due = [row for row in table if row["state"] == "DUE"]
    lines = [f"Content status on {today.isoformat()} ({len(table)} topics)", ""]
    if overdue:
        bar = "!" * 78
        lines += [
            bar,
            f"!!! REVIEW DATE PASSED for {len(overdue)} topic(s): " + ", ".join(str(row["topic"]) for row in overdue),
            "!!! Patients may be reading " "out-of-date facts: check these topics against references.yml now.",
            bar,
            "",
        ]
    if due:
        lines += [f"Review due this month: {', '.join(str(row['topic']) for row in due)}", ""]
    soon = [str(row["topic"]) for row in table if row["state"] == "due soon"]
    if soon:
        lines += [f"Review due within {SOON_DAYS} days: {', '.join(soon)}", ""]
    lines.append(f"{'topic':<26} {'last checked':<15} {'review due':<15} {'state':<9} {'words':>5} {'grade':>5}")
    for row in table:
        lines.append(
            f"{row['topic']:<26} {row['last_checked']:<15} {row['review_due']:<15} {row['state']:<9} "
            f"{row['words']:>5} {row['grade']:>5}"
        )
    grades = [float(row["grade"]) for row in table]
    lines += [
        "",
        f"Reading level of the first answers: mean grade {statistics.mean(grades):.1f} "
        f"(aim: at most {TARGET_GRADE}), hardest {max(grades):.1f}.",
    ]
    undated = undated_status(content)
    if undated:
        lines += ["", f"!!! Trial status without an 'as of <month year>' date in messages.yml: {', '.join(undated)}"]
    dated = [(ref, ref.status_as_of) for ref in content.references.values() if ref.status_as_of is not None]
    if dated:
        lines += ["", "Trial status in references.yml (what the 'as of' dates in answers rest on):"]
        for ref, as_of in dated:
            lines.append(f"- {ref.id}: as of {month_name(as_of)}: {ref.status}")
            if ref.unconfirmed_status:
                lines.append(f"  unconfirmed, never shown to patients: {ref.unconfirmed_status}")
    return "\n".join(lines)


def _date(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.tools.content_status", description=__doc__.splitlines()[0])
    parser.add_argument("--today", type=_date, default=datetime.date.today(), help="YYYY-MM-DD (default: today)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a review date has passed")
    args = parser.parse_args(argv)
    content = load()
    print(report(content, args.today))
    overdue = [row["topic"] for row in rows(content, args.today) if row["state"] == "OVERDUE"]
    if overdue:
        print(f"content-status: review date passed for {', '.join(map(str, overdue))}", file=sys.stderr)
    return 1 if overdue and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
