"""Listing sessions: the store's cached listing against a naive baseline that
parses every line of every log, on the same 1,000 sessions, in one run.

Prints seconds for the baseline, the first (cold) listing, a repeated (warm)
listing, and a listing after one log grew; and the speed-up ratios."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import items
from agent.segments import TextSegment
from agent.store import (
    ItemsEntry,
    LlmUsage,
    LogEntry,
    RunCompleted,
    SessionStart,
    SessionStore,
    TurnEnd,
    UserInput,
)
from agent.store.chain import encode_lines

SESSIONS = 1000
TURNS = 20


def write_logs(root: Path) -> None:
    for n in range(SESSIONS):
        entries: list[LogEntry] = [SessionStart(ts=n, system_prompt="p" * 3000)]
        for t in range(TURNS):
            entries += [
                UserInput(segments=[TextSegment(kind="text", text=f"task {n}.{t}")], text="x"),
                ItemsEntry(items=[items.assistant("a" * 800)]),
                TurnEnd(turn_count=t + 1),
                LlmUsage(history_len=2 * t + 2, input_tokens=50, output_tokens=5),
                RunCompleted(outcome="finished"),
            ]
        (root / f"s{n:05d}.jsonl").write_bytes(encode_lines(None, entries)[1])


def baseline(root: Path) -> int:
    """Parse every line of every log: what a listing without care costs."""
    count = 0
    for path in sorted(root.glob("*.jsonl")):
        turns = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry["kind"] == "turn_end":
                turns = entry["turn_count"]
        count += turns > 0
    return count


def timed(fn: object) -> float:
    began = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - began


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_logs(root)
        size = sum(p.stat().st_size for p in root.glob("*.jsonl")) / 1e6
        store = SessionStore(root)
        base = timed(lambda: baseline(root))
        cold = timed(store.list_sessions)
        warm = timed(store.list_sessions)
        grown = store.list_sessions()[0].session_id
        head = store.read(grown).head
        assert head is not None
        store.append(grown, head, [TurnEnd(turn_count=99)])
        after_growth = timed(store.list_sessions)
    print(f"{SESSIONS} sessions, {TURNS} turns each, {size:.0f} MB of logs")
    print(f"baseline (parse every line): {base:.3f} s")
    print(f"cold listing:                {cold:.3f} s  ({base / cold:.1f}x faster)")
    print(f"warm listing:                {warm:.3f} s  ({base / warm:.1f}x faster)")
    print(f"after one log grew:          {after_growth:.3f} s  ({base / after_growth:.1f}x faster)")


if __name__ == "__main__":
    main()
