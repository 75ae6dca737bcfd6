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
from typing import Dict, Iterator, List, Optional, Sequence

from bot.settings import PROJECT_DIR, get_settings

MODEL_PATH = PROJECT_DIR / "models" / "ivig.tar.gz"
RUNTIME_DIR = PROJECT_DIR / "runtime"
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


def wait_for_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclasses.dataclass
class Service:
    name: str
    process: subprocess.Popen
    url: str

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        output = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.config.log_dir / f"{name}.log", "ab")
        return subprocess.Popen(
            args, cwd=PROJECT_DIR, env=self.config.env(), stdout=output, stderr=subprocess.STDOUT
        )

    def start_actions(self, timeout: float = 60) -> Service:
        cfg = self.config
        process = self._spawn(
            "actions", [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(cfg.actions_port)]
        )
        service = Service("actions", process, cfg.actions_url)
        self.services["actions"] = service
        wait_for_http(f"{cfg.actions_url}/health", process, timeout)
        return service

    def rasa_args(self) -> List[str]:
        cfg = self.config
        args = [
            # `rasa run` with a fix to Rasa's per-message cost installed first (bot/rasa_server.py)
            sys.executable, "-m", "bot.rasa_server", "run",
            "--model", str(cfg.model),
            "--endpoints", str(cfg.endpoints),
            "--credentials", "credentials.yml",
            "--interface", "127.0.0.1",
            "--port", str(cfg.rasa_port),
        ]
        if cfg.cors_origins:
            args += ["--cors", *cfg.cors_origins]
        if cfg.api_token:
            # the HTTP API (model upload, tracker edits) is only ever on behind a token
            args += ["--enable-api", "--auth-token", cfg.api_token]
        return args

    def start_rasa(self, timeout: float = 180) -> Service:
        self.config.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        process = self._spawn("rasa", self.rasa_args())
        service = Service("rasa", process, self.config.rasa_url)
        self.services["rasa"] = service
        wait_for_http(f"{self.config.rasa_url}/", process, timeout)
        return service

    def start_demo(self, bot_url: Optional[str] = None, timeout: float = 30) -> Service:
        cfg = self.config
        process = self._spawn(
            "demo",
            [sys.executable, "-m", "bot.widget.serve", "--port", str(cfg.demo_port),
             "--bot-url", bot_url or f"http://localhost:{cfg.rasa_port}"],
        )
        service = Service("demo", process, cfg.demo_url)
        self.services["demo"] = service
        wait_for_http(cfg.demo_url, process, timeout)
        return service

    def stop(self, name: str) -> None:
        service = self.services.pop(name, None)
        if service:
            service.stop()

    def stop_all(self) -> None:
        for name in reversed(list(self.services)):
            self.stop(name)


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
