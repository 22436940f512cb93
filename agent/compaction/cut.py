"""Where to cut a history for compaction, and what is retained.

The newest items whose estimated size fits ``retained_tokens`` are kept; the
rest is summarised. The cut never separates a tool call from its result, and
never leaves reasoning without the answer it belongs to: it moves earlier
until the retained tail is a valid conversation on its own.

A tool result too large to fit the budget on its own is never kept whole: it
keeps its call, its one-line summary and a stub saying what was removed (as
the prune projection would). So is the largest result of a retained tail that
the repaired cut made too large (parallel calls bring their results along).
The retained tail therefore fits its budget, and compacting truly shrinks the
context. When the stubs alone bring the history within the budget, nothing
needs summarising: the compaction only shrinks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.items import Item, Message, Reasoning, ToolCall, ToolResult
from agent.usage import BYTES_PER_TOKEN, Measurement, TokenEstimator

STUB = (
    "[Output removed when the context was compacted: about {tokens:,} tokens, too large to "
    "keep. Call the tool again for a smaller part (a line range, a narrower pattern) if you "
    "still need it.]"
)


@dataclass(frozen=True)
class Retention:
    """``cut``: the first retained index of the history (0 with items: the
    whole history is kept, shrunk); ``stubbed``: results cut to a stub."""

    cut: int
    retained: list[Item]
    stubbed: int


@dataclass(frozen=True)
class _Measured:
    history_len: int
    input_tokens: int


def plan_retention(
    history: Sequence[Item],
    records: Sequence[Measurement],
    retained_tokens: int,
    base_bytes: int = 0,
) -> Retention | None:
    """What a compaction keeps; ``None`` when there is nothing to compact."""
    estimator = TokenEstimator(history, records, base_bytes)
    size = base_bytes + sum(item.wire_bytes for item in history)
    rate = estimator.total() / size if size else 1 / BYTES_PER_TOKEN

    def tokens(n_bytes: int) -> int:
        return math.ceil(n_bytes * rate)

    projected = list(history)
    removed = [0]  # removed[i]: bytes taken out of history[:i]
    stubbed = 0
    for i, item in enumerate(history):
        if isinstance(item, ToolResult) and item.content:
            cost = tokens(len(item.content.encode("utf-8")))
            if cost > retained_tokens:
                projected[i] = _stub(item, cost)
                stubbed += 1
        removed.append(removed[-1] + item.wire_bytes - projected[i].wire_bytes)
    adjusted = [
        _Measured(r.history_len, max(1, r.input_tokens - tokens(removed[r.history_len])))
        for r in records
        if 0 < r.history_len <= len(history)
    ]
    if stubbed:
        shrunk = TokenEstimator(projected, adjusted, base_bytes)
        if shrunk.total() - shrunk.tokens_at(0) <= retained_tokens:
            return Retention(0, projected, stubbed)
    cut = split_for_retained(projected, adjusted, retained_tokens, base_bytes)
    if cut == 0:
        return None
    retained, more = _fit(projected[cut:], retained_tokens, tokens)
    return Retention(cut, retained, stubbed + more)


def _fit(items: list[Item], budget: int, tokens: Callable[[int], int]) -> tuple[list[Item], int]:
    """Stub the largest results of ``items`` until they fit ``budget``."""
    size = tokens(sum(item.wire_bytes for item in items))
    if size <= budget:
        return items, 0
    out = list(items)
    largest = sorted(
        (i for i, item in enumerate(items) if isinstance(item, ToolResult) and item.content),
        key=lambda i: items[i].wire_bytes,
        reverse=True,
    )
    count = 0
    for i in largest:
        if size <= budget:
            break
        result = out[i]
        assert isinstance(result, ToolResult) and result.content is not None
        stub = _stub(result, tokens(len(result.content.encode("utf-8"))))
        size -= tokens(result.wire_bytes - stub.wire_bytes)
        out[i] = stub
        count += 1
    return out, count


def _stub(result: ToolResult, tokens: int) -> ToolResult:
    return ToolResult(
        call_id=result.call_id,
        name=result.name,
        summary=result.summary,
        content=STUB.format(tokens=tokens),
        is_error=result.is_error,
    )


def split_for_retained(
    history: Sequence[Item],
    records: Sequence[Measurement],
    retained_tokens: int,
    base_bytes: int = 0,
) -> int:
    """The index of the first retained item; 0 means nothing to summarise.

    Linear in the history's length: one pass for the byte prefix (item sizes
    are computed once per item), a walk back from the end to the first index
    whose prefix reaches ``total - retained``, and one pass to repair the cut."""
    estimator = TokenEstimator(history, records, base_bytes)
    total = estimator.total()
    if total <= retained_tokens:
        return 0
    target = total - retained_tokens
    # scan back from the end: the retained tail is short, so this is quick
    cut = len(history)
    while cut > 1 and estimator.tokens_at(cut - 1) >= target:
        cut -= 1
    return repair_cut(history, cut)


def repair_cut(history: Sequence[Item], cut: int) -> int:
    """Move ``cut`` earlier until every retained tool result has its call
    retained (parallel calls included), and the reasoning and text of the
    first retained response come with it. Walks back from the end, so it
    costs the length of the retained tail, not of the history."""
    pending: set[str] = set()  # results seen whose call is not seen yet
    j = len(history)
    while j > 0 and (j > cut or pending):
        j -= 1
        item = history[j]
        if isinstance(item, ToolResult):
            pending.add(item.call_id)
        elif isinstance(item, ToolCall):
            pending.discard(item.call_id)
    cut = j
    if 0 < cut < len(history) and isinstance(history[cut], ToolCall):
        before = history[cut - 1]
        if isinstance(before, Message) and before.role == "assistant":
            cut -= 1
    while cut > 0 and isinstance(history[cut - 1], Reasoning):
        cut -= 1
    return cut
