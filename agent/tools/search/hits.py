"""What a grep backend is asked (:class:`Query`) and gives back
(:class:`Found`, hits per file), searching one text, and the output format."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agent.errors import ExecutionFailed
from agent.tools.files import split_lines
from agent.tools.fs import ScopedFs
from agent.tools.ignore import IgnoreTree

MAX_COLLECTED_LINES = 20_000
MAX_SHOWN_LINE_CHARS = 1000

OutputMode = Literal["content", "files_with_matches", "count"]


def workspace_tree(fs: ScopedFs, given: IgnoreTree | None) -> IgnoreTree:
    """The ignore rules of the workspace (the shared tree when one was given)."""
    root = fs.scope.root
    if root is None:  # check_read has already refused; keep mypy honest
        raise ExecutionFailed("No workspace folder is open, so file tools are unavailable.")
    return given if given is not None and given.root == root else IgnoreTree(root)


@dataclass
class FileHits:
    """The matching (and context) lines of one file: number → (text, is_match)."""

    path: Path
    lines: dict[int, tuple[str, bool]] = field(default_factory=dict)

    @property
    def matches(self) -> int:
        return sum(1 for _, is_match in self.lines.values() if is_match)


@dataclass(frozen=True)
class Query:
    """One disk search: what to look for, where, and which files count
    (``skip``: files searched in their editor buffer instead)."""

    regex: re.Pattern[str]
    pattern: str
    ignore_case: bool
    context: int
    base: Path
    wanted: Callable[[Path], bool]
    readable: Callable[[Path], bool]
    skip: frozenset[Path]
    max_bytes: int

    def accepts(self, path: Path) -> bool:
        return path not in self.skip and self.wanted(path) and self.readable(path)


@dataclass
class Found:
    files: list[FileHits]
    stopped_early: bool = False


def search_text(path: Path, text: str, regex: re.Pattern[str], context: int) -> FileHits | None:
    """The matching lines of ``text`` with ``context`` lines around them, or
    ``None`` when nothing matches."""
    lines = split_lines(text)
    matched = [i for i, line in enumerate(lines) if regex.search(line)]
    if not matched:
        return None
    hits = FileHits(path)
    for i in matched:
        for j in range(max(0, i - context), min(len(lines), i + context + 1)):
            if j + 1 not in hits.lines:
                hits.lines[j + 1] = (lines[j], False)
        hits.lines[i + 1] = (lines[i], True)
    return hits


def format_hits(
    files: Iterable[FileHits],
    mode: OutputMode,
    display: Callable[[Path], str],
    context: int = 0,
) -> list[str]:
    """Output lines: ``path:n:text`` for matches, ``path-n-text`` for context
    (with ``--`` between separate groups when there is context); or one path,
    or ``path:count``, per file."""
    out: list[str] = []
    for hits in files:
        name = display(hits.path)
        if mode == "files_with_matches":
            out.append(name)
            continue
        if mode == "count":
            out.append(f"{name}:{hits.matches}")
            continue
        previous: int | None = None
        for number in sorted(hits.lines):
            text, is_match = hits.lines[number]
            if context and out and (previous is None or number != previous + 1):
                out.append("--")
            previous = number
            text = text.removesuffix("\r")
            if len(text) > MAX_SHOWN_LINE_CHARS:
                text = text[:MAX_SHOWN_LINE_CHARS] + " …"
            sep = ":" if is_match else "-"
            out.append(f"{name}{sep}{number}{sep}{text}")
    return out
