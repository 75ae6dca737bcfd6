"""The patient's privacy commands: "what do you keep about me?" and "forget me".

Both are answered before the message is classified (bot/rasa_ext/rasa_server.py `answering_requests_before_nlu`),
like the doctor summary: exact whole-message matches from content (privacy.yml), in English, Spanish and
French, so a longer message ("forget me, I can't breathe") goes on to the safety triage as usual.

"Forget me" asks first. The question is stored in the conversation (the payload kind `forget_confirm`), so the
answer "yes" can be read on any server of the deployment; after "yes" every stored event of the conversation
is deleted from the tracker store (bot/rasa_ext/conversations.py) and the reply (kind `forgotten`) tells the widget to
drop its conversation id.
"""

import dataclasses
import functools
import pathlib
from typing import Any, FrozenSet, Optional

import yaml

from bot.core.answers import Reply, ReplyBuilder
from bot.core.content_store import CONTENT_DIR, ContentError, _check_text

PRIVACY_FILE = CONTENT_DIR / "privacy.yml"
TOPIC = "privacy"
# Payload kinds of the replies; the widget forgets its conversation id on FORGOTTEN.
ASK, FORGOTTEN, KEPT, POLICY = "forget_confirm", "forgotten", "forget_kept", "privacy"
# What a message may be, read whole: the four lists of privacy.yml.
FORGET, CONFIRM, CANCEL, ASK_POLICY = "forget", "confirm", "cancel", "policy"
TEXTS = ("ask", "confirm_button", "cancel_button", "forgotten", "kept", "policy")


@dataclasses.dataclass(frozen=True)
class PrivacyText:
    forget: FrozenSet[str]
    confirm: FrozenSet[str]
    cancel: FrozenSet[str]
    policy_requests: FrozenSet[str]
    ask: str
    confirm_button: str
    cancel_button: str
    forgotten: str
    kept: str
    policy: str


def normalise(message: Any) -> str:
    """Lower case, single spaces, no commas and no final full stop, exclamation or question mark."""
    return " ".join(str(message).lower().replace(",", " ").split()).rstrip(".!?¿¡").strip(" ¿¡")


def load_text(path: Optional[pathlib.Path] = None) -> PrivacyText:
    """Read and check privacy.yml; raises ContentError on any break."""
    raw = yaml.safe_load(pathlib.Path(path or PRIVACY_FILE).read_text(encoding="utf-8")) or {}
    lists = {}
    for key in ("forget_requests", "confirm_requests", "cancel_requests", "policy_requests"):
        items = raw.get(key) or ()
        if not all(isinstance(item, str) for item in items):
            raise ContentError(f"privacy.yml {key}: every item must be text (quote yes, no, on and off)")
        lists[key] = frozenset(normalise(item) for item in items)
        if not lists[key]:
            raise ContentError(f"privacy.yml: no {key} listed")
    for text in TEXTS:
        _check_text(f"privacy.yml {text}", raw.get(text), frozenset(), frozenset())
    overlap = lists["forget_requests"] & (lists["confirm_requests"] | lists["cancel_requests"])
    if overlap:
        raise ContentError(f"privacy.yml: {sorted(overlap)} both asks to forget and answers the question")
    return PrivacyText(
        lists["forget_requests"],
        lists["confirm_requests"],
        lists["cancel_requests"],
        lists["policy_requests"],
        **{text: str(raw[text]) for text in TEXTS},
    )


@functools.lru_cache(maxsize=1)
def get_text() -> PrivacyText:
    return load_text()


def request_of(message: Any, text: Optional[PrivacyText] = None) -> Optional[str]:
    """FORGET, CONFIRM, CANCEL, ASK_POLICY or None: what this whole message asks, read without context."""
    if not isinstance(message, str):
        return None
    text, said = text or get_text(), normalise(message)
    for kind, phrases in ((FORGET, text.forget), (ASK_POLICY, text.policy_requests), (CONFIRM, text.confirm), (CANCEL, text.cancel)):
        if said in phrases:
            return kind
    return None


def is_forget_question(payload: Any) -> bool:
    """The bot's last reply asked whether to delete the conversation."""
    return isinstance(payload, dict) and payload.get("kind") == ASK


def reply(kind: str, builder: Optional[ReplyBuilder] = None, text: Optional[PrivacyText] = None) -> Reply:
    """The reply for ASK, FORGOTTEN, KEPT or POLICY (the answer contract's text and payload)."""
    text, builder = text or get_text(), builder or ReplyBuilder()
    body = {ASK: text.ask, FORGOTTEN: text.forgotten, KEPT: text.kept, POLICY: text.policy}[kind]
    answer = builder.plain(TOPIC, kind, body)
    if kind == ASK:
        # A button sends its own title, which the confirm and cancel lists hold: typed or tapped, the same answer.
        buttons = [
            {"title": text.confirm_button, "payload": text.confirm_button},
            {"title": text.cancel_button, "payload": text.cancel_button},
        ]
        answer = dataclasses.replace(answer, buttons=buttons)
    return answer
