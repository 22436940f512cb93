"""The editor protocol, contract v1: method names, codes and wire shapes.

This module is the one place method names are spelled (the VS Code client
mirrors it once in ``vscode-extension/src/protocol.ts``; the Neovim plugin uses
the names). ``docs/protocol.md`` documents every field. The params' types live
beside it in :mod:`server.payloads`, which needs pydantic and the runtime's
segment types: this module stays import-light, because the server answers
``initialize`` before it loads the runtime.
"""

from __future__ import annotations

from typing import Any

PROTOCOL_VERSION = 1

# ---------------------------------------------------------------- method names

POD_CREATE = "yoi/pod/create"
POD_LIST = "yoi/pod/list"
POD_DISPOSE = "yoi/pod/dispose"
POD_HISTORY = "yoi/pod/history"
POD_INTERRUPT = "yoi/pod/interrupt"
POD_NOTIFY = "yoi/pod/notify"
POD_COMPACT = "yoi/pod/compact"
POD_CONFIGURE = "yoi/pod/configure"
POD_CONTEXT = "yoi/pod/context"
PROFILES_LIST = "yoi/profiles/list"
APPROVALS_RULES = "yoi/approvals/rules"
APPROVALS_REVOKE = "yoi/approvals/revoke"
WORKSPACE_TRUST = "yoi/workspace/trust"
BUDGET_RAISE = "yoi/budget/raise"
SESSIONS_LIST = "yoi/sessions/list"
CHAT = "yoi/chat"
EVENT = "yoi/event"  # server → client notification
APPROVAL = "yoi/approval"  # server → client request
DOCUMENT_SAVE = "yoi/document/save"  # server → client request
TOOL_CANCEL = "yoi/tool/cancel"
REFERENCES_COMPLETE = "yoi/references/complete"
KNOWLEDGE_LIST = "yoi/knowledge/list"
KNOWLEDGE_GET = "yoi/knowledge/get"
KNOWLEDGE_CHANGED = "yoi/knowledge/changed"  # server → client notification
MEMORY_EXTRACT = "yoi/memory/extract"
MEMORY_CONSOLIDATE = "yoi/memory/consolidate"
MCP_LIST = "yoi/mcp/list"
MCP_RESTART = "yoi/mcp/restart"
MCP_CHANGED = "yoi/mcp/changed"  # server → client notification
MEMORY_LIST = "yoi/memory/list"
CHECKPOINTS_LIST = "yoi/checkpoints/list"
CHECKPOINTS_DIFF = "yoi/checkpoints/diff"
CHECKPOINTS_RESTORE = "yoi/checkpoints/restore"
SESSION_FORK = "yoi/session/fork"
SESSION_RESEND = "yoi/session/resend"
IMAGE_GET = "yoi/image/get"

# The client → server requests, each answered by a handler in server.handlers.
REQUESTS = (
    POD_CREATE,
    POD_LIST,
    POD_DISPOSE,
    POD_HISTORY,
    POD_INTERRUPT,
    POD_NOTIFY,
    POD_COMPACT,
    POD_CONFIGURE,
    POD_CONTEXT,
    PROFILES_LIST,
    APPROVALS_RULES,
    APPROVALS_REVOKE,
    WORKSPACE_TRUST,
    BUDGET_RAISE,
    SESSIONS_LIST,
    CHAT,
    REFERENCES_COMPLETE,
    KNOWLEDGE_LIST,
    KNOWLEDGE_GET,
    MEMORY_EXTRACT,
    MEMORY_CONSOLIDATE,
    MCP_LIST,
    MCP_RESTART,
    MEMORY_LIST,
    TOOL_CANCEL,
    CHECKPOINTS_LIST,
    CHECKPOINTS_DIFF,
    CHECKPOINTS_RESTORE,
    SESSION_FORK,
    SESSION_RESEND,
    IMAGE_GET,
)

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
    "mcp",
    "configure",
    "budget",
)

# JSON-RPC error codes used by the custom methods.
INVALID_PARAMS = -32602
REQUEST_FAILED = -32803


class InvalidParams(Exception):
    """Raised by :func:`server.payloads.parse`; the server turns it into ``-32602``."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"{method}: {message}")
        self.method = method


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
