"""UnknownWordsFallback: a message with no word the training data knows is not understood."""

from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.components import UnknownWordsFallback


def _message(text: str, intent: str = "side_effects") -> Message:
    message = Message({TEXT: text, INTENT: {"name": intent, "confidence": 0.9}})
    message.set(TOKENS_NAMES[TEXT], [Token(word, 0) for word in text.split()])
    return message


def _intent(fallback: UnknownWordsFallback, text: str) -> str:
    return fallback.process([_message(text)])[0].get(INTENT)["name"]


def test_only_known_words_count_and_punctuation_or_emoji_is_not_a_word():
    fallback = UnknownWordsFallback(None, None, vocabulary={"ivig", "side", "effects", "?"})
    assert _intent(fallback, "ivig side effects ?") == "side_effects"
    assert _intent(fallback, "asdfgh qwerty") == "nlu_fallback"
    assert _intent(fallback, "? ? ?") == "nlu_fallback"  # "?" is in the vocabulary, yet not a word
    assert _intent(fallback, "🙃 🙃") == "nlu_fallback"
