"""The launcher behind `make run`."""
import argparse
import signal
import sys
import threading

from bot.content_store import get_content
from bot.stack import Stack, StackConfig


def run() -> int:
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
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while not stopped.is_set():
            dead = [s.name for s in stack.services.values() if s.process.poll() is not None]
            if dead:
                print(f"stopped unexpectedly: {', '.join(dead)}", file=sys.stderr)
                return 1
            stopped.wait(1)
        return 0
    finally:
        print("Stopping ...", flush=True)
        stack.stop_all()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("command", choices=["run"])
    parser.parse_args(argv)
    return run()
