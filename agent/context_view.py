"""What fills the context window: the next request of a pod, part by part.

Sizes are measured in bytes of what the request sends (the system prompt's
sections, each tool's definition, the history's items by kind and tool, the
files attached to user messages) and turned into tokens at one rate: the
pod's own estimate of the whole request (measured usage, interpolated,
extrapolated, or 4 bytes a token before any measurement: agent/usage.py)
divided by the request's bytes. So the parts add up to that estimate, and
after a request to what the provider measured. What the prune projection
leaves out of the request is listed apart, with what it saves.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.items import Item, Message, Reasoning, ToolCall
from agent.segments import TextSegment

if TYPE_CHECKING:
    from agent.pod import Pod

SECTION_MARK = "\n---\n## "  # how join_sections' sections begin (agent/prompts/builtin.toml)
MCP_PREFIX = "mcp__"


@dataclass(frozen=True)
class Part:
    group: str  # "system" | "tools" | "history"
    label: str
    bytes: int
    count: int = 1


def breakdown(pod: Pod) -> dict[str, Any]:
    """``yoi/pod/context``'s result (wire shape) for ``pod``'s next request."""
    history = pod.worker.history
    projection = pod.projection(history)
    parts = [
        *_system_parts(pod.worker.system_prompt),
        *_tool_parts(pod),
        *_history_parts(projection.items),
    ]
    total_tokens = pod.context_tokens(projection.items)
    total_bytes = sum(p.bytes for p in parts) or 1
    rate = total_tokens / total_bytes
    limits = pod.context_limits()
    out: dict[str, Any] = {
        "podId": pod.id,
        "model": pod.info.model,
        "contextTokens": total_tokens,
        "measured": bool(pod.usage_records),
        "tokensPerByte": rate,
        "parts": [
            {
                "group": p.group,
                "label": p.label,
                "tokens": round(p.bytes * rate),
                "bytes": p.bytes,
                "count": p.count,
            }
            for p in parts
            if p.bytes > 0
        ],
        "pruned": {
            "results": projection.pruned,
            "tokens": projection.saved_tokens if projection.pruned else 0,
            "wouldSave": projection.saved_tokens,  # below prune_min_savings: not pruned
        },
    }
    if limits.window is not None:
        out["contextWindow"] = limits.window
        out["contextWindowSource"] = limits.window_source
    if limits.compact_at is not None:
        out["compactAt"] = limits.compact_at
    if limits.request_at is not None:
        out["compactRequestAt"] = limits.request_at
    return out


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _system_parts(prompt: str) -> list[Part]:
    """The system prompt's template body and each appended section (working
    boundaries, AGENTS.md, resident knowledge), by their headings."""
    pieces = prompt.split(SECTION_MARK)
    parts = [Part("system", "instructions (template)", _size(pieces[0]))]
    for piece in pieces[1:]:
        title = piece.split("\n", 1)[0].strip()
        parts.append(Part("system", title, _size(SECTION_MARK) + _size(piece)))
    return parts


def _tool_parts(pod: Pod) -> list[Part]:
    """Each built-in tool's definition; MCP tools summed per server."""
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for spec in pod.worker.tools.specs():
        size = _size(json.dumps(spec.__dict__))
        if spec.name.startswith(MCP_PREFIX):
            server = spec.name[len(MCP_PREFIX) :].split("__", 1)[0]
            label = f"MCP server {server}"
        else:
            label = spec.name
        sizes[label] += size
        counts[label] += 1
    return [Part("tools", label, sizes[label], counts[label]) for label in sizes]


def _history_parts(items: list[Item]) -> list[Part]:
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()

    def add(label: str, size: int) -> None:
        sizes[label] += size
        counts[label] += 1

    for item in items:
        size = item.wire_bytes
        if isinstance(item, Message):
            if item.role == "user":
                typed = sum(
                    _size(s.text) for s in item.segments or () if isinstance(s, TextSegment)
                )
                attached = max(0, _size(item.text) - typed) if item.segments else 0
                if attached:
                    add("attached files and references", attached)
                add("user messages", size - attached)
            elif item.role == "assistant":
                add("assistant messages", size)
            else:
                add("notes (summaries, mode changes, interruptions)", size)
        elif isinstance(item, Reasoning):
            add("reasoning", size)
        elif isinstance(item, ToolCall):
            add(f"tool calls: {item.name}", size)
        else:
            add(f"tool results: {item.name or 'unknown'}", size)
    return [Part("history", label, sizes[label], counts[label]) for label in sizes]
