"""Safety triage: the first stage for every patient message, before and above topic understanding.

- patterns.py / patterns.yml: what must never be missed, deterministic (spaCy token patterns), in English,
  Spanish and French, on the whole message.
- risk.py: a learned risk model on the sentence embeddings, for indirect phrasing ("everyone would
  be better off without me") that no pattern lists.
- stage.py: combines both into one decision (`emergency`, `poisoning`, `crisis`, `distress` or none);
  the Rasa component in bot/nlp/components.py makes that decision win over the topic.
"""

# Message metadata key: the part of a long message a channel cut off before classification; the
# triage stage reads it too, so the whole message is checked.
TRIAGE_TAIL = "triage_tail"
