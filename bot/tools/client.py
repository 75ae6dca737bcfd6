"""A small client for the REST channel, shared by the evaluation, tests, load and benchmark scripts."""

import dataclasses
import json
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional

SAFETY_WORDS = "medical supervision"


@dataclasses.dataclass
class Turn:
    """One bot turn: the messages Rasa returned for one patient message."""

    messages: List[Dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.messages if m.get("text"))

    @property
    def payload(self) -> Dict[str, Any]:
        customs = [m["custom"] for m in self.messages if isinstance(m.get("custom"), dict)]
        return customs[-1] if customs else {}

    @property
    def topic(self) -> Optional[str]:
        return self.payload.get("topic")

    @property
    def kind(self) -> Optional[str]:
        return self.payload.get("kind")

    @property
    def urgency(self) -> Optional[str]:
        """The urgent level this turn puts first: its own topic, or the reminder it starts with."""
        return self.payload.get("reminder") or self.topic

    @property
    def has_safety(self) -> bool:
        """The closing safety line is in the text: the IVIG safety message, or an urgent reply's own line."""
        safety_text = self.payload.get("safety_text") or ""
        if self.payload.get("safety") is not True or not safety_text or safety_text not in self.text:
            return False
        return self.kind == "urgent" or self.kind == "reminder" or SAFETY_WORDS in self.text.lower()


class RestClient:
    def __init__(self, base_url: str, timeout: float = 30):
        self.url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
        self.timeout = timeout

    def post(self, body: bytes, headers: Optional[Dict[str, str]] = None):
        """Raw POST to the webhook: (status, parsed JSON or text)."""
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def send(self, sender: str, text: str) -> Turn:
        status, messages = self.post(json.dumps({"sender": sender, "message": text}).encode())
        if status != 200:
            raise RuntimeError(f"webhook answered {status}: {messages!r}")
        return Turn(messages)
