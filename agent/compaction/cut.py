"""Where to cut a history for compaction.

The newest items whose estimated size fits ``retained_tokens`` are kept; the
rest is summarised. The cut never separates a tool call from its result, and
never leaves reasoning without the answer it belongs to: it moves earlier
until the retained tail is a valid conversation on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.items import Item, Message, Reasoning, ToolCall, ToolResult
from agent.usage import Measurement, TokenEstimator


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
