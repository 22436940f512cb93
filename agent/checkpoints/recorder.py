"""The worker's checkpoint port, and the recorder that implements it.

The worker calls :meth:`CheckpointPort.turn_started` once a user turn's input
is logged, and :meth:`CheckpointPort.tools_done` after every batch of tool
calls. The recorder snapshots the workspace (in a thread, one snapshot at a
time per pod) and, at a turn's start, writes the snapshot's commit to the
session log as an :class:`~agent.store.Extension` of domain ``checkpoints``::

    {"kind": "turn", "commit": "<sha>", "seq": 12}

so a turn's checkpoint travels with the log (a fork carries its turns'
checkpoints). A snapshot never fails a turn: a problem (git missing, a full
disk) becomes one alert and checkpoints stay off for the pod.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from agent.checkpoints.shadow import ShadowRepo, ShadowSettings, Snapshot
from agent.errors import YoiError
from agent.events import Alert
from agent.ids import now_ms
from agent.manifest.schema import CheckpointsSection
from agent.ports import EditorPort, EventSink
from agent.scope import Scope
from agent.session import SessionHandle
from agent.store import Extension

log = logging.getLogger(__name__)

DOMAIN = "checkpoints"
# Tools that may change files; a batch with one of them is followed by a snapshot.
FILE_TOOLS = frozenset({"write_file", "edit_file", "run_command", "memory_write", "memory_edit"})
MCP_PREFIX = "mcp__"  # an MCP server's tools may write files too


PRUNE_EVERY = 10  # turns between two size checks of the shadow repository


def _log_failure(task: asyncio.Future[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("pruning the checkpoints failed: %s", task.exception())


class CheckpointPort(Protocol):
    async def turn_started(self) -> None:
        """A user turn begins (its input is logged). Never raises."""
        ...

    async def tools_done(self, names: Sequence[str]) -> None:
        """A batch of tool calls ended (``names``: the tools that ran). Never raises."""
        ...


class NoCheckpoints:
    """The port of a pod without checkpoints."""

    async def turn_started(self) -> None:
        return None

    async def tools_done(self, names: Sequence[str]) -> None:
        return None


class Recorder:
    def __init__(
        self,
        repo: ShadowRepo,
        *,
        session: SessionHandle,
        editor: EditorPort,
        events: EventSink,
    ) -> None:
        self.repo = repo
        self.session = session
        self.editor = editor
        self.events = events
        self.broken: str | None = None
        self._lock = asyncio.Lock()
        self._told_skipped: set[str] = set()
        self._turns = 0
        self.pruning: asyncio.Future[int] | None = None

    async def turn_started(self) -> None:
        snap = await self.snapshot("turn")
        if snap is None:
            return
        payload = {"kind": "turn", "commit": snap.commit, "seq": snap.seq}
        try:
            await self.session.append([Extension(ts=now_ms(), domain=DOMAIN, payload=payload)])
        except YoiError:
            log.exception("could not log the turn's checkpoint")
        if self._turns % PRUNE_EVERY == 0 and (self.pruning is None or self.pruning.done()):
            self.pruning = asyncio.ensure_future(asyncio.to_thread(self.repo.prune))
            self.pruning.add_done_callback(_log_failure)
        self._turns += 1

    async def tools_done(self, names: Sequence[str]) -> None:
        if any(n in FILE_TOOLS or n.startswith(MCP_PREFIX) for n in names):
            await self.snapshot("step")

    async def snapshot(self, kind: str) -> Snapshot | None:
        """A snapshot now (``None`` when checkpoints are off or it failed)."""
        if self.broken is not None:
            return None
        overrides = self.overrides()
        async with self._lock:
            try:
                snap = await asyncio.to_thread(self.repo.snapshot, kind, overrides)
            except (YoiError, OSError) as exc:
                self.broken = str(exc)
                log.warning("checkpoint snapshot failed: %s", exc)
                self.events.emit(
                    Alert(
                        level="warn",
                        source="checkpoints",
                        message=f"Checkpoints are off for this pod: {exc}",
                    )
                )
                return None
        self._note_skipped(snap)
        return snap

    def overrides(self) -> dict[str, bytes]:
        """The unsaved text of open documents inside the workspace."""
        root = self.repo.root
        found: dict[str, bytes] = {}
        for path in self.editor.open_paths():
            if not path.is_relative_to(root) or path == root:
                continue
            buffer = self.editor.open_buffer(path)
            if buffer is not None:
                rel = path.relative_to(root).as_posix()
                found[rel] = buffer.text.encode("utf-8", errors="surrogatepass")
        return found

    def _note_skipped(self, snap: Snapshot) -> None:
        new = [p for p in snap.skipped if p not in self._told_skipped]
        if not new:
            return
        self._told_skipped.update(new)
        shown = ", ".join(new[:5]) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
        limit = self.repo.settings.max_file_bytes
        self.events.emit(
            Alert(
                level="info",
                source="checkpoints",
                message=(
                    f"Not in checkpoints (over {limit:,} bytes): {shown}. A restore leaves "
                    "them as they are; raise [checkpoints] max_file_bytes to include them."
                ),
            )
        )


def open_checkpoints(
    section: CheckpointsSection,
    *,
    home: Path,
    root: Path | None,
    scope: Scope,
    session: SessionHandle,
    editor: EditorPort,
    events: EventSink,
) -> CheckpointPort:
    """The pod's checkpoint port as ``[checkpoints]`` asks (none without a
    workspace folder)."""
    if not section.enabled or root is None or scope.root is None:
        return NoCheckpoints()
    settings = ShadowSettings(
        max_file_bytes=section.max_file_bytes, max_repo_bytes=section.max_repo_bytes
    )
    repo = ShadowRepo(home, scope.root, scope, settings)
    return Recorder(repo, session=session, editor=editor, events=events)
