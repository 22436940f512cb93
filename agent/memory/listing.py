"""Listing the memory records of a workspace for a viewer (``yoi/memory/list``).

Every ``*.md`` file of the memory folder is listed — the summary, then the
decisions and the requests by slug — and a file that cannot be used (a bad
name, broken frontmatter, not a regular file) is listed with ``problem`` set,
so the user can find and fix it. Knowledge records have their own listing
(:meth:`MemoryLibrary.knowledge`). Synchronous file I/O: async callers use
``asyncio.to_thread``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import ExecutionFailed, FileNotFound, ScopeDenied
from agent.memory.frontmatter import FrontmatterError, normalize_body, split_frontmatter
from agent.memory.layout import RecordKind, slug_problem
from agent.memory.library import MemoryLibrary
from agent.memory.records import RecordError, parse_timestamp, validate_frontmatter
from agent.memory.staging import list_staging

PREVIEW_CHARS = 160
_FOLDERS: tuple[tuple[RecordKind, str], ...] = (("decision", "decisions"), ("request", "requests"))


@dataclass(frozen=True)
class MemoryInfo:
    """One memory record as listed."""

    kind: RecordKind
    slug: str | None
    title: str
    preview: str
    path: Path
    updated_at: int
    status: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class MemoryListing:
    records: list[MemoryInfo]
    staged: int
    """Extractions waiting to be consolidated."""


def list_memory(library: MemoryLibrary) -> MemoryListing:
    layout = library.layout
    records: list[MemoryInfo] = []
    if os.path.lexists(layout.summary_path):
        records.append(_info(library, "summary", None, layout.summary_path))
    for kind, folder in _FOLDERS:
        directory = layout.memory_dir / folder
        for name in _md_names(directory):
            records.append(_info(library, kind, name[:-3], directory / name))
    return MemoryListing(records=records, staged=len(list_staging(layout.staging_dir)))


def _md_names(directory: Path) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            return sorted(
                e.name for e in entries if e.name.endswith(".md") and not e.name.startswith(".")
            )
    except OSError:
        return []


def _info(library: MemoryLibrary, kind: RecordKind, slug: str | None, path: Path) -> MemoryInfo:
    problem = None if slug is None else slug_problem(slug)
    if problem is not None:
        problem = f"the file name is not a valid slug: {problem} Rename the file."
    data: dict[str, Any] = {}
    body = ""
    try:
        if problem is None:  # a badly named file is only listed, not read
            text = library.read(kind, slug)
            data, body = split_frontmatter(text)
            problem = _validation_problem(kind, data)
    except FrontmatterError as exc:
        problem = problem or str(exc)
        body = normalize_body(text)
    except (FileNotFound, ScopeDenied, ExecutionFailed) as exc:
        problem = problem or str(exc)
    status = data.get("status") if kind == "decision" else None
    return MemoryInfo(
        kind=kind,
        slug=slug,
        title=_title(body) or (slug or "Summary"),
        preview=_preview(body),
        path=path,
        updated_at=_updated_ms(data.get("updated_at"), path),
        status=status if isinstance(status, str) else None,
        problem=problem,
    )


def _validation_problem(kind: RecordKind, data: dict[str, Any]) -> str | None:
    try:
        validate_frontmatter(kind, data)
    except RecordError as exc:
        return str(exc)
    return None


def _title(body: str) -> str | None:
    for line in body.split("\n"):
        if line.startswith("# "):
            return line[2:].strip() or None
    return None


def _preview(body: str) -> str:
    """The body's first line of prose, on one line and cut to ``PREVIEW_CHARS``."""
    for line in body.split("\n"):
        text = line.strip()
        if text and not text.startswith("#"):
            text = " ".join(text.split())
            return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
    return ""


def _updated_ms(value: object, path: Path) -> int:
    try:
        return int(parse_timestamp(value).timestamp() * 1000)
    except ValueError:
        pass
    try:
        return os.lstat(path).st_mtime_ns // 1_000_000
    except OSError:
        return 0
