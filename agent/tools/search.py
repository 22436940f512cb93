"""Search tools: ``glob`` (files by name) and ``grep`` (files by content).

Both honour ``.gitignore``, include hidden files, skip ``.git``, never follow
symlinked directories and only report paths the scope lets the agent read.

``grep`` uses ripgrep when it is installed and a Python walk otherwise; the
two produce the same output for the same tree (same files, same order, same
format), and files open in the editor are searched in their buffer text in
both. Patterns use Python ``re`` syntax; one that ripgrep cannot run
(backreferences, look-around) is searched with the Python backend.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from agent.errors import ExecutionFailed, FileNotFound, InvalidArgument
from agent.fsutil import open_regular, special_kind
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput
from agent.tools.files import plural, split_lines
from agent.tools.fs import ScopedFs, decode
from agent.tools.ignore import IgnoreTree, glob_regex

log = logging.getLogger(__name__)

MAX_GLOB_RESULTS = 1000
MAX_COLLECTED_LINES = 20_000
MAX_SHOWN_LINE_CHARS = 1000
_GLOB_META = re.compile(r"[*?\[{\\]")
# Ripgrep set up to search exactly what the Python walk searches.
# fmt: off
_RG_FLAGS = (
    "--json", "--hidden", "--no-require-git", "--no-ignore-global", "--no-ignore-exclude",
    "--no-ignore-dot", "--no-config", "--sort", "path", "--glob", "!.git",
)
# fmt: on


def _tree(fs: ScopedFs, given: IgnoreTree | None) -> IgnoreTree:
    """The ignore rules of the workspace (the shared tree when one was given)."""
    root = fs.scope.root
    if root is None:  # check_read has already refused; keep mypy honest
        raise ExecutionFailed("No workspace folder is open, so file tools are unavailable.")
    return given if given is not None and given.root == root else IgnoreTree(root)


# ---------------------------------------------------------------- glob


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
        tree = _tree(self.fs, self.ignore)
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


# ---------------------------------------------------------------- grep


OutputMode = Literal["content", "files_with_matches", "count"]


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


@dataclass
class FileHits:
    """The matching (and context) lines of one file: number → (text, is_match)."""

    path: Path
    lines: dict[int, tuple[str, bool]] = field(default_factory=dict)

    @property
    def matches(self) -> int:
        return sum(1 for _, is_match in self.lines.values() if is_match)


@dataclass(frozen=True)
class _Query:
    regex: re.Pattern[str]
    pattern: str
    ignore_case: bool
    context: int
    base: Path
    wanted: Callable[[Path], bool]
    skip: frozenset[Path]
    max_bytes: int


@dataclass
class _Found:
    files: list[FileHits]
    stopped_early: bool = False


class Grep(Tool[GrepArgs]):
    name: ClassVar[str] = "grep"
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
        tree = _tree(self.fs, self.ignore)
        wanted = _glob_filter(args.glob, base)
        buffers = self._buffers(tree, base, wanted)
        query = _Query(
            regex=regex,
            pattern=args.pattern,
            ignore_case=args.ignore_case,
            context=args.context,
            base=base,
            wanted=wanted,
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

    async def _search_disk(self, query: _Query, tree: IgnoreTree) -> _Found:
        rg = self._ripgrep()
        if rg is not None:
            found = await self._search_rg(rg, query)
            if found is not None:
                return found
        stop = threading.Event()
        try:
            return await asyncio.to_thread(self._search_python, query, tree, stop)
        finally:
            stop.set()

    def _accept(self, query: _Query, path: Path) -> bool:
        return (
            path not in query.skip
            and query.wanted(path)
            and self.fs.scope.readable(path, resolved=True)
        )

    def _search_python(self, query: _Query, tree: IgnoreTree, stop: threading.Event) -> _Found:
        found = _Found([])
        collected = 0
        for path in tree.walk(query.base, symlinks=False):
            if stop.is_set():
                break
            if not self._accept(query, path):
                continue
            try:
                with open_regular(path) as fh:
                    if os.fstat(fh.fileno()).st_size > query.max_bytes:
                        continue
                    data = fh.read()
            except OSError:  # gone, unreadable, or not a regular file (a FIFO)
                continue
            if b"\x00" in data:
                continue
            hits = search_text(path, decode(data), query.regex, query.context)
            if hits is None:
                continue
            found.files.append(hits)
            collected += hits.matches
            if collected >= MAX_COLLECTED_LINES:
                found.stopped_early = True
                break
        return found

    async def _search_rg(self, rg: str, query: _Query) -> _Found | None:
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
        found = _Found([])
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
                    if not binary and current.lines and self._accept(query, current.path):
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

    def _render(self, found: _Found, args: GrepArgs) -> ToolOutput:
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


def _rg_path(value: dict[str, Any]) -> Path:
    if "text" in value:
        return Path(value["text"])
    return Path(os.fsdecode(base64.b64decode(value["bytes"])))


def _rg_text(value: dict[str, Any]) -> str:
    if "text" in value:
        return str(value["text"])
    return decode(base64.b64decode(value["bytes"]))
