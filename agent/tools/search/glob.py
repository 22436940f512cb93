"""The ``glob`` tool: files by path pattern, newest first."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from agent.errors import InvalidArgument
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput
from agent.tools.files import plural
from agent.tools.fs import ScopedFs
from agent.tools.ignore import IgnoreTree, glob_regex
from agent.tools.search.hits import workspace_tree

MAX_GLOB_RESULTS = 1000
_GLOB_META = re.compile(r"[*?\[{\\]")


class GlobArgs(ToolArgs):
    pattern: str = Field(
        min_length=1,
        description="Glob matched against file paths relative to `path`: `*` and `?` stay "
        "within one directory, `**/` spans any number of directories, `{a,b}` gives "
        "alternatives. Examples: `**/*.py`, `src/**/test_*.{ts,tsx}`, `*.md`.",
    )
    path: str | None = Field(
        default=None,
        description="Directory to search in, relative to the workspace root or absolute "
        "(default: the workspace root).",
    )


class Glob(Tool[GlobArgs]):
    name: ClassVar[str] = "glob"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Find files by path pattern, newest first (by modification time). Honours "
        ".gitignore, includes hidden files, skips .git. Paths are shown relative to the "
        f"workspace root; at most {MAX_GLOB_RESULTS} are listed."
    )
    args_model: ClassVar[type[ToolArgs]] = GlobArgs

    def __init__(self, fs: ScopedFs, ignore: IgnoreTree | None = None) -> None:
        self.fs = fs
        self.ignore = ignore

    async def run(self, args: GlobArgs, call: ToolCallContext) -> ToolOutput:
        base, rest = _split_literal_prefix(args.path or ".", args.pattern)
        base_path = self.fs.scope.check_read(base)
        shown = self.fs.display(base_path)
        regex = glob_regex(rest)
        tree = workspace_tree(self.fs, self.ignore)
        stop = threading.Event()
        try:
            hits = await asyncio.to_thread(self._find, tree, base_path, regex, stop)
        finally:
            stop.set()
        if not hits:
            return ToolOutput(summary=f"No files match `{args.pattern}` in {shown}")
        lines = [self.fs.display(p) for p in hits[:MAX_GLOB_RESULTS]]
        summary = f"Found {plural(len(hits), 'file')} matching `{args.pattern}` in {shown}"
        if len(hits) > MAX_GLOB_RESULTS:
            summary += f" (showing the {MAX_GLOB_RESULTS} newest)"
            lines.append(
                f"[{len(hits) - MAX_GLOB_RESULTS} more files not shown; narrow the pattern]"
            )
        return ToolOutput(summary=summary, content="\n".join(lines))

    def _find(
        self, tree: IgnoreTree, base: Path, regex: re.Pattern[str], stop: threading.Event
    ) -> list[Path]:
        if not base.is_dir():
            if base.exists():
                raise InvalidArgument(
                    f"{self.fs.display(base)} is a file; glob searches a directory."
                )
            return []
        found: list[tuple[float, Path]] = []
        for path in tree.walk(base):
            if stop.is_set():
                break
            if not regex.match(path.relative_to(base).as_posix()):
                continue
            if not self.fs.scope.readable(path, resolved=not path.is_symlink()):
                continue
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            found.append((mtime, path))
        found.sort(key=lambda item: (-item[0], item[1].parts))
        return [p for _, p in found]


def _split_literal_prefix(base: str, pattern: str) -> tuple[str, str]:
    """Move the pattern's leading literal directories into the base, so
    ``src/app/**/*.py`` walks ``src/app`` only (and an absolute pattern works)."""
    parts = pattern.split("/")
    literal: list[str] = []
    for part in parts[:-1]:
        if _GLOB_META.search(part):
            break
        literal.append(part)
    rest = "/".join(parts[len(literal) :])
    if not literal:
        return base, rest
    if pattern.startswith("/"):
        return "/" + "/".join(literal[1:]), rest
    return str(Path(base, *[p for p in literal if p])), rest
