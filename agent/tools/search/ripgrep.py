"""grep's ripgrep backend: ``rg --json`` set up to search exactly what the
Python walk searches, read as it streams."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import signal
from pathlib import Path
from typing import Any

from agent.tools.fs import decode
from agent.tools.search.hits import MAX_COLLECTED_LINES, FileHits, Found, Query

log = logging.getLogger(__name__)

# fmt: off
_RG_FLAGS = (
    "--json", "--hidden", "--no-require-git", "--no-ignore-global", "--no-ignore-exclude",
    "--no-ignore-dot", "--no-config", "--sort", "path", "--glob", "!.git",
)
# fmt: on


async def search_rg(rg: str, query: Query) -> Found | None:
    """Search with ripgrep; ``None`` when it cannot run this pattern."""
    cmd = [rg, *_RG_FLAGS, "--max-filesize", str(query.max_bytes)]
    if query.ignore_case:
        cmd.append("--ignore-case")
    if query.context:
        cmd += ["--context", str(query.context)]
    cmd += ["--regexp", query.pattern, "--", str(query.base)]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024,
    )
    assert proc.stdout is not None and proc.stderr is not None
    errors = asyncio.create_task(proc.stderr.read())
    found = Found([])
    saw_summary = False
    read_all = False
    try:
        current: FileHits | None = None
        collected = 0
        async for raw in proc.stdout:
            message = json.loads(raw)
            kind = message.get("type")
            data = message.get("data", {})
            if kind == "begin":
                current = FileHits(_rg_path(data["path"]))
            elif kind in ("match", "context") and current is not None:
                text = _rg_text(data["lines"]).removesuffix("\n")
                current.lines[int(data["line_number"])] = (text, kind == "match")
            elif kind == "end" and current is not None:
                binary = data.get("binary_offset") is not None
                if not binary and current.lines and query.accepts(current.path):
                    found.files.append(current)
                    collected += current.matches
                current = None
                if collected >= MAX_COLLECTED_LINES:
                    found.stopped_early = True
                    break
            elif kind == "summary":
                saw_summary = True
        else:
            read_all = True
    finally:
        if not read_all and proc.returncode is None:
            # Not proc.kill(): Popen.send_signal polls, which reaps the child
            # behind asyncio's watcher and loses the exit status.
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        stderr = await errors
    if proc.returncode == 2 and not saw_summary and not found.stopped_early:
        log.info(
            "ripgrep could not run %r (%s); using the Python search",
            query.pattern,
            decode(stderr).strip(),
        )
        return None
    return found


def _rg_path(value: dict[str, Any]) -> Path:
    if "text" in value:
        return Path(value["text"])
    return Path(os.fsdecode(base64.b64decode(value["bytes"])))


def _rg_text(value: dict[str, Any]) -> str:
    if "text" in value:
        return str(value["text"])
    return decode(base64.b64decode(value["bytes"]))
