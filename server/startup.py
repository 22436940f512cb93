"""What the server loads after ``initialize``, and unloads at ``shutdown``.

:meth:`YoiServer.start_runtime` imports this module in a worker thread (it
pulls in the whole runtime) and then calls :func:`start_runtime` on the event
loop: the pod manager is built, the tools' argument schemas are built in a
thread (with the allocator's headroom, agent/heap.py), and the workspace index
and knowledge watcher start.
"""

from __future__ import annotations

import asyncio
import logging

from agent.heap import keep_heap_headroom
from agent.prompts.system import warm_templates
from agent.tools.base import warm_schemas
from agent.workspace_index import WorkspaceIndex
from server import handlers as handlers  # noqa: PLC0414 (loaded here, off the event loop)
from server.app import YoiServer
from server.mcp import start_mcp, stop_mcp
from server.pods import PodManager
from server.progress import WorkProgress

log = logging.getLogger(__name__)


async def start_runtime(server: YoiServer) -> None:
    server.pods = PodManager(server)
    server.pods.mcp = start_mcp(server)
    # what the first turn would build: the tools' argument schemas (on the
    # loop) and the compiled prompt templates
    server.run_task(asyncio.to_thread(_warm_first_turn), "first-turn warm-up")
    if server.root is None:
        server.log_message("yoi: no workspace folder is open; file tools are unavailable.")
        return
    server.index = WorkspaceIndex(server.root)
    server.index.listeners.append((await server.knowledge()).on_changes)
    server.run_task(index_workspace(server, server.index), "workspace index")


def _warm_first_turn() -> None:
    keep_heap_headroom()  # here, not before initialize: ctypes takes milliseconds to import
    warm_schemas()
    warm_templates()


async def stop_runtime(server: YoiServer) -> None:
    """Dispose every pod (their sessions are released)."""
    if server._pods is not None:
        await server.pods.dispose_all()
        await stop_mcp(server.pods.mcp)


async def index_workspace(server: YoiServer, index: WorkspaceIndex) -> None:
    """The initial scan, reported as progress; then keep the index current."""
    async with WorkProgress(server, "Indexing workspace") as progress:
        count = await index.build(lambda n: progress.report(f"{n:,} files"))
        progress.end_message = f"{count:,} files"
    await index.watch()
