"""The servers' start-up checks (bot/rasa_ext/startup_checks.py): versions against constraints.txt, the tracker store's
window against the policies."""

import logging
import pathlib

import pytest
import yaml

from bot.core.settings import get_settings
from bot.rasa_ext import rasa_server, startup_checks
from bot.rasa_ext.startup_checks import StartupCheckFailed

PROJECT = pathlib.Path(__file__).parents[2]
WINDOWED = "bot.rasa_ext.tracker_store.WindowedSQLTrackerStore"


def test_the_pins_are_read_from_the_constraints_file():
    pins = startup_checks.pinned_versions()
    requirements = startup_checks.pinned_versions(PROJECT / "requirements.txt")
    for package in startup_checks.RASA_SERVER_PACKAGES:
        assert package in pins
    assert pins["rasa"] == requirements["rasa"] and pins["rasa-sdk"] == requirements["rasa-sdk"]


def test_the_installed_versions_are_the_pinned_ones():
    startup_checks.check_versions(startup_checks.RASA_SERVER_PACKAGES, allow_untested=False)


def test_another_version_stops_the_server_with_one_message_naming_it():
    installed = {"rasa": "3.7.0", "sanic": "21.12.2"}.get
    with pytest.raises(StartupCheckFailed) as failure:
        startup_checks.check_versions(
            ("rasa", "sanic", "rasa-sdk"),
            allow_untested=False,
            pins={"rasa": "3.6.21", "sanic": "21.12.2", "rasa-sdk": "3.6.2"},
            installed=installed,
        )
    message = str(failure.value)
    assert "rasa 3.7.0, tested with 3.6.21" in message and "rasa-sdk (not installed), tested with 3.6.2" in message
    assert "sanic" not in message.split("constraints.txt): ")[1].split(". ")[0]
    assert startup_checks.ALLOW_UNTESTED_VERSIONS in message


def test_the_override_starts_anyway_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger=startup_checks.__name__):
        startup_checks.check_versions(("rasa",), allow_untested=True, pins={"rasa": "3.6.21"}, installed=lambda _: "3.7.0")
    assert "rasa 3.7.0, tested with 3.6.21" in caplog.text


@pytest.mark.parametrize("value, allowed", [("", False), ("false", False), ("true", True)])
def test_the_override_is_read_from_the_environment(monkeypatch, value, allowed):
    monkeypatch.setenv(startup_checks.ALLOW_UNTESTED_VERSIONS, value)
    get_settings.cache_clear()
    try:
        assert get_settings().allow_untested_versions is allowed
    finally:
        get_settings.cache_clear()


def write(path: pathlib.Path, content) -> pathlib.Path:
    path.write_text(yaml.safe_dump(content))
    return path


def rule(name: str, *steps) -> dict:
    return {"rule": name, "steps": list(steps)}


@pytest.fixture
def project(tmp_path):
    """A config, training data with one-turn rules and an endpoints file; change them per test."""
    data = tmp_path / "data"
    data.mkdir()
    write(data / "rules.yml", {"rules": [rule("answer", {"intent": "ask"}, {"action": "action_answer_topic"})]})
    config = write(tmp_path / "config.yml", {"policies": [{"name": "RulePolicy"}, {"name": "MemoizationPolicy", "max_history": 3}]})

    def endpoints(**store):
        return write(tmp_path / "endpoints.yml", {"tracker_store": {"type": WINDOWED, "dialect": "sqlite", **store}})

    return endpoints, config, data


def test_the_project_window_covers_its_policies():
    startup_checks.check_tracker_window(PROJECT / "endpoints.yml")
    startup_checks.check_tracker_window(PROJECT / "docs" / "endpoints.scaled.yml")


def test_a_window_as_short_as_max_history_stops_the_server(project):
    endpoints, config, data = project
    startup_checks.check_tracker_window(endpoints(min_turns=4), config, data)
    with pytest.raises(StartupCheckFailed, match=r"min_turns=3 .*MemoizationPolicy \(max_history 3\) looks back 3"):
        startup_checks.check_tracker_window(endpoints(min_turns=3), config, data)


def test_a_policy_without_max_history_looks_at_the_whole_conversation(project):
    endpoints, _, data = project
    config = write(data.parent / "config.yml", {"policies": [{"name": "TEDPolicy"}]})
    with pytest.raises(StartupCheckFailed, match="TEDPolicy .* looks back over the whole conversation"):
        startup_checks.check_tracker_window(endpoints(), config, data)
    with pytest.raises(StartupCheckFailed, match="Rasa's default policies"):
        startup_checks.check_tracker_window(endpoints(), write(data.parent / "config.yml", {"policies": None}), data)


def test_a_rule_longer_than_the_window_stops_the_server(project):
    endpoints, config, data = project
    steps = [
        {"intent": "ask"},
        {"action": "utter_a"},
        {"or": [{"intent": "yes"}, {"intent": "ok"}]},
        {"slot_was_set": [{"topic": "x"}]},
        {"action": "utter_b"},
    ]
    write(data / "more_rules.yml", {"rules": [rule("two turns", *steps)]})
    with pytest.raises(StartupCheckFailed, match=r"RulePolicy: its longest rule 'two turns' \(more_rules.yml\) looks back 4"):
        startup_checks.check_tracker_window(endpoints(min_turns=4), config, data)
    startup_checks.check_tracker_window(endpoints(min_turns=5), config, data)


def test_other_tracker_stores_are_not_checked(project):
    _, _, data = project
    endpoints = write(data.parent / "endpoints.yml", {"tracker_store": {"type": "SQL", "dialect": "sqlite"}})
    config = write(data.parent / "config.yml", {"policies": [{"name": "TEDPolicy"}]})
    startup_checks.check_tracker_window(endpoints, config, data)


def test_the_rasa_server_checks_the_endpoints_file_it_is_started_with(project):
    endpoints, _, _ = project
    short = endpoints(min_turns=2)
    assert rasa_server.endpoints_file(["--model", "m.tar.gz", "--endpoints", str(short)]) == short
    assert rasa_server.endpoints_file([]) == pathlib.Path("endpoints.yml")
    with pytest.raises(StartupCheckFailed, match="min_turns=2"):
        rasa_server.check_before_start(["run", "--endpoints", str(short)])
    rasa_server.check_before_start(["run", "--endpoints", str(PROJECT / "endpoints.yml")])
