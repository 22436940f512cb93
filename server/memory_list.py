"""``yoi/memory/list``: the memory records (summary, decisions, requests) of
the workspace, from the folder the manifest's ``[memory] memory_dir`` names.

With ``podId`` the pod's own memory folders are listed (those it was built
with); without, the manifest is read afresh, so a changed ``memory_dir`` shows
at once. Folders outside the workspace are not read: the default folders are
listed instead, with ``problem`` saying why (as for knowledge).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.manifest import MemorySection, load_manifest
from agent.memory.library import MemoryLibrary
from agent.memory.listing import MemoryInfo, list_memory
from agent.memory.setup import folders_outside
from server import payloads as pl
from server import protocol as p
from server.errors import request_failed

if TYPE_CHECKING:
    from server.app import YoiServer


async def memory_list(ls: YoiServer, params: pl.MemoryListParams) -> dict[str, Any]:
    library, enabled, problem = await _library(ls, params.pod_id)
    listing = await asyncio.to_thread(list_memory, library)
    result: dict[str, Any] = {
        "enabled": enabled,
        "memoryDir": library.layout.memory_dir.as_uri(),
        "staged": listing.staged,
        "records": [_record(r) for r in listing.records],
    }
    if problem is not None:
        result["problem"] = problem
    return result


async def _library(ls: YoiServer, pod_id: str | None) -> tuple[MemoryLibrary, bool, str | None]:
    if pod_id is not None:
        pod = ls.pods.get(pod_id, p.MEMORY_LIST).pod
        if pod.memory is not None:
            return pod.memory.library, True, None
    root = ls.root
    if root is None:
        raise request_failed(
            "No workspace folder is open, so there is no memory to show.", "failed"
        )
    loaded = await asyncio.to_thread(load_manifest, root, overrides=ls.overrides())
    section = loaded.manifest.memory
    problem = folders_outside(root, section)
    if problem is not None:
        section = MemorySection(enabled=False)
    return MemoryLibrary.for_root(root, section), section.enabled and pod_id is None, problem


def _record(info: MemoryInfo) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": info.kind,
        "title": info.title,
        "preview": info.preview,
        "uri": Path(info.path).as_uri(),
        "updatedAt": info.updated_at,
    }
    if info.slug is not None:
        item["slug"] = info.slug
    if info.status is not None:
        item["status"] = info.status
    if info.problem is not None:
        item["problem"] = info.problem
    return item
