"""The ``grep`` tool: file contents by regular expression.

Open editor buffers are searched in their text; the rest of the tree on disk
with ripgrep when it is installed (:mod:`.ripgrep`), otherwise, or for a
pattern ripgrep cannot run, with the Python walk (:mod:`.python_backend`).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from agent.errors import ExecutionFailed, FileNotFound, InvalidArgument
from agent.fsutil import special_kind
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput
from agent.tools.files import plural
from agent.tools.fs import ScopedFs
from agent.tools.ignore import IgnoreTree, glob_regex
from agent.tools.search.hits import (
    MAX_COLLECTED_LINES,
    Found,
    OutputMode,
    Query,
    format_hits,
    search_text,
    workspace_tree,
)
from agent.tools.search.python_backend import search_python
from agent.tools.search.ripgrep import search_rg


class GrepArgs(ToolArgs):
    pattern: str = Field(
        description="Regular expression (Python `re` syntax) searched for in each line, "
        "e.g. `def \\w+_handler` or `TODO|FIXME`."
    )
    path: str | None = Field(
        default=None,
        description="File or directory to search, relative to the workspace root or "
        "absolute (default: the workspace root).",
    )
    glob: str | None = Field(
        default=None,
        description="Only search files matching this glob, e.g. `*.py` or `*.{ts,tsx}` "
        "(a glob without `/` matches file names at any depth; with `/` it matches paths "
        "relative to `path`).",
    )
    ignore_case: bool = Field(default=False, description="Match case-insensitively.")
    context: int = Field(
        default=0,
        ge=0,
        le=50,
        description="Lines of context to show before and after each match (content mode).",
    )
    output_mode: OutputMode = Field(
        default="content",
        description="`content`: matching lines as `path:line:text` (context lines as "
        "`path-line-text`); `files_with_matches`: one path per file; `count`: "
        "`path:number of matching lines`.",
    )
    head_limit: int = Field(
        default=250, ge=1, description="Show at most this many output lines (default 250)."
    )


class Grep(Tool[GrepArgs]):
    name: ClassVar[str] = "grep"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Search file contents with a regular expression (Python `re` syntax). Honours "
        ".gitignore, includes hidden files, skips .git and binary files, and sees the "
        "editor's unsaved text for open files. Paths are shown relative to the workspace root."
    )
    args_model: ClassVar[type[ToolArgs]] = GrepArgs

    def __init__(
        self,
        fs: ScopedFs,
        ignore: IgnoreTree | None = None,
        *,
        use_ripgrep: bool | None = None,
    ) -> None:
        """``use_ripgrep``: ``None`` uses ``rg`` when it is on the PATH,
        ``False`` always uses the Python backend."""
        self.fs = fs
        self.ignore = ignore
        self._use_ripgrep = use_ripgrep

    async def run(self, args: GrepArgs, call: ToolCallContext) -> ToolOutput:
        base = self.fs.scope.check_read(args.path or ".")
        shown = self.fs.display(base)
        if not await asyncio.to_thread(base.exists) and base not in self.fs.buffer_paths():
            raise FileNotFound(f"{shown} does not exist.")
        if kind := await asyncio.to_thread(special_kind, base):
            raise ExecutionFailed(
                f"{shown} is not a regular file ({kind}); only regular files can be read."
            )
        regex = _compile(args.pattern, args.ignore_case)
        tree = workspace_tree(self.fs, self.ignore)
        wanted = _glob_filter(args.glob, base)
        buffers = self._buffers(tree, base, wanted)
        query = Query(
            regex=regex,
            pattern=args.pattern,
            ignore_case=args.ignore_case,
            context=args.context,
            base=base,
            wanted=wanted,
            readable=lambda path: self.fs.scope.readable(path, resolved=True),
            skip=frozenset(buffers),
            max_bytes=self.fs.max_read_bytes,
        )
        found = await self._search_disk(query, tree)
        for path, text in buffers.items():
            hits = search_text(path, text, regex, args.context)
            if hits is not None:
                found.files.append(hits)
        found.files.sort(key=lambda h: h.path.parts)
        if not found.files:
            return ToolOutput(summary=f"No matches for `{args.pattern}` in {shown}")
        return self._render(found, args)

    def _ripgrep(self) -> str | None:
        if self._use_ripgrep is False:
            return None
        return shutil.which("rg")

    def _buffers(
        self, tree: IgnoreTree, base: Path, wanted: Callable[[Path], bool]
    ) -> dict[Path, str]:
        """Open editor buffers that a disk search of ``base`` would cover."""
        editor = self.fs.editor
        if editor is None:
            return {}
        out: dict[Path, str] = {}
        for path in self.fs.buffer_paths():
            if path != base and not path.is_relative_to(base):
                continue
            if path != base and (tree.is_ignored(path, False, below=base) or not wanted(path)):
                continue
            if not self.fs.scope.readable(path, resolved=True):
                continue
            snapshot = editor.open_buffer(path)
            if snapshot is not None:
                out[path] = snapshot.text
        return out

    async def _search_disk(self, query: Query, tree: IgnoreTree) -> Found:
        rg = self._ripgrep()
        if rg is not None:
            found = await search_rg(rg, query)
            if found is not None:
                return found
        stop = threading.Event()
        try:
            return await asyncio.to_thread(self._search_python, query, tree, stop)
        finally:
            stop.set()

    def _search_python(self, query: Query, tree: IgnoreTree, stop: threading.Event) -> Found:
        return search_python(query, tree, stop)

    def _render(self, found: Found, args: GrepArgs) -> ToolOutput:
        files = found.files
        matches = sum(h.matches for h in files)
        lines = format_hits(files, args.output_mode, self.fs.display, args.context)
        if args.output_mode == "files_with_matches":
            summary = f"Found {plural(len(files), 'file')} with matches"
        else:
            summary = f"Found {plural(matches, 'matching line')} in {plural(len(files), 'file')}"
        notes: list[str] = []
        if len(lines) > args.head_limit:
            notes.append(
                f"[showing {args.head_limit} of {len(lines)} lines; narrow the search with "
                "path or glob, or raise head_limit]"
            )
            lines = lines[: args.head_limit]
        if found.stopped_early:
            notes.append(f"[search stopped after {MAX_COLLECTED_LINES} matching lines]")
            summary += " (search stopped early)"
        return ToolOutput(summary=summary, content="\n".join(lines + notes))


def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise InvalidArgument(
            f"The pattern `{pattern}` is not a valid regular expression: {exc}."
        ) from None


def _glob_filter(glob: str | None, base: Path) -> Callable[[Path], bool]:
    if not glob:
        return lambda _path: True
    glob = glob.removeprefix("/")
    regex = glob_regex(glob)
    if "/" not in glob:
        return lambda path: regex.match(path.name) is not None
    top = base if base.is_dir() else base.parent

    def wanted(path: Path) -> bool:
        return (
            path.is_relative_to(top) and regex.match(path.relative_to(top).as_posix()) is not None
        )

    return wanted
