"""``yoi/references/complete``: what ``@`` (files), ``#`` (knowledge) and ``/``
(workflows) offer while the user types.

Files: documents open in the editor first (fuzzy-matched on their workspace
path), then the workspace index (fuzzy, ``.gitignore`` honoured, kept current
by watchfiles). The first answer waits for the initial scan; later answers
only search memory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.fuzzy import FuzzyIndex
from agent.input import list_documents
from server import mcp
from server import payloads as pl
from server.editor import LspEditor

if TYPE_CHECKING:
    from server.app import YoiServer


def _relative(root: Path | None, path: Path) -> str | None:
    if root is None:
        return None
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


async def complete(server: YoiServer, params: pl.ReferencesCompleteParams) -> dict[str, Any]:
    if params.kind == "file":
        items = await _files(server, params.prefix, params.limit)
    else:
        folder = "knowledge" if params.kind == "knowledge" else "workflows"
        items = await _records(server, params.kind, folder, params.prefix, params.limit)
    # MCP resources (@server:uri) after the files, MCP prompts (/server:prompt) after workflows
    items += mcp.reference_items(server, params.kind, params.prefix, params.limit - len(items))
    return {"items": items}


async def _files(server: YoiServer, prefix: str, limit: int) -> list[dict[str, Any]]:
    root = server.root
    open_paths: list[str] = []
    for path in LspEditor(server, fallback="refuse").open_paths():
        rel = _relative(root, path)
        open_paths.append(rel if rel is not None else str(path))
    items = [
        {"kind": "file", "label": m.path, "path": m.path, "detail": "open", "open": True}
        for m in FuzzyIndex(open_paths).search(prefix, limit)
    ]
    seen = {i["path"] for i in items}
    if server.index is not None and len(items) < limit:
        for match in await server.index.search(prefix, limit):
            if match.path in seen:
                continue
            parent = match.path.rpartition("/")[0]
            items.append(
                {
                    "kind": "file",
                    "label": match.path,
                    "path": match.path,
                    "detail": parent or ".",
                    "open": False,
                }
            )
            if len(items) >= limit:
                break
    return items


async def _records(
    server: YoiServer, kind: str, folder: str, prefix: str, limit: int
) -> list[dict[str, Any]]:
    if kind == "knowledge" and server.root is not None:
        library = (await server.knowledge()).library
        records = dict(await asyncio.to_thread(library.invocable))
    else:
        records = dict(await asyncio.to_thread(list_documents, server.root, folder))
    matches = FuzzyIndex(records).search(prefix, limit)
    return [
        {"kind": kind, "label": m.path, "detail": records[m.path], "open": False} for m in matches
    ]
