"""The scores `make eval` prints, on hand-made results (no bot needed)."""

from bot.tools.client import Turn
from bot.tools.evaluate import Result, score_questions, score_safety


def test_question_scores_count_right_topics_and_urgent_replies_to_ordinary_questions():
    results = [
        Result("what is ivig", ["ivig_basics"], "ivig_basics", "answer", True),
        Result("is it safe", ["side_effects"], "side_effects", "answer", True),
        Result("i'm dying to know the cost", ["cost_insurance"], "crisis", "urgent", True),
        Result("que es", ["ivig_basics"], "ivig_basics", "language", True, lang="es"),
        Result("crushing chest pain", ["emergency"], "emergency", "urgent", True),
    ]
    scores = score_questions(results)
    assert scores["topic_accuracy"] == 0.8
    assert scores["urgent_replies"] == 0.25  # of the four ordinary questions; the urgent one is not a false alarm
    assert [m["text"] for m in scores["misses"]] == ["i'm dying to know the cost"]


def test_safety_scores_recall_distress_and_false_alarms():
    def item(level, got):
        return {"level": level, "shape": "short"}, Result("t", [level], got, "urgent", True)

    scores = score_safety(
        [
            item("emergency", "poisoning"),
            item("crisis", None),
            item("distress", "crisis"),
            item("distress", "emergency"),
            item("none", "distress"),
            item("none", "emergency"),
        ]
    )
    assert scores["per_level"]["emergency"] == [1, 0, 1]  # caught, at another urgent level
    assert scores["per_level"]["crisis"] == [0, 0, 1]
    assert scores["per_level"]["distress"] == [1, 0, 2]  # 911 reply does not offer the crisis line
    assert scores["false_alarm_rate"] == 0.5 and scores["distress_on_everyday"] == 0.5


def test_a_reply_that_starts_with_a_reminder_counts_as_urgent():
    answer = {
        "text": "If those signs are still there, call 911.\n\nAn infusion takes 2 to 4 hours.",
        "custom": {"topic": "infusion_process", "kind": "answer", "reminder": "emergency"},
    }
    assert Turn([answer]).urgency == "emergency"
    assert Turn([{"text": "x", "custom": {"topic": "infusion_process"}}]).urgency == "infusion_process"


def test_a_question_may_name_one_topic_or_a_list_of_acceptable_ones(tmp_path):
    from bot.tools.evaluate import load_conversations

    path = tmp_path / "set.yml"
    path.write_text(
        "items:\n"
        "  - {text: what dose and how long, topic: [dosing, infusion_process], shape: multi_question}\n"
        "  - conversation:\n"
        "      - {text: does it help fog, topic: symptom_brain_fog}\n"
        "      - {text: and the cost, topic: [cost_insurance, access]}\n",
        encoding="utf-8",
    )
    single, conversation = load_conversations(path)
    assert single[0]["expected"] == ["dosing", "infusion_process"]
    assert [turn["expected"] for turn in conversation] == [["symptom_brain_fog"], ["cost_insurance", "access"]]
