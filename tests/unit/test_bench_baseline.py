"""The benchmark's baseline config (bot/tools/perf/bench.py): Rasa's defaults, optionally fewer epochs."""

import yaml

from bot.tools.perf.bench import BASELINE_CONFIG, RASA_DEFAULT_CONFIG, baseline_config


def names(config):
    return [item["name"] for item in config["pipeline"]], [item["name"] for item in config["policies"]]


def test_without_epochs_the_baseline_is_the_config_rasa_init_writes():
    assert baseline_config(None) == BASELINE_CONFIG
    assert yaml.safe_load(BASELINE_CONFIG.read_text())["pipeline"] is None  # Rasa fills in its defaults


def test_fewer_epochs_change_only_the_epochs_of_rasas_default_components():
    stock = yaml.safe_load(RASA_DEFAULT_CONFIG.read_text())
    short = yaml.safe_load(baseline_config(3).read_text())
    assert names(short) == names(stock)
    trained = [item for item in short["pipeline"] + short["policies"] if "epochs" in item]
    assert [item["name"] for item in trained] == ["DIETClassifier", "ResponseSelector", "UnexpecTEDIntentPolicy", "TEDPolicy"]
    assert {item["epochs"] for item in trained} == {3}
    for mine, theirs in zip(short["pipeline"] + short["policies"], stock["pipeline"] + stock["policies"]):
        assert {k: v for k, v in mine.items() if k != "epochs"} == {k: v for k, v in theirs.items() if k != "epochs"}
