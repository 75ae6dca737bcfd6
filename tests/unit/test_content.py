"""The curated content keeps the content contract, and the validator fails loudly when it does not."""

import datetime
import logging
import pathlib
import re
import shutil
import statistics

import pytest
import yaml

from bot.core import content_store
from bot.core.content_store import CONVERSATION_TOPICS, KNOWLEDGE_TOPICS, URGENT_TOPICS, ContentError
from bot.tools import content_status

# The `cites` column of the content contract.
REQUIRED_CITATIONS = {
    "ivig_long_covid_rationale": {"seibert2024", "thompson2023"},
    "mechanism_immune": {"reznik2021"},
    "mechanism_nerve": {"mcalpine2024"},
    "research_overview": {"seibert2024", "thompson2023", "mcalpine2024"},
    "study_vascular": {"seibert2024"},
    "study_case_series": {"thompson2023"},
    "study_sfn": {"mcalpine2024"},
    "study_hypothesis": {"reznik2021"},
    "evidence_limits": {"vernino2024", "geerts2021"},
    "side_effects": {"fda_ig_boxed_warning"},
    "infusion_process": {"fda_ig_boxed_warning", "trial_recover_autonomic"},
    "clinical_trials": {"trial_in_pasc", "trial_recover_autonomic"},
    "symptom_brain_fog": {"seibert2024"},
    "symptom_fatigue": {"seibert2024"},
    "symptom_pain_neuropathy": {"mcalpine2024"},
    "symptom_pots": {"mcalpine2024", "vernino2024", "trial_recover_autonomic"},
    "symptom_heart_vascular": {"seibert2024", "thompson2023"},
    "cost_insurance": {"thompson2023"},
    "long_covid_basics": {"nasem2024"},
    "approval_and_cure": {"trial_recover_autonomic"},
    "infusion_day": {"fda_ig_boxed_warning"},
    "unsafe_use": {"fda_ig_boxed_warning"},
}

# Facts each answer must state (lowercase fragments; a tuple means any one of them).
REQUIRED_FACTS = {
    "ivig_basics": ["antibod", "donor", "vein", "autoimmune", ("immune deficien", "immunodeficien", "weak immune")],
    "ivig_vs_monoclonal": ["monoclonal", "spike"],
    "ivig_long_covid_rationale": [("nerv", "neurolog"), "heart"],
    "mechanism_immune": ["autoantibod", "inflammation"],
    "mechanism_nerve": ["small fiber neuropathy", "dysautonomia"],
    "research_overview": [("early", "small"), ("larger", "bigger"), "borderline", "did no better"],
    "study_vascular": [
        "21",
        "29",
        "27%",
        "3 months",
        ("not randomi", "not put into groups by chance"),
        "abstract",
        "authors reported",
        "borderline",
        "also improved",
    ],
    "study_case_series": ["9", ("6", "six"), "101", "547", ("no control", "no comparison", "without a comparison")],
    "study_sfn": ["9", ("3 of 7", "3 of the 7"), ("controlled trial", "larger trial", "bigger trial"), ("looked back", "retrospective")],
    "study_hypothesis": [("no patient", "did not include any patients", "without patients")],
    "candidates": ["small fiber neuropathy", "specialist"],
    "evidence_limits": [
        ("not proven", "isn't proven", "not been proven"),
        "pots",
        "small fiber neuropathy",
        "as of november 2026",
        "not approved",
        "off-label",
    ],
    "dosing": [("no dose", "no set dose", "no agreed dose", "no standard dose", "not been set", "no established")],
    "access": ["prescription", "medical supervision", "not approved", "off-label"],
    "side_effects": ["headache", "blood clot", "kidney", "meningitis", "allerg"],
    "infusion_process": ["vein", ("hours", "hour")],
    "clinical_trials": [
        "in-pasc",
        "recover-autonomic",
        "as of november 2026",
        "45",
        "another nih study",
        "neither was open to the public",
        "due to end in november 2026",
    ],
    "symptom_brain_fog": [("thinking", "memory"), "borderline"],
    "symptom_fatigue": ["fatigue"],
    "symptom_pain_neuropathy": ["small fiber neuropathy"],
    "symptom_pots": [
        "pots",
        ("no clear benefit", "no better", "did not do better", "no difference", "did not differ"),
        "did not measure pots",
        "as of november 2026",
    ],
    "symptom_heart_vascular": ["27%", "authors reported", "also improved", "overall"],
    "symptom_other": [("doctor",)],
    "personal_advice": ["doctor", "{clinic_contact_details}"],
    "cost_insurance": [("insur",), "not approved", "expensive", "short supply"],
    "bot_identity": [("not a doctor", "not a person", "not a human")],
    "long_covid_basics": [
        "3 months",
        ("come and go", "comes and goes"),
        ("one or more", "many parts"),
        ("don't need a positive", "no positive test", "without a positive"),
    ],
    "approval_and_cure": [("no known cure", "no cure"), "not approved", ("experimental", "off-label"), "insur", "success rate"],
    "infusion_day": [("several hours", "a few hours"), ("drink", "fluids", "hydrat"), "instructions", "{clinic_contact_details}"],
    "pregnancy_children": ["adults", "pregnan", "breastfeed", "children", "specialist", "{clinic_contact_details}"],
    "unsafe_use": ["prescription", "medical supervision", "one person", ("leftover",), "{clinic_contact_details}"],
    "contact_clinic": ["{clinic_contact_details}", "book", "messages", "records"],
    "out_of_scope": ["{clinic_contact_details}"],
    "fallback": ["{clinic_contact_details}"],
}
# The urgent replies live in urgent.yml; the figures they must name.
REQUIRED_URGENT_FACTS = {
    "emergency": ["{emergency_number}"],
    "crisis": ["{crisis_line}", "{emergency_number}"],
}
# Where a new topic helps a patient on from another one (topic -> follow-ups it must offer).
REQUIRED_FOLLOW_UPS = {
    "personal_advice": {"contact_clinic"},
    "infusion_process": {"infusion_day"},
    "evidence_limits": {"approval_and_cure"},
    "out_of_scope": {"contact_clinic"},
    "fallback": {"contact_clinic"},
}


def test_every_topic_has_an_answer(content):
    assert set(content.topics) == set(KNOWLEDGE_TOPICS + CONVERSATION_TOPICS)
    assert set(content.urgent) == set(URGENT_TOPICS)
    for topic in content.topics.values():
        assert topic.answer.strip() and topic.question.strip()
        if topic.id in KNOWLEDGE_TOPICS:
            assert topic.more.strip() and topic.more != topic.answer


@pytest.mark.parametrize("topic_id", KNOWLEDGE_TOPICS)
def test_every_knowledge_topic_has_a_short_form(content, topic_id):
    topic = content.topics[topic_id]
    assert topic.short.strip()
    assert len(topic.short.split()) < len(topic.answer.split())
    assert len(topic.short.split()) <= 45, "a short form is 1-2 plain sentences"


@pytest.mark.parametrize("topic_id", sorted(REQUIRED_FOLLOW_UPS))
def test_new_topics_are_offered_where_they_help(content, topic_id):
    assert REQUIRED_FOLLOW_UPS[topic_id] <= set(content.topics[topic_id].follow_ups)


@pytest.mark.parametrize("level", sorted(REQUIRED_URGENT_FACTS))
def test_urgent_reply_names_its_numbers(content, level):
    for fact in REQUIRED_URGENT_FACTS[level]:
        assert fact in content.urgent[level].answer


@pytest.mark.parametrize("topic_id", sorted(REQUIRED_CITATIONS))
def test_topic_cites_its_references(content, topic_id):
    assert REQUIRED_CITATIONS[topic_id] <= set(content.topics[topic_id].citations)


@pytest.mark.parametrize("topic_id", sorted(REQUIRED_FACTS))
def test_answer_states_the_required_facts(content, topic_id):
    text = content.topics[topic_id].answer.lower()
    for fact in REQUIRED_FACTS[topic_id]:
        options = fact if isinstance(fact, tuple) else (fact,)
        assert any(o in text for o in options), f"{topic_id} answer lacks {options}"


def test_sources_cite_every_reference_used(content):
    used = {ref for topic in content.topics.values() for ref in topic.citations}
    assert used <= set(content.topics["sources"].citations)


def test_citation_labels_show_no_unconfirmed_title(content):
    refs = yaml.safe_load((content_store.CONTENT_DIR / "references.yml").read_text())
    for ref_id, ref in refs.items():
        label = content.references[ref_id].label
        assert content.references[ref_id].url == ref["url"]
        if "exact title wording" in ref.get("unconfirmed", []):
            assert ref["title"].lower() not in label.lower()
        if "full title" in ref.get("unconfirmed", []):
            assert ref.get("title_start", ref.get("title", "")).lower() not in label.lower()
        assert "pmid" not in label.lower()


# --- the November 2026 review (../shared/content/REVIEW-2026-11.md), one test per item ---------


def texts(topic):
    return " ".join(topic.texts().values()).lower()


def all_texts(content):
    return {topic.id: texts(topic) for topic in content.topics.values()}


def test_review_1_trials_are_not_described_as_open(content):
    for topic_id, text in all_texts(content).items():
        for claim in ("under way", "could join", "might be eligible", "now testing", "current trial", "larger trial called"):
            assert claim not in text, f"{topic_id} says {claim!r}"
    trials = content.topics["clinical_trials"].answer.lower()
    assert "45" in trials and "another nih study" in trials and "neither was open to the public" in trials
    # IN-PASC (45) is smaller than the vascular study (21 + 29): never "a larger trial".
    assert "larger" not in content.topics["symptom_brain_fog"].more.lower()


def test_review_2_the_52_percent_belongs_to_the_whole_group_of_17(content):
    more = content.topics["symptom_pain_neuropathy"].more.lower()
    sentence = next(s for s in re.split(r"(?<=[.:])\s", more) if "52%" in s)
    assert "whole group of 17" in sentence
    assert "not for the treated people alone" in more and "only some got ivig" in more


def test_review_3_the_vascular_comparison_group_improved_too(content):
    for topic_id in ("study_vascular", "symptom_heart_vascular", "research_overview"):
        text = texts(content.topics[topic_id])
        assert "also improved" in text and "27%" in text
        assert "the authors reported" in text, f"{topic_id}: the 27% is the authors' figure"
        assert "not compared directly" in text
    for topic_id, text in all_texts(content).items():
        assert "no clear change" not in text, topic_id


def test_review_4_the_thinking_result_is_borderline_in_every_first_answer(content):
    for topic_id in ("study_vascular", "symptom_brain_fog", "research_overview"):
        answer = content.topics[topic_id].answer.lower()
        assert "thinking" in answer and "borderline" in answer, topic_id
    assert "thinking and memory" not in all_texts(content)["research_overview"]


def test_review_5_who_should_not_have_ivig_and_what_to_tell_the_doctor(content):
    more = content.topics["side_effects"].more.lower()
    for fact in (
        "severe reaction to immune globulin",
        "iga deficiency",
        "estrogen",
        "birth control",
        "hormone",
        "past clots",
        "heart or blood vessel disease",
        "thick blood",
        "older age",
        "kidney disease",
        "diabetes",
        "not drinking enough",
        "medicines that strain the kidneys",
        "blood group other than o",
    ):
        assert fact in more, fact
    candidates = content.topics["candidates"].more.lower()
    assert "severe reaction to immune globulin" in candidates and "iga deficiency" in candidates


@pytest.mark.parametrize("topic_id", ["access", "evidence_limits", "cost_insurance", "approval_and_cure"])
def test_review_6_not_approved_for_long_covid(content, topic_id):
    assert "not approved for long covid" in content.topics[topic_id].answer.lower()


def test_review_7_the_second_null_trial_stands_wherever_the_first_does(content):
    for topic in content.topics.values():
        if "geerts2021" in topic.citations and topic.id != "sources":
            assert "gibbons2023" in topic.citations, topic.id
    assert "gibbons2023" in content.topics["evidence_limits"].citations
    assert "autoantibodies" in content.topics["evidence_limits"].more.lower()


def test_minor_time_bound_claims_carry_their_date_and_an_early_review(content):
    """Trial status is dated with the month references.yml confirmed it, and checked again the month
    after (November 2026 -> December 2026: RECOVER-AUTONOMIC's end, IN-PASC's completion)."""
    status_month = max(ref.status_as_of for ref in content.references.values() if ref.status_as_of)
    next_month = datetime.date(status_month.year + status_month.month // 12, status_month.month % 12 + 1, 1)
    speaking = [
        topic for topic in content.topics.values() if any(content_store.TRIAL_STATUS.search(text) for text in topic.texts().values())
    ]
    assert {"evidence_limits", "clinical_trials", "symptom_pots", "approval_and_cure"} <= {t.id for t in speaking}
    for topic in speaking:
        assert topic.review_due <= next_month, topic.id
        assert f"as of {content_store.month_name(status_month).lower()}" in texts(topic), topic.id


def test_minor_heart_and_pots_answers_claim_no_heart_or_pots_benefit(content):
    pots = content.topics["symptom_pots"].answer.lower()
    assert "did not measure pots" in pots
    heart = content.topics["symptom_heart_vascular"].answer.lower()
    assert "overall" in heart and "did not report heart results" in heart


def test_minor_common_side_effects_are_called_common(content):
    side_effects = content.topics["side_effects"]
    assert side_effects.answer.lower().startswith("side effects are common")
    assert "93%" in side_effects.more and "scirep2025_autonomic_sfn" in side_effects.citations
    assert "many people have mild" not in texts(side_effects)


def test_minor_warning_signs_are_a_short_list(content):
    answer = content.topics["side_effects"].answer
    signs = answer.split("Get medical help at once for:")[1].strip().splitlines()
    assert len(signs) >= 5
    for sign in signs:
        assert sign.startswith("- ") and content_status.word_count(sign) <= 10, sign
    for sign in ("chest pain", "breathing", "leg", "one side", "stiff neck", "urine", "yellow skin"):
        assert sign in answer.lower()


def test_minor_case_series_label_is_qualified(content):
    label = content.references["thompson2023"].label
    assert label.endswith("(case series: 6 treated, no comparison group).")


def test_minor_fda_link_is_kept_and_how_it_was_confirmed_is_recorded(content):
    raw = yaml.safe_load((content_store.CONTENT_DIR / "references.yml").read_text())["fda_ig_boxed_warning"]
    assert content.references["fda_ig_boxed_warning"].url == raw["url"]
    assert "no internet" in raw["url_check"] and "2013" in raw["url_check"]


def test_minor_newer_evidence_is_cited(content):
    cited = {ref for topic in content.topics.values() if topic.id != "sources" for ref in topic.citations}
    assert {"scirep2025_autonomic_sfn", "blitshteyn2025", "gibbons2023", "nasem2024"} <= cited


# --- length and reading level ------------------------------------------------------------------

MAX_FIRST_ANSWER_WORDS = 100


@pytest.mark.parametrize("topic_id", KNOWLEDGE_TOPICS)
def test_first_answers_are_short_enough_for_a_tired_reader(content, topic_id):
    assert content_status.word_count(content.topics[topic_id].answer) <= MAX_FIRST_ANSWER_WORDS


def test_reading_level_is_about_grade_8(content):
    grades = [content_status.reading_grade(content.topics[t].answer) for t in KNOWLEDGE_TOPICS]
    assert statistics.mean(grades) <= content_status.TARGET_GRADE
    assert max(grades) <= 10


def test_reading_grade_tells_plain_from_dense_text():
    plain = "IVIG is a drip. It goes into a vein. It takes a few hours."
    dense = (
        "Intravenous immunoglobulin preparations demonstrate immunomodulatory characteristics "
        "necessitating individualized administration considerations."
    )
    assert content_status.reading_grade(plain) < 4 < 12 < content_status.reading_grade(dense)


# --- dates, content status and start-up warning --------------------------------------------------


def test_messages_may_show_the_checked_month(content_copy):
    edit(content_copy, "messages.yml", lambda d: d.update(checked="Information checked {checked_month}"))
    assert content_store.load(content_copy).messages["checked"] == "Information checked {checked_month}"


def test_every_topic_records_when_it_was_checked(content):
    for topic in content.topics.values():
        assert topic.last_checked < topic.review_due
        assert re.fullmatch(r"[A-Z][a-z]+ \d{4}", topic.checked_month)
    assert content.topics["clinical_trials"].checked_month == "November 2026"


def test_content_status_lists_every_topic_and_is_loud_about_passed_reviews(content, capsys):
    quiet = content_status.report(content, datetime.date(2026, 11, 2))
    assert "PASSED" not in quiet
    for topic_id in content.topics:
        assert topic_id in quiet
    loud = content_status.report(content, datetime.date(2027, 1, 2))
    assert "REVIEW DATE PASSED" in loud and "clinical_trials" in loud.split("REVIEW DATE PASSED")[1].splitlines()[0]
    assert content_status.main(["--today", "2027-01-02"]) == 0
    assert "review date passed" in capsys.readouterr().err
    assert content_status.main(["--today", "2027-01-02", "--strict"]) == 1
    assert content_status.main(["--today", "2026-11-02", "--strict"]) == 0


def test_content_status_names_undated_trial_status_outside_topics(content_copy):
    edit(
        content_copy,
        "messages.yml",
        lambda d: d["studies"].update(
            trial_in_pasc="IN-PASC has not reported results.", vernino2024="As of November 2026, no results yet."
        ),
    )
    content = content_store.load(content_copy)
    assert "study trial_in_pasc" in content_store.undated_status(content)
    assert "study vernino2024" not in content_store.undated_status(content)
    assert "study trial_in_pasc" in content_status.report(content, datetime.date(2026, 11, 2))


def test_content_status_states_follow_the_review_month(content):
    topic = content.topics["clinical_trials"]  # due December 2026
    assert content_status.state(topic, datetime.date(2026, 10, 1)) == "ok"
    assert content_status.state(topic, datetime.date(2026, 11, 27)) == "due soon"
    assert content_status.state(topic, datetime.date(2026, 12, 31)) == "DUE"
    assert content_status.state(topic, datetime.date(2027, 1, 1)) == "OVERDUE"


def test_start_up_warns_about_due_reviews_without_failing(content, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.core.content_store"):
        assert content_store.log_due_reviews(content, datetime.date(2026, 11, 2)) == []
        assert not caplog.records
        due = content_store.log_due_reviews(content, datetime.date(2027, 1, 2))
    assert "clinical_trials" in {t.id for t in due}
    assert "clinical_trials (PASSED December 2026)" in caplog.text


# --- the validator fails loudly -------------------------------------------------------------


@pytest.fixture
def content_copy(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(content_store.CONTENT_DIR, folder)
    return folder


def edit(folder: pathlib.Path, name: str, change):
    path = folder / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_copy_of_the_content_is_valid(content_copy):
    content_store.load(content_copy)


def topic(data, topic_id):
    return data["topics"][topic_id]


def append(data, topic_id, field, text):
    topic(data, topic_id)[field] += text


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("topics.yml", lambda d: d["topics"].update(made_up_topic=d["topics"]["dosing"]), "unknown topic ids"),
        ("topics.yml", lambda d: d["topics"].pop("side_effects"), "without an answer"),
        ("topics.yml", lambda d: d["topics"]["dosing"].update(answer=""), "text is missing"),
        ("topics.yml", lambda d: d["topics"]["study_sfn"]["citations"].append("smith1999"), "unknown citation"),
        (
            "topics.yml",
            lambda d: d["topics"]["study_vascular"].update(answer=d["topics"]["study_vascular"]["answer"] + " Fatigue fell by 38%."),
            "figure 38",
        ),
        ("topics.yml", lambda d: d["topics"]["study_case_series"].update(more="See PMID 36800000."), "PMID"),
        ("topics.yml", lambda d: d["topics"]["dosing"].update(answer="Most people get 2 g/kg."), "dose"),
        ("topics.yml", lambda d: d["topics"]["access"].update(answer="Call {doctor_phone}."), "placeholders"),
        ("topics.yml", lambda d: d["topics"]["access"]["follow_ups"].append("nope"), "follow-ups"),
        ("topics.yml", lambda d: d["topics"]["dosing"].pop("short"), "dosing short: text is missing"),
        (
            "topics.yml",
            lambda d: d["topics"]["dosing"].update(short=d["topics"]["dosing"]["answer"]),
            "(at most 2 sentences|shorter than the answer)",
        ),
        ("topics.yml", lambda d: d["topics"]["dosing"].update(short="One. Two. Three."), "at most 2 sentences"),
        (
            "topics.yml",
            lambda d: d["topics"]["sources"].update(short=d["topics"]["sources"]["answer"] + " More."),
            "shorter than the answer",
        ),
        # A topic that cites nothing states no figure.
        ("topics.yml", lambda d: d["topics"]["ivig_basics"].update(short="It has 21 parts."), "figure 21"),
        # Conversation topics: `more` and `short` are checked when they are set.
        ("topics.yml", lambda d: d["topics"]["contact_clinic"].update(more="Call {clinic_fax}."), "placeholders"),
        ("topics.yml", lambda d: d["topics"].update(crisis=d["topics"]["dosing"]), "urgent replies live in urgent.yml"),
        ("messages.yml", lambda d: d.update(safety="Talk to your doctor."), "medical supervision"),
        ("messages.yml", lambda d: d.update(checked="Checked {checked_on}."), "placeholders"),
        ("topics.yml", lambda d: append(d, "dosing", "more", " Checked {checked_month}."), "placeholders"),
        ("references.yml", lambda d: d["seibert2024"].update(url="http://example.org"), "https"),
        # Dates: every topic records them, as YYYY-MM, the review after the check.
        ("topics.yml", lambda d: topic(d, "dosing").pop("last_checked"), "dosing last_checked: a month"),
        ("topics.yml", lambda d: topic(d, "dosing").update(review_due="November 2027"), "dosing review_due: a month"),
        ("topics.yml", lambda d: topic(d, "dosing").update(review_due="2026-13"), "review_due: a month"),
        ("topics.yml", lambda d: topic(d, "dosing").update(review_due="2026-11"), "review_due must come after"),
        # Trial status needs an "as of" date ...
        (
            "topics.yml",
            lambda d: topic(d, "clinical_trials").update(
                answer=topic(d, "clinical_trials")["answer"].replace("As of November 2026, there", "There")
            ),
            "clinical_trials answer: speaks of trial status",
        ),
        (
            "topics.yml",
            lambda d: append(d, "evidence_limits", "more", " IN-PASC is now recruiting."),
            "evidence_limits more: speaks of trial status",
        ),
        ("topics.yml", lambda d: append(d, "dosing", "more", " A current trial is testing it."), "dosing more: speaks of trial status"),
        # ... no later than the topic's last check ...
        (
            "topics.yml",
            lambda d: topic(d, "evidence_limits").update(
                answer=topic(d, "evidence_limits")["answer"].replace("November 2026", "December 2026")
            ),
            "later than last_checked",
        ),
        # ... nor than the dated status of the references it cites ...
        (
            "topics.yml",
            lambda d: topic(d, "evidence_limits").update(
                last_checked="2027-01",
                review_due="2027-02",
                answer=topic(d, "evidence_limits")["answer"].replace("November 2026", "January 2027"),
            ),
            "later than the status its references confirm",
        ),
        # ... it must cite a reference with a dated status ...
        (
            "topics.yml",
            lambda d: append(d, "symptom_fatigue", "more", " As of November 2026, a fatigue trial had not reported results."),
            "cites no reference with a dated status",
        ),
        # ... and be reviewed within 6 months.
        ("topics.yml", lambda d: topic(d, "clinical_trials").update(review_due="2027-11"), "within 6 months"),
        # An unconfirmed status is never shown as fact, in a topic or in a study summary.
        (
            "topics.yml",
            lambda d: append(d, "clinical_trials", "more", " RECOVER-AUTONOMIC has completed."),
            "unconfirmed status of trial_recover_autonomic",
        ),
        (
            "topics.yml",
            lambda d: append(d, "symptom_pots", "more", " It enrolled its patients."),
            "unconfirmed status of trial_recover_autonomic",
        ),
        (
            "messages.yml",
            lambda d: d["studies"].update(trial_recover_autonomic="It was completed in 2026."),
            "unconfirmed status of trial_recover_autonomic",
        ),
        # References: the status field's name carries its month; a label note states confirmed figures only.
        (
            "references.yml",
            lambda d: d["trial_in_pasc"].update(status_2026=d["trial_in_pasc"].pop("status_as_of_2026_11")),
            "status_as_of_YYYY_MM",
        ),
        ("references.yml", lambda d: d["thompson2023"].update(label_note="case series: 17 treated"), "thompson2023 label: the figure 17"),
        ("references.yml", lambda d: [d["nasem2024"].pop(k) for k in ("title", "kind")], "a title or a kind"),
    ],
)
def test_broken_content_fails_loudly(content_copy, name, change, message):
    edit(content_copy, name, change)
    with pytest.raises(ContentError, match=message):
        content_store.load(content_copy)


# A figure that only an unconfirmed field, a note or an unconfirmed status gives may not be shown;
# the same figure in a confirmed field may (the control case shows the test can tell them apart).
@pytest.mark.parametrize(
    "ref_id, field, value, confirmed",
    [
        ("trial_recover_autonomic", "unconfirmed_status", "a tracker lists 999 enrolled", False),
        ("trial_recover_autonomic", "note", "999 sites", False),
        ("trial_recover_autonomic", "url_check", "checked on 999 pages", False),
        ("seibert2024", "pages", "999-1001", False),  # `pages` is named under seibert2024's `unconfirmed`
        ("seibert2024", "findings", "999 people took part.", True),
    ],
)
def test_unconfirmed_figures_are_refused(content_copy, ref_id, field, value, confirmed):
    topic_id = {"trial_recover_autonomic": "clinical_trials", "seibert2024": "study_vascular"}[ref_id]

    def add(data):
        if isinstance(data[ref_id].get(field), list):
            data[ref_id][field].append(value)
        else:
            data[ref_id][field] = value

    edit(content_copy, "references.yml", add)
    edit(content_copy, "topics.yml", lambda d: append(d, topic_id, "more", " It had 999 people."))
    if confirmed:
        content_store.load(content_copy)
    else:
        with pytest.raises(ContentError, match=f"topic {topic_id} more: the figure 999"):
            content_store.load(content_copy)


def test_unconfirmed_status_is_kept_for_editors_only(content):
    recover = content.references["trial_recover_autonomic"]
    assert "completed" in recover.unconfirmed_status and "completed" not in recover.confirmed_text
    assert recover.status_as_of == datetime.date(2026, 11, 1) and "conclude" in recover.status
    assert "experimental" in recover.notes and "experimental" not in recover.confirmed_text
    for topic in content.topics.values():
        if "trial_recover_autonomic" in topic.citations:
            assert not re.search(r"\b(complet|enrol)", texts(topic)), topic.id
