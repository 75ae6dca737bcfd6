"""Starts and stops the assistant's processes: action server, Rasa server, demo page.

Used by `make run`, the end-to-end and browser tests, the evaluation and the benchmarks, so
every one of them talks to the bot exactly as it runs in production: real processes over HTTP.
"""

import contextlib
import dataclasses
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Type, TypeVar

from bot.core.settings import PROJECT_DIR, RUNTIME_DIR, get_settings
from bot.rasa_ext import startup_checks

MODEL_PATH = PROJECT_DIR / "models" / "ivig.tar.gz"
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float = 30, interval: float = 0.3, ignore: Tuple[Type[Exception], ...] = ()) -> Optional[T]:
    """The one wait-until helper (the launcher, tests, benchmarks): calls `check` every `interval` seconds until it
    returns a true value, and returns that value; after `timeout` seconds, its last (false) value. An exception of
    one of the `ignore` types counts as a false value (None); any other exception propagates at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value: Optional[T] = check()
        except ignore:
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_for_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Waits until `url` answers (any status below 400; urllib raises for the others) while `process` runs."""

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status < 500
        except OSError:
            return False

    if not wait_until(answers, timeout):
        raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclasses.dataclass
class Service:
    name: str
    process: subprocess.Popen
    url: str
    # what answers once the service is up (checked after a start and a restart)
    ready_url: str = ""

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def answers(self, timeout: float = 2) -> bool:
        """The service's process is running and its ready URL answers (any status below 500)."""
        if self.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(self.ready_url or self.url, timeout=timeout) as response:
                return response.status < 500
        except OSError:
            return False


@dataclasses.dataclass
class StackConfig:
    """Ports, files and options of one running assistant."""

    rasa_port: int
    actions_port: int
    demo_port: int
    tracker_db: pathlib.Path
    model: pathlib.Path = MODEL_PATH
    # tracker store, lock store and action server; docs/deployment.md shows the multi-server file
    endpoints: pathlib.Path = pathlib.Path(os.environ.get("IVIG_ENDPOINTS", PROJECT_DIR / "endpoints.yml"))
    cors_origins: Sequence[str] = ()
    api_token: str = ""
    log_dir: Optional[pathlib.Path] = None
    extra_env: Dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_settings(cls) -> "StackConfig":
        settings = get_settings()
        return cls(
            rasa_port=settings.rasa_port,
            actions_port=settings.actions_port,
            demo_port=settings.demo_port,
            tracker_db=pathlib.Path(os.environ.get("IVIG_TRACKER_DB", RUNTIME_DIR / "conversations.db")),
            cors_origins=settings.cors_origins,
            api_token=settings.api_token,
        )

    @classmethod
    def on_free_ports(cls, workdir: pathlib.Path, **options) -> "StackConfig":
        """A stack of its own (tests, benchmarks): free loopback ports, its own tracker store."""
        demo_port = free_port()
        origins = (f"http://127.0.0.1:{demo_port}", f"http://localhost:{demo_port}")
        options.setdefault("cors_origins", origins)
        # Tests, evaluation and benchmarks send many messages from one address, faster than a patient types: rate
        # limits only where a test sets them (tests/e2e/test_rate_limits.py).
        options["extra_env"] = {"IVIG_RATE_SENDER_BURST": "0", "IVIG_RATE_ADDRESS_BURST": "0", **options.get("extra_env", {})}
        return cls(
            rasa_port=free_port(),
            actions_port=free_port(),
            demo_port=demo_port,
            tracker_db=workdir / "conversations.db",
            log_dir=workdir,
            **options,
        )

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def demo_url(self) -> str:
        return f"http://localhost:{self.demo_port}/"

    def env(self) -> Dict[str, str]:
        return {
            **os.environ,
            **QUIET_ENV,
            "IVIG_ACTIONS_PORT": str(self.actions_port),
            "IVIG_TRACKER_DB": str(self.tracker_db),
            # the action server listens on loopback only
            "SANIC_HOST": "127.0.0.1",
            **self.extra_env,
        }


class Stack:
    """The running assistant; start services one by one so tests can stop and restart each."""

    def __init__(self, config: StackConfig):
        self.config = config
        self.services: Dict[str, Service] = {}
        self._demo_bot_url: Optional[str] = None

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        output = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.config.log_dir / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=PROJECT_DIR, env=self.config.env(), stdout=output, stderr=subprocess.STDOUT)

    def actions_args(self) -> List[str]:
        """The action server's command. Its versions are checked first: it runs in this interpreter's packages."""
        startup_checks.check_versions(startup_checks.ACTION_SERVER_PACKAGES)
        return [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.config.actions_port)]

    def spawn_actions(self) -> Service:
        """Starts the action server without waiting for it (`start_actions` waits)."""
        cfg = self.config
        process = self._spawn("actions", self.actions_args())
        service = Service("actions", process, cfg.actions_url, f"{cfg.actions_url}/health")
        self.services["actions"] = service
        return service

    def start_actions(self, timeout: float = 60) -> Service:
        service = self.spawn_actions()
        wait_for_http(service.ready_url, service.process, timeout)
        return service

    def rasa_args(self) -> List[str]:
        cfg = self.config
        args = [
            # `rasa run` with the project's fixes installed and its start-up checks run first (bot/rasa_ext/rasa_server.py)
            sys.executable,
            "-m",
            "bot.rasa_ext.rasa_server",
            "run",
            "--model",
            str(cfg.model),
            "--endpoints",
            str(cfg.endpoints),
            "--credentials",
            "credentials.yml",
            "--interface",
            "127.0.0.1",
            "--port",
            str(cfg.rasa_port),
        ]
        if cfg.cors_origins:
            args += ["--cors", *cfg.cors_origins]
        if cfg.api_token:
            # the HTTP API (model upload, tracker edits) is only ever on behind a token
            args += ["--enable-api", "--auth-token", cfg.api_token]
        return args

    def spawn_rasa(self) -> Service:
        """Starts the Rasa server without waiting for it to load the model (`start_rasa` waits)."""
        self.config.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        process = self._spawn("rasa", self.rasa_args())
        service = Service("rasa", process, self.config.rasa_url, f"{self.config.rasa_url}/")
        self.services["rasa"] = service
        return service

    def start_rasa(self, timeout: float = 180) -> Service:
        service = self.spawn_rasa()
        wait_for_http(service.ready_url, service.process, timeout)
        return service

    def spawn_demo(self, bot_url: Optional[str] = None) -> Service:
        cfg = self.config
        self._demo_bot_url = bot_url or self._demo_bot_url or f"http://localhost:{cfg.rasa_port}"
        process = self._spawn(
            "demo",
            [sys.executable, "-m", "bot.widget.serve", "--port", str(cfg.demo_port), "--bot-url", self._demo_bot_url],
        )
        service = Service("demo", process, cfg.demo_url, cfg.demo_url)
        self.services["demo"] = service
        return service

    def start_demo(self, bot_url: Optional[str] = None, timeout: float = 30) -> Service:
        service = self.spawn_demo(bot_url)
        wait_for_http(service.ready_url, service.process, timeout)
        return service

    def respawn(self, name: str) -> Service:
        """Starts a service again (after it exited) with the same command, without waiting for it."""
        return {"actions": self.spawn_actions, "rasa": self.spawn_rasa, "demo": self.spawn_demo}[name]()

    def stop(self, name: str) -> None:
        service = self.services.pop(name, None)
        if service:
            service.stop()

    def stop_all(self) -> None:
        for name in reversed(list(self.services)):
            self.stop(name)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


@dataclasses.dataclass
class _Watch:
    """What the supervisor knows about one service."""

    delay: float
    restarts: int = 0
    restart_at: Optional[float] = None  # set while the service is down, waiting for its restart
    down_since: Optional[float] = None  # set from the crash until the restarted service answers
    up_since: Optional[float] = None  # when it last answered


class Supervisor:
    """Restarts a stack's services that exit unexpectedly, with exponential backoff; `make run` uses it.

    Call `poll()` every half second or so; it never blocks for long (a restarted service is started
    without waiting for it, and is checked at the following polls). A crashed service is started again
    after `initial_delay` seconds, then twice as long after each crash that follows, up to `max_delay`;
    once a service has answered for `stable_after` seconds, the delay goes back to `initial_delay`.
    The other services keep running meanwhile: they are separate processes. Every crash, restart and
    recovery is written to `log`.
    """

    def __init__(
        self,
        stack: Stack,
        log: Callable[[str], None],
        initial_delay: float = 1.0,
        max_delay: float = 30.0,
        stable_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stack = stack
        self.log = log
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.clock = clock
        now = clock()
        self.watches = {name: _Watch(initial_delay, up_since=now) for name in stack.services}

    def poll(self) -> None:
        now = self.clock()
        for name, watch in self.watches.items():
            service = self.stack.services.get(name)
            if service is None:
                continue
            if watch.restart_at is None and service.process.poll() is not None:
                watch.restarts += 1
                watch.down_since = watch.down_since or now
                watch.up_since = None
                watch.restart_at = now + watch.delay
                self.log(
                    f"{name} stopped unexpectedly ({describe_exit(service.process.returncode)}); "
                    f"restarting it in {watch.delay:.0f} s (restart {watch.restarts}); the other services keep running"
                )
                watch.delay = min(watch.delay * 2, self.max_delay)
            elif watch.restart_at is not None and now >= watch.restart_at:
                watch.restart_at = None
                self.log(f"restarting {name} (restart {watch.restarts})")
                self.stack.respawn(name)
            elif watch.restart_at is None and watch.down_since is not None and service.answers(timeout=3):
                self.log(f"{name} is back after {now - watch.down_since:.1f} s (restart {watch.restarts})")
                watch.down_since, watch.up_since = None, now
            elif watch.up_since is not None and now - watch.up_since >= self.stable_after:
                watch.delay = self.initial_delay


@contextlib.contextmanager
def running(config: StackConfig, demo: bool = False) -> Iterator[Stack]:
    """Action server + Rasa server (+ demo page), stopped on exit whatever happens."""
    stack = Stack(config)
    try:
        stack.start_actions()
        stack.start_rasa()
        if demo:
            stack.start_demo()
        yield stack
    finally:
        stack.stop_all()
