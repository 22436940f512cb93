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
    keeps the shortened results between requests (by call id)."""
    starts = turn_starts(history)
    if protected_turns <= 0 or len(starts) <= protected_turns:
        return Projection(history)
    boundary = starts[-protected_turns]
    rate = _rate(history, records, base_bytes)
    if rate is None:
        return Projection(history)
    out = list(history)
    saved = pruned = 0
    for i in range(boundary):
        item = out[i]
        if not isinstance(item, ToolResult) or not item.content:
            continue
        stub = stubs.get(item.call_id) if stubs is not None else None
        if stub is None:
            size = len(item.content.encode("utf-8"))
            note = NOTE.format(size=_size(size), name=item.name or "the tool's")
            stub = item.model_copy(update={"content": note})
            if stubs is not None:
                stubs[item.call_id] = stub
        saved += item.wire_bytes - stub.wire_bytes
        out[i] = stub
        pruned += 1
    tokens = int(saved * rate)
    if pruned == 0 or tokens < min_savings:
        return Projection(history, saved_bytes=saved, saved_tokens=tokens)
    return Projection(out, pruned=pruned, saved_bytes=saved, saved_tokens=tokens)


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
