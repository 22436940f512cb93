"""The ports through which a pod asks its host for things.

The runtime never talks to an editor, a terminal or a network peer directly:
the host (the LSP server, the terminal CLI, a test) hands the pod objects that
satisfy these protocols.

- :class:`EventSink` receives events and alerts (non-blocking, never raises).
- :class:`ApprovalPort` decides whether a tool may do something risky.
- :class:`EditorPort` is the editor's view of files: the unsaved text of open
  buffers, and the place edits are proposed to (the terminal writes to disk
  after approval; the LSP server sends ``workspace/applyEdit``).
- :class:`ProgressPort` shows long work (compaction, memory extraction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from agent.events import EditStatus, Event

ApprovalDecision = Literal["allow", "deny", "allowSession", "allowAlways"]


class EventSink(Protocol):
    def emit(self, event: Event) -> None:
        """Deliver one event. Must not block and must not raise."""


@dataclass(frozen=True)
class ApprovalRequest:
    tool_call_id: str
    tool: str
    arguments: dict[str, Any]
    reason: str
    cwd: Path
    # What an "allow for this session" answer covers, e.g. "run_command:pytest".
    session_key: str


class ApprovalUnavailable(Exception):
    """Raised by an approval port that cannot ask anyone (an editor without
    the approvals capability). The message says so, and how the user can allow
    the action: the model is told exactly that, not that the user refused."""


class ApprovalPort(Protocol):
    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        """Ask the user. Anything but an explicit allow must be treated as deny.
        May raise :class:`ApprovalUnavailable` when nobody can be asked."""
        ...


@dataclass(frozen=True)
class BufferSnapshot:
    """A file as the editor has it open: possibly unsaved text and its version."""

    text: str
    version: int


@dataclass(frozen=True)
class ProposedEdit:
    """A whole-file change a tool wants to make.

    ``before`` is the text the agent based the change on (``None`` for a new
    file); ``base_version`` the buffer version it read, when the file is open in
    the editor. The host decides how to present it (a diff, a refactor preview)."""

    call_id: str
    tool: str
    path: Path
    before: str | None
    after: str
    base_version: int | None
    label: str


@dataclass(frozen=True)
class EditResult:
    status: EditStatus
    message: str | None = None
    # applied, but not all of it (the user unchecked some changes in review)
    partial: bool = False
    # Set when the host knows the buffer version after applying the edit.
    new_version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class EditorPort(Protocol):
    def open_buffer(self, path: Path) -> BufferSnapshot | None:
        """The editor's text for ``path`` if it is open (unsaved changes
        included), else ``None`` (the runtime then reads the disk)."""
        ...

    def open_paths(self) -> list[Path]:
        """Paths of every file open in the editor (for searches that must see
        unsaved text)."""
        ...

    async def apply_edit(self, edit: ProposedEdit) -> EditResult:
        """Propose an edit and report what became of it."""
        ...


class Progress(Protocol):
    """One piece of long work the host shows (``$/progress`` in an editor)."""

    def report(self, message: str | None = None, percentage: int | None = None) -> None: ...

    def end(self, message: str | None = None) -> None: ...


class ProgressPort(Protocol):
    async def begin(self, title: str, message: str | None = None) -> Progress:
        """Start showing progress. Never raises: a host that cannot show it
        returns a progress that ignores reports."""
        ...


class NoProgress:
    """A progress port (and progress) that shows nothing."""

    async def begin(self, title: str, message: str | None = None) -> Progress:
        return self

    def report(self, message: str | None = None, percentage: int | None = None) -> None:
        return None

    def end(self, message: str | None = None) -> None:
        return None


class NullSink:
    """An event sink that drops everything (tests, disposable workers)."""

    def emit(self, event: Event) -> None:
        return None


class DenyAll:
    """The approval port of a host that cannot ask: every request is denied."""

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        return "deny"


class AllowAll:
    """The approval port for ``approvals = "auto"`` and tests."""

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        return "allow"
