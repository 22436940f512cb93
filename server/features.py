"""Every feature of the language server, registered in one place.

Handlers stay thin: validate the params (``-32602`` naming the field), call
the pod manager or a domain function, shape the result. Runtime errors become
JSON-RPC errors in :mod:`server.errors`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any

from lsprotocol import types
from pydantic import ValidationError

from agent.workspace_index import WorkspaceIndex
from server import protocol as p
from server import references
from server.app import YoiServer
from server.errors import maps_errors
from server.pods import root_from_initialize
from server.progress import WorkProgress

log = logging.getLogger(__name__)


def register(server: YoiServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: YoiServer, params: types.InitializeParams) -> None:
        ls.root = root_from_initialize(params)
        raw = params.initialization_options
        try:
            ls.options = p.InitializationOptions.model_validate(raw or {})
        except ValidationError as exc:
            ls.options = p.InitializationOptions()
            ls.show_message(
                f"yoi: ignoring initializationOptions ({p.describe(exc)}); using defaults.",
                types.MessageType.Warning,
            )
        log.info("workspace root: %s", ls.root)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: YoiServer, params: types.InitializedParams) -> None:
        if ls.root is not None:
            ls.index = WorkspaceIndex(ls.root)
            ls.index.listeners.append((await ls.knowledge()).on_changes)
            ls.run_task(index_workspace(ls, ls.index), "workspace index")
        else:
            ls.log_message("yoi: no workspace folder is open; file tools are unavailable.")

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: YoiServer, params: None) -> None:
        await ls.pods.dispose_all()
        await ls.stop_tasks()
        ls.shut_down = True

    @server.feature(types.EXIT)
    def exit_now(ls: YoiServer, params: None) -> None:
        """Exit at once: every session entry is already on disk (each append
        is fsynced), so there is nothing to flush, and skipping third-party
        exit hooks (litellm's) lets editors restart the server without a wait."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(0 if ls.shut_down else 1)

    @server.feature(p.POD_CREATE)
    @maps_errors(p.POD_CREATE)
    async def pod_create(ls: YoiServer, params: Any) -> dict[str, Any]:
        return await ls.pods.create(p.parse(p.POD_CREATE, p.PodCreateParams, params))

    @server.feature(p.POD_LIST)
    @maps_errors(p.POD_LIST)
    async def pod_list(ls: YoiServer, params: Any) -> dict[str, Any]:
        p.parse(p.POD_LIST, p.Empty, params)
        return ls.pods.list()

    @server.feature(p.POD_DISPOSE)
    @maps_errors(p.POD_DISPOSE)
    async def pod_dispose(ls: YoiServer, params: Any) -> None:
        await ls.pods.dispose(p.parse(p.POD_DISPOSE, p.PodParams, params).pod_id)

    @server.feature(p.POD_HISTORY)
    @maps_errors(p.POD_HISTORY)
    async def pod_history(ls: YoiServer, params: Any) -> dict[str, Any]:
        return ls.pods.history(p.parse(p.POD_HISTORY, p.PodParams, params).pod_id)

    @server.feature(p.POD_INTERRUPT)
    @maps_errors(p.POD_INTERRUPT)
    async def pod_interrupt(ls: YoiServer, params: Any) -> None:
        ls.pods.interrupt(p.parse(p.POD_INTERRUPT, p.PodParams, params).pod_id)

    @server.feature(p.POD_NOTIFY)
    @maps_errors(p.POD_NOTIFY)
    async def pod_notify(ls: YoiServer, params: Any) -> None:
        parsed = p.parse(p.POD_NOTIFY, p.PodNotifyParams, params)
        ls.pods.notify(parsed.pod_id, parsed.message)

    @server.feature(p.POD_COMPACT)
    @maps_errors(p.POD_COMPACT)
    async def pod_compact(ls: YoiServer, params: Any) -> dict[str, Any]:
        return await ls.pods.compact(p.parse(p.POD_COMPACT, p.PodParams, params).pod_id)

    @server.feature(p.SESSIONS_LIST)
    @maps_errors(p.SESSIONS_LIST)
    async def sessions_list(ls: YoiServer, params: Any) -> dict[str, Any]:
        p.parse(p.SESSIONS_LIST, p.Empty, params)
        return await ls.pods.sessions()

    @server.feature(p.CHAT)
    @maps_errors(p.CHAT)
    async def chat(ls: YoiServer, params: Any) -> dict[str, Any]:
        return await ls.pods.chat(p.parse(p.CHAT, p.ChatParams, params))

    @server.feature(p.KNOWLEDGE_LIST)
    @maps_errors(p.KNOWLEDGE_LIST)
    async def knowledge_list(ls: YoiServer, params: Any) -> dict[str, Any]:
        p.parse(p.KNOWLEDGE_LIST, p.Empty, params)
        return await (await ls.knowledge()).list()

    @server.feature(p.KNOWLEDGE_GET)
    @maps_errors(p.KNOWLEDGE_GET)
    async def knowledge_get(ls: YoiServer, params: Any) -> dict[str, Any]:
        slug = p.parse(p.KNOWLEDGE_GET, p.KnowledgeGetParams, params).slug
        return await (await ls.knowledge()).get(slug)

    @server.feature(p.MEMORY_EXTRACT)
    @maps_errors(p.MEMORY_EXTRACT)
    async def memory_extract(ls: YoiServer, params: Any) -> dict[str, Any]:
        return await ls.pods.extract(p.parse(p.MEMORY_EXTRACT, p.PodParams, params).pod_id)

    @server.feature(p.MEMORY_CONSOLIDATE)
    @maps_errors(p.MEMORY_CONSOLIDATE)
    async def memory_consolidate(ls: YoiServer, params: Any) -> dict[str, Any]:
        p.parse(p.MEMORY_CONSOLIDATE, p.Empty, params)
        return await (await ls.knowledge()).consolidate()

    @server.feature(p.REFERENCES_COMPLETE)
    @maps_errors(p.REFERENCES_COMPLETE)
    async def references_complete(ls: YoiServer, params: Any) -> dict[str, Any]:
        parsed = p.parse(p.REFERENCES_COMPLETE, p.ReferencesCompleteParams, params)
        return await references.complete(ls, parsed)


async def index_workspace(server: YoiServer, index: WorkspaceIndex) -> None:
    """The initial scan, reported as progress; then keep the index current."""
    async with WorkProgress(server, "Indexing workspace") as progress:
        count = await index.build(lambda n: progress.report(f"{n:,} files"))
        progress.end_message = f"{count:,} files"
    await index.watch()
