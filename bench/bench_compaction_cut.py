"""Where to cut a 100,000-item history for compaction.

``split_for_retained`` (one pass for the byte prefix, one for the cut, one to
repair it) against a baseline that binary-searches the cut by re-serialising
the candidate retained tail at each probe, on the same history, in one run.
Also ``plan_retention``, what a compaction runs: oversized tool outputs cut to
a stub (one more pass), the cut, and the retained tail shrunk to its budget,
on the same history with every 1,000th result oversized."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.compaction.cut import plan_retention, repair_cut, split_for_retained
from agent.items import Item, ToolCall, ToolResult, assistant, user
from agent.store import UsageRecord

ITEMS = 100_000
RETAINED = 8_000


def make_history() -> tuple[list[Item], list[UsageRecord]]:
    history: list[Item] = []
    records: list[UsageRecord] = []
    n = 0
    while len(history) < ITEMS:
        history.append(user(f"step {n}: please look at module {n % 97}"))
        history.append(ToolCall(call_id=f"c{n}", name="read_file", arguments='{"path": "x.py"}'))
        history.append(
            ToolResult(
                call_id=f"c{n}",
                name="read_file",
                summary="Read 40 lines",
                content="x" * (40_000 if n % 1000 == 999 else 300),
            )
        )
        history.append(assistant(f"Module {n % 97} looks fine." * 3))
        if n % 10 == 0:
            records.append(UsageRecord(history_len=len(history), input_tokens=len(history) * 60))
        n += 1
    return history, records


def baseline(history: list[Item]) -> int:
    """Binary search on the cut, re-serialising the tail at each probe."""

    def tail_tokens(cut: int) -> int:
        return len(json.dumps([i.model_dump(mode="json") for i in history[cut:]])) // 4

    lo, hi = 0, len(history)
    while lo < hi:
        mid = (lo + hi) // 2
        if tail_tokens(mid) > RETAINED:
            lo = mid + 1
        else:
            hi = mid
    return repair_cut(history, lo)


def timed(fn: object) -> tuple[float, int]:
    began = time.perf_counter()
    result = fn()  # type: ignore[operator]
    return time.perf_counter() - began, result


def main() -> None:
    history, records = make_history()
    cold, cut = timed(lambda: split_for_retained(history, records, RETAINED))
    warm, _ = timed(lambda: split_for_retained(history, records, RETAINED))
    base, base_cut = timed(lambda: baseline(history))
    print(f"{len(history):,} items, {len(records):,} usage records, retained budget {RETAINED:,}")
    print(f"split_for_retained, cold:    {cold * 1000:8.1f} ms  (cut at {cut:,}; sizes measured)")
    print(f"split_for_retained, warm:    {warm * 1000:8.1f} ms  (item sizes known, as in a pod)")
    print(f"baseline (bisect+serialise): {base * 1000:8.1f} ms  (cut at {base_cut:,})")
    print(f"ratio: {base / cold:.1f}x (cold), {base / warm:.1f}x (warm)")
    plan, kept = timed(lambda: plan_retention(history, records, RETAINED))
    assert kept is not None
    print(
        f"plan_retention, warm:        {plan * 1000:8.1f} ms  (cut at {kept.cut:,}, "
        f"{kept.stubbed} outputs stubbed)"
    )
    print(f"ratio: {plan / warm:.1f}x split_for_retained (warm), {base / plan:.1f}x under baseline")


if __name__ == "__main__":
    main()
