"""The actions, run with rasa_sdk's CollectingDispatcher, trackers built from events and the real domain."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from bot.core.answers import ReplyBuilder
from bot.core.content_store import TOPIC_IDS, TOPICS_WITHOUT_SAFETY, URGENT_TOPICS
from bot.core.settings import load_clinic

SAFETY_WORDS = "medical supervision"


def tracker(intent, text="", entities=(), current_topic=None, triage=None, confidence=1.0, events=(), **slots):
    latest = {"intent": {"name": intent, "confidence": confidence}, "entities": list(entities), "text": text}
    if triage is not None:
        latest["triage"] = triage
    return Tracker(
        sender_id="patient",
        slots={"current_topic": current_topic, **slots},
        latest_message=latest,
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, tr, domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tr, domain.as_dict()))
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0], events


def test_every_action_is_in_the_domain(domain):
    names = {cls().name() for cls in (actions.ActionAnswerTopic, actions.ActionAnswerFollowUp, actions.ActionRecordFeedback)}
    assert names <= set(domain.user_actions)


def test_every_topic_intent_is_in_the_domain(domain):
    assert set(TOPIC_IDS) - {"fallback"} <= set(domain.intents)


@pytest.mark.parametrize("topic_id", [t for t in TOPIC_IDS if t != "fallback"])
def test_topic_answer_follows_the_contract(topic_id, content, domain):
    message, events = run(actions.ActionAnswerTopic(), tracker(topic_id), domain)
    payload = message["custom"]
    assert payload["topic"] == topic_id
    if topic_id in URGENT_TOPICS:
        # a person in danger reads the action first and an urgent last line, never the IVIG footer
        assert payload["safety"] is True and payload["kind"] == "urgent"
        assert message["text"].endswith(payload["safety_text"]) and SAFETY_WORDS not in message["text"].lower()
        assert message["buttons"] == [] and payload["citations"] == []
        assert events == [SlotSet("urgent_level", topic_id), SlotSet("urgent_turns_left", actions.URGENT_CARRY_TURNS)]
        return
    if topic_id != "sources":
        assert [c["id"] for c in payload["citations"]] == list(content.topics[topic_id].citations)
    for citation in payload["citations"]:
        assert citation["url"].startswith("https://") and citation["label"]
    if topic_id in TOPICS_WITHOUT_SAFETY:
        assert payload["safety"] is False
    else:
        assert payload["safety"] is True
        assert message["text"].endswith(payload["safety_text"])
        assert SAFETY_WORDS in payload["safety_text"].lower()
    assert "{" not in message["text"], "a placeholder was left unfilled"
    assert [b["payload"] for b in message["buttons"]] == [f"/{t}" for t in content.topics[topic_id].follow_ups]


def test_a_topic_answer_remembers_the_topic_and_the_study(domain):
    _, events = run(actions.ActionAnswerTopic(), tracker("study_vascular"), domain)
    assert events == [SlotSet("current_topic", "study_vascular"), SlotSet("detail_depth", 0), SlotSet("current_study", "study_vascular")]


def test_fallback_asks_to_rephrase_with_suggestions(domain):
    message, events = run(actions.ActionAnswerTopic(), tracker("nlu_fallback"), domain)
    assert message["custom"]["topic"] == "fallback" and message["buttons"] and events == []


@pytest.mark.parametrize(
    "intent, confidence, text, entities, expected",
    [
        # unsure, short: a follow-up of the topic just discussed
        ("bot_identity", 0.33, "is that normal", [], "side_effects"),
        ("nlu_fallback", 0.25, "why not, its the same stuff", [], "side_effects"),
        # confident, long, or naming a symptom of its own: the classifier's topic
        ("cost_insurance", 0.92, "how much is it", [], "cost_insurance"),
        ("capabilities", 0.5, "and what about all the other things you can explain to me about this treatment", [], "capabilities"),
        ("symptom_brain_fog", 0.5, "and the fog?", [{"entity": "SYMPTOM", "value": "fog"}], "symptom_brain_fog"),
        # small talk and gibberish keep their own reply
        ("thanks", 0.4, "ok thanks", [], "thanks"),
        ("nlu_fallback", 1.0, "asdkjh lkj", [], "fallback"),
    ],
)
def test_a_short_unsure_message_continues_the_topic_just_discussed(intent, confidence, text, entities, expected, domain):
    tr = tracker(intent, text=text, entities=entities, current_topic="side_effects", confidence=confidence)
    message, _ = run(actions.ActionAnswerTopic(), tr, domain)
    assert message["custom"]["topic"] == expected


@pytest.mark.parametrize("text", ["so who decides?", "ok who would decide that", "who makes the call then?"])
def test_who_decides_asks_about_the_topic_just_discussed(text, domain):
    for current in ("pregnancy_children", "dosing"):
        tr = tracker("candidates", text=text, current_topic=current, confidence=0.95)
        message, _ = run(actions.ActionAnswerTopic(), tr, domain)
        assert message["custom"]["topic"] == current
    # first thing said, or a longer question of its own: the classifier's topic
    assert run(actions.ActionAnswerTopic(), tracker("candidates", text=text, confidence=0.95), domain)[0]["custom"]["topic"] == "candidates"
    longer = tracker("clinical_trials", text="who decides if I'm eligible for a trial?", current_topic="dosing", confidence=0.95)
    assert run(actions.ActionAnswerTopic(), longer, domain)[0]["custom"]["topic"] == "clinical_trials"


def test_tell_me_more_keeps_the_topic(content, domain):
    message, _ = run(actions.ActionAnswerFollowUp(), tracker("more_detail", current_topic="side_effects"), domain)
    assert message["custom"]["topic"] == "side_effects"
    assert message["custom"]["kind"] == "more"
    assert message["text"].startswith(content.topics["side_effects"].more.strip()[:40])


def test_study_size_is_answered_about_the_study_just_discussed(content, domain):
    message, _ = run(actions.ActionAnswerFollowUp(), tracker("study_details", current_topic="study_vascular"), domain)
    assert message["custom"]["topic"] == "study_vascular"
    assert "21" in message["text"] and "29" in message["text"]
    assert [c["id"] for c in message["custom"]["citations"]] == ["seibert2024"]


def test_study_size_after_a_symptom_answer_describes_its_study_and_keeps_it(domain):
    """After the nerve-pain answer, "how many people were in it?" is the small-fibre study, and stays so."""
    message, events = run(actions.ActionAnswerFollowUp(), tracker("study_details", current_topic="symptom_pain_neuropathy"), domain)
    assert message["custom"]["topic"] == "study_sfn" and message["custom"]["kind"] == "details"
    assert SlotSet("current_study", "study_sfn") in events and SlotSet("current_topic", "study_sfn") in events
    # Studies of two study topics behind one answer: described as that answer's studies, nothing is chosen.
    message, events = run(actions.ActionAnswerFollowUp(), tracker("study_details", current_topic="symptom_heart_vascular"), domain)
    assert message["custom"]["topic"] == "symptom_heart_vascular" and not events


def topic_history(*topics):
    return [SlotSet("current_topic", t) for t in topics]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("back to the first one", "mechanism_immune"),
        ("bak to the frist one", "mechanism_immune"),
        ("go back to the previous one", "cost_insurance"),
        ("back to what we were talking about before", "cost_insurance"),
    ],
)
def test_back_to_an_earlier_topic(text, expected, domain):
    history = topic_history("mechanism_immune", "mechanism_immune", "cost_insurance", "side_effects")
    tr = tracker("earlier_topic", text=text, current_topic="side_effects", events=history)
    message, events = run(actions.ActionAnswerFollowUp(), tr, domain)
    assert message["custom"]["topic"] == expected and message["custom"]["kind"] == "answer"
    assert SlotSet("current_topic", expected) in events


def test_back_to_an_earlier_topic_with_one_topic_or_none(domain):
    tr = tracker("earlier_topic", text="the one before", current_topic="dosing", events=topic_history("dosing"))
    message, _ = run(actions.ActionAnswerFollowUp(), tr, domain)
    assert message["custom"]["topic"] == "dosing"
    message, _ = run(actions.ActionAnswerFollowUp(), tracker("earlier_topic", text="back to the first one"), domain)
    assert message["custom"]["topic"] == "capabilities" and message["buttons"]


def test_follow_up_without_a_topic_asks_what_to_expand(domain):
    message, _ = run(actions.ActionAnswerFollowUp(), tracker("more_detail"), domain)
    assert message["custom"]["topic"] == "capabilities" and message["buttons"]


def test_source_request_lists_the_citations_of_the_topic_just_discussed(content, domain):
    message, _ = run(actions.ActionAnswerTopic(), tracker("sources", current_topic="study_sfn"), domain)
    assert message["custom"]["topic"] == "sources"
    cited = [c["id"] for c in message["custom"]["citations"]]
    assert cited == list(content.topics["study_sfn"].citations) and cited[0] == "mcalpine2024"
    assert "https://pmc.ncbi.nlm.nih.gov/articles/PMC11087026/" in message["text"]


def test_source_request_naming_a_study_lists_that_study(domain):
    entities = [{"entity": "STUDY", "value": "seibert"}]
    message, _ = run(actions.ActionAnswerTopic(), tracker("sources", entities=entities), domain)
    assert [c["id"] for c in message["custom"]["citations"]] == ["seibert2024"]


def test_source_request_without_context_lists_every_reference(content, domain):
    message, _ = run(actions.ActionAnswerTopic(), tracker("sources"), domain)
    assert {c["id"] for c in message["custom"]["citations"]} == set(content.topics["sources"].citations)


def test_named_study_routes_a_study_question(domain):
    entities = [{"entity": "STUDY", "value": "thompson"}]
    message, _ = run(actions.ActionAnswerTopic(), tracker("research_overview", entities=entities), domain)
    assert message["custom"]["topic"] == "study_case_series"


def test_urgent_replies_use_the_clinic_numbers(tmp_path, content):
    clinic_file = tmp_path / "clinic.yml"
    clinic_file.write_text("emergency_number: '112'\ncrisis_line: '116 123'\npoison_line: '0800 POISON'\n" "clinic_phone: '555-0100'\n")
    builder = ReplyBuilder(content, load_clinic(clinic_file))
    emergency = builder.answer("emergency")
    assert emergency.text.startswith("Call 112 now") and "nurse" in emergency.text
    crisis = builder.answer("crisis")
    assert "116 123" in crisis.text and "112" in crisis.text
    poisoning = builder.answer("poisoning")
    assert "0800 POISON" in poisoning.text and "112" in poisoning.text and "116 123" in poisoning.text
    distress = builder.answer("distress")
    assert "116 123" in distress.text and "555-0100" in distress.text and "112" not in distress.text


@pytest.mark.parametrize("level", URGENT_TOPICS)
@pytest.mark.parametrize("intent", ["side_effects", "nlu_fallback", "study_details"])
def test_the_triage_decision_wins_over_the_topic(level, intent, domain):
    triage = {"level": level, "source": "pattern", "language": "en"}
    for action in (actions.ActionAnswerTopic(), actions.ActionAnswerFollowUp()):
        message, events = run(action, tracker(intent, triage=triage, current_topic="study_sfn"), domain)
        assert message["custom"]["topic"] == level and message["custom"]["kind"] == "urgent"
        assert SlotSet("urgent_level", level) in events


@pytest.mark.parametrize("language, words", [("es", "Llame"), ("fr", "Appelez")])
def test_a_spanish_or_french_emergency_gets_the_key_line_in_that_language_first(language, words, domain):
    triage = {"level": "emergency", "source": "pattern", "language": language}
    message, _ = run(actions.ActionAnswerTopic(), tracker("emergency", triage=triage), domain)
    assert message["text"].startswith(words) and "Call 911" in message["text"]
    assert message["custom"]["language"] == language


def test_an_urgent_reply_without_a_translation_names_english_as_its_language(domain):
    # The widget marks the first paragraph with this language: a German message gets the English text.
    triage = {"level": "emergency", "source": "pattern", "language": "de"}
    message, _ = run(actions.ActionAnswerTopic(), tracker("emergency", triage=triage), domain)
    assert message["text"].startswith("Call 911") and message["custom"]["language"] == "en"


@pytest.mark.parametrize("intent", ["thanks", "goodbye", "nlu_fallback", "greeting"])
def test_after_a_crisis_reply_small_talk_gets_the_crisis_line_again(intent, domain):
    tr = tracker(intent, triage={"level": None, "language": "en"}, urgent_level="crisis", urgent_turns_left=3)
    message, events = run(actions.ActionAnswerTopic(), tr, domain)
    assert message["custom"]["topic"] == "crisis" and message["custom"]["kind"] == "reminder"
    assert message["text"].startswith("Before anything else") and "988" in message["text"]
    assert "You're welcome" not in message["text"]
    assert events[0] == SlotSet("urgent_turns_left", 2)


def test_after_an_emergency_a_question_is_answered_after_the_reminder(content, domain):
    tr = tracker("symptom_fatigue", triage={"level": None, "language": "en"}, urgent_level="emergency", urgent_turns_left=1)
    message, events = run(actions.ActionAnswerTopic(), tr, domain)
    assert message["text"].startswith("If those signs are still there")
    assert message["custom"]["topic"] == "symptom_fatigue" and message["custom"]["reminder"] == "emergency"
    assert SlotSet("urgent_turns_left", 0) in events and SlotSet("urgent_level", None) in events


@pytest.mark.parametrize("level, topic, kind", [("distress", "thanks", "answer"), ("crisis", "crisis", "reminder")])
def test_thanks_after_the_distress_reply_is_thanks_with_the_reminder_first(level, topic, kind, domain):
    tr = tracker("thanks", text="ok thank you", urgent_level=level, urgent_turns_left=2)
    message, _ = run(actions.ActionAnswerTopic(), tr, domain)
    assert message["custom"]["topic"] == topic and message["custom"]["kind"] == kind
    reminder = actions.default_builder().reminder(level)
    assert message["text"].startswith(reminder)


def test_distress_words_right_after_an_emergency_get_the_emergency_reminder(domain):
    tr = tracker("distress", triage={"level": "distress", "language": "en"}, urgent_level="emergency", urgent_turns_left=2)
    message, events = run(actions.ActionAnswerTopic(), tr, domain)
    assert message["text"].startswith("If those signs are still there") and "911" in message["text"]
    assert message["custom"]["topic"] == "emergency" and message["custom"]["kind"] == "reminder"
    assert SlotSet("urgent_turns_left", 1) in events
    # With no urgent reply in force, distress words get the distress reply.
    message, _ = run(actions.ActionAnswerTopic(), tracker("distress", triage={"level": "distress", "language": "en"}), domain)
    assert message["custom"]["topic"] == "distress" and message["custom"]["kind"] == "urgent"


def distress_tracker(text, asked, confidence, language="en"):
    tr = tracker("distress", text=text, triage={"level": "distress", "language": language})
    tr.latest_message["intent_ranking"] = [{"name": "distress", "confidence": 1.0}, {"name": asked, "confidence": confidence}]
    return tr


def test_an_ivig_question_beside_distress_words_gets_the_acknowledgement_then_the_answer(domain):
    text = "I just want my old life back. Could IVIG cure this?"
    message, events = run(actions.ActionAnswerTopic(), distress_tracker(text, "approval_and_cure", 0.9), domain)
    builder = actions.default_builder()
    acknowledgement = builder.urgent("distress").text.split("\n\n")[0]
    assert message["text"].startswith(acknowledgement) and "988" in message["text"]
    assert builder.answer("approval_and_cure").text in message["text"]
    assert message["custom"]["topic"] == "approval_and_cure" and message["custom"]["reminder"] == "distress"
    assert SlotSet("urgent_level", "distress") in events and SlotSet("current_topic", "approval_and_cure") in events


@pytest.mark.parametrize(
    "text, asked, confidence, language",
    [
        ("I just want my old life back. Could IVIG cure this?", "approval_and_cure", 0.4, "en"),  # unsure of the topic
        ("I just want my old life back", "approval_and_cure", 0.9, "en"),  # no question asked
        ("I feel so alone, is anyone there?", "bot_identity", 0.9, "en"),  # not an IVIG question
        ("je me sens si seule, est-ce que ça peut guérir ?", "approval_and_cure", 0.9, "fr"),  # the translated reply
    ],
)
def test_distress_words_without_a_clear_ivig_question_get_the_distress_reply(text, asked, confidence, language, domain):
    message, _ = run(actions.ActionAnswerTopic(), distress_tracker(text, asked, confidence, language), domain)
    assert message["custom"]["topic"] == "distress" and message["custom"]["kind"] == "urgent"


@pytest.mark.parametrize("intent", ["simpler", "more_detail", "study_details"])
def test_a_follow_up_in_another_language_with_nothing_answered_yet_gets_the_language_note(intent, domain):
    french = tracker(intent, text="je ne comprends pas", triage={"level": None, "language": "fr"})
    message, _ = run(actions.ActionAnswerFollowUp(), french, domain)
    assert message["custom"]["kind"] == "language" and message["custom"]["language"] == "fr"
    # After an English answer the follow-up is about it, whatever the language.
    tr = tracker("simpler", text="je ne comprends pas", triage={"level": None, "language": "fr"}, current_topic="dosing")
    message, _ = run(actions.ActionAnswerFollowUp(), tr, domain)
    assert message["custom"]["topic"] == "dosing" and message["custom"]["kind"] == "short"


def test_the_carry_over_ends(domain):
    tr = tracker("thanks", triage={"level": None, "language": "en"}, urgent_level=None, urgent_turns_left=0)
    message, _ = run(actions.ActionAnswerTopic(), tr, domain)
    assert message["custom"]["topic"] == "thanks"


def test_tell_me_more_goes_deeper_once_then_offers_related_questions(content, domain):
    first, events = run(actions.ActionAnswerFollowUp(), tracker("more_detail", current_topic="side_effects", detail_depth=0), domain)
    assert first["custom"]["kind"] == "more" and SlotSet("detail_depth", 1) in events
    second, _ = run(actions.ActionAnswerFollowUp(), tracker("more_detail", current_topic="side_effects", detail_depth=1), domain)
    assert second["custom"]["kind"] == "no_more" and second["custom"]["topic"] == "side_effects"
    assert second["text"] != first["text"] and second["buttons"]


def test_say_it_simpler_gives_the_short_form(content, domain):
    message, _ = run(actions.ActionAnswerFollowUp(), tracker("simpler", current_topic="study_sfn"), domain)
    assert message["custom"]["kind"] == "short" and message["custom"]["topic"] == "study_sfn"
    assert message["text"].startswith(content.topics["study_sfn"].short.strip()[:30])
    assert len(content.topics["study_sfn"].short) < len(content.topics["study_sfn"].answer)


def test_going_back_to_that_study_after_another_topic(domain):
    tr = tracker("study_details", current_topic="cost_insurance", current_study="study_vascular")
    message, _ = run(actions.ActionAnswerFollowUp(), tr, domain)
    assert message["custom"]["topic"] == "study_vascular" and "21" in message["text"]


def test_going_back_to_the_first_study_after_another_study(domain):
    slots = {"current_topic": "study_sfn", "current_study": "study_sfn", "events": topic_history("study_vascular", "study_sfn")}
    tr = tracker("study_details", "going back to that first study, was it randomised?", **slots)
    message, _ = run(actions.ActionAnswerFollowUp(), tr, domain)
    assert message["custom"]["topic"] == "study_vascular" and "21" in message["text"]
    # "the first infusion" names no study: the study just discussed
    tr = tracker("study_details", "how long after the first infusion did they improve?", **slots)
    message, _ = run(actions.ActionAnswerFollowUp(), tr, domain)
    assert message["custom"]["topic"] == "study_sfn"


def test_study_details_of_a_named_study_describe_that_study(domain):
    """ "How many people were in the case series?" as a first message, or after another study: the study it names."""
    case_series = [{"entity": "STUDY", "value": "case series"}]
    for current in (None, "study_vascular"):
        tr = tracker("study_details", "how many were in the case series", case_series, current_topic=current, current_study=current)
        message, _ = run(actions.ActionAnswerFollowUp(), tr, domain)
        assert message["custom"]["topic"] == "study_case_series" and message["custom"]["kind"] == "details"


def test_study_details_name_each_study_they_describe(domain):
    message, _ = run(actions.ActionAnswerFollowUp(), tracker("study_details", current_topic="symptom_pots"), domain)
    assert "small fiber neuropathy study" in message["text"] and "POTS trial" in message["text"]


@pytest.mark.parametrize(
    "language, words", [("es", "Solo puedo responder en inglés"), ("fr", "qu'en anglais"), ("de", "I can only answer in English")]
)
def test_another_language_gets_the_note_questions_and_clinic_contact(language, words, domain):
    tr = tracker("side_effects", triage={"level": None, "language": language})
    message, _ = run(actions.ActionAnswerTopic(), tr, domain)
    assert words in message["text"] and "I can only answer in English" in message["text"]
    assert message["custom"]["kind"] == "language" and message["buttons"]
    assert message["custom"]["safety"] is True
    assert message["custom"]["language"] == (language if language != "de" else "en")


def test_default_clinic_settings_are_safe():
    clinic = load_clinic()
    assert "911" in clinic.emergency_number and "988" in clinic.crisis_line


def test_a_clinic_cannot_blank_the_emergency_number(tmp_path):
    clinic_file = tmp_path / "clinic.yml"
    clinic_file.write_text("emergency_number: ''\n")
    with pytest.raises(ValueError, match="emergency_number"):
        load_clinic(clinic_file)


def test_feedback_is_recorded_silently(domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(actions.ActionRecordFeedback().run(dispatcher, tracker("feedback"), domain.as_dict()))
    assert dispatcher.messages == [] and events == []


@pytest.mark.parametrize("intent", ["research_overview", "capabilities", "symptom_other"])
def test_a_named_symptom_group_routes_general_questions_to_its_topic(intent, domain):
    entities = [{"entity": "SYMPTOM", "value": "brain fog"}]
    message, _ = run(actions.ActionAnswerTopic(), tracker(intent, entities=entities), domain)
    assert message["custom"]["topic"] == "symptom_brain_fog"
