"""The editor protocol, contract v1: method names and payload types.

This module is the one place method names are spelled (the VS Code client
mirrors it once in ``vscode-extension/src/protocol.ts``; the Neovim plugin uses
the names). ``docs/protocol.md`` documents every field.

Incoming params arrive as plain JSON objects and are validated here with
pydantic (:func:`parse`), so a handler can answer ``-32602`` naming the field
instead of leaving the client waiting. Results are plain dicts built by the
handlers (camelCase, like LSP).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from agent.segments import Segment

PROTOCOL_VERSION = 1

# ---------------------------------------------------------------- method names

POD_CREATE = "yoi/pod/create"
POD_LIST = "yoi/pod/list"
POD_DISPOSE = "yoi/pod/dispose"
POD_HISTORY = "yoi/pod/history"
POD_INTERRUPT = "yoi/pod/interrupt"
POD_NOTIFY = "yoi/pod/notify"
POD_COMPACT = "yoi/pod/compact"
SESSIONS_LIST = "yoi/sessions/list"
CHAT = "yoi/chat"
EVENT = "yoi/event"  # server → client notification
APPROVAL = "yoi/approval"  # server → client request
REFERENCES_COMPLETE = "yoi/references/complete"
KNOWLEDGE_LIST = "yoi/knowledge/list"
KNOWLEDGE_GET = "yoi/knowledge/get"
KNOWLEDGE_CHANGED = "yoi/knowledge/changed"  # server → client notification
MEMORY_EXTRACT = "yoi/memory/extract"
MEMORY_CONSOLIDATE = "yoi/memory/consolidate"

# Feature names advertised in capabilities.experimental.yoi.features.
FEATURES = (
    "pods",
    "chat",
    "sessions",
    "references",
    "edits",
    "approvals",
    "progress",
    "compaction",
    "knowledge",
    "memory",
)

# JSON-RPC error codes used by the custom methods.
INVALID_PARAMS = -32602
REQUEST_FAILED = -32803


class InvalidParams(Exception):
    """Raised by :func:`parse`; the server turns it into ``-32602``."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"{method}: {message}")
        self.method = method


# ---------------------------------------------------------------- params


class Params(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


PodId = Annotated[str, Field(min_length=1)]


class Empty(Params):
    pass


class PodCreateParams(Params):
    name: str | None = None
    profile: str | None = None
    model: str | None = None
    resume_session_id: str | None = Field(default=None, min_length=1)


class PodParams(Params):
    pod_id: PodId


class PodNotifyParams(Params):
    pod_id: PodId
    message: str = Field(min_length=1)


class ChatParams(Params):
    pod_id: PodId
    input: list[Segment] = Field(min_length=1)


class KnowledgeGetParams(Params):
    slug: str = Field(min_length=1)


class ReferencesCompleteParams(Params):
    prefix: str = ""
    kind: Literal["file", "knowledge", "workflow"] = "file"
    limit: int = Field(default=50, ge=1, le=1000)


class InitializationOptions(Params):
    """``initializationOptions``; bad values fall back to defaults with a warning."""

    model: str | None = None
    profile: str | None = None
    approvals: Literal["ask", "auto"] | None = None


P = TypeVar("P", bound=Params)


def describe(error: ValidationError) -> str:
    """A one-line message naming each bad field by its wire (camelCase) path."""
    problems = []
    for err in error.errors():
        path = ".".join(to_camel(p) if isinstance(p, str) else f"[{p}]" for p in err["loc"])
        path = path.replace(".[", "[")
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is required"
        problems.append(f"`{path or 'params'}` {msg}")
    return "; ".join(problems)


def parse(method: str, model: type[P], raw: Any) -> P:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidParams(method, "params must be an object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidParams(method, describe(exc)) from None


# ---------------------------------------------------------------- results


def approval_params(
    pod_id: str, tool_call_id: str, tool: str, arguments: dict[str, Any], reason: str
) -> dict[str, Any]:
    return {
        "podId": pod_id,
        "toolCallId": tool_call_id,
        "tool": tool,
        "arguments": arguments,
        "reason": reason,
    }


def event_params(pod_id: str, seq: int, event: dict[str, Any]) -> dict[str, Any]:
    return {"podId": pod_id, "seq": seq, "event": event}
