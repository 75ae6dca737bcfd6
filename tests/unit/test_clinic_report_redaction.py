"""The redaction of unanswered questions in the clinic report (bot/tools/report.py `redact`): every kind of
personal detail is replaced by its mark, and what is not personal stays as the patient wrote it."""

import pytest

from bot.tools.report import redact, wording

MARKS = wording()["redacted"]


@pytest.mark.parametrize(
    "kind, text, personal",
    [
        ("email", "please write to jane.doe+ivig@example.co.uk about it", ["jane.doe", "example.co.uk"]),
        ("email", "my email is SAM_T@clinic-mail.org", ["SAM_T", "clinic-mail"]),
        ("link", "is https://www.facebook.com/jane.doe.77 a good group?", ["facebook", "jane.doe"]),
        ("link", "I read www.ivig-stories.net/maria yesterday", ["ivig-stories", "maria"]),
        ("phone", "call me on 555-201-7788", ["555", "201", "7788"]),
        ("phone", "my number is +44 20 7946 0958", ["7946", "0958"]),
        ("phone", "ring (415) 555 0199 after 5", ["415", "0199"]),
        ("date", "my appointment is on 12/03/2026", ["12/03", "2026"]),
        ("date", "I was born on 1961-03-14", ["1961", "03-14"]),
        ("date", "my infusion is on March 3rd", ["March 3rd"]),
        ("date", "since the 5th of May 2024 I have been ill", ["5th", "May 2024"]),
        ("date", "it started in Aug 2023", ["Aug 2023"]),
        ("number", "I took 12 of them", ["12"]),
        ("number", "my weight is 72.5 kg and I am 43", ["72.5", "43"]),
        ("number", "hospital number A1234567", ["1234567"]),
        ("name", "my name is jane and I'm worried", ["jane"]),
        ("name", "My name's Tom", ["Tom"]),
        ("name", "hi, I'm Priya and my sister has it too", ["Priya"]),
        ("name", "can Mary-Jane O'Brien get IVIG?", ["Mary", "Jane", "Brien"]),
        ("name", "Dr. Okafor and dr smith said no", ["Okafor", "smith"]),
        ("name", "my daughter Chloe McDonald has POTS", ["Chloe", "McDonald"]),
    ],
)
def test_each_kind_of_personal_detail_is_replaced_by_its_mark(kind, text, personal):
    redacted = redact(text)
    assert MARKS[kind] in redacted, redacted
    for detail in personal:
        assert detail not in redacted, (detail, redacted)


def test_a_full_name_becomes_one_mark():
    assert redact("I asked Sarah Jane Smith about it") == f"I asked {MARKS['name']} about it"


@pytest.mark.parametrize(
    "text",
    [
        "Is IVIG safe for Long COVID?",
        "What are the side effects of Gammagard and Privigen?",
        "Tell me more about POTS and ME/CFS.",
        "Does Medicare or Medicaid pay for it?",
        "I'm so tired all the time.",
        "Can I start in March, or wait until Monday?",
        "What did the SARS-CoV-2 studies find about COVID-19?",
        "Is it approved by the FDA or the NIH?",
        "I may try it. My doctor said maybe.",
        "Where can I read the studies?\nThanks for your help!",
    ],
)
def test_text_without_personal_details_stays_as_written(text):
    assert redact(text) == text


def test_a_sentence_may_start_with_a_capital_and_a_new_line_starts_a_sentence():
    text = "Hello. Could IVIG help?\nSide effects worry me!"
    assert redact(text) == text


def test_marks_are_never_redacted_again():
    once = redact("my name is jane, born 3 May 1980, jane@example.org")
    assert redact(once) == once
