"""The curated content keeps the content contract, and the validator fails loudly when it does not."""
import pathlib
import shutil

import pytest
import yaml

from bot import content_store
from bot.content_store import KNOWLEDGE_TOPICS, TOPIC_IDS, ContentError

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
}

# Facts each answer must state (lowercase fragments; a tuple means any one of them).
REQUIRED_FACTS = {
    "ivig_basics": ["antibod", "donor", "vein", "autoimmune", ("immune deficien", "immunodeficien", "weak immune")],
    "ivig_vs_monoclonal": ["monoclonal", "spike"],
    "ivig_long_covid_rationale": [("nerv", "neurolog"), "heart"],
    "mechanism_immune": ["autoantibod", "inflammation"],
    "mechanism_nerve": ["small fiber neuropathy", "dysautonomia"],
    "research_overview": [("early", "small"), ("larger", "bigger")],
    "study_vascular": ["21", "29", "27%", "3 months", ("not randomi", "not put into groups by chance"), "abstract"],
    "study_case_series": ["9", ("6", "six"), "101", "547", ("no control", "no comparison", "without a comparison")],
    "study_sfn": ["9", ("3 of 7", "3 of the 7"), ("controlled trial", "larger trial", "bigger trial"), ("looked back", "retrospective")],
    "study_hypothesis": [("no patient", "did not include any patients", "without patients")],
    "candidates": ["small fiber neuropathy", "specialist"],
    "evidence_limits": [("not proven", "isn't proven", "not been proven"), "pots", "small fiber neuropathy"],
    "dosing": [("no dose", "no set dose", "no agreed dose", "no standard dose", "not been set", "no established")],
    "access": ["prescription", "medical supervision"],
    "side_effects": ["headache", "blood clot", "kidney", "meningitis", "allerg"],
    "infusion_process": ["vein", ("hours", "hour")],
    "clinical_trials": ["in-pasc", "recover-autonomic"],
    "symptom_brain_fog": [("thinking", "memory")],
    "symptom_fatigue": ["fatigue"],
    "symptom_pain_neuropathy": ["small fiber neuropathy"],
    "symptom_pots": ["pots", ("no clear benefit", "no better", "did not do better", "no difference", "did not differ")],
    "symptom_heart_vascular": ["27%"],
    "symptom_other": [("doctor",)],
    "emergency": ["{emergency_number}"],
    "crisis": ["{crisis_line}", "{emergency_number}"],
    "personal_advice": ["doctor"],
    "cost_insurance": [("insur",)],
    "bot_identity": [("not a doctor", "not a person", "not a human")],
}


def test_every_topic_has_an_answer(content):
    assert set(content.topics) == set(TOPIC_IDS)
    for topic in content.topics.values():
        assert topic.answer.strip() and topic.question.strip()
        if topic.id in KNOWLEDGE_TOPICS:
            assert topic.more.strip() and topic.more != topic.answer


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
        assert "pmid" not in label.lower()


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


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("topics.yml", lambda d: d["topics"].update(made_up_topic=d["topics"]["dosing"]), "unknown topic ids"),
        ("topics.yml", lambda d: d["topics"].pop("side_effects"), "without an answer"),
        ("topics.yml", lambda d: d["topics"]["dosing"].update(answer=""), "text is missing"),
        ("topics.yml", lambda d: d["topics"]["study_sfn"]["citations"].append("smith1999"), "unknown citation"),
        ("topics.yml", lambda d: d["topics"]["study_vascular"].update(
            answer=d["topics"]["study_vascular"]["answer"] + " Fatigue fell by 38%."), "figure 38"),
        ("topics.yml", lambda d: d["topics"]["study_case_series"].update(more="See PMID 36800000."), "PMID"),
        ("topics.yml", lambda d: d["topics"]["dosing"].update(answer="Most people get 2 g/kg."), "dose"),
        ("topics.yml", lambda d: d["topics"]["access"].update(answer="Call {doctor_phone}."), "placeholders"),
        ("topics.yml", lambda d: d["topics"]["access"]["follow_ups"].append("nope"), "follow-ups"),
        ("messages.yml", lambda d: d.update(safety="Talk to your doctor."), "medical supervision"),
        ("references.yml", lambda d: d["seibert2024"].update(url="http://example.org"), "https"),
    ],
)
def test_broken_content_fails_loudly(content_copy, name, change, message):
    edit(content_copy, name, change)
    with pytest.raises(ContentError, match=message):
        content_store.load(content_copy)
