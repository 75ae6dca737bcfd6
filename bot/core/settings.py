"""Configuration in one typed place: environment variables plus the clinic settings file.

Every value has a default that runs locally; `.env.example` lists the variables.
"""

import dataclasses
import functools
import os
import pathlib
from typing import Any, Dict, Optional, Tuple

import yaml

PACKAGE_DIR = pathlib.Path(__file__).parents[1]  # bot/
PROJECT_DIR = PACKAGE_DIR.parent
# Where the assistant keeps its files when run from the project: the default SQLite tracker store, the clinic report.
RUNTIME_DIR = PROJECT_DIR / "runtime"
DEFAULT_CLINIC_FILE = PACKAGE_DIR / "clinic.yml"


def resolve_project_path(path: str) -> pathlib.Path:
    """A path from config.yml: relative paths are relative to the project, not the working directory."""
    candidate = pathlib.Path(path)
    return candidate if candidate.is_absolute() else PROJECT_DIR / candidate


@dataclasses.dataclass(frozen=True)
class Clinic:
    """What a clinic sets: its name and contact routes, emergency, crisis and poison lines, safety addition."""

    clinic_name: str
    clinic_contact: str
    emergency_number: str
    crisis_line: str
    poison_line: str
    clinic_phone: str = ""
    clinic_hours: str = ""
    clinic_portal_url: str = ""
    privacy_notice_url: str = ""
    safety_extra: str = ""
    # The clinic report shows what patients typed when the bot could not answer (redacted) only when on.
    report_unanswered_text: bool = False

    def contact_details(self) -> str:
        """How to reach the clinic, one line per route it has set: name and contact, phone, hours, portal."""
        lines = [f"{self.clinic_name}: {self.clinic_contact}"]
        lines += [
            f"- {label}: {value}"
            for label, value in (("Phone", self.clinic_phone), ("Hours", self.clinic_hours), ("Patient portal", self.clinic_portal_url))
            if value
        ]
        return "\n".join(lines)

    def placeholders(self) -> Dict[str, str]:
        return {
            "clinic_name": self.clinic_name,
            "clinic_contact": self.clinic_contact,
            "clinic_contact_details": self.contact_details(),
            "emergency_number": self.emergency_number,
            "crisis_line": self.crisis_line,
            "poison_line": self.poison_line,
        }


def load_clinic(path: Optional[pathlib.Path] = None) -> Clinic:
    """Defaults from bot/clinic.yml, overridden field by field by the clinic's own file."""
    values = yaml.safe_load(DEFAULT_CLINIC_FILE.read_text(encoding="utf-8"))
    if path is not None:
        overrides = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")) or {}
        unknown = set(overrides) - set(values)
        if unknown:
            raise ValueError(f"{path}: unknown clinic settings {sorted(unknown)}")
        values.update({key: value for key, value in overrides.items() if value is not None})
    blank = [key for key in ("emergency_number", "crisis_line", "poison_line") if not str(values[key]).strip()]
    if blank:
        raise ValueError(f"clinic settings must not leave {blank} empty")
    for link in ("clinic_portal_url", "privacy_notice_url"):
        if str(values.get(link) or "") and not str(values[link]).startswith("https://"):
            raise ValueError(f"{link} must be an https:// link")
    if not isinstance(values["report_unanswered_text"], bool):
        raise ValueError("report_unanswered_text must be true or false")
    fields: Dict[str, Any] = {key: value if isinstance(value, bool) else str(value) for key, value in values.items()}
    return Clinic(**fields)


@dataclasses.dataclass(frozen=True)
class Settings:
    clinic_file: Optional[pathlib.Path]
    rasa_host: str
    rasa_port: int
    actions_port: int
    demo_port: int
    cors_origins: Tuple[str, ...]
    api_token: str
    max_message_chars: int
    retention_days: int
    # IVIG_REPORT_UNANSWERED_TEXT=true|false overrides the clinic file's report_unanswered_text; None: unset
    report_unanswered_text_override: Optional[bool] = None
    # Several servers: socket.io replies travel through this Redis (python-socketio's Redis manager), so they
    # reach a patient's sockets on every server. Empty: in memory, replies reach sockets on the same server only.
    socketio_redis_url: str = ""
    # Token buckets per sender id and per client address (docs/security.md): a burst, then one message per interval.
    # A burst of 0 turns that limit off.
    rate_sender_burst: int = 5
    rate_sender_interval_seconds: float = 2.0
    rate_address_burst: int = 60
    rate_address_interval_seconds: float = 0.2
    # IVIG_ALLOW_UNTESTED_VERSIONS=true: the servers start, with a warning, on versions of Rasa and its server
    # libraries other than constraints.txt pins (bot/rasa_ext/startup_checks.py); by default they refuse to.
    allow_untested_versions: bool = False

    @property
    def clinic(self) -> Clinic:
        return load_clinic(self.clinic_file)

    @property
    def report_unanswered_text(self) -> bool:
        if self.report_unanswered_text_override is not None:
            return self.report_unanswered_text_override
        return self.clinic.report_unanswered_text


def _flag(name: str, value: Optional[str]) -> Optional[bool]:
    """An optional true/false environment variable: None when unset or empty."""
    word = (value or "").strip().lower()
    if not word:
        return None
    if word not in ("true", "false"):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return word == "true"


def _split(value: str) -> Tuple[str, ...]:
    return tuple(part for part in value.replace(",", " ").split() if part)


# Messages one conversation may send at once before the rate limit paces it (IVIG_RATE_SENDER_BURST).
DEFAULT_RATE_SENDER_BURST = 5


@functools.lru_cache(maxsize=None)
def get_settings() -> Settings:
    env = os.environ
    demo_port = int(env.get("IVIG_DEMO_PORT", "8080"))
    default_origins = f"http://localhost:{demo_port} http://127.0.0.1:{demo_port}"
    clinic_file = env.get("IVIG_CLINIC_FILE")
    origins = _split(env.get("IVIG_CORS_ORIGINS", default_origins))
    if "*" in origins:
        raise ValueError("IVIG_CORS_ORIGINS must list origins; '*' is not allowed")
    return Settings(
        clinic_file=pathlib.Path(clinic_file) if clinic_file else None,
        rasa_host=env.get("IVIG_RASA_HOST", "127.0.0.1"),
        rasa_port=int(env.get("IVIG_RASA_PORT", "5005")),
        actions_port=int(env.get("IVIG_ACTIONS_PORT", "5055")),
        demo_port=demo_port,
        cors_origins=origins,
        api_token=env.get("IVIG_API_TOKEN", ""),
        max_message_chars=int(env.get("IVIG_MAX_MESSAGE_CHARS", "2000")),
        retention_days=int(env.get("IVIG_RETENTION_DAYS", "90")),
        report_unanswered_text_override=_flag("IVIG_REPORT_UNANSWERED_TEXT", env.get("IVIG_REPORT_UNANSWERED_TEXT")),
        socketio_redis_url=env.get("IVIG_SOCKETIO_REDIS_URL", "").strip(),
        rate_sender_burst=int(env.get("IVIG_RATE_SENDER_BURST", str(DEFAULT_RATE_SENDER_BURST))),
        rate_sender_interval_seconds=float(env.get("IVIG_RATE_SENDER_INTERVAL", "2")),
        rate_address_burst=int(env.get("IVIG_RATE_ADDRESS_BURST", "60")),
        rate_address_interval_seconds=float(env.get("IVIG_RATE_ADDRESS_INTERVAL", "0.2")),
        allow_untested_versions=bool(_flag("IVIG_ALLOW_UNTESTED_VERSIONS", env.get("IVIG_ALLOW_UNTESTED_VERSIONS"))),
    )
