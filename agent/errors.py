"""The runtime's errors.

Every error the runtime raises on purpose is a :class:`YoiError`. The tree says
who sees an error and what happens next::

    YoiError
    ├── ToolError                 the model sees it as a tool result and may retry;
    │   │                         the run goes on
    │   ├── InvalidArgument       bad or missing tool arguments
    │   ├── ScopeDenied           a path outside the scope, or read-only
    │   │   └── WriteConflict     a sub-agent holds write access there
    │   ├── FileNotFound
    │   ├── EditConflict          not read first, changed since read, no match,
    │   │                         ambiguous match, rejected by the user
    │   └── ExecutionFailed       the tool ran and failed (timeout, I/O error)
    ├── LlmError                  ends the run with outcome "error"
    │   ├── ModelNotConfigured    no model: set YOI_MODEL or [model] name
    │   ├── RateLimited           429 after the last retry      (retryable)
    │   ├── ProviderUnavailable   5xx, timeout, connection error, an error
    │   │   │                     the provider reported mid-stream (retryable)
    │   │   └── IncompleteResponse  the answer broke off before the model
    │   │                         finished: the connection was cut, or the
    │   │                         stream ended without finish_reason/[DONE]
    │   │                         (what arrived is kept, marked as cut off)
    │   ├── AuthenticationFailed  401/403: the key is wrong or missing
    │   ├── BadRequest            the provider refused the request (context
    │   │                         window exceeded, unknown model ...)
    │   ├── BadResponse           the answer is not a chat-completion stream
    │   │                         (an HTML page, a malformed stream)
    │   └── EmptyResponse         the model answered a prompt with no text
    │                             and no tool call
    ├── ConfigError               the host shows it; the pod keeps its defaults
    │   ├── ManifestError         names the file, the key and the reason
    │   └── PromptError           a system-prompt template failed to render
    ├── SessionError              the host shows it; nothing on disk changes
    │   ├── SessionNotFound
    │   ├── SessionCorrupt        a broken chain or unreadable line (names it)
    │   └── SessionInUse          another live pod writes this session
    ├── PodBusy                   a turn is already running on this pod
    └── RunCancelled              a hook cancelled the run (outcome "error")

Only ``server/`` maps these to JSON-RPC errors or editor messages; the terminal
CLI prints ``str(error)``, which is always a sentence a user can act on.
"""

from __future__ import annotations

from pathlib import Path


class YoiError(Exception):
    """Base of every deliberate runtime error."""


# ---------------------------------------------------------------- tools


class ToolError(YoiError):
    """A failure the model should see as the tool's result."""


class InvalidArgument(ToolError):
    pass


class ScopeDenied(ToolError):
    pass


class WriteConflict(ScopeDenied):
    """The path is in a subtree a sub-agent holds write access to while it
    runs (agent/agents/); the message names the sub-agent."""


class FileNotFound(ToolError):
    pass


class EditConflict(ToolError):
    pass


class ExecutionFailed(ToolError):
    pass


# ---------------------------------------------------------------- model


class LlmError(YoiError):
    """The model could not be reached or refused the request."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ModelNotConfigured(LlmError):
    pass


class RateLimited(LlmError):
    retryable = True


class ProviderUnavailable(LlmError):
    retryable = True


class AuthenticationFailed(LlmError):
    pass


class BadRequest(LlmError):
    pass


class IncompleteResponse(ProviderUnavailable):
    pass


class BadResponse(LlmError):
    pass


class EmptyResponse(LlmError):
    pass


# ---------------------------------------------------------------- config


class ConfigError(YoiError):
    pass


class ManifestError(ConfigError):
    def __init__(self, file: Path | str, key: str, reason: str) -> None:
        self.file = str(file)
        self.key = key
        self.reason = reason
        where = f"{self.file}: {key}" if key else self.file
        super().__init__(f"{where}: {reason}")


class PromptError(ConfigError):
    pass


# ---------------------------------------------------------------- sessions


class SessionError(YoiError):
    pass


class SessionNotFound(SessionError):
    pass


class SessionCorrupt(SessionError):
    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"session log {path} is damaged at line {line}: {reason}")


class SessionInUse(SessionError):
    pass


# ---------------------------------------------------------------- pod


class PodBusy(YoiError):
    pass


class RunCancelled(YoiError):
    pass
