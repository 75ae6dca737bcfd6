"""The systemd units under deploy/ and the health command a monitor or load balancer calls.

- every unit file parses (sections, `key=value` lines, known keys) and has what a clinic's service needs:
  the dedicated user, the env file, a restart policy, an install target; `systemd-analyze verify` accepts
  them (with /opt/ivig replaced by this checkout, so the commands they start exist) where it is installed;
- every command they name exists: the interpreter, and the module and subcommand (`--help` answers);
- the env file names only settings the project reads;
- the services really run from the unit files: their ExecStart, in their WorkingDirectory, with only the
  env file's variables (as systemd starts them) and, where the test may (root, `unshare`), in a sandbox like
  the units' own: the whole file system read-only (ProtectSystem=strict) except the state directory, and a
  private empty /tmp (PrivateTmp); `python -m bot health` says DOWN before, READY once both answer, NOT READY
  naming the action server when it is killed; retention runs; the Rasa server stops on the unit's KillSignal
  within TimeoutStopSec.
"""

import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Dict, List, Tuple

import pytest

from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import MODEL_PATH, free_port
from bot.tools.client import RestClient

DEPLOY = PROJECT_DIR / "deploy"
INSTALL_DIR = "/opt/ivig"
SERVICES = ("ivig-actions.service", "ivig-rasa.service", "ivig-retention.service")
LONG_RUNNING = ("ivig-actions.service", "ivig-rasa.service")
TIMERS = ("ivig-retention.timer",)
ENV_FILE = "/etc/ivig/ivig.env"
# Keys a unit here may use, per section: a typo is a failure even where systemd-analyze is missing.
KNOWN_KEYS = {
    "Unit": {
        "Description",
        "Documentation",
        "After",
        "Before",
        "Wants",
        "Requires",
        "BindsTo",
        "PartOf",
        "StartLimitIntervalSec",
        "StartLimitBurst",
        "OnFailure",
    },
    "Service": {
        "Type",
        "User",
        "Group",
        "WorkingDirectory",
        "EnvironmentFile",
        "Environment",
        "ExecStart",
        "ExecStartPre",
        "ExecReload",
        "Restart",
        "RestartSec",
        "RestartSteps",
        "RestartMaxDelaySec",
        "KillSignal",
        "TimeoutStartSec",
        "TimeoutStopSec",
        "StateDirectory",
        "StateDirectoryMode",
        "UMask",
        "NoNewPrivileges",
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "PrivateNetwork",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectControlGroups",
        "RestrictAddressFamilies",
        "RestrictNamespaces",
        "LockPersonality",
        "ReadWritePaths",
    },
    "Timer": {"OnCalendar", "RandomizedDelaySec", "Persistent", "Unit", "OnBootSec", "AccuracySec"},
    "Install": {"WantedBy", "RequiredBy", "Alias"},
}
# Variables the env file may set besides those in .env.example.
OTHER_SETTINGS = {"HOME", "MPLCONFIGDIR", "IVIG_ENDPOINTS", "IVIG_ACTIONS_URL"}


def parse_unit(path: pathlib.Path) -> Dict[str, Dict[str, List[str]]]:
    """systemd's unit syntax: [Section] headers, `Key=value` lines (a key may repeat), comments, `\\` continuations."""
    sections: Dict[str, Dict[str, List[str]]] = {}
    current = None
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index].strip()
        index += 1
        while line.endswith("\\") and index < len(lines):
            line = line[:-1] + " " + lines[index].strip()
            index += 1
        if not line or line[0] in "#;":
            continue
        header = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        assert current is not None, f"{path.name}:{number}: a setting before any [Section]"
        key, equals, value = line.partition("=")
        assert equals and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()), f"{path.name}:{number}: not Key=value"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: Dict[str, Dict[str, List[str]]], section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


def exec_start(name: str) -> List[str]:
    """The unit's ExecStart as it runs from this checkout (/opt/ivig replaced)."""
    command = shlex.split(one(parse_unit(DEPLOY / name), "Service", "ExecStart"))
    return [part.replace(INSTALL_DIR, str(PROJECT_DIR)) for part in command]


def read_env_file(path: pathlib.Path) -> Dict[str, str]:
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        assert equals and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"{path.name}:{number}: not KEY=value: {line!r}"
        values[key] = value
    return values


def test_unit_files_parse_and_have_what_a_service_needs():
    assert sorted(p.name for p in DEPLOY.glob("ivig-*.*")) == sorted(SERVICES + TIMERS)
    for name in SERVICES + TIMERS + ("backoff.conf",):
        unit = parse_unit(DEPLOY / name)
        for section, keys in unit.items():
            assert section in KNOWN_KEYS, f"{name}: unknown section [{section}]"
            unknown = set(keys) - KNOWN_KEYS[section]
            assert not unknown, f"{name}: unknown keys in [{section}]: {unknown}"
    for name in SERVICES:
        unit = parse_unit(DEPLOY / name)
        assert one(unit, "Unit", "Description")
        assert one(unit, "Service", "User") == "ivig" and one(unit, "Service", "Group") == "ivig"
        assert one(unit, "Service", "EnvironmentFile") == ENV_FILE
        assert one(unit, "Service", "WorkingDirectory") == INSTALL_DIR
        assert one(unit, "Service", "ExecStart").startswith(f"{INSTALL_DIR}/.venv/bin/python -m bot")
        assert one(unit, "Service", "StateDirectory") == "ivig"
        assert one(unit, "Service", "NoNewPrivileges") == "yes" and one(unit, "Service", "ProtectSystem") == "strict"
    for name in LONG_RUNNING:
        unit = parse_unit(DEPLOY / name)
        assert one(unit, "Service", "Restart") == "always"
        assert 0 < float(one(unit, "Service", "RestartSec")) <= 10
        assert one(unit, "Unit", "StartLimitIntervalSec") == "0", "systemd must never give up restarting it"
        assert one(unit, "Service", "KillSignal") == "SIGINT"
        assert one(unit, "Install", "WantedBy") == "multi-user.target"
    rasa = parse_unit(DEPLOY / "ivig-rasa.service")
    assert "ivig-actions.service" in one(rasa, "Unit", "Wants").split()
    assert "Requires" not in rasa["Unit"] and "BindsTo" not in rasa["Unit"], "an action server crash must not stop Rasa"
    retention = parse_unit(DEPLOY / "ivig-retention.service")
    assert one(retention, "Service", "Type") == "oneshot" and "Install" not in retention
    timer = parse_unit(DEPLOY / "ivig-retention.timer")
    assert one(timer, "Timer", "Unit") == "ivig-retention.service"
    assert one(timer, "Timer", "OnCalendar") and one(timer, "Timer", "Persistent") == "true"
    assert one(timer, "Install", "WantedBy") == "timers.target"
    assert re.fullmatch(
        r'u ivig - "[^"]+" /var/lib/ivig /usr/sbin/nologin', (DEPLOY / "ivig.sysusers.conf").read_text().strip().splitlines()[-1]
    )


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here (the parser check runs)")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    for name in SERVICES + TIMERS:
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(INSTALL_DIR, str(PROJECT_DIR)))
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in SERVICES + TIMERS)], capture_output=True, text=True, timeout=120
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0 and not complaints, "\n".join(complaints)


def test_the_commands_the_units_name_exist():
    for name in SERVICES:
        command = exec_start(name)
        assert os.access(command[0], os.X_OK), f"{name}: {command[0]} is not an executable"
        result = subprocess.run([*command, "--help"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{name}: {' '.join(command)} --help\n{result.stdout}{result.stderr}"


def test_the_env_file_names_only_settings_the_project_reads():
    known = set(read_env_file(PROJECT_DIR / ".env.example")) | OTHER_SETTINGS
    values = read_env_file(DEPLOY / "ivig.env")
    assert set(values) <= known, set(values) - known
    assert values["IVIG_TRACKER_DB"].startswith("/var/lib/ivig/"), "conversations belong in the StateDirectory"
    assert "*" not in values["IVIG_CORS_ORIGINS"]


SANDBOX_STATE = "/mnt"  # where the state directory appears inside the sandbox (an existing, empty mount point)


def can_sandbox() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return probe.returncode == 0


def sandboxed(command: List[str], state: pathlib.Path) -> List[str]:
    """`command` with the file system read-only but for `state` (seen at SANDBOX_STATE), and an empty /tmp
    (PrivateTmp) unless the project itself lives under /tmp (a clone there would vanish with it)."""
    if PROJECT_DIR.resolve().is_relative_to("/tmp"):
        private_tmp = " && export TMPDIR=" + SANDBOX_STATE  # temporary files go to the writable state directory
    else:
        private_tmp = " && mount -t tmpfs tmpfs /tmp"
    script = 'mount --bind "$0" ' + SANDBOX_STATE + private_tmp + ' && mount -o remount,bind,ro / && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(state), *command]


def health(url: str) -> Tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "health", "--url", url, "--json"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60
    )
    return result.returncode, json.loads(result.stdout)


def test_the_services_run_from_their_unit_files_and_health_follows_them(tmp_path):
    if not MODEL_PATH.exists():
        pytest.fail(f"{MODEL_PATH} is missing: run `make train` first")
    rasa_port, actions_port = free_port(), free_port()
    state = tmp_path / "state"
    state.mkdir()
    sandbox = can_sandbox()
    state_seen_at = pathlib.Path(SANDBOX_STATE) if sandbox else state
    wrap = (lambda command: sandboxed(command, state)) if sandbox else (lambda command: command)  # noqa: E731
    # systemd starts a service with a clean environment plus its EnvironmentFile
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **read_env_file(DEPLOY / "ivig.env")}
    env.update(
        {
            "IVIG_RASA_PORT": str(rasa_port),
            "IVIG_ACTIONS_PORT": str(actions_port),
            "IVIG_TRACKER_DB": str(state_seen_at / "conversations.db"),
            "IVIG_CLINIC_FILE": str(PROJECT_DIR / "bot" / "clinic.yml"),
            "IVIG_CORS_ORIGINS": "https://portal.example-clinic.org",
            "HOME": str(state_seen_at),
            "MPLCONFIGDIR": str(state_seen_at / ".config" / "matplotlib"),
        }
    )
    url = f"http://127.0.0.1:{rasa_port}"
    code, report = health(url)
    assert code == 2 and report["status"] == "down", report
    processes: Dict[str, subprocess.Popen] = {}
    try:
        started = time.monotonic()
        for name, unit in (("actions", "ivig-actions.service"), ("rasa", "ivig-rasa.service")):
            processes[name] = subprocess.Popen(
                wrap(exec_start(unit)), cwd=PROJECT_DIR, env=env, stdout=open(tmp_path / f"{name}.log", "wb"), stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 300
        while True:
            code, report = health(url)
            if code == 0:
                break
            for name, process in processes.items():
                assert process.poll() is None, (tmp_path / f"{name}.log").read_text()[-3000:]
            assert time.monotonic() < deadline, report
            time.sleep(1)
        ready_after = time.monotonic() - started
        assert report["checks"] == {"model": "ok", "actions": "ok", "tracker_store": "ok", "lock_store": "not checked (in memory)"}, report
        assert (state / "conversations.db").exists(), "the tracker store is not in the state directory"
        # `serve` replaced itself by the server: systemd's signals reach the server directly
        assert "bot.rasa_ext.rasa_server" in pathlib.Path(f"/proc/{processes['rasa'].pid}/cmdline").read_text()
        assert "rasa_sdk" in pathlib.Path(f"/proc/{processes['actions'].pid}/cmdline").read_text()
        turn = RestClient(url, timeout=60).send(f"deploy-{uuid.uuid4().hex[:8]}", "what are the side effects?")
        assert turn.topic == "side_effects" and turn.has_safety
        with urllib.request.urlopen(f"{url}/health/live", timeout=10) as live:
            assert live.status == 200

        processes["actions"].kill()
        processes["actions"].wait(10)
        code, report = health(url)
        assert code == 1 and report["status"] == "not ready", report
        assert report["checks"]["actions"].startswith(f"http://127.0.0.1:{actions_port}/health does not answer"), report
        assert report["checks"]["model"] == "ok" and report["checks"]["tracker_store"] == "ok"
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(f"{url}/health/ready", timeout=10)
        assert not_ready.value.code == 503

        retention = subprocess.run(
            wrap(exec_start("ivig-retention.service")), cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
        )
        assert retention.returncode == 0 and "deleted 0 conversation" in retention.stdout, retention

        processes["rasa"].send_signal(signal.SIGINT)  # the unit's KillSignal
        processes["rasa"].wait(30)  # its TimeoutStopSec
        code, report = health(url)
        assert code == 2, report
        print(
            f"\nservices from the unit files ({'sandboxed' if sandbox else 'not sandboxed'}): ready (health exit 0)"
            f" {ready_after:.1f} s after their start"
        )
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
