"""Killing the action server, then the Rasa server, under load: nothing acknowledged is lost and the
conversations go on after the restarts.

`python -m bot run` (supervised) on free loopback ports with its own SQLite tracker store; patients hold
the load script's multi-turn conversations (bot/tools/perf/load.py: SCRIPTS, same checks, think time 0 to 2 s)
while the test kills the action server (SIGKILL), waits until the launcher has it back, then kills the Rasa
server the same way, waits again and lets the load run on. Then:
- no unsafe answer, at any time;
- every message the bot acknowledged (HTTP 200: an answer or the "can't answer right now" notice) is a
  `user` event of its conversation, in the order it was sent. Messages sent while the Rasa server was down
  were refused (connection refused: the widget shows its error state and the patient can send again), and
  are not counted as lost: they never reached the bot;
- outside the two gaps, every message is answered (no notice, no error);
- a message the bot never got (connection refused or cut off) is sent again by its patient, as a person
  would, after the usual think time;
- conversations continue: one more patient asks about the blood vessel study just before the Rasa server
  is killed and "tell me more" once it is back, and gets more about that study; every follow-up of the
  load ("tell me more", "how many people were in it?", "go on") answered after the kill whose
  topic was set before it is answered about that topic.

LOAD_PATIENTS (default 30) and RESTART_LOAD_AFTER (seconds of load after the Rasa server is back, default
20) change its size; `make load-restarts` runs it with 50 patients and prints the figures
(docs/robustness.md, "Restarts under load").
"""

import asyncio
import collections
import dataclasses
import json
import os
import random
import signal
import time
import uuid
from typing import Dict, List, Optional, Tuple

import aiohttp

from bot.tools.client import Turn
from bot.tools.perf.load import SCRIPTS, check_reply, stored_user_texts
from bot.tools.perf.stats import percentile
from tests.e2e.launcher_process import Launcher, start_launcher

PATIENTS = int(os.environ.get("LOAD_PATIENTS", "30"))
AFTER_RESTART_SECONDS = float(os.environ.get("RESTART_LOAD_AFTER", "20"))
FOLLOW_UPS = {"tell me more", "how many people were in it?", "go on"}  # "link please" answers as topic "sources"


@dataclasses.dataclass
class Sent:
    sender: str
    text: str
    started: float
    latency: float
    status: Optional[int]
    error: str  # "" for an answer
    unsafe: str
    topic: Optional[str] = None
    kind: Optional[str] = None

    @property
    def acknowledged(self) -> bool:
        return self.status == 200


@dataclasses.dataclass
class Timeline:
    start: float = 0.0
    actions_killed: float = 0.0
    actions_back: float = 0.0
    rasa_killed: float = 0.0
    rasa_back: float = 0.0
    end: float = 0.0


async def patient(session: aiohttp.ClientSession, url: str, sender: str, stop: asyncio.Event, seed: int, sent: List[Sent]) -> None:
    rng, scripts = random.Random(seed), list(SCRIPTS)
    await asyncio.sleep(rng.uniform(0, 1))
    while not stop.is_set():
        rng.shuffle(scripts)
        for script in scripts:
            for text in script:
                # a message the bot never got (refused, or cut off) is sent again, as a patient would
                while not stop.is_set():
                    item = await send(session, url, sender, text)
                    sent.append(item)
                    await asyncio.sleep(rng.uniform(0, 2.0))
                    if item.status is not None:
                        break
                if stop.is_set():
                    return


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> Sent:
    started, status, topic, kind = time.monotonic(), None, None, None
    try:
        async with session.post(url, json={"sender": sender, "message": text}, timeout=aiohttp.ClientTimeout(total=60)) as response:
            status = response.status
            body = await response.json(content_type=None)
        error, unsafe = check_reply(status, body, text)
        if status == 200 and isinstance(body, list):
            turn = Turn(body)
            topic, kind = turn.topic, turn.kind
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        error, unsafe = type(exc).__name__, ""
    return Sent(sender, text, started, time.monotonic() - started, status, error, unsafe, topic, kind)


async def wait_for_line(launcher: Launcher, words: str, start: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(words in line for line in launcher.lines[start:]):
            return time.monotonic()
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {words!r} within {timeout:.0f} s:\n{launcher.output[-4000:]}")


async def kill_and_wait(launcher: Launcher, name: str, words: str, timeout: float) -> Tuple[float, float]:
    mark = len(launcher.lines)
    os.kill(launcher.pid_of(words), signal.SIGKILL)
    killed = time.monotonic()
    return killed, await wait_for_line(launcher, f"{name} is back", mark, timeout)


async def load_with_kills(launcher: Launcher, run_id: str) -> Tuple[List[Sent], List[Sent], Timeline]:
    url = f"http://127.0.0.1:{launcher.ports['IVIG_RASA_PORT']}/webhooks/rest/webhook"
    sent: List[Sent] = []
    timeline, stop = Timeline(), asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=PATIENTS + 5)) as session:
        for _ in range(3):  # warm up, not counted
            async with session.post(url, json={"sender": f"{run_id}-warmup", "message": "what is ivig"}) as response:
                await response.read()
        timeline.start = time.monotonic()
        patients = [asyncio.ensure_future(patient(session, url, f"{run_id}-p{i:03d}", stop, i, sent)) for i in range(PATIENTS)]
        await asyncio.sleep(10)
        timeline.actions_killed, timeline.actions_back = await kill_and_wait(launcher, "actions", "rasa_sdk", 90)
        await asyncio.sleep(10)
        # one more patient, in the middle of a topic when the Rasa server is killed
        probe = f"{run_id}-probe"
        probes = [await send(session, url, probe, "what did the blood vessel study find")]
        timeline.rasa_killed, timeline.rasa_back = await kill_and_wait(launcher, "rasa", "bot.rasa_ext.rasa_server", 240)
        probes.append(await send(session, url, probe, "tell me more"))
        await asyncio.sleep(AFTER_RESTART_SECONDS)
        stop.set()
        await asyncio.gather(*patients)
        timeline.end = time.monotonic()
    return sent, probes, timeline


def missing_in_order(acknowledged: List[str], stored: List[str]) -> int:
    """How many acknowledged texts are not found, in order, in the stored conversation."""
    position, missing = 0, 0
    for text in acknowledged:
        try:
            position = stored.index(text, position) + 1
        except ValueError:
            missing += 1
    return missing


def lost_acknowledged(sent: List[Sent], db, run_id: str, settle: float = 30) -> int:
    acknowledged: Dict[str, List[str]] = collections.defaultdict(list)
    for item in sorted(sent, key=lambda s: s.started):
        if item.acknowledged:
            acknowledged[item.sender].append(item.text)
    deadline = time.monotonic() + settle
    while True:
        stored = stored_user_texts(db, run_id)
        lost = sum(missing_in_order(texts, stored.get(sender, [])) for sender, texts in acknowledged.items())
        if not lost or time.monotonic() > deadline:
            return lost
        time.sleep(1)


def continued_follow_ups(sent: List[Sent], timeline: Timeline) -> Tuple[int, List[str]]:
    """Follow-ups answered after the Rasa server's restart whose topic was set before it was killed (the
    patient's previous answered message): (how many, the ones answered about another topic)."""
    by_sender: Dict[str, List[Sent]] = collections.defaultdict(list)
    for item in sorted(sent, key=lambda s: s.started):
        by_sender[item.sender].append(item)
    count, wrong = 0, []
    for items in by_sender.values():
        answered = [s for s in items if s.acknowledged and not s.error]
        for previous, item in zip(answered, answered[1:]):
            if (
                item.text in FOLLOW_UPS
                and previous.started < timeline.rasa_killed < item.started
                and previous.topic not in (None, "fallback", "greet", "goodbye", "thanks")
                and previous.kind != "urgent"
            ):
                count += 1
                if item.topic != previous.topic:
                    wrong.append(f"{previous.text!r} ({previous.topic}) then {item.text!r} -> {item.topic}/{item.kind}")
    return count, wrong


def test_killing_either_server_under_load_loses_nothing_acknowledged_and_conversations_go_on(tmp_path):
    run_id = f"restarts-{uuid.uuid4().hex[:8]}"
    # Every simulated patient comes from 127.0.0.1, faster than people type: the rate limits (tested on their own
    # in tests/e2e/test_rate_limits.py) would refuse the load this test is about.
    with start_launcher(tmp_path, IVIG_RATE_SENDER_BURST="0", IVIG_RATE_ADDRESS_BURST="0") as launcher:
        sent, probes, timeline = asyncio.run(load_with_kills(launcher, run_id))
        lost = lost_acknowledged(sent, launcher.db, run_id)
    t = lambda moment: moment - timeline.start  # noqa: E731
    actions_gap = (timeline.actions_killed, timeline.actions_back + 12)  # + the reply timeout of a turn in flight
    rasa_gap = (timeline.rasa_killed, timeline.rasa_back + 12)
    in_gap = lambda s, gap: s.started <= gap[1] and s.started + s.latency >= gap[0]  # noqa: E731  (overlaps it)
    kinds = collections.Counter("answer" if not s.error else s.error for s in sent)
    unsafe = [f"{s.sender}: {s.unsafe}" for s in sent if s.unsafe]
    outside = [s for s in sent if s.error and not in_gap(s, actions_gap) and not in_gap(s, rasa_gap)]
    errors_in_actions_gap = [
        s for s in sent if s.error not in ("", "unavailable notice") and in_gap(s, actions_gap) and not in_gap(s, rasa_gap)
    ]
    follow_ups, wrong = continued_follow_ups(sent, timeline)
    latencies = [s.latency * 1000 for s in sent if not s.error]
    steady = [s.latency * 1000 for s in sent if not s.error and not in_gap(s, actions_gap) and not in_gap(s, rasa_gap)]
    after = [s for s in sent if s.started > timeline.rasa_back + 2]
    figures = {
        "patients": PATIENTS,
        "seconds": round(timeline.end - timeline.start, 1),
        "sent": len(sent),
        "replies": dict(kinds),
        "acknowledged": sum(s.acknowledged for s in sent),
        "p50_ms": round(percentile(latencies, 50)),
        "p99_ms": round(percentile(latencies, 99)),
        "outside_the_gaps": {"p50_ms": round(percentile(steady, 50)), "p99_ms": round(percentile(steady, 99))},
        "actions_killed_at_s": round(t(timeline.actions_killed), 1),
        "actions_back_after_s": round(timeline.actions_back - timeline.actions_killed, 1),
        "rasa_killed_at_s": round(t(timeline.rasa_killed), 1),
        "rasa_back_after_s": round(timeline.rasa_back - timeline.rasa_killed, 1),
        "unsafe": len(unsafe),
        "lost_acknowledged": lost,
        "after_restart": {"sent": len(after), "answered": sum(not s.error for s in after)},
        "follow_ups_across_the_restart": follow_ups,
        "follow_ups_about_another_topic": len(wrong),
    }
    print("\nrestarts under load:", json.dumps(figures, indent=1))
    if os.environ.get("RESTART_LOAD_DUMP"):
        with open(os.environ["RESTART_LOAD_DUMP"], "w") as dump:
            json.dump({"timeline": dataclasses.asdict(timeline), "sent": [dataclasses.asdict(x) for x in sent]}, dump)
    assert not unsafe, unsafe[:5]
    assert lost == 0, f"{lost} acknowledged messages are missing from the tracker store"
    assert not outside, [(round(t(s.started), 1), s.text, s.error) for s in outside[:10]]
    # the action server's gap: the guard's notice, never a failure
    assert not errors_in_actions_gap, [(round(t(s.started), 1), s.error) for s in errors_in_actions_gap[:10]]
    # the load went on after the restart, every message answered
    assert after and all(not s.error for s in after), [(s.text, s.error) for s in after if s.error][:10]
    assert not wrong, wrong[:10]
    # the probe: its topic was set before the kill, its "tell me more" answered after the restart
    assert probes[0].topic == "study_vascular", probes[0]
    assert not probes[1].error and probes[1].topic == "study_vascular" and probes[1].kind == "more", probes[1]
