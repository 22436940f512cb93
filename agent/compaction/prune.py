"""The prune projection (DIGEST §2.7): old tool outputs left out of a request.

Before each request, the output of every tool result older than the last
``prune_protected_turns`` turns (a turn starts at each user message) is
replaced **in that request only** by a short note saying what was left out
and how to get it back; the session log and the pod's history keep every
byte. It happens only when it saves at least ``prune_min_savings`` tokens,
converted from bytes at the rate the latest measured request had (no
measurement yet, or right after a compaction: no pruning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.items import Item, Message, ToolResult
from agent.usage import prefix_bytes

NOTE = (
    "[Output left out of this request to save context: {size} of {name} output from an "
    "earlier turn. It is still in the conversation's log; run the tool again (read the file "
    "again, repeat the search) if you need it.]"
)
NOTE_BYTES = len(NOTE.encode("utf-8"))  # about what a note takes instead of the output


@dataclass(frozen=True)
class Projection:
    """What a request sends instead of ``history`` (the same list when
    nothing is pruned), and what that saves."""

    items: list[Item]
    pruned: int = 0  # tool results whose output was left out
    saved_bytes: int = 0
    saved_tokens: int = 0


def turn_starts(history: Sequence[Item]) -> list[int]:
    return [
        i for i, item in enumerate(history) if isinstance(item, Message) and item.role == "user"
    ]


def project(
    history: list[Item],
    records: Sequence[object],
    *,
    base_bytes: int,
    protected_turns: int,
    min_savings: int,
    stubs: dict[str, ToolResult] | None = None,
) -> Projection:
    """The prune projection of ``history`` for the next request. ``stubs``
    keeps the shortened results between requests (by call id). Linear in the
    history with a small constant: savings are counted from the outputs'
    lengths, and shortened copies are made only when pruning happens (once per
    result, with ``stubs``)."""
    starts = turn_starts(history)
    if protected_turns <= 0 or len(starts) <= protected_turns:
        return Projection(history)
    boundary = starts[-protected_turns]
    rate = _rate(history, records, base_bytes)
    if rate is None:
        return Projection(history)
    candidates = [
        i for i in range(boundary) if isinstance(item := history[i], ToolResult) and item.content
    ]
    saved = 0
    for i in candidates:
        result = history[i]
        assert isinstance(result, ToolResult) and result.content is not None
        saved += max(0, len(result.content.encode("utf-8")) - NOTE_BYTES)
    tokens = int(saved * rate)
    if not candidates or tokens < min_savings:
        return Projection(history, saved_bytes=saved, saved_tokens=tokens)
    out = list(history)
    for i in candidates:
        result = history[i]
        assert isinstance(result, ToolResult)
        stub = stubs.get(result.call_id) if stubs is not None else None
        if stub is None:
            stub = _stub(result)
            if stubs is not None:
                stubs[result.call_id] = stub
        out[i] = stub
    return Projection(out, pruned=len(candidates), saved_bytes=saved, saved_tokens=tokens)


def _stub(result: ToolResult) -> ToolResult:
    size = len((result.content or "").encode("utf-8"))
    note = NOTE.format(size=_size(size), name=result.name or "the tool's")
    return result.model_copy(update={"content": note})


def _rate(history: Sequence[Item], records: Sequence[object], base_bytes: int) -> float | None:
    """Tokens per byte at the latest measured request (``None``: no data)."""
    usable = [
        r
        for r in records
        if 0 < int(getattr(r, "history_len", 0)) <= len(history)
        and int(getattr(r, "input_tokens", 0)) > 0
    ]
    if not usable:
        return None
    latest = usable[-1]
    length = int(getattr(latest, "history_len", 0))
    size = prefix_bytes(history[:length], base_bytes)[-1]
    return int(getattr(latest, "input_tokens", 0)) / size if size else None


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} KiB"
