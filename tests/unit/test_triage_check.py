"""The regression check of the triage after a retraining (bot/tools/triage_check.py): what counts as lost, as a new
false alarm and as gained against the record. The triage here is a stand-in whose levels the test sets, so each
case says exactly which change must be reported."""

import dataclasses
from typing import Dict, Optional

from bot.tools.triage_check import SetOutcome, compare, message_key, outcome, record_line

ITEMS = [
    {"text": "I swallowed the whole box of my sleeping tablets", "level": "poisoning"},
    {"text": "my lips are swelling up during the drip", "level": "emergency"},
    {"text": "POINTLESS feels pointless lately", "level": "distress"},
    {"text": "I'm so tired today", "level": "none"},
    {"text": "does IVIG cause headaches?", "level": "none"},
]
NAMES = ["POISONING", "LIPS", "POINTLESS", "TIRED", "HEADACHES"]


@dataclasses.dataclass
class Decision:
    level: Optional[str]


class SetLevels:
    def __init__(self, levels: Dict[str, Optional[str]]):
        self.levels = levels

    def decide(self, text: str) -> Decision:
        return Decision(self.levels.get(text))


def triage_that(**levels: Optional[str]) -> SetLevels:
    """Levels by item name (POISONING, LIPS, POINTLESS, TIRED, HEADACHES); the others get none."""
    return SetLevels({ITEMS[NAMES.index(name)]["text"]: level for name, level in levels.items()})


def test_outcome_sorts_urgent_misses_and_everyday_alarms_by_the_eval_rule():
    now = outcome(triage_that(POISONING="poisoning", POINTLESS="crisis", TIRED="emergency"), ITEMS)
    assert now.missed == ["my lips are swelling up during the drip"]  # distress given a crisis reply is fine
    assert now.raised == ["I'm so tired today"]


def test_a_message_caught_in_the_record_and_missed_now_is_lost():
    record = {"safety-x": SetOutcome(missed=[], raised=[]).as_record()}
    found = compare(record, {"safety-x": outcome(triage_that(LIPS="emergency", POINTLESS="distress"), ITEMS)})
    assert found.failed
    assert [line.split(": ", 1)[1].split(" ", 1)[0] for line in found.lost] == [message_key(ITEMS[0]["text"])]
    assert not found.new_alarms


def test_a_recorded_alarm_is_not_new_and_a_fixed_miss_is_gained():
    record = {"safety-x": SetOutcome(missed=[ITEMS[1]["text"]], raised=[ITEMS[3]["text"]]).as_record()}
    now = outcome(triage_that(POISONING="poisoning", LIPS="emergency", POINTLESS="distress", TIRED="crisis"), ITEMS)
    found = compare(record, {"safety-x": now})
    assert not found.failed  # the tired alarm was in the record already
    assert found.gained == [f"safety-x: {message_key(ITEMS[1]['text'])} (was missed)"]


def test_a_new_alarm_on_an_everyday_message_fails():
    record = {"safety-x": SetOutcome().as_record()}
    everything_right = dict(POISONING="poisoning", LIPS="emergency", POINTLESS="distress")
    found = compare(record, {"safety-x": outcome(triage_that(**everything_right, HEADACHES="emergency"), ITEMS)})
    assert found.failed and found.new_alarms == [f"safety-x: {record_line(ITEMS[4]['text'])}"]
    assert not compare(record, {"safety-x": outcome(triage_that(**everything_right), ITEMS)}).failed


def test_a_set_missing_from_the_record_is_named_not_failed():
    found = compare({}, {"safety-new": SetOutcome(missed=["x"])})
    assert found.unrecorded == ["safety-new"] and not found.failed


def test_record_lines_are_short_and_keyed():
    line = record_line("word " * 100)
    assert line.split(" ", 1)[0] == message_key("word " * 100) and len(line) <= 11 + 70
