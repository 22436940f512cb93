"""Which files the agent edited are not saved: an accepted edit lives in the
editor's buffer, and a command (tests, a build, the script itself) reads the
disk. ``run_command`` names them in its approval prompt and its result, so
neither the user nor the model mistakes old behaviour for the new code."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.fsutil import read_regular
from agent.tools.fs import ScopedFs, decode


def _disk_text(path: Path) -> str | None:
    try:
        return decode(read_regular(path))
    except OSError:
        return None


async def unsaved_edits(fs: ScopedFs) -> list[str]:
    """The edited files whose open buffer differs from the disk, as shown to
    the model (workspace-relative)."""
    editor = fs.editor
    if editor is None:
        return []
    buffers = {p: s for p in fs.tracker.edited() if (s := editor.open_buffer(p)) is not None}
    if not buffers:
        return []
    disk = await asyncio.to_thread(lambda: {p: _disk_text(p) for p in buffers})
    return [fs.display(p) for p, snapshot in buffers.items() if disk[p] != snapshot.text]


def unsaved_note(names: list[str], *, ran: bool) -> str:
    """``note: greet.py has unsaved changes in the editor; the command saw
    the saved version`` (``ran=False``: "will see", for the approval prompt)."""
    if len(names) == 1:
        subject, verb, version = names[0], "has", "version"
    else:
        subject = ", ".join(names[:-1]) + " and " + names[-1]
        verb, version = "have", "versions"
    sees = "saw" if ran else "will see"
    return (
        f"note: {subject} {verb} unsaved changes in the editor; "
        f"the command {sees} the saved {version}"
    )
