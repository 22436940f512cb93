"""An :class:`~agent.ports.EditorPort` that writes straight to disk.

The terminal host and tests use it: there are no open buffers, and an edit is
applied (after an optional confirmation) only if the disk still holds the text
the agent based it on.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from agent.fsutil import NotRegularFile, read_regular
from agent.ports import BufferSnapshot, EditResult, ProposedEdit
from agent.tools.fs import atomic_write, decode

log = logging.getLogger(__name__)

Confirm = Callable[[ProposedEdit], Awaitable[bool]]


class DiskEditor:
    """Applies proposed edits to files on disk."""

    def __init__(self, confirm: Confirm | None = None) -> None:
        self._confirm = confirm

    def open_buffer(self, path: Path) -> BufferSnapshot | None:
        return None

    def open_paths(self) -> list[Path]:
        return []

    async def apply_edit(self, edit: ProposedEdit) -> EditResult:
        if self._confirm is not None:
            try:
                accepted = await self._confirm(edit)
            except Exception as exc:
                log.warning("edit confirmation for %s failed: %s", edit.path, exc)
                return EditResult("rejected", f"The confirmation prompt failed: {exc}")
            if not accepted:
                return EditResult("rejected")
        try:
            current = await asyncio.to_thread(_read_or_none, edit.path)
            if current != edit.before:
                what = "was created" if edit.before is None else "changed"
                if edit.before is not None and current is None:
                    what = "was deleted"
                return EditResult("stale", f"{edit.path} {what} on disk since it was read.")
            await asyncio.to_thread(atomic_write, edit.path, edit.after)
        except NotRegularFile as exc:
            return EditResult(
                "failed",
                f"{edit.path} is not a regular file ({exc.kind}); only regular files can be "
                "edited.",
            )
        except OSError as exc:
            return EditResult("failed", f"Cannot write {edit.path}: {exc.strerror or exc}.")
        return EditResult("applied")


def _read_or_none(path: Path) -> str | None:
    try:
        return decode(read_regular(path))
    except FileNotFoundError:
        return None


def _header_path(path: Path, root: Path | None) -> str:
    for base in (root, Path.cwd()):
        if base is not None and path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return str(path)


def unified_diff(edit: ProposedEdit, root: Path | None = None) -> str:
    """The edit as a unified diff; header paths are relative to ``root`` (or
    the current directory) when the file is inside it."""
    name = _header_path(edit.path, root)
    before = edit.before.splitlines(keepends=True) if edit.before is not None else []
    after = edit.after.splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        after,
        fromfile="/dev/null" if edit.before is None else f"a/{name}",
        tofile=f"b/{name}",
    )
    out: list[str] = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


__all__ = ["Confirm", "DiskEditor", "unified_diff"]
