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
from collections.abc import Sequence
from dataclasses import dataclass

from agent.items import Item, Message, Reasoning, ToolCall, ToolResult
from agent.usage import Measurement, TokenEstimator

STUB = (
    "[Output removed when the context was compacted: about {tokens:,} tokens, too large to "
    "keep. Call the tool again for a smaller part (a line range, a narrower pattern) if you "
    "still need it.]"
)


@dataclass(frozen=True)
class Retention:
    """``cut``: the first retained index of the history (0 with items: the
    whole history is kept, shrunk); ``stubbed``: retained results cut to a
    stub."""

    cut: int
    retained: list[Item]
    stubbed: int


def split_for_retained(
    history: Sequence[Item],
    records: Sequence[Measurement],
    retained_tokens: int,
    base_bytes: int = 0,
) -> int:
    """The index of the first retained item; 0 means nothing to summarise.

    One pass for the byte prefix (item sizes are computed once per item), a
    walk back from the end while the tail fits ``retained_tokens``, and a
    repair of the cut: the walk and the repair cost the retained tail's
    length, not the history's."""
    estimator = TokenEstimator(history, records, base_bytes)
    if estimator.total() <= retained_tokens:
        return 0
    cut, _ = _walk_back(history, estimator, retained_tokens, stub=False)
    return repair_cut(history, max(cut, 1))


def plan_retention(
    history: Sequence[Item],
    records: Sequence[Measurement],
    retained_tokens: int,
    base_bytes: int = 0,
) -> Retention | None:
    """What a compaction keeps; ``None`` when there is nothing to compact.
    Costs what :func:`split_for_retained` costs, plus fitting the tail."""
    estimator = TokenEstimator(history, records, base_bytes)
    cut, stubs = _walk_back(history, estimator, retained_tokens, stub=True)
    if not stubs and estimator.total() <= retained_tokens:
        return None
    projected = list(history)
    for i, (short, _) in stubs.items():
        projected[i] = short
    if cut == 0 and stubs:
        return Retention(0, projected, len(stubs))  # the stubs alone are enough
    cut = repair_cut(projected, max(cut, 1))
    tail = [
        _Sized(item, stubs[i][1], True)
        if i in stubs
        else _Sized(item, estimator.tokens_at(i + 1) - estimator.tokens_at(i), False)
        for i, item in enumerate(projected[cut:], start=cut)
    ]
    retained, more = _fit(tail, retained_tokens)
    return Retention(cut, retained, len(stubs) + more)


def _walk_back(
    history: Sequence[Item], estimator: TokenEstimator, budget: int, *, stub: bool
) -> tuple[int, dict[int, tuple[ToolResult, int]]]:
    """Walk back from the end while the items fit ``budget``; with ``stub``,
    a result too large on its own counts as its stub (and is returned with
    its cost). The cut may still separate a call from its result."""
    stubs: dict[int, tuple[ToolResult, int]] = {}
    used = 0
    cut = len(history)
    while cut > 0:
        item = history[cut - 1]
        cost = estimator.tokens_at(cut) - estimator.tokens_at(cut - 1)
        if stub and cost > budget and type(item) is ToolResult and item.content:
            short = _stub(item, cost)
            cost = math.ceil(cost * short.wire_bytes / item.wire_bytes)
            stubs[cut - 1] = (short, cost)
        if used + cost > budget:
            stubs.pop(cut - 1, None)
            break
        used += cost
        cut -= 1
    return cut, stubs


@dataclass(frozen=True)
class _Sized:
    item: Item
    tokens: int
    stubbed: bool


def _fit(tail: list[_Sized], budget: int) -> tuple[list[Item], int]:
    """The items of ``tail``, the largest results cut to a stub until they
    fit ``budget``; and how many were cut."""
    out = [s.item for s in tail]
    size = sum(s.tokens for s in tail)
    largest = sorted(
        (i for i, s in enumerate(tail) if not s.stubbed and isinstance(s.item, ToolResult)),
        key=lambda i: tail[i].tokens,
        reverse=True,
    )
    count = 0
    for i in largest:
        result = tail[i].item
        if size <= budget:
            break
        if not isinstance(result, ToolResult) or not result.content:
            continue
        short = _stub(result, tail[i].tokens)
        size -= tail[i].tokens - math.ceil(tail[i].tokens * short.wire_bytes / result.wire_bytes)
        out[i] = short
        count += 1
    return out, count


def _stub(result: ToolResult, tokens: int) -> ToolResult:
    """``result`` without its detail (content, images); what it says about the
    call (summary, error, how its edits ended) stays."""
    return ToolResult(
        call_id=result.call_id,
        name=result.name,
        summary=result.summary,
        content=STUB.format(tokens=tokens),
        is_error=result.is_error,
        edits=result.edits,
    )


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
