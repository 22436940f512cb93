"""``python -m agent.testing --script FILE [--port N]``: serve a scripted model
until killed; prints ``READY <base url>`` once it listens."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from agent.testing.script import Step, parse_script
from agent.testing.scripted_model import ScriptedModel


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agent.testing",
        description="Serve a scripted OpenAI-compatible model on 127.0.0.1.",
    )
    parser.add_argument("--script", type=Path, help="JSON file with a list of steps")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    args = parser.parse_args(argv)
    steps: list[Step] = []
    if args.script is not None:
        try:
            steps = parse_script(json.loads(args.script.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"Cannot load the script {args.script}: {exc}", file=sys.stderr)
            return 2
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    model = ScriptedModel(steps, port=args.port)
    print(f"READY {model.start()}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        model.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
