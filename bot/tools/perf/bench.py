"""Benchmark: our assistant against the same data served with Rasa's default configuration (make bench).

    python -m bot.tools.perf.bench [--dev-questions PATH] [--quick] [--reuse-models] [--profile]

Trains both bots from the same domain, data and actions (ours: config.yml; the baseline:
bot/tools/perf/baseline_config.yml, the config.yml `rasa init` writes, i.e. Rasa's default pipeline and
policies, served with Rasa's stock SQL tracker store), into build/bench/ (models/ivig.tar.gz is left
alone). Then serves each with its action server on free loopback ports and measures, one bot after
the other on this machine:
- cold start (Popen of the Rasa server, action server already up, to the first webhook answer),
  training time, resident memory (VmRSS, peak VmHWM) of the Rasa server and of its action server;
- accuracy on the dev questions (topic, and intent-level for both bots);
- throughput and p50/p99 latency of 1 and of 20 concurrent patients, each holding 6-turn
  conversations back to back over the REST webhook (action server round trip included);
- per-turn latency at turn 1 and turn 50 of long conversations.
Prints the table and writes it into docs/benchmarks.md (between the bench markers; --quick writes
build/bench/quick.md instead). --profile samples the Rasa server with py-spy (if on PATH) during
turns 1-10 and 41-50 of 8 conversations and shows where the time per turn goes and how it grows.
"""

import argparse
import collections
import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import pathlib
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import rasa
import yaml

from bot.core.content_store import get_content
from bot.core.settings import PROJECT_DIR
from bot.launcher.stack import Stack, StackConfig, wait_until
from bot.tools.client import RestClient
from bot.tools.evaluate import URGENT, ask_all, load_conversations, score_questions
from bot.tools.perf.load import SCRIPTS as LOAD_SCRIPTS
from bot.tools.perf.stats import percentile

BENCH_DIR = PROJECT_DIR / "build" / "bench"
DOC = PROJECT_DIR / "docs" / "benchmarks.md"
BASELINE_CONFIG = pathlib.Path(__file__).with_name("baseline_config.yml")
RASA_DEFAULT_CONFIG = pathlib.Path(rasa.__file__).parent / "engine" / "recipes" / "config_files" / "default_config.yml"
DEFAULT_DEV_QUESTIONS = PROJECT_DIR.parent / "shared" / "content" / "dev-questions.yml"
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"
FOLLOW_UP_INTENTS = ("more_detail", "study_details")

# What patients say in the load phases: the load script's 6-turn conversations (topic, follow-ups,
# sources, thanks), without its emergency and prompt-injection one.
SCRIPTS: Tuple[Tuple[str, ...], ...] = LOAD_SCRIPTS[:4]
# The long conversation: a patient going through many topics and follow-ups, 50 turns. The turns
# compared (1, 10, 25, 50) all ask the same question, so only the conversation's length differs.
PROBE, PROBE_TURNS = "what are the side effects of ivig", (1, 10, 25, 50)
LONG_CONVERSATION = tuple(
    PROBE if number in PROBE_TURNS else text
    for number, text in enumerate(tuple(text for script in SCRIPTS for text in script[:-1]) * 3, start=1)
)[:50]


@dataclasses.dataclass
class Bot:
    name: str
    label: str
    config: pathlib.Path
    endpoints: pathlib.Path
    stock_runtime: bool = False  # `python -m rasa run` instead of bot.rasa_ext.rasa_server
    model: pathlib.Path = None  # type: ignore[assignment]
    epochs: Optional[int] = None  # trained with fewer epochs than Rasa's defaults (cost only)
    train_seconds: Optional[float] = None
    train_note: str = ""

    def __post_init__(self):
        self.model = BENCH_DIR / f"{self.name}.tar.gz"


@dataclasses.dataclass
class Phase:
    latencies: List[float]  # seconds, one per answered turn
    elapsed: float
    failures: int
    cpu: Dict[str, float] = dataclasses.field(default_factory=dict)  # process -> CPU seconds used

    def cpu_per_turn(self, process: str) -> float:
        return self.cpu.get(process, float("nan")) / max(len(self.latencies), 1)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q)


@dataclasses.dataclass
class Results:
    bot: Bot
    cold_start: float = float("nan")
    rss: Dict[str, Tuple[int, int]] = dataclasses.field(default_factory=dict)  # process -> (VmRSS, VmHWM) kB
    accuracy: Optional[Dict[str, float]] = None
    accuracy_note: str = ""
    phases: Dict[int, Phase] = dataclasses.field(default_factory=dict)
    turn_latency: Dict[int, float] = dataclasses.field(default_factory=dict)  # turn -> median seconds
    load_average: float = float("nan")  # 1-minute load average before the load phases
    profile_summary: str = ""


# ------------------------------------------------------------------------------------------- training


def training_inputs(config: pathlib.Path) -> List[pathlib.Path]:
    files = [config, PROJECT_DIR / "domain.yml", *sorted((PROJECT_DIR / "data").rglob("*.yml"))]
    files += sorted((PROJECT_DIR / "bot" / "nlp").glob("*.py")) + sorted((PROJECT_DIR / "bot" / "nlp").glob("*.yml"))
    files += sorted((PROJECT_DIR / "bot" / "core").glob("vocabulary.*"))  # the spaCy pipeline's entity ruler
    files += sorted((PROJECT_DIR / "bot" / "triage").glob("*.py")) + sorted((PROJECT_DIR / "bot" / "triage").glob("*.yml"))
    meta = PROJECT_DIR / "build" / "spacy" / "ivig_en" / "meta.json"
    return files + ([meta] if meta.exists() else [])


def fingerprint(config: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(config):
        digest.update(str(path.relative_to(PROJECT_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def train(bot: Bot, reuse: bool, timeout: float, any_model: bool = False) -> None:
    """Trains `bot` into build/bench/<name>.tar.gz with an empty Rasa cache (a cold, honest time).

    With `reuse`, a model trained from the same inputs is kept and its recorded time reported
    (with `any_model` too, whatever its inputs: --quick, for development).
    """
    record = BENCH_DIR / f"{bot.name}.train.json"
    current = fingerprint(bot.config)
    if reuse and bot.model.exists():
        saved = json.loads(record.read_text()) if record.exists() else {}
        if saved.get("fingerprint") == current or any_model:
            bot.train_seconds = saved.get("seconds")
            stale = "" if saved.get("fingerprint") == current else ", from older inputs"
            bot.train_note = f"recorded {saved.get('when', '?')}{stale}"
            print(f"[{bot.name}] reusing {bot.model.relative_to(PROJECT_DIR)} ({bot.train_note})")
            return
        print(f"[{bot.name}] training inputs changed since the saved model: training again")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    log = BENCH_DIR / f"{bot.name}.train.log"
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache, open(log, "wb") as output:
        env = {
            **os.environ,
            "RASA_CACHE_DIRECTORY": cache,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
        args = [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "--config",
            str(bot.config),
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            str(BENCH_DIR),
            "--fixed-model-name",
            bot.name,
        ]
        print(f"[{bot.name}] training ({bot.config.relative_to(PROJECT_DIR)}); log in {log.relative_to(PROJECT_DIR)}", flush=True)
        started = time.monotonic()
        subprocess.run(args, cwd=PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=timeout, check=True)
        bot.train_seconds = time.monotonic() - started
    bot.train_note = "this run"
    record.write_text(
        json.dumps({"fingerprint": current, "seconds": bot.train_seconds, "when": datetime.datetime.now().isoformat(timespec="minutes")})
    )
    print(f"[{bot.name}] trained in {bot.train_seconds:.0f} s")


def baseline_config(epochs: Optional[int]) -> pathlib.Path:
    """Rasa's defaults; with `epochs`, the same pipeline and policies written out with fewer epochs.

    A message costs the same whatever the epoch count (same layers, same vocabulary), so a short
    training measures the baseline's cost in minutes where Rasa's 100 epochs take hours on 2 cores;
    its accuracy is then below the stock one and is not compared.
    """
    if epochs is None:
        return BASELINE_CONFIG
    config = yaml.safe_load(RASA_DEFAULT_CONFIG.read_text())
    config["assistant_id"] = yaml.safe_load(BASELINE_CONFIG.read_text())["assistant_id"]
    for component in config["pipeline"] + config["policies"]:
        if "epochs" in component:
            component["epochs"] = epochs
    path = BENCH_DIR / f"baseline_config-{epochs}-epochs.yml"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    header = f"# Rasa's default config with {epochs} epochs (make bench --baseline-epochs).\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False))
    return path


def baseline_endpoints() -> pathlib.Path:
    """The project's endpoints with Rasa's stock SQL tracker store and in-memory lock store."""
    endpoints = yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text())
    stock_keys = ("dialect", "url", "port", "db", "username", "password", "login_db", "query")
    store = endpoints.get("tracker_store") or {}
    endpoints["tracker_store"] = {"type": "SQL", **{k: v for k, v in store.items() if k in stock_keys}}
    endpoints["lock_store"] = {"type": "in_memory"}
    path = BENCH_DIR / "baseline-endpoints.yml"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# written by bot/tools/perf/bench.py: endpoints.yml with Rasa's stock tracker and lock stores\n"
        + yaml.safe_dump(endpoints, sort_keys=False)
    )
    return path


# ------------------------------------------------------------------------------------------- serving


class StockRasaStack(Stack):
    """The stack with Rasa's own `rasa run` (the baseline: no project fix to Rasa's runtime)."""

    def rasa_args(self) -> List[str]:
        args = super().rasa_args()
        index = args.index("-m")
        return args[: index + 1] + ["rasa"] + args[index + 2 :]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kb(pid: int) -> Tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB, from /proc."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


@contextlib.contextmanager
def serving(bot: Bot, workdir: pathlib.Path, results: Results) -> Iterator[Stack]:
    """Action server, then the Rasa server; cold start = Popen of the Rasa server to the first answer."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    config = StackConfig.on_free_ports(workdir, model=bot.model, endpoints=bot.endpoints)
    stack = (StockRasaStack if bot.stock_runtime else Stack)(config)
    try:
        stack.start_actions()
        started = time.monotonic()
        stack.start_rasa(timeout=300)
        client = RestClient(config.rasa_url, timeout=30)
        answered = wait_until(
            lambda: client.send(f"cold-{uuid.uuid4().hex}", "hello").messages,
            timeout=started + 300 - time.monotonic(),
            interval=0.05,
            ignore=(OSError, RuntimeError),
        )
        if not answered:
            raise TimeoutError(f"{bot.name}: no answer within 300 s of starting")
        results.cold_start = time.monotonic() - started
        yield stack
        for name, service in stack.services.items():
            results.rss[name] = memory_kb(service.process.pid)
    finally:
        stack.stop_all()


# ------------------------------------------------------------------------------------------- load


def unavailable_text() -> str:
    return get_content().messages["service_unavailable"].strip().splitlines()[0][:60]


def run_patients(url: str, concurrency: int, duration: float, tag: str) -> Phase:
    """`concurrency` patients, each holding 6-turn conversations back to back, for `duration` s."""
    latencies: List[float] = []
    failures = [0]
    lock = threading.Lock()
    unavailable = unavailable_text()
    stop_at = time.monotonic() + duration

    def patient(number: int) -> None:
        client = RestClient(url, timeout=60)
        conversation = number
        while time.monotonic() < stop_at:
            sender = f"{tag}-{number}-{uuid.uuid4().hex[:12]}"
            for text in SCRIPTS[conversation % len(SCRIPTS)]:
                if time.monotonic() >= stop_at:
                    break
                started = time.perf_counter()
                try:
                    turn = client.send(sender, text)
                    ok = bool(turn.messages) and unavailable not in turn.text
                except (OSError, RuntimeError):
                    ok = False
                took = time.perf_counter() - started
                with lock:
                    if ok:
                        latencies.append(took)
                    else:
                        failures[0] += 1
            conversation += 1

    threads = [threading.Thread(target=patient, args=(n,), daemon=True) for n in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 120)
    return Phase(latencies, time.monotonic() - started, failures[0])


def long_conversations(url: str, repeats: int, turns: int = 50) -> Dict[int, float]:
    """Median latency of each turn number over `repeats` conversations of `turns` turns."""
    client = RestClient(url, timeout=60)
    per_turn: Dict[int, List[float]] = {n: [] for n in range(1, turns + 1)}
    for repeat in range(repeats):
        sender = f"long-{uuid.uuid4().hex[:12]}"
        for number in range(1, turns + 1):
            text = LONG_CONVERSATION[(number - 1) % len(LONG_CONVERSATION)]
            started = time.perf_counter()
            client.send(sender, text)
            per_turn[number].append(time.perf_counter() - started)
    return {number: statistics.median(values) for number, values in per_turn.items()}


# ------------------------------------------------------------------------------------------- accuracy


def intents_of(db: pathlib.Path, prefix: str) -> List[Tuple[str, str, Optional[str]]]:
    """(sender, text, intent) of every user message of senders starting with `prefix`, in order."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        rows = connection.execute(
            "SELECT sender_id, data, intent_name FROM events WHERE type_name = 'user' AND sender_id LIKE ? " "ORDER BY id", (prefix + "%",)
        ).fetchall()
    return [(sender, json.loads(data).get("text") or "", intent) for sender, data, intent in rows]


def intent_correct(intent: Optional[str], expected: Sequence[str], previous: Optional[Sequence[str]]) -> bool:
    """The NLU understood the question: its intent is an expected topic, the fallback where the
    fallback is expected, or a follow-up intent where the turn follows up the previous topic."""
    if intent in expected or (intent == "nlu_fallback" and "fallback" in expected):
        return True
    return intent in FOLLOW_UP_INTENTS and previous is not None and bool(set(expected) & set(previous))


def accuracy(url: str, db: pathlib.Path, questions: pathlib.Path) -> Tuple[Dict[str, float], str]:
    conversations = load_conversations(questions)
    results = ask_all(RestClient(url, timeout=60), conversations)
    scores = score_questions(results)
    red_flags = [r for r in results if r.expected[0] in URGENT]
    expected: List[Tuple[Sequence[str], Optional[Sequence[str]]]] = []
    for turns in conversations:
        previous = None
        for turn in turns:
            expected.append((turn["expected"], previous))
            previous = turn["expected"]
    rows = intents_of(db, "eval-")
    note = ""
    if len(rows) == len(results):
        intent_accuracy = sum(intent_correct(intent, exp, prev) for (_, _, intent), (exp, prev) in zip(rows, expected)) / len(rows)
    else:
        intent_accuracy, note = float("nan"), f"{len(rows)} stored messages for {len(results)} questions"
    return {
        "questions": scores["questions"],
        "topic": scores["topic_accuracy"],
        "intent": intent_accuracy,
        "red_flag_recall": sum(r.topic in URGENT for r in red_flags) / max(len(red_flags), 1),
    }, note


# ------------------------------------------------------------------------------------------- profiling

PROFILE_RATE = 250  # py-spy samples per second (wall clock: a descheduled thread is sampled too)
PROFILE_CONVERSATIONS = 8
# What a message costs, step by step (a function counts with everything it calls).
PROFILED = (
    ("rasa/core/processor.py:handle_message", "the whole message"),
    ("rasa/core/processor.py:get_tracker", "fetch the tracker (tracker store)"),
    ("sqlalchemy/orm/query.py:all", "  read the stored events (SQL)"),
    ("json/__init__.py:loads", "  parse JSON (mostly those events)"),
    ("rasa/shared/core/trackers.py:from_dict", "  rebuild the tracker (events, replay)"),
    ("rasa/shared/core/events.py:deserialise_events", "    of which Event objects"),
    ("rasa/core/processor.py:_parse_message_with_graph", "NLU"),
    ("rasa/core/processor.py:run_action_extract_slots", "slot extraction"),
    ("rasa/core/processor.py:_predict_next_with_tracker", "policies (2 predictions)"),
    ("rasa/shared/core/trackers.py:past_states", "  history to dialogue states"),
    ("rasa/core/processor.py:_run_action", "run the actions"),
    ("rasa/shared/core/trackers.py:travel_back_in_time", "  copy the tracker (replay)"),
    ("rasa/shared/core/trackers.py:current_state", "  tracker to JSON for the action server"),
    ("rasa/utils/endpoints.py:request", "  action server HTTP call"),
    ("jsonschema/validators.py:validate", "  check the response schema (stock)"),
    ("bot/rasa_ext/rasa_server.py:validate_action_result", "  check the response (rasa_server.py)"),
    ("rasa/core/processor.py:save_tracker", "save the tracker (tracker store)"),
    ("copy.py:deepcopy", "deep copies for debug logs"),
)


def collapsed_inclusive(path: pathlib.Path) -> Tuple[Dict[str, int], int]:
    """function -> samples with it on the stack while Rasa handles a message (py-spy raw output)."""
    inclusive: Dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        seen = set()
        frames = stack.split(";")
        below = [i for i, frame in enumerate(frames) if frame.startswith("handle_message (") and "core/agent.py" in frame]
        if not below:
            continue  # not handling a message (idle loop, HTTP keep-alive, ...)
        for frame in frames[below[0] :]:
            function, _, where = frame.partition(" (")
            name = where.split("site-packages/")[-1].split("/lib/python3.10/")[-1].rsplit(":", 1)[0] + ":" + function
            if name not in seen:
                seen.add(name)
                inclusive[name] = inclusive.get(name, 0) + int(count)
    return inclusive, total


def record(pid: int, output: pathlib.Path, work: Callable[[], int]) -> int:
    """Runs `work` (returns how many turns it sent) under py-spy; returns the turns."""
    spy = subprocess.Popen(
        [
            shutil.which("py-spy") or "py-spy",
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(PROFILE_RATE),
            "--format",
            "raw",
            "--nonblocking",
            "-o",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    try:
        return work()
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


def profile_growth(url: str, pid: int, name: str) -> str:
    """py-spy on the Rasa server during turns 1-10 and during turns 41-50 of 8 conversations each:
    ms per turn spent in (with) each function, and the difference."""
    client = RestClient(url, timeout=60)

    def turns(senders: List[str], numbers: range) -> int:
        for sender in senders:
            for number in numbers:
                client.send(sender, LONG_CONVERSATION[number - 1])
        return len(senders) * len(numbers)

    old = [f"prof-{uuid.uuid4().hex[:12]}" for _ in range(PROFILE_CONVERSATIONS)]
    turns(old, range(1, 41))
    windows = {}
    for label, senders, numbers in (
        ("turns 1-10", [f"prof-{uuid.uuid4().hex[:12]}" for _ in old], range(1, 11)),
        ("turns 41-50", old, range(41, 51)),
    ):
        output = BENCH_DIR / f"profile-{name}-{label.replace(' ', '')}.txt"
        count = record(pid, output, lambda: turns(senders, numbers))
        inclusive, _ = collapsed_inclusive(output)
        windows[label] = {k: 1000 * v / PROFILE_RATE / count for k, v in inclusive.items()}
    first, last = windows["turns 1-10"], windows["turns 41-50"]
    lines = [f"{'ms per turn':42} {'turns 1-10':>10} {'turns 41-50':>11} {'growth':>7}  function"]
    for key, label in PROFILED:
        if key in first or key in last:
            a, b = first.get(key, 0.0), last.get(key, 0.0)
            lines.append(f"{label:42} {a:10.1f} {b:11.1f} {b - a:+7.1f}  {key}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- one bot


def measure(bot: Bot, args, questions: Optional[pathlib.Path]) -> Results:
    results = Results(bot)
    workdir = BENCH_DIR / f"run-{bot.name}"
    with serving(bot, workdir, results) as stack:
        config = stack.config
        url = config.rasa_url
        print(f"[{bot.name}] answering {results.cold_start:.1f} s after start", flush=True)
        if questions is not None:
            results.accuracy, results.accuracy_note = accuracy(url, config.tracker_db, questions)
            print(f"[{bot.name}] accuracy {results.accuracy}", flush=True)
        run_patients(url, 4, 2 if args.quick else 5, "warmup")
        pids = {name: service.process.pid for name, service in stack.services.items()}
        results.load_average = os.getloadavg()[0]
        for concurrency in (1, 20):
            duration = args.phase_seconds[0 if concurrency == 1 else 1]
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            phase = run_patients(url, concurrency, duration, f"load{concurrency}")
            phase.cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
            results.phases[concurrency] = phase
            print(
                f"[{bot.name}] {concurrency:>2} patients: {phase.throughput:6.1f} turns/s, "
                f"p50 {1000 * phase.percentile(50):.0f} ms, p99 {1000 * phase.percentile(99):.0f} ms, "
                f"{phase.failures} failed, Rasa CPU {1000 * phase.cpu_per_turn('rasa'):.1f} ms/turn",
                flush=True,
            )
        results.turn_latency = long_conversations(url, args.long_repeats)
        if args.profile:
            results.profile_summary = profile_growth(url, stack.services["rasa"].process.pid, bot.name)
            print(results.profile_summary, flush=True)
        print(
            f"[{bot.name}] turn 1: {1000 * results.turn_latency[1]:.0f} ms, " f"turn 50: {1000 * results.turn_latency[50]:.0f} ms",
            flush=True,
        )
    return results


# ------------------------------------------------------------------------------------------- stage costs


def stage_costs(texts: Sequence[str]) -> List[str]:
    """CPU per message of the understanding stages, in this process, over the same texts: the sentence
    encoder (first time and cached, as for a repeated button text), the triage patterns and the risk model.
    The baseline is the whole turn's Rasa CPU in the table above."""
    import spacy

    from bot.nlp.encoder import SentenceEncoder
    from bot.triage.patterns import PatternMatcher
    from bot.triage.risk import RiskModel, load_examples

    nlp = spacy.load(PROJECT_DIR / "build" / "spacy" / "ivig_en")
    matcher = PatternMatcher.from_file(nlp)
    encoder = SentenceEncoder()
    risk = RiskModel.train(encoder, load_examples())
    encoder._cached.cache_clear()  # the stages below start from texts the encoder has not seen

    def per_message(work: Callable[[str], object], messages: Sequence[str] = texts) -> float:
        start = time.process_time()
        for text in messages:
            work(text)
        return (time.process_time() - start) / len(messages)

    encode = lambda text: encoder.encode([text])  # noqa: E731
    long_message = [" ".join(texts)[:2000]] * 5  # a long message at the classifier's cut, timed five times
    rows = [
        ("sentence encoder, new text", per_message(encode)),
        ("sentence encoder, repeated text (cache)", per_message(encode)),
        ("triage patterns (whole message)", per_message(matcher.detect)),
        ("triage patterns, one 2,000-character message", per_message(matcher.detect, long_message)),
        ("triage risk model (embeddings cached)", per_message(lambda text: risk.assess(encoder, text))),
    ]
    lines = [
        f"CPU per message of the understanding stages ({len(texts)} dev questions, one process):",
        "",
        "| stage | CPU per message |",
        "| --- | --- |",
    ]
    return lines + [f"| {name} | {ms(seconds)} |" for name, seconds in rows]


# ------------------------------------------------------------------------------------------- report


def ms(seconds: float) -> str:
    if seconds != seconds:
        return "n/a"
    return f"{1000 * seconds:.1f} ms" if seconds < 0.02 else f"{1000 * seconds:.0f} ms"


def ratio(ours: float, baseline: float) -> str:
    if not baseline or baseline != baseline or ours != ours:
        return "-"
    return f"{ours / baseline:.2f}x"


def mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def table(ours: Results, base: Results) -> List[str]:
    rows: List[Tuple[str, str, str, str]] = []

    def add(name, a, b, fmt, r=True):
        rows.append((name, fmt(a), fmt(b), ratio(a, b) if r else "-"))

    if ours.accuracy and base.accuracy:
        pct = lambda v: "n/a" if v != v else f"{100 * v:.1f}%"  # noqa: E731
        # A baseline trained with fewer epochs measures cost only: its accuracy is not Rasa's.
        other = base.accuracy if base.bot.epochs is None else collections.defaultdict(lambda: float("nan"))
        add(f"topic accuracy ({ours.accuracy['questions']} dev questions)", ours.accuracy["topic"], other["topic"], pct)
        add("intent accuracy", ours.accuracy["intent"], other["intent"], pct)
        add("red-flag recall", ours.accuracy["red_flag_recall"], other["red_flag_recall"], pct)
    for concurrency in (1, 20):
        a, b = ours.phases[concurrency], base.phases[concurrency]
        label = f"{concurrency} patient" + ("s" if concurrency > 1 else "")
        add(f"throughput, {label} (turns/s)", a.throughput, b.throughput, lambda v: f"{v:.1f}")
        add(f"p50 latency, {label}", a.percentile(50), b.percentile(50), ms)
        add(f"p99 latency, {label}", a.percentile(99), b.percentile(99), ms)
        rows.append((f"failed turns, {label}", str(a.failures), str(b.failures), "-"))
        for process, name in (("rasa", "Rasa server"), ("actions", "action server")):
            add(f"{name} CPU per turn, {label}", a.cpu_per_turn(process), b.cpu_per_turn(process), ms)
    for turn in PROBE_TURNS:
        add(f"latency at turn {turn} of a long conversation", ours.turn_latency[turn], base.turn_latency[turn], ms)
    add(
        "turn 50 / turn 1",
        ours.turn_latency[50] / ours.turn_latency[1],
        base.turn_latency[50] / base.turn_latency[1],
        lambda v: f"{v:.2f}",
        r=False,
    )
    add("cold start (Popen to first answer)", ours.cold_start, base.cold_start, lambda v: f"{v:.1f} s")
    add("training time", ours.bot.train_seconds or float("nan"), base.bot.train_seconds or float("nan"), lambda v: f"{v:.0f} s")
    for process, label in (("rasa", "Rasa server"), ("actions", "action server")):
        if process in ours.rss and process in base.rss:
            add(f"memory, {label} (VmRSS at end)", ours.rss[process][0], base.rss[process][0], mb)
            add(f"memory, {label} (peak VmHWM)", ours.rss[process][1], base.rss[process][1], mb)
    widths = [max(len(row[i]) for row in rows + [("metric", "ours", "baseline", "ours/baseline")]) for i in range(4)]
    header = ("metric", "ours", "baseline", "ours/baseline")
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |", "| " + " | ".join("-" * w for w in widths) + " |"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    return lines


def targets(ours: Results, base: Results) -> List[str]:
    checks = []
    c20o, c20b = ours.phases[20], base.phases[20]
    checks.append(
        (
            "throughput at 20 patients >= 3x the baseline",
            f"{c20o.throughput / c20b.throughput:.1f}x",
            c20o.throughput >= 3 * c20b.throughput,
        )
    )
    checks.append(("p99 at 20 patients <= 250 ms", ms(c20o.percentile(99)), c20o.percentile(99) <= 0.25))
    growth = ours.turn_latency[50] / ours.turn_latency[1]
    checks.append(("turn-50 latency <= 1.5x turn-1", f"{growth:.2f}x", growth <= 1.5))
    checks.append(("cold start <= 15 s", f"{ours.cold_start:.1f} s", ours.cold_start <= 15))
    if ours.bot.train_seconds is not None:
        checks.append(("training <= 90 s", f"{ours.bot.train_seconds:.0f} s", ours.bot.train_seconds <= 90))
    if ours.accuracy and base.accuracy and base.bot.epochs is None:
        checks.append(
            (
                "topic accuracy no worse than the baseline",
                f"{100 * ours.accuracy['topic']:.1f}% vs {100 * base.accuracy['topic']:.1f}%",
                ours.accuracy["topic"] >= base.accuracy["topic"],
            )
        )
        checks.append(
            (
                "intent accuracy no worse than the baseline",
                f"{100 * ours.accuracy['intent']:.1f}% vs {100 * base.accuracy['intent']:.1f}%",
                ours.accuracy["intent"] >= base.accuracy["intent"],
            )
        )
    return [f"- {'met' if ok else 'NOT MET'}: {name} ({value})" for name, value, ok in checks]


def report(ours: Results, base: Results, args, questions: Optional[pathlib.Path], started: float) -> str:
    load = os.getloadavg()
    lines = [
        f"Measured {datetime.datetime.now().isoformat(timespec='minutes')} by `make bench`"
        f"{' (' + ' '.join(args.flags) + ')' if args.flags else ''} in {(time.monotonic() - started) / 60:.0f} min on "
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}, {platform.python_version()}, "
        f"load average at the end {load[0]:.1f}; other work on the machine shares the cores).",
        "Ours: `config.yml` + `endpoints.yml`. Baseline: `bot/tools/perf/baseline_config.yml` (what `rasa init` "
        "writes: Rasa's default pipeline and policies"
        + (
            f", trained {base.bot.epochs} epochs instead of 100: a message costs the same, its accuracy is not compared"
            if base.bot.epochs
            else ""
        )
        + f") + Rasa's stock SQL tracker store; same domain, data, "
        f"actions and action server. Load: {SCRIPTS.__len__()} scripted 6-turn conversations, patients "
        f"sending the next message as soon as the answer arrives, {args.phase_seconds[0]:.0f} s with 1 patient "
        f"and {args.phase_seconds[1]:.0f} s with 20; long conversations: {args.long_repeats} x 50 turns "
        f"(median per turn; turns 1, 10, 25 and 50 ask the same question). CPU per turn: CPU time the "
        f"process used during the phase / turns answered. Load average before the load phases: "
        f"{ours.load_average:.1f} (ours), {base.load_average:.1f} (baseline). Training: "
        f"{ours.bot.train_note or '-'} (ours), {base.bot.train_note or '-'} (baseline), each with an "
        f"empty Rasa cache.",
        "",
    ]
    if questions is None:
        lines += ["Accuracy skipped: the dev questions file was not found " f"(`DEV_QUESTIONS={args.dev_questions}`).", ""]
    else:
        notes = [r.accuracy_note for r in (ours, base) if r.accuracy_note]
        lines += [
            f"Accuracy: `{questions}`; topic = the answer's topic, intent = the NLU's intent (a follow-up "
            f"intent counts where the turn follows up the previous topic)." + (f" ({'; '.join(notes)})" if notes else ""),
            "",
        ]
    lines += table(ours, base) + ["", "Targets for ours:", ""] + targets(ours, base)
    if questions is not None:
        texts = [turn["text"] for conversation in load_conversations(questions) for turn in conversation]
        lines += [""] + stage_costs(texts)
    for result in (ours, base):
        if result.profile_summary:
            lines += [
                "",
                f"Profile of the {result.bot.name} Rasa server (py-spy, {PROFILE_RATE} Hz, "
                f"{PROFILE_CONVERSATIONS} conversations; wall-clock samples, so other work on the machine "
                f"inflates them):",
                "",
                "```",
                result.profile_summary,
                "```",
            ]
    return "\n".join(lines) + "\n"


def write_doc(path: pathlib.Path, body: str) -> None:
    block = f"{MARK_START}\n{body}{MARK_END}"
    if path.exists() and MARK_START in path.read_text():
        text = path.read_text()
        head, _, rest = text.partition(MARK_START)
        _, _, tail = rest.partition(MARK_END)
        path.write_text(head + block + tail)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Benchmarks\n\nWritten by `make bench` (bot/tools/perf/bench.py).\n\n{block}\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev-questions", type=pathlib.Path, default=DEFAULT_DEV_QUESTIONS)
    parser.add_argument(
        "--quick", action="store_true", help="short phases, reuse trained models, write build/bench/quick.md (for development)"
    )
    parser.add_argument(
        "--reuse-models", action="store_true", help="keep models trained from unchanged inputs (their recorded training time is reported)"
    )
    parser.add_argument("--profile", action="store_true", help="py-spy (must be on PATH) the Rasa servers at turns 1-10 and 41-50")
    parser.add_argument(
        "--ours-endpoints",
        type=pathlib.Path,
        default=PROJECT_DIR / "endpoints.yml",
        help="serve ours with another endpoints file (e.g. build/bench/baseline-endpoints.yml)",
    )
    parser.add_argument("--ours-model", type=pathlib.Path, help="serve this model as ours instead of training one (with --only ours)")
    parser.add_argument("--ours-stock-runtime", action="store_true", help="serve ours with `rasa run` instead of bot.rasa_ext.rasa_server")
    parser.add_argument("--only", choices=["ours", "baseline"], help="measure one bot (development)")
    parser.add_argument(
        "--baseline-epochs",
        type=int,
        help="train the baseline with this many epochs instead of Rasa's 100 (cost only: its accuracy is not compared)",
    )
    # Rasa's stock DIET takes about 1 min per epoch on this project's data on 2 cores.
    parser.add_argument("--train-timeout", type=float, default=4 * 3600)
    args = parser.parse_args(argv)
    args.flags = [flag for flag in ("--quick", "--reuse-models", "--profile") if getattr(args, flag[2:].replace("-", "_"))]
    if args.baseline_epochs:
        args.flags.append(f"--baseline-epochs {args.baseline_epochs}")
    if args.profile and not shutil.which("py-spy"):
        parser.error("--profile needs py-spy on PATH (pip install py-spy)")
    args.phase_seconds = (4.0, 8.0) if args.quick else (15.0, 20.0)
    args.long_repeats = 3 if args.quick else 5
    started = time.monotonic()

    questions: Optional[pathlib.Path] = args.dev_questions if args.dev_questions.exists() else None
    if questions is None:
        print(f"Dev questions not found at {args.dev_questions}: accuracy is skipped.")
    bots = [
        Bot("ours", "ours", PROJECT_DIR / "config.yml", args.ours_endpoints.resolve(), stock_runtime=args.ours_stock_runtime),
        Bot(
            "baseline",
            "Rasa defaults",
            baseline_config(args.baseline_epochs),
            baseline_endpoints(),
            stock_runtime=True,
            epochs=args.baseline_epochs,
        ),
    ]
    if args.only:
        bots = [b for b in bots if b.name == args.only]
    for bot in bots:
        if bot.name == "ours" and args.ours_model:
            bot.model, bot.train_note = args.ours_model.resolve(), f"given: {args.ours_model}"
            continue
        train(bot, reuse=args.quick or args.reuse_models, timeout=args.train_timeout, any_model=args.quick)
    results = [measure(bot, args, questions) for bot in bots]
    if len(results) < 2:
        return 0
    body = report(results[0], results[1], args, questions, started)
    print("\n" + body)
    target = BENCH_DIR / "quick.md" if args.quick else DOC
    write_doc(target, body)
    print(f"written to {target.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
