"""The pruned transcript a compaction (or memory) worker reads.

One block per item, blank lines between: ``[User] text``, ``[Assistant] text``,
``[System] text``, ``[ToolCall] name``, ``[ToolResult] summary``. Tool
arguments and result contents are dropped (they are what made the context
large), and so is reasoning. A transcript longer than its budget keeps its
beginning and end and says what was left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.items import Item, Message, Reasoning, ToolCall, ToolResult

_ROLE = {"user": "User", "assistant": "Assistant", "system": "System"}


def render_item(item: Item) -> str | None:
    match item:
        case Message(role=role, text=text):
            return f"[{_ROLE[role]}] {text}"
        case ToolCall(name=name):
            return f"[ToolCall] {name}"
        case ToolResult(summary=summary, is_error=is_error):
            return f"[ToolResult{' error' if is_error else ''}] {summary}"
        case Reasoning():
            return None


def render_transcript(items: Sequence[Item], max_chars: int | None = None) -> str:
    blocks = [b for b in (render_item(i) for i in items) if b is not None]
    text = "\n\n".join(blocks)
    if max_chars is None or len(text) <= max_chars:
        return text
    head_budget = max_chars // 3
    tail_budget = max_chars - head_budget
    head: list[str] = []
    used = 0
    for block in blocks:
        if used + len(block) > head_budget:
            break
        head.append(block)
        used += len(block) + 2
    tail: list[str] = []
    used = 0
    for block in reversed(blocks[len(head) :]):
        if used + len(block) > tail_budget:
            break
        tail.append(block)
        used += len(block) + 2
    dropped = len(blocks) - len(head) - len(tail)
    marker = f"[… {dropped} items of the middle of the conversation left out to fit the budget …]"
    return "\n\n".join([*head, marker, *reversed(tail)])
