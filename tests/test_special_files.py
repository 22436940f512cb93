"""FIFOs (and other non-regular files) in the workspace are refused at once,
never read: a read of a FIFO with no writer would block a worker thread forever."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agent.disk_editor import DiskEditor
from agent.errors import ExecutionFailed, InvalidArgument
from agent.fsutil import NotRegularFile, open_regular, read_regular
from agent.input import InputResolver
from agent.ports import NullSink, ProposedEdit
from agent.scope import Scope
from agent.segments import FileSegment
from agent.tools.base import Tool, ToolCallContext, ToolOutput
from agent.tools.files import ReadFile
from agent.tools.fs import ScopedFs, Tracker
from agent.tools.search import Glob, Grep

T = TypeVar("T")
PROMPTLY = 3.0
REFUSED = "is not a regular file (a FIFO); only regular files can be read."


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Path]:
    root = Path(os.path.realpath(tmp_path)) / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("needle here\n")
    fifo = root / "pipe"
    os.mkfifo(fifo)
    try:
        yield root
    finally:
        _release_readers(fifo)


def _release_readers(fifo: Path) -> None:
    """Give a reader stuck on ``fifo`` (the bug this file guards against) its
    end of file, so a failing test does not hang the interpreter on exit."""
    for _ in range(3):
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # ENXIO: nobody is reading
        os.close(fd)


async def promptly(awaitable: Awaitable[T], fifo: Path) -> T:
    """``awaitable``'s result within :data:`PROMPTLY` seconds; on a timeout the
    stuck reader is released first, or the event loop could never close."""
    try:
        return await asyncio.wait_for(awaitable, PROMPTLY)
    except TimeoutError:
        _release_readers(fifo)
        raise


def make_fs(root: Path) -> ScopedFs:
    return ScopedFs(Scope.default(root), None, Tracker())


async def call(tool: Tool[Any], **raw: Any) -> ToolOutput:
    return await tool.run(tool.parse(raw), ToolCallContext(call_id="c1", events=NullSink()))


async def test_read_file_refuses_a_fifo(ws: Path) -> None:
    with pytest.raises(ExecutionFailed) as caught:
        await promptly(call(ReadFile(make_fs(ws)), path="pipe"), ws / "pipe")
    assert str(caught.value) == f"pipe {REFUSED}"


async def test_reading_lines_of_a_fifo_is_refused(ws: Path) -> None:
    with pytest.raises(ExecutionFailed, match="not a regular file"):
        await promptly(make_fs(ws).read_lines("pipe", 1, 10), ws / "pipe")


async def test_an_at_mention_of_a_fifo_becomes_a_placeholder(ws: Path) -> None:
    resolver = InputResolver(make_fs(ws), ws)
    segment = FileSegment(kind="file", path="pipe")
    resolved = await promptly(resolver.resolve([segment]), ws / "pipe")
    attachment = resolved.attachments[0]
    assert not attachment.ok
    assert REFUSED in attachment.body
    assert [a.level for a in resolved.alerts] == ["warn"]


@pytest.mark.parametrize(
    "backend",
    [
        "python",
        pytest.param(
            "ripgrep",
            marks=pytest.mark.skipif(shutil.which("rg") is None, reason="rg not installed"),
        ),
    ],
)
async def test_grep_refuses_a_fifo_and_skips_one_in_a_tree(ws: Path, backend: str) -> None:
    grep = Grep(make_fs(ws), use_ripgrep=backend == "ripgrep")
    with pytest.raises(ExecutionFailed) as caught:
        await promptly(call(grep, pattern="needle", path="pipe"), ws / "pipe")
    assert str(caught.value) == f"pipe {REFUSED}"
    out = await promptly(call(grep, pattern="needle"), ws / "pipe")
    assert out.content == "notes.txt:1:needle here"


async def test_a_fifo_gitignore_is_not_read_by_glob_or_the_python_grep(ws: Path) -> None:
    os.replace(ws / "pipe", ws / ".gitignore")
    fifo = ws / ".gitignore"
    fs = make_fs(ws)
    out = await promptly(call(Glob(fs), pattern="*.txt"), fifo)
    assert out.content == "notes.txt"
    out = await promptly(call(Grep(fs, use_ripgrep=False), pattern="needle"), fifo)
    assert out.content == "notes.txt:1:needle here"
    os.replace(fifo, ws / "pipe")  # for the fixture's clean-up


async def test_the_disk_editor_does_not_read_a_fifo(ws: Path) -> None:
    edit = ProposedEdit(
        call_id="c1",
        tool="write_file",
        path=ws / "pipe",
        before="old",
        after="new",
        base_version=None,
        label="Write pipe",
    )
    result = await promptly(DiskEditor().apply_edit(edit), ws / "pipe")
    assert result.status == "failed"
    assert result.message is not None and "not a regular file (a FIFO)" in result.message
    assert (ws / "pipe").is_fifo()


def test_open_regular_names_what_it_refuses(ws: Path, tmp_path: Path) -> None:
    with pytest.raises(NotRegularFile) as caught:
        open_regular(ws / "pipe")
    assert caught.value.kind == "a FIFO"
    with pytest.raises(NotRegularFile) as caught:
        open_regular(ws)
    assert caught.value.kind == "a directory"
    with contextlib.closing(socket.socket(socket.AF_UNIX)) as sock:
        sock.bind(str(tmp_path / "s"))
        with pytest.raises(NotRegularFile) as caught:
            read_regular(tmp_path / "s")
        assert caught.value.kind == "a socket"
    (ws / "link").symlink_to(ws / "notes.txt")
    with pytest.raises(OSError, match="symbolic links"):
        read_regular(ws / "link")  # callers pass resolved paths
    assert read_regular(ws / "notes.txt") == b"needle here\n"


async def test_a_directory_still_points_to_list_dir(ws: Path) -> None:
    (ws / "src").mkdir()
    with pytest.raises(InvalidArgument, match="is a directory; use list_dir"):
        await call(ReadFile(make_fs(ws)), path="src")
