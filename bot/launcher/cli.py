"""The assistant's commands: `python -m bot run | serve {rasa,actions} | health`.

run     `make run`: the action server, the Rasa server and the demo page on this machine, supervised:
        a process that stops unexpectedly is started again (after 1 s, then 2, 4, ... up to 30 s while it
        keeps failing) and the launcher says so on stderr; the others keep serving. Ctrl-C stops all.
serve   one server in the foreground, with the same command and settings as `run` uses (what the
        systemd units under deploy/ start; the service manager restarts it).
health  asks the Rasa server's readiness endpoint (`/health/ready`: model loaded, action server and
        tracker store answering) and prints each check; exit status 0 when ready, 1 when not, 2 when
        the Rasa server does not answer. For a monitor, or a load balancer that runs commands.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Optional

from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import Stack, StackConfig, Supervisor
from bot.rasa_ext.startup_checks import StartupCheckFailed


def log(line: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} launcher: {line}", file=sys.stderr, flush=True)


def run(initial_delay: float = 1.0, max_delay: float = 30.0) -> int:
    from bot.core.content_store import get_content

    get_content()  # fail loudly on broken content before starting anything
    config = StackConfig.from_settings()
    stack = Stack(config)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        print("Starting the action server ...", flush=True)
        stack.start_actions()
        print("Starting the Rasa server (loading the model takes a moment) ...", flush=True)
        stack.start_rasa()
        stack.start_demo()
        print(
            "\nThe IVIG assistant is running.\n"
            f"  Demo patient portal with the chat widget: {config.demo_url}\n"
            f"  REST channel: http://localhost:{config.rasa_port}/webhooks/rest/webhook\n"
            f"  socket.io channel: http://localhost:{config.rasa_port}/socket.io\n"
            f"  readiness (for a load balancer or monitor): http://localhost:{config.rasa_port}/health/ready\n"
            "A process that stops unexpectedly is restarted. Press Ctrl-C to stop.",
            flush=True,
        )
        supervisor = Supervisor(stack, log, initial_delay=initial_delay, max_delay=max_delay)
        while not stopped.wait(0.5):
            supervisor.poll()
        return 0
    finally:
        print("Stopping ...", flush=True)
        stack.stop_all()


def serve(name: str) -> int:
    """Replaces this process by one server (so a service manager's signals reach it directly)."""
    stack = Stack(StackConfig.from_settings())
    config = stack.config
    if name == "rasa":
        config.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        args = stack.rasa_args()
    else:
        args = stack.actions_args()
    os.chdir(PROJECT_DIR)
    sys.stdout.flush()
    os.execve(args[0], args, config.env())
    return 1  # not reached


def health(url: Optional[str], timeout: float, as_json: bool) -> int:
    base = (url or StackConfig.from_settings().rasa_url).rstrip("/")
    try:
        with urllib.request.urlopen(f"{base}/health/ready", timeout=timeout) as answer:
            status, body = answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        status, body = error.code, None
        try:
            body = json.loads(error.read())
        except ValueError:
            pass
    except OSError as error:
        reason = getattr(error, "reason", error)
        if as_json:
            print(json.dumps({"status": "down", "url": base, "error": str(reason)}))
        else:
            print(f"DOWN: the Rasa server at {base} does not answer ({reason})")
        return 2
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    ready = status == 200 and isinstance(body, dict) and body.get("status") == "ready"
    if as_json:
        print(json.dumps({"status": "ready" if ready else "not ready", "url": base, "checks": checks}))
    else:
        print(f"{'READY' if ready else 'NOT READY'}: {base} (HTTP {status})")
        for check, value in checks.items():
            print(f"  {check:14} {value}")
    return 0 if ready else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the assistant and its demo page, supervised, until Ctrl-C")
    serve_parser = commands.add_parser("serve", help="run one server in the foreground (for a service manager)")
    serve_parser.add_argument("server", choices=["rasa", "actions"])
    health_parser = commands.add_parser("health", help="is the assistant ready? exit 0 ready, 1 not ready, 2 down")
    health_parser.add_argument("--url", help="the Rasa server (default: http://127.0.0.1:$IVIG_RASA_PORT)")
    health_parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer")
    health_parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args(argv)
    if args.command == "health":
        return health(args.url, args.timeout, args.json)
    try:
        if args.command == "serve":
            return serve(args.server)
        return run(
            initial_delay=float(os.environ.get("IVIG_RESTART_DELAY", "1")),
            max_delay=float(os.environ.get("IVIG_RESTART_MAX_DELAY", "30")),
        )
    except StartupCheckFailed as failure:
        print(f"The assistant does not start: {failure}", file=sys.stderr)
        return 1
