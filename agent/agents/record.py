"""What a pod knows of each of its sub-agents, and how its log keeps it.

Every change a parent should remember is an ``agents`` extension entry in the
parent's log (written before it is shown):

- ``{"event": "spawned", "name", "sessionId", "callId", "task", "scope",
  "readOnly", "background", "model"}`` when a sub-agent starts;
- ``{"event": "ended", "name", "sessionId", "status", "answer", "error"}``
  when one of its runs ends (``status``: ``finished``, ``error``,
  ``interrupted``, ``limitReached``, ``paused``, ``stopped``).

- ``{"event": "snapshot", "children": [...]}`` opens a compacted session
  (the compacted log starts afresh): every sub-agent's spawn and last state.

Restoring the parent folds them back (:func:`fold`): every sub-agent with its
last known state; one spawned (or sent a message) but never ended was
running when its host stopped, and is restored as ``interrupted``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import JsonValue

if TYPE_CHECKING:
    from agent.pod import Pod, TurnResult

DOMAIN = "agents"
STOPPED_WHILE_RUNNING = "yoi stopped while it was running"

Status = Literal[
    "starting",
    "running",
    "finished",
    "error",
    "interrupted",
    "limitReached",
    "paused",
    "stopped",
    "budgetExceeded",
]


@dataclass(frozen=True)
class ScopeRequest:
    """A sub-agent's scope as ``spawn_agent`` asked for it (paths relative to
    the workspace root), kept so that a later message re-opens it the same."""

    write: tuple[str, ...] | None = None
    read: tuple[str, ...] | None = None
    deny: tuple[str, ...] = ()
    read_only: bool = False

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "write": list(self.write) if self.write is not None else None,
            "read": list(self.read) if self.read is not None else None,
            "deny": list(self.deny),
            "readOnly": self.read_only,
        }

    def describe(self) -> str:
        """What it may write, as asked (the line ``list_agents`` shows)."""
        if self.read_only:
            return "read-only"
        writes = self.write if self.write is not None else (".",)
        return "writes " + ", ".join(writes) if writes else "writes nothing"

    @classmethod
    def from_json(cls, data: Any) -> ScopeRequest:
        if not isinstance(data, dict):
            return cls()

        def paths(key: str) -> tuple[str, ...] | None:
            value = data.get(key)
            return tuple(str(v) for v in value) if isinstance(value, list) else None

        return cls(
            write=paths("write"),
            read=paths("read"),
            deny=paths("deny") or (),
            read_only=bool(data.get("readOnly", False)),
        )


@dataclass
class Child:
    name: str
    task: str
    scope: ScopeRequest
    model: str | None
    call_id: str
    profile: str | None = None  # [profiles.<name>] it started with
    session_id: str = ""
    status: Status = "starting"
    answer: str | None = None
    error: str | None = None
    summary: str = ""  # what it may write, for the model
    pod: Pod | None = None  # while it runs
    run: asyncio.Task[TurnResult] | None = None
    awaited: bool = False  # the parent waits for this run (a foreground spawn)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def live(self) -> bool:
        return self.pod is not None

    def line(self) -> str:
        """One line for ``list_agents``."""
        where = f", {self.summary}" if self.summary else ""
        return f"{self.name} [{self.status}{where}] {_clip(self.task, 80)}"


def spawned_payload(child: Child, background: bool) -> dict[str, JsonValue]:
    return {
        "event": "spawned",
        "name": child.name,
        "sessionId": child.session_id,
        "callId": child.call_id,
        "task": child.task,
        "scope": child.scope.as_json(),
        "model": child.model,
        "profile": child.profile,
        "background": background,
    }


def resumed_payload(child: Child) -> dict[str, JsonValue]:
    return {"event": "resumed", "name": child.name, "sessionId": child.session_id}


def ended_payload(child: Child) -> dict[str, JsonValue]:
    return {
        "event": "ended",
        "name": child.name,
        "sessionId": child.session_id,
        "status": child.status,
        "answer": child.answer,
        "error": child.error,
    }


def snapshot_payload(children: list[Child]) -> dict[str, JsonValue]:
    """Every sub-agent as it is now (the first entry of a compacted session)."""
    return {
        "event": "snapshot",
        "children": [
            {
                **spawned_payload(c, background=not c.awaited),
                **{k: v for k, v in ended_payload(c).items() if k != "event"},
                "running": c.live,
            }
            for c in children
        ],
    }


def fold(extensions: list[tuple[str, JsonValue]]) -> dict[str, Child]:
    """The sub-agents a restored log names, in the order they were spawned.
    A run that never ended is ``interrupted``."""
    children = _fold_events(extensions)
    for child in children.values():
        if child.status == "running":
            child.status = "interrupted"
            child.error = STOPPED_WHILE_RUNNING
        child.done.set()
    return children


def _fold_events(extensions: list[tuple[str, JsonValue]]) -> dict[str, Child]:
    children: dict[str, Child] = {}
    for domain, payload in extensions:
        if domain != DOMAIN or not isinstance(payload, dict):
            continue
        if payload.get("event") == "snapshot":
            children.update(_from_snapshot(payload.get("children")))
            continue
        name = str(payload.get("name", ""))
        event = payload.get("event")
        if event == "spawned":
            children[name] = Child(
                name=name,
                task=str(payload.get("task", "")),
                scope=ScopeRequest.from_json(payload.get("scope")),
                model=_str(payload.get("model")),
                call_id=str(payload.get("callId", "")),
                profile=_str(payload.get("profile")),
                session_id=str(payload.get("sessionId", "")),
                status="running",
            )
            children[name].summary = children[name].scope.describe()
            continue
        child = children.get(name)
        if child is None:
            continue
        child.session_id = str(payload.get("sessionId") or child.session_id)
        if event == "resumed":
            child.status = "running"
        elif event == "ended":
            status = payload.get("status")
            child.status = status if status in _ENDED else "error"  # type: ignore[assignment]
            child.answer = _str(payload.get("answer"))
            child.error = _str(payload.get("error"))
    return children


def _from_snapshot(rows: Any) -> dict[str, Child]:
    """The sub-agents of a snapshot entry: each one's spawn, then its end
    (one still running when it was taken stays running until its end is
    logged)."""
    out: dict[str, Child] = {}
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, dict):
            continue
        events: list[tuple[str, JsonValue]] = [(DOMAIN, {**row, "event": "spawned"})]
        if not row.get("running"):
            events.append((DOMAIN, {**row, "event": "ended"}))
        out.update(_fold_events(events))
    return out


_ENDED = ("finished", "error", "interrupted", "limitReached", "paused", "stopped")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _clip(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
