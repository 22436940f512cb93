"""Runtime values → the JSON shapes of the editor protocol (camelCase)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.compaction.policy import ContextLimits
from agent.images import ImageRef
from agent.items import Item, Message, Reasoning, ToolCall, ToolResult
from agent.pod import TurnResult
from agent.segments import dump_segments
from agent.store import SessionInfo


def item_to_wire(item: Item) -> dict[str, Any]:
    """A ``HistoryItem`` (docs/protocol.md)."""
    match item:
        case Message(role=role, text=text, segments=segments):
            out: dict[str, Any] = {"kind": "message", "role": role, "text": text}
            if segments is not None:
                out["segments"] = dump_segments(segments)
            return out
        case ToolCall(call_id=call_id, name=name):
            return {
                "kind": "toolCall",
                "id": call_id,
                "name": name,
                "arguments": item.parsed_arguments() or {},
            }
        case ToolResult(call_id=call_id, name=name, summary=summary, content=content):
            out = {"kind": "toolResult", "id": call_id, "name": name, "ok": not item.is_error}
            out["summary"] = summary
            if content is not None:
                out["content"] = content
            if item.images:
                out["images"] = [image_to_wire(ref) for ref in item.images]
            if item.edits:
                out["edits"] = [e.model_dump(exclude_none=True) for e in item.edits]
            return out
        case Reasoning(text=text):
            return {"kind": "reasoning", "text": text}


def image_to_wire(ref: ImageRef) -> dict[str, Any]:
    """An ``ImageInfo`` (docs/protocol.md): what a client shows of an image."""
    out: dict[str, Any] = {"mime": ref.mime, "size": ref.size, "sha256": ref.sha256}
    if ref.name is not None:
        out["name"] = ref.name
    return out


def history_to_wire(
    session_id: str, history: Sequence[Item], *, limit: int | None, before: int | None
) -> dict[str, Any]:
    """A ``yoi/pod/history`` result: the last ``limit`` items (all if ``None``)
    before index ``before`` (the end if ``None``, and at most the end). Only
    the page's items are converted."""
    total = len(history)
    end = total if before is None else min(before, total)
    start = 0 if limit is None else max(0, end - limit)
    return {
        "sessionId": session_id,
        "items": [item_to_wire(i) for i in history[start:end]],
        "start": start,
        "total": total,
    }


def limits_to_wire(limits: ContextLimits) -> dict[str, Any]:
    """The optional context fields of a ``yoi/pod/list`` entry (and of the
    ``usage`` event): only what is known."""
    out: dict[str, Any] = {}
    if limits.window is not None:
        out["contextWindow"] = limits.window
        out["contextWindowSource"] = limits.window_source
    if limits.compact_at is not None:
        out["compactAt"] = limits.compact_at
    if limits.request_at is not None:
        out["compactRequestAt"] = limits.request_at
    return out


def turn_result_to_wire(result: TurnResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "outcome": result.outcome,
        "sessionId": result.session_id,
        "usage": {
            "inputTokens": result.usage.input_tokens,
            "outputTokens": result.usage.output_tokens,
            "cacheReadTokens": result.usage.cache_read_tokens,
            "cacheWriteTokens": result.usage.cache_write_tokens,
        },
    }
    if result.error is not None:
        out["error"] = result.error
    return out


def session_to_wire(info: SessionInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sessionId": info.session_id,
        "title": info.title,
        "createdAt": info.created_at,
        "updatedAt": info.updated_at,
        "turnCount": info.turn_count,
        "costUsd": info.cost_usd,
    }
    if info.parent_session_id is not None:
        out["parentSessionId"] = info.parent_session_id
    if info.cwd is not None:
        out["cwd"] = info.cwd
    if info.spawned_by is not None:
        out["spawnedBySessionId"] = info.spawned_by
    return out
