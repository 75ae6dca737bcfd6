"""The story runner turns Rasa's failed-stories file into lines that name story, turn and mismatch."""

from bot.tools.story_test import failures

FAILED = """version: "3.1"
stories:
- story: a carer asks about side effects (/tmp/x/test_0_carer.yml)
  steps:
  - intent: greeting
  - action: action_answer_topic
  - intent: side_effects  # predicted: symptom_fatigue: is [tiredness](SYMPTOM) a side effect
  - action: action_answer_topic
  - intent: more_detail
  - action: action_answer_follow_up  # predicted: action_answer_topic
- story: entities only differ (/tmp/x/test_1_other.yml)
  steps:
  - intent: symptom_pots  # predicted: symptom_pots: does it help [POTS](CONDITION)
  - action: action_answer_topic
"""


def test_failures_name_story_turn_expected_and_predicted():
    assert failures(FAILED) == [
        "story 'a carer asks about side effects', turn 2 (user: 'is tiredness a side effect'): "
        "expected intent side_effects, predicted symptom_fatigue",
        "story 'a carer asks about side effects', after turn 3: " "expected action action_answer_follow_up, predicted action_answer_topic",
    ]


def test_no_failures_in_a_clean_file():
    assert failures("# None of the test stories failed - all good!") == []
