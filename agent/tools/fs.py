"""The scoped filesystem the file tools work through, and the tracker of what
the agent has seen.

Every path passes through the :class:`~agent.scope.Scope` before any I/O. When
the editor has a file open, its buffer (unsaved changes included) wins over
the disk. Disk reads run in a thread so a large file never blocks the loop,
and only regular files are read (a FIFO would block the thread forever).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from agent.errors import (
    EditConflict,
    ExecutionFailed,
    FileNotFound,
    InvalidArgument,
    ToolError,
)
from agent.fsutil import NotRegularFile, atomic_write_text, open_regular
from agent.ports import EditorPort
from agent.scope import Scope

BINARY_PROBE_BYTES = 8192
RECENT_CAPACITY = 20


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def decode(data: bytes) -> str:
    """File bytes as text; invalid UTF-8 becomes U+FFFD."""
    return data.decode("utf-8", errors="replace")


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:BINARY_PROBE_BYTES]


@dataclass(frozen=True)
class _Seen:
    digest: str
    version: int | None


class Tracker:
    """What the agent has seen: the hash and editor version of the last text
    it read or wrote for each file, and the files it touched most recently.

    Keys are canonical paths, so symlink aliases of one file collapse."""

    def __init__(self) -> None:
        self._seen: dict[Path, _Seen] = {}
        self._recent: OrderedDict[Path, None] = OrderedDict()
        self._edited: dict[Path, None] = {}  # files the agent's accepted edits changed

    @staticmethod
    def _key(path: Path) -> Path:
        return Path(os.path.realpath(path))

    def record(self, path: Path, text: str, version: int | None) -> None:
        key = self._key(path)
        self._seen[key] = _Seen(text_digest(text), version)
        self._recent[key] = None
        self._recent.move_to_end(key, last=False)
        while len(self._recent) > RECENT_CAPACITY:
            self._recent.popitem(last=True)

    def has(self, path: Path) -> bool:
        return self._key(path) in self._seen

    def verify(self, path: Path, current_text: str, *, shown: str | None = None) -> None:
        """Raise :class:`EditConflict` unless ``current_text`` is what the agent
        last saw of ``path``."""
        name = shown or str(path)
        seen = self._seen.get(self._key(path))
        if seen is None:
            raise EditConflict(f"You have not read {name} yet; read it before editing.")
        if seen.digest != text_digest(current_text):
            raise EditConflict(
                f"{name} changed since you last read it (the user or another tool edited "
                "it); read it again before editing."
            )

    def version_of(self, path: Path) -> int | None:
        seen = self._seen.get(self._key(path))
        return seen.version if seen is not None else None

    def forget(self, path: Path) -> None:
        key = self._key(path)
        self._seen.pop(key, None)
        self._recent.pop(key, None)

    def mark_edited(self, path: Path) -> None:
        self._edited[self._key(path)] = None

    def edited(self) -> list[Path]:
        """The files the agent's accepted edits changed, in the order edited."""
        return list(self._edited)

    def recent(self, n: int = 5) -> list[Path]:
        """The files touched most recently, newest first."""
        return list(self._recent)[: max(0, n)]


@dataclass(frozen=True)
class FileText:
    path: Path
    text: str
    version: int | None
    from_buffer: bool


@dataclass(frozen=True)
class LineWindow:
    """Some lines of a file too large to read whole."""

    path: Path
    lines: list[str]
    first: int
    reached_end: bool


class FileTooLarge(ExecutionFailed):
    """The file is over the read cap; a line range can still be read."""


class ScopedFs:
    """File access for tools: scope checks first, editor buffers over disk."""

    def __init__(
        self,
        scope: Scope,
        editor: EditorPort | None,
        tracker: Tracker,
        max_read_bytes: int = 2_000_000,
    ) -> None:
        self.scope = scope
        self.editor = editor
        self.tracker = tracker
        self.max_read_bytes = max_read_bytes

    def display(self, path: Path) -> str:
        return self.scope.display(path)

    def buffer_paths(self) -> list[Path]:
        """Canonical paths of the editor's open files."""
        if self.editor is None:
            return []
        return [Path(os.path.realpath(p)) for p in self.editor.open_paths()]

    async def read_text(self, raw: str | Path, *, for_write: bool = False) -> FileText:
        """The text of a file: the editor's buffer when it is open, else the
        disk. ``for_write`` checks write permission instead of read."""
        path = self.scope.check_write(raw) if for_write else self.scope.check_read(raw)
        if self.editor is not None:
            snapshot = self.editor.open_buffer(path)
            if snapshot is not None:
                return FileText(path, snapshot.text, snapshot.version, True)
        text = await asyncio.to_thread(self._read_disk, path, for_write)
        return FileText(path, text, None, False)

    def _read_disk(self, path: Path, for_write: bool = False) -> str:
        shown = self.display(path)
        try:
            with open_regular(path) as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > self.max_read_bytes:
                    raise FileTooLarge(
                        f"{shown} is {size} bytes, over the {self.max_read_bytes}-byte limit "
                        "for reading a whole file; read a line range with offset and limit "
                        "instead."
                    )
                data = fh.read()
        except OSError as exc:
            raise _read_error(exc, shown) from None
        if looks_binary(data):
            raise ExecutionFailed(f"{shown} is a binary file, not shown.")
        if for_write:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ExecutionFailed(
                    f"{shown} is not UTF-8 text (byte {exc.start}); changing it through the "
                    "edit tools would corrupt it, so it was left as it is."
                ) from None
        return decode(data)

    async def read_lines(self, raw: str | Path, first: int, count: int) -> LineWindow:
        """Lines ``first`` (1-based) onwards of a file on disk, streamed, for
        files too large to read whole."""
        path = self.scope.check_read(raw)
        return await asyncio.to_thread(self._read_window, path, first, count)

    def _read_window(self, path: Path, first: int, count: int) -> LineWindow:
        shown = self.display(path)
        lines: list[str] = []
        reached_end = True
        try:
            with open_regular(path) as fh:
                if looks_binary(fh.read(BINARY_PROBE_BYTES)):
                    raise ExecutionFailed(f"{shown} is a binary file, not shown.")
                fh.seek(0)
                for number, raw_line in enumerate(fh, start=1):
                    if number < first:
                        continue
                    if len(lines) >= count:
                        reached_end = False
                        break
                    lines.append(decode(raw_line).rstrip("\n"))
        except OSError as exc:
            raise _read_error(exc, shown) from None
        return LineWindow(path, lines, first, reached_end)

    async def exists(self, raw: str | Path) -> bool:
        """Whether a readable path exists (as a buffer or on disk)."""
        path = self.scope.check_read(raw)
        if self.editor is not None and self.editor.open_buffer(path) is not None:
            return True
        return await asyncio.to_thread(path.exists)


def _read_error(exc: OSError, shown: str) -> ToolError:
    """The tool error for a failed read of ``shown``."""
    if isinstance(exc, NotRegularFile):
        if exc.kind == "a directory":
            return InvalidArgument(f"{shown} is a directory; use list_dir to see its entries.")
        return ExecutionFailed(
            f"{shown} is not a regular file ({exc.kind}); only regular files can be read."
        )
    if isinstance(exc, FileNotFoundError):
        return FileNotFound(f"{shown} does not exist.")
    if isinstance(exc, PermissionError):
        return ExecutionFailed(f"Cannot read {shown}: permission denied.")
    return ExecutionFailed(f"Cannot read {shown}: {exc.strerror or exc}.")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 with :func:`agent.fsutil.atomic_write_text`,
    creating parent directories; an existing file keeps its permission bits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
