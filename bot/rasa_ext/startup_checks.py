"""What the servers check before they start, so that an upgrade or a configuration change stops them at once
with one clear message instead of changing their behaviour quietly.

Versions (`check_versions`): bot/rasa_ext/rasa_server.py, bot/rasa_ext/channels.py, bot/rasa_ext/tracker_store.py and bot/nlp/components.py
patch, wrap or subclass internals of Rasa, Sanic and python-socketio (tests/unit/test_rasa_contract.py lists
every one, with why). They are written and tested against the versions constraints.txt pins; a server started
with any other version of those packages (or of rasa_sdk, which the action server runs on) stops. To upgrade:
install the new versions, run the contract test and the unit, e2e and robustness suites, then update
constraints.txt. IVIG_ALLOW_UNTESTED_VERSIONS=true starts the servers anyway, with a warning (bot/core/settings.py).

Window (`check_tracker_window`): the windowed tracker store (bot/rasa_ext/tracker_store.py) hands the policies the latest
`min_turns` dialogue states of a conversation with the state before them; a policy that looks further back
(a larger `max_history`, a longer rule) would see a different history than with the stock store.

This module imports no Rasa: the launcher runs it before starting the action server too.
"""

import importlib.metadata
import logging
import pathlib
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import yaml

from bot.core.settings import PROJECT_DIR, get_settings
from bot.rasa_ext import WINDOWED_TRACKER_STORE

logger = logging.getLogger(__name__)

CONSTRAINTS_FILE = PROJECT_DIR / "constraints.txt"
CONFIG_FILE = PROJECT_DIR / "config.yml"
DATA_DIR = PROJECT_DIR / "data"
# The packages whose internals each server relies on (tests/unit/test_rasa_contract.py).
RASA_SERVER_PACKAGES = ("rasa", "rasa-sdk", "sanic", "python-socketio", "python-engineio")
ACTION_SERVER_PACKAGES = ("rasa-sdk", "sanic")
ALLOW_UNTESTED_VERSIONS = "IVIG_ALLOW_UNTESTED_VERSIONS"
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;]+)")
# Rule steps that make a dialogue state: a user turn or an action.
RULE_STATE_STEPS = ("intent", "user", "or", "action")


class StartupCheckFailed(RuntimeError):
    """A server must not start: the message says why and what to do."""


def normalise(package: str) -> str:
    """A distribution name as pip compares them (PEP 503): `Rasa_SDK` and `rasa-sdk` are one package."""
    return re.sub(r"[-_.]+", "-", package).lower()


def pinned_versions(path: pathlib.Path = CONSTRAINTS_FILE) -> Dict[str, str]:
    """`name==version` lines of a constraints or requirements file, by normalised name."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.fullmatch(line.split("#", 1)[0].strip())
        if match:
            pins[normalise(match[1])] = match[2]
    return pins


def installed_version(package: str) -> Optional[str]:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def version_mismatches(
    packages: Iterable[str], pins: Dict[str, str], installed: Callable[[str], Optional[str]] = installed_version
) -> List[str]:
    """One line per package whose installed version is not the pinned one."""
    mismatches = []
    for package in packages:
        tested, found = pins.get(normalise(package)), installed(package)
        if tested is None:
            mismatches.append(f"{package}: no version pinned in {CONSTRAINTS_FILE.name}")
        elif found != tested:
            mismatches.append(f"{package} {found or '(not installed)'}, tested with {tested}")
    return mismatches


def check_versions(
    packages: Iterable[str],
    allow_untested: Optional[bool] = None,
    pins: Optional[Dict[str, str]] = None,
    installed: Callable[[str], Optional[str]] = installed_version,
) -> None:
    """Stops (StartupCheckFailed) unless each package is installed at the version constraints.txt pins.

    `allow_untested` (default: IVIG_ALLOW_UNTESTED_VERSIONS) turns the stop into a logged warning.
    """
    mismatches = version_mismatches(packages, pinned_versions() if pins is None else pins, installed)
    if not mismatches:
        return
    message = (
        f"Installed versions differ from those the project is tested with ({CONSTRAINTS_FILE.name}): "
        + "; ".join(mismatches)
        + ". The project patches internals of these packages (tests/unit/test_rasa_contract.py lists them). "
        "Install the pinned versions (make venv), or run the contract, unit, e2e and robustness tests with the "
        f"new ones and update {CONSTRAINTS_FILE.name}. To start anyway, set {ALLOW_UNTESTED_VERSIONS}=true."
    )
    if allow_untested is None:
        allow_untested = get_settings().allow_untested_versions
    if allow_untested:
        logger.warning("%s is set: starting anyway. %s", ALLOW_UNTESTED_VERSIONS, message)
        return
    raise StartupCheckFailed(message)


def _read_yaml(path: pathlib.Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rule_states(rule: Dict[str, Any]) -> int:
    """How many dialogue states a rule spans: its user turns and actions."""
    return sum(1 for step in rule.get("steps") or [] if isinstance(step, dict) and set(step) & set(RULE_STATE_STEPS))


def longest_rule(data_dir: pathlib.Path) -> Tuple[int, str]:
    """(states, name) of the longest rule in the training data's YAML files; (0, "") without rules."""
    longest = (0, "")
    for path in sorted(data_dir.rglob("*.yml")):
        content = _read_yaml(path)
        for rule in (content.get("rules") or []) if isinstance(content, dict) else []:
            longest = max(longest, (rule_states(rule), f"rule '{rule.get('rule')}' ({path.name})"))
    return longest


def policy_reach(config_file: pathlib.Path, data_dir: pathlib.Path) -> List[Tuple[str, Optional[int]]]:
    """How far back each policy of the config looks, in dialogue states (None: the whole conversation).

    RulePolicy: its longest rule. Every other policy: its `max_history`; Rasa's default is none (unbounded).
    Without policies, Rasa trains its default ones (MemoizationPolicy, TEDPolicy, ...), all unbounded.
    """
    policies = (_read_yaml(config_file) or {}).get("policies") or []
    if not policies:
        return [("Rasa's default policies (the config names none)", None)]
    reach: List[Tuple[str, Optional[int]]] = []
    for policy in policies:
        name = str(policy.get("name"))
        if name.split(".")[-1] == "RulePolicy":
            states, rule = longest_rule(data_dir)
            reach.append((f"{name}: its longest {rule}" if rule else name, states))
        else:
            history = policy.get("max_history")
            reach.append((f"{name} (max_history {history})", None if history is None else int(history)))
    return reach


def check_tracker_window(endpoints_file: pathlib.Path, config_file: pathlib.Path = CONFIG_FILE, data_dir: pathlib.Path = DATA_DIR) -> None:
    """Stops (StartupCheckFailed) when the windowed tracker store's `min_turns` is not greater than how far
    back a policy looks (its `max_history`, or RulePolicy's longest rule). Other tracker stores: nothing to check.
    """
    from bot.rasa_ext.tracker_store import DEFAULT_MIN_TURNS

    store = (_read_yaml(endpoints_file) or {}).get("tracker_store") or {}
    if store.get("type") not in WINDOWED_TRACKER_STORE:
        return
    min_turns = int(store.get("min_turns", DEFAULT_MIN_TURNS))
    too_far = [(policy, states) for policy, states in policy_reach(config_file, data_dir) if states is None or states >= min_turns]
    if not too_far:
        return
    looks = "; ".join(f"{policy} looks back {'over the whole conversation' if states is None else states}" for policy, states in too_far)
    raise StartupCheckFailed(
        f"The tracker store ({endpoints_file}) hands the policies the latest min_turns={min_turns} dialogue states, "
        f"but in {config_file.name}: {looks}. Set min_turns in {endpoints_file.name} above the largest, or give "
        "every policy a max_history below it (bot/rasa_ext/tracker_store.py explains the window)."
    )
