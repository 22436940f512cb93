"""``yoi sessions`` (list the sessions) and ``yoi log SESSION`` (show one log,
entry by entry, with its hash chain checked)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from agent import paths
from agent.errors import SessionError
from agent.items import Item, Message, Reasoning, ToolCall, ToolResult
from agent.store import (
    ConfigChanged,
    Extension,
    ItemsEntry,
    LlmUsage,
    LogEntry,
    RunCompleted,
    RunErrored,
    SessionStart,
    SessionStore,
    TurnEnd,
    UserInput,
)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def _store(home: Path | None) -> SessionStore:
    return SessionStore(paths.sessions_dir(home or paths.yoi_home()))


def list_sessions(
    home: Path | None = None, *, as_json: bool = False, out: TextIO = sys.stdout
) -> int:
    sessions = _store(home).list_sessions()
    if as_json:
        rows = [
            {
                "sessionId": s.session_id,
                "title": s.title,
                "createdAt": s.created_at,
                "updatedAt": s.updated_at,
                "turnCount": s.turn_count,
                "parentSessionId": s.parent_session_id,
                "cwd": s.cwd,
                "costUsd": s.cost_usd,
            }
            for s in sessions
        ]
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not sessions:
        out.write("No sessions yet. Start one with `yoi chat`.\n")
        return 0
    for s in sessions:
        parent = f"  (from {s.parent_session_id[:8]})" if s.parent_session_id else ""
        turns = f"{s.turn_count:>3} turn" + ("" if s.turn_count == 1 else "s")
        cost = f"${s.cost_usd:7.4f}" if s.cost_usd else " " * 8
        out.write(f"{s.session_id}  {_when(s.updated_at)}  {turns}  {cost}  {s.title}{parent}\n")
    return 0


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _item(item: Item) -> str:
    match item:
        case Message(role=role, text=text):
            return f"{role}: {_clip(text)}"
        case ToolCall(name=name, arguments=arguments):
            return f"tool call {name} {_clip(arguments, 120)}"
        case ToolResult(name=name, summary=summary, is_error=is_error):
            return f"tool result {name}{' (error)' if is_error else ''}: {_clip(summary)}"
        case Reasoning(text=text):
            return f"reasoning: {_clip(text, 120)}"


def describe(entry: LogEntry) -> list[str]:
    match entry:
        case SessionStart(system_prompt=prompt, history=history, model=model):
            origin = entry.compacted_from or entry.forked_from
            head = f"session_start model={model} system_prompt={len(prompt)} chars"
            if origin is not None:
                head += f" from={origin.session_id}"
            return [head, *(f"  seed {_item(i)}" for i in history)]
        case UserInput(text=text, segments=segments):
            kinds = ",".join(s.kind for s in segments)
            return [f"user_input [{kinds}] {_clip(text)}"]
        case ItemsEntry(items=items):
            return [_item(i) for i in items]
        case TurnEnd(turn_count=count):
            return [f"turn_end turn={count}"]
        case LlmUsage() as u:
            return [
                f"llm_usage history_len={u.history_len} input={u.input_tokens} "
                f"output={u.output_tokens} cache_read={u.cache_read_tokens}"
            ]
        case RunCompleted(outcome=outcome, interrupted=interrupted):
            return [f"run_completed {outcome}{' (interrupted)' if interrupted else ''}"]
        case RunErrored(error=error):
            return [f"run_errored {_clip(error)}"]
        case Extension(domain=domain):
            return [f"extension {domain}"]
        case ConfigChanged(config=config):
            return [f"config_changed {json.dumps(config, sort_keys=True)}"]


def show_log(session_id: str, home: Path | None = None, *, out: TextIO = sys.stdout) -> int:
    store = _store(home)
    try:
        read = store.read(session_id)
    except SessionError as exc:
        print(f"yoi: {exc}", file=sys.stderr)
        return 2
    out.write(f"{read.path}\n")
    for record in read.records:
        lines = describe(record.entry)
        out.write(f"{record.line:>4} {record.hash[:10]}  {lines[0]}\n")
        for more in lines[1:]:
            out.write(f"{'':>16}{more}\n")
    for warning in read.warnings:
        out.write(f"warning: {warning}\n")
    out.write(f"{len(read.records)} entries, hash chain verified.\n")
    return 0
