"""Knowledge and memory over LSP: ``yoi/knowledge/list|get``, the
``yoi/knowledge/changed`` notification, ``yoi/memory/extract|consolidate``.

Records are read from the workspace's knowledge folder (the manifest's
``[memory] knowledge_dir``, default ``.yoi/knowledge``) whether or not memory
is enabled: they are the user's files. Changes on disk — the agent's writes
and the user's own edits alike — reach the client as one debounced
``yoi/knowledge/changed`` per burst.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchfiles import Change

from agent.errors import FileNotFound
from agent.factory import open_consolidator
from agent.manifest import MemorySection, load_manifest
from agent.memory.layout import InvalidRecordPath, MemoryLayout
from agent.memory.library import MemoryLibrary
from agent.memory.setup import folders_outside
from server import protocol as p
from server.errors import invalid_params, request_failed
from server.progress import LspProgressPort

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.2


class WorkspaceKnowledge:
    def __init__(self, server: YoiServer, root: Path, section: MemorySection) -> None:
        self.server = server
        self.root = root
        self.layout = MemoryLayout.for_root(root, section)
        self.library = MemoryLibrary(self.layout)
        self._pending: set[str] = set()
        self._flush: asyncio.TimerHandle | None = None

    @classmethod
    async def open(cls, server: YoiServer, root: Path) -> WorkspaceKnowledge:
        loaded = await asyncio.to_thread(load_manifest, root, overrides=server.overrides())
        section = loaded.manifest.memory
        problem = folders_outside(root, section)
        if problem is not None:  # read the default folders instead
            log.warning("%s", problem)
            section = MemorySection()
        return cls(server, root, section)

    # ------------------------------------------------------------ requests

    async def list(self) -> dict[str, Any]:
        records = await asyncio.to_thread(self.library.knowledge)
        out = []
        for r in records:
            item: dict[str, Any] = {
                "slug": r.slug,
                "title": r.title,
                "description": r.description,
                "modelInvocation": r.model_invocation,
                "userInvocable": r.user_invocable,
                "uri": r.path.as_uri(),
                "updatedAt": r.updated_at,
            }
            if r.problem is not None:
                item["problem"] = r.problem
            out.append(item)
        return {"records": out}

    async def get(self, slug: str) -> dict[str, Any]:
        try:
            doc = await asyncio.to_thread(self.library.read_knowledge, slug)
        except InvalidRecordPath:
            raise invalid_params(
                p.KNOWLEDGE_GET, f"`slug`: {slug!r} is not a knowledge record name"
            ) from None
        except FileNotFound:
            raise invalid_params(
                p.KNOWLEDGE_GET, f"`slug`: there is no knowledge record named {slug!r}"
            ) from None
        return {
            "slug": doc.slug,
            "frontmatter": doc.frontmatter,
            "body": doc.body,
            "uri": doc.path.as_uri(),
        }

    async def consolidate(self) -> dict[str, Any]:
        loaded = await asyncio.to_thread(
            load_manifest, self.root, overrides=self.server.overrides()
        )
        consolidator = await asyncio.to_thread(
            open_consolidator, self.root, loaded.manifest, self.server.client_factory()
        )
        if consolidator is None:
            raise request_failed(
                "Memory is off for this workspace: [memory] enabled = false in a manifest, "
                "or the memory folders are outside the workspace.",
                "failed",
            )
        progress = await LspProgressPort(self.server).begin("Consolidating memory")
        try:
            report = await consolidator.consolidate("yoi/memory/consolidate")
        except BaseException:
            progress.end("Consolidation failed")
            raise
        progress.end(f"Folded {len(report.consumed)} staged entries")
        return {"consumed": report.consumed, "report": report.report}

    # ------------------------------------------------------------ changes

    def on_changes(self, changes: set[tuple[Change, str]]) -> None:
        """Collect changed knowledge records; notify once the burst settles."""
        knowledge_dir = self.layout.knowledge_dir
        for _change, raw in changes:
            path = Path(raw)
            if path.suffix == ".md" and path.parent == knowledge_dir:
                self._pending.add(path.stem)
        if self._pending:
            if self._flush is not None:
                self._flush.cancel()
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(DEBOUNCE_SECONDS, self._notify)

    def _notify(self) -> None:
        slugs, self._pending = sorted(self._pending), set()
        self._flush = None
        if slugs:
            self.server.protocol.notify(p.KNOWLEDGE_CHANGED, {"slugs": slugs})
