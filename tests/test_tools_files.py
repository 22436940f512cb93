"""File tools over real files: read_file, list_dir, write_file, edit_file,
the tracker, ScopedFs and the disk editor."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from agent.approvals import ApprovalGate
from agent.disk_editor import DiskEditor, unified_diff
from agent.errors import (
    EditConflict,
    ExecutionFailed,
    FileNotFound,
    InvalidArgument,
    ScopeDenied,
)
from agent.events import EditEvent, Event
from agent.ports import BufferSnapshot, DenyAll, EditResult, ProposedEdit
from agent.scope import Scope
from agent.tools.base import Tool, ToolCallContext, ToolOutput, ToolSet
from agent.tools.builtin import ToolEnv, builtin_tools
from agent.tools.files import EditFile, ListDir, ReadFile, WriteFile
from agent.tools.fs import FileTooLarge, ScopedFs, Tracker, atomic_write


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def edit_statuses(self) -> list[str]:
        return [e.status for e in self.events if isinstance(e, EditEvent)]


class BufferEditor:
    """An editor with open, possibly unsaved buffers that applies edits to
    them (a test double of the LSP host)."""

    def __init__(self, buffers: dict[Path, str] | None = None) -> None:
        self.buffers = {p: BufferSnapshot(t, 1) for p, t in (buffers or {}).items()}
        self.edits: list[ProposedEdit] = []

    def open_buffer(self, path: Path) -> BufferSnapshot | None:
        return self.buffers.get(path)

    def open_paths(self) -> list[Path]:
        return list(self.buffers)

    async def apply_edit(self, edit: ProposedEdit) -> EditResult:
        self.edits.append(edit)
        snap = self.buffers.get(edit.path)
        if snap is not None and edit.base_version != snap.version:
            return EditResult("stale", "buffer version moved on")
        version = (snap.version if snap else 0) + 1
        self.buffers[edit.path] = BufferSnapshot(edit.after, version)
        return EditResult("applied", new_version=version)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = Path(os.path.realpath(tmp_path)) / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    print('hi')\n\nmain()\n")
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("sentinel\n")
    return root


def make_fs(root: Path, editor: Any = None) -> ScopedFs:
    return ScopedFs(Scope.default(root), editor, Tracker())


async def call(tool: Tool[Any], sink: Sink | None = None, **raw: Any) -> ToolOutput:
    ctx = ToolCallContext(call_id="call-1", events=sink or Sink())
    return await tool.run(tool.parse(raw), ctx)


# ---------------------------------------------------------------- read_file


async def test_read_file_numbers_lines_and_records_the_text(ws: Path) -> None:
    fs = make_fs(ws)
    out = await call(ReadFile(fs), path="src/app.py")
    assert out.summary == "Read 4 lines from src/app.py"
    assert out.content == ("     1\tdef main():\n     2\t    print('hi')\n     3\t\n     4\tmain()")
    assert fs.tracker.has(ws / "src" / "app.py")
    assert fs.tracker.recent() == [ws / "src" / "app.py"]


async def test_read_file_range_records_the_full_text(ws: Path) -> None:
    fs = make_fs(ws)
    out = await call(ReadFile(fs), path=str(ws / "src" / "app.py"), offset=2, limit=2)
    assert out.summary == "Read lines 2-3 of 4 from src/app.py"
    assert out.content is not None
    assert out.content.startswith("     2\t    print('hi')\n     3\t\n")
    assert "continue with offset=4" in out.content
    full = (ws / "src" / "app.py").read_text()
    fs.tracker.verify(ws / "src" / "app.py", full)  # the whole file, not the window


async def test_read_file_refusals(ws: Path) -> None:
    fs = make_fs(ws)
    tool = ReadFile(fs)
    with pytest.raises(InvalidArgument, match="past the end"):
        await call(tool, path="src/app.py", offset=10)
    with pytest.raises(FileNotFound, match="does not exist"):
        await call(tool, path="src/nope.py")
    with pytest.raises(InvalidArgument, match="is a directory"):
        await call(tool, path="src")
    (ws / "blob.bin").write_bytes(b"\x89PNG\x00\x00data")
    with pytest.raises(ExecutionFailed, match="binary file, not shown"):
        await call(tool, path="blob.bin")
    with pytest.raises(InvalidArgument, match="offset"):
        await call(tool, path="src/app.py", offset=0)
    with pytest.raises(ScopeDenied, match="outside"):
        await call(tool, path="../outside/secret.txt")
    assert not fs.tracker.has(ws.parent / "outside" / "secret.txt")


async def test_read_file_through_a_symlink_to_outside_is_denied(ws: Path) -> None:
    fs = make_fs(ws)
    (ws / "link.txt").symlink_to(ws.parent / "outside" / "secret.txt")
    with pytest.raises(ScopeDenied):
        await call(ReadFile(fs), path="link.txt")
    assert fs.tracker.recent() == []


async def test_read_file_details(ws: Path) -> None:
    fs = make_fs(ws)
    (ws / "empty.txt").write_text("")
    out = await call(ReadFile(fs), path="empty.txt")
    assert out.summary == "Read 0 lines from empty.txt (the file is empty)"
    (ws / "long.txt").write_text("x" * 2500 + "\n")
    out = await call(ReadFile(fs), path="long.txt")
    assert out.content is not None
    assert "[line cut: 500 more characters]" in out.content
    (ws / "latin1.txt").write_bytes(b"caf\xe9\n")
    out = await call(ReadFile(fs), path="latin1.txt")
    assert out.content == "     1\tcaf\ufffd"
    (ws / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    out = await call(ReadFile(fs), path="crlf.txt")
    assert out.content == "     1\ta\n     2\tb"


async def test_open_buffer_wins_over_disk(ws: Path) -> None:
    app = ws / "src" / "app.py"
    editor = BufferEditor({app: "unsaved text\n"})
    fs = make_fs(ws, editor)
    out = await call(ReadFile(fs), path="src/app.py")
    assert out.content == "     1\tunsaved text"
    assert fs.tracker.version_of(app) == 1
    text = await fs.read_text("src/app.py")
    assert text.from_buffer
    assert text.version == 1


async def test_large_files_need_a_line_range(ws: Path) -> None:
    fs = ScopedFs(Scope.default(ws), None, Tracker(), max_read_bytes=1000)
    (ws / "big.txt").write_text("".join(f"line {i}\n" for i in range(1, 501)))
    with pytest.raises(FileTooLarge, match="read a line range"):
        await call(ReadFile(fs), path="big.txt")
    out = await call(ReadFile(fs), path="big.txt", offset=100, limit=3)
    assert out.content is not None
    assert out.content.splitlines()[:3] == [
        "   100\tline 100",
        "   101\tline 101",
        "   102\tline 102",
    ]
    assert out.summary == "Read lines 100-102 from big.txt (too large to read whole)"


# ---------------------------------------------------------------- list_dir


async def test_list_dir(ws: Path) -> None:
    fs = make_fs(ws)
    (ws / ".git").mkdir()
    (ws / ".env").write_text("X=1")
    (ws / "b.txt").write_text("b")
    (ws / "out").symlink_to(ws.parent / "outside", target_is_directory=True)
    out = await call(ListDir(fs))
    assert out.content is not None
    assert out.content.splitlines() == [
        ".env",
        "b.txt",
        f"out/ -> {ws.parent / 'outside'}",
        "src/",
    ]
    assert out.summary == ".: 4 entries (2 directories, 2 files)"
    with pytest.raises(InvalidArgument, match="not a directory"):
        await call(ListDir(fs), path="b.txt")
    with pytest.raises(ScopeDenied):
        await call(ListDir(fs), path="..")
    with pytest.raises(ScopeDenied):
        await call(ListDir(fs), path="out")


async def test_list_dir_caps_entries(ws: Path) -> None:
    many = ws / "many"
    many.mkdir()
    for i in range(1005):
        (many / f"f{i:04d}").touch()
    out = await call(ListDir(make_fs(ws)), path="many")
    assert out.content is not None
    lines = out.content.splitlines()
    assert len(lines) == 1001
    assert lines[-1] == "[5 more entries not shown]"


# ---------------------------------------------------------------- write_file


async def test_write_file_creates_through_the_editor(ws: Path) -> None:
    fs = make_fs(ws)
    sink = Sink()
    out = await call(WriteFile(fs, DiskEditor()), sink, path="pkg/new/mod.py", content="x = 1\n")
    assert out.summary == "Created pkg/new/mod.py (6 bytes)"
    assert (ws / "pkg" / "new" / "mod.py").read_text() == "x = 1\n"
    assert sink.edit_statuses() == ["proposed", "applied"]
    event = sink.events[0]
    assert isinstance(event, EditEvent)
    assert event.uri == (ws / "pkg" / "new" / "mod.py").as_uri()
    assert event.id == "call-1"
    # Written text counts as seen: it can be overwritten without a read.
    out = await call(WriteFile(fs, DiskEditor()), path="pkg/new/mod.py", content="x = 2\n")
    assert out.summary == "Wrote pkg/new/mod.py (6 bytes)"


async def test_write_file_needs_a_read_first_and_an_unchanged_file(ws: Path) -> None:
    fs = make_fs(ws)
    sink = Sink()
    tool = WriteFile(fs, DiskEditor())
    with pytest.raises(EditConflict, match=r"You have not read src/app.py yet"):
        await call(tool, sink, path="src/app.py", content="new\n")
    assert sink.events == []
    await call(ReadFile(fs), path="src/app.py")
    (ws / "src" / "app.py").write_text("changed by the user\n")
    with pytest.raises(EditConflict, match="changed since you last read it"):
        await call(tool, sink, path="src/app.py", content="new\n")
    assert sink.edit_statuses() == ["stale"]
    assert (ws / "src" / "app.py").read_text() == "changed by the user\n"
    await call(ReadFile(fs), path="src/app.py")
    out = await call(tool, path="src/app.py", content="new\n")
    assert out.summary == "Wrote src/app.py (4 bytes)"
    assert (ws / "src" / "app.py").read_text() == "new\n"


async def test_write_file_rejected_by_the_user(ws: Path) -> None:
    seen: list[ProposedEdit] = []

    async def refuse(edit: ProposedEdit) -> bool:
        seen.append(edit)
        return False

    fs = make_fs(ws)
    sink = Sink()
    await call(ReadFile(fs), path="src/app.py")
    before = (ws / "src" / "app.py").read_text()
    with pytest.raises(EditConflict, match="The user rejected the change to src/app.py"):
        await call(WriteFile(fs, DiskEditor(refuse)), sink, path="src/app.py", content="no\n")
    assert (ws / "src" / "app.py").read_text() == before
    assert sink.edit_statuses() == ["proposed", "rejected"]
    assert seen[0].before == before
    assert seen[0].after == "no\n"
    assert seen[0].label == "yoi: write_file src/app.py (call call-1)"


async def test_write_file_outside_the_scope_creates_nothing(ws: Path) -> None:
    fs = make_fs(ws)
    tool = WriteFile(fs, DiskEditor())
    target = ws.parent / "outside" / "created.txt"
    for raw in ("../outside/created.txt", str(target), target.as_uri()):
        with pytest.raises(ScopeDenied):
            await call(tool, path=raw, content="pwned")
    (ws / "escape").symlink_to(ws.parent / "outside", target_is_directory=True)
    with pytest.raises(ScopeDenied):
        await call(tool, path="escape/created.txt", content="pwned")
    (ws / "secret-link").symlink_to(ws.parent / "outside" / "secret.txt")
    with pytest.raises(ScopeDenied):
        await call(tool, path="secret-link", content="pwned")
    assert not target.exists()
    assert (ws.parent / "outside" / "secret.txt").read_text() == "sentinel\n"
    (ws / ".git").mkdir()
    with pytest.raises(ScopeDenied, match="never writable"):
        await call(tool, path=".git/config", content="[core]\n")
    assert not (ws / ".git" / "config").exists()


async def test_write_file_pins_the_buffer_version_and_sees_stale_buffers(ws: Path) -> None:
    app = ws / "src" / "app.py"
    editor = BufferEditor({app: "buffer v1\n"})
    fs = make_fs(ws, editor)
    await call(ReadFile(fs), path="src/app.py")
    await call(WriteFile(fs, editor), path="src/app.py", content="agent\n")
    assert editor.edits[-1].base_version == 1
    assert editor.edits[-1].before == "buffer v1\n"
    assert fs.tracker.version_of(app) == 2
    assert app.read_text().startswith("def main")  # the editor owns the buffer, not the disk
    editor.buffers[app] = BufferSnapshot("user typed\n", 3)
    sink = Sink()
    with pytest.raises(EditConflict, match="changed since you last read it"):
        await call(WriteFile(fs, editor), sink, path="src/app.py", content="again\n")
    assert sink.edit_statuses() == ["stale"]
    assert len(editor.edits) == 1


async def test_disk_editor_reports_stale_when_disk_moved(ws: Path) -> None:
    app = ws / "src" / "app.py"

    async def user_edits_meanwhile(edit: ProposedEdit) -> bool:
        app.write_text("typed while the prompt was open\n")
        return True

    fs = make_fs(ws)
    sink = Sink()
    await call(ReadFile(fs), path="src/app.py")
    with pytest.raises(EditConflict, match="Read it again"):
        await call(
            WriteFile(fs, DiskEditor(user_edits_meanwhile)), sink, path="src/app.py", content="x"
        )
    assert sink.edit_statuses() == ["proposed", "stale"]
    assert app.read_text() == "typed while the prompt was open\n"


# ---------------------------------------------------------------- edit_file


async def test_edit_file_replaces_and_previews(ws: Path) -> None:
    fs = make_fs(ws)
    sink = Sink()
    app = ws / "src" / "app.py"
    await call(ReadFile(fs), path="src/app.py")
    out = await call(
        EditFile(fs, DiskEditor()),
        sink,
        path="src/app.py",
        old_string="print('hi')",
        new_string="print('hello')\n    return 0",
    )
    assert out.summary == "Edited src/app.py (1 replacement)"
    assert app.read_text() == "def main():\n    print('hello')\n    return 0\n\nmain()\n"
    assert out.content == (
        "     1\tdef main():\n     2\t    print('hello')\n     3\t    return 0\n"
        "     4\t\n     5\tmain()"
    )
    assert sink.edit_statuses() == ["proposed", "applied"]
    # The tracker follows the agent's own edit: a second edit needs no new read.
    out = await call(
        EditFile(fs, DiskEditor()), path="src/app.py", old_string="main()\n", new_string="run()\n"
    )
    assert app.read_text().endswith("\nrun()\n")


async def test_edit_file_refusals(ws: Path) -> None:
    fs = make_fs(ws)
    tool = EditFile(fs, DiskEditor())
    (ws / "dup.py").write_text("x = 1\ny = 2\nx = 1\nz = 3\nx = 1\n")
    with pytest.raises(EditConflict, match="You have not read dup.py yet"):
        await call(tool, path="dup.py", old_string="x = 1", new_string="x = 9")
    await call(ReadFile(fs), path="dup.py")
    with pytest.raises(InvalidArgument, match="old_string is empty"):
        await call(tool, path="dup.py", old_string="", new_string="a")
    with pytest.raises(InvalidArgument, match="identical"):
        await call(tool, path="dup.py", old_string="y", new_string="y")
    with pytest.raises(EditConflict) as info:
        await call(tool, path="dup.py", old_string="x = 1", new_string="x = 9")
    assert str(info.value) == (
        "old_string matches 3 places in dup.py (lines 1, 3, 5); include more surrounding "
        "lines to make it unique, or set replace_all."
    )
    with pytest.raises(EditConflict) as info:
        await call(tool, path="dup.py", old_string="w = 0", new_string="w = 1")
    assert str(info.value) == (
        "old_string was not found in dup.py. Check whitespace and indentation, or read the "
        "file again."
    )
    with pytest.raises(FileNotFound, match="use write_file"):
        await call(tool, path="missing.py", old_string="a", new_string="b")
    assert (ws / "dup.py").read_text() == "x = 1\ny = 2\nx = 1\nz = 3\nx = 1\n"
    out = await call(tool, path="dup.py", old_string="x = 1", new_string="x = 9", replace_all=True)
    assert out.summary == "Edited dup.py (3 replacements)"
    assert (ws / "dup.py").read_text() == "x = 9\ny = 2\nx = 9\nz = 3\nx = 9\n"


async def test_edit_file_on_a_file_changed_since_read(ws: Path) -> None:
    fs = make_fs(ws)
    sink = Sink()
    await call(ReadFile(fs), path="src/app.py")
    (ws / "src" / "app.py").write_text("def main():\n    print('hi')  # user\n")
    with pytest.raises(EditConflict, match="changed since you last read it"):
        await call(
            EditFile(fs, DiskEditor()),
            sink,
            path="src/app.py",
            old_string="print('hi')",
            new_string="print('x')",
        )
    assert sink.edit_statuses() == ["stale"]
    assert "# user" in (ws / "src" / "app.py").read_text()


async def test_edit_file_keeps_crlf_line_endings(ws: Path) -> None:
    fs = make_fs(ws)
    (ws / "win.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    await call(ReadFile(fs), path="win.txt")
    await call(EditFile(fs, DiskEditor()), path="win.txt", old_string="one\ntwo", new_string="1\n2")
    assert (ws / "win.txt").read_bytes() == b"1\r\n2\r\nthree\r\n"


async def test_edit_file_rejected_keeps_the_file(ws: Path) -> None:
    async def refuse(edit: ProposedEdit) -> bool:
        return False

    fs = make_fs(ws)
    await call(ReadFile(fs), path="src/app.py")
    before = (ws / "src" / "app.py").read_text()
    with pytest.raises(EditConflict, match="rejected"):
        await call(
            EditFile(fs, DiskEditor(refuse)), path="src/app.py", old_string="hi", new_string="yo"
        )
    assert (ws / "src" / "app.py").read_text() == before


# ---------------------------------------------------------------- tracker, fs, disk editor


def test_tracker_lru_and_aliases(tmp_path: Path) -> None:
    tracker = Tracker()
    root = Path(os.path.realpath(tmp_path))
    for i in range(25):
        tracker.record(root / f"f{i}.txt", str(i), None)
    recent = tracker.recent(30)
    assert len(recent) == 20
    assert recent[:2] == [root / "f24.txt", root / "f23.txt"]
    assert tracker.has(root / "f0.txt")  # hashes outlive the recency list
    (root / "real.txt").write_text("r")
    (root / "alias.txt").symlink_to(root / "real.txt")
    tracker.record(root / "alias.txt", "r", 7)
    assert tracker.recent(1) == [root / "real.txt"]
    assert tracker.version_of(root / "real.txt") == 7
    tracker.verify(root / "real.txt", "r")
    with pytest.raises(EditConflict, match="changed since"):
        tracker.verify(root / "real.txt", "other")


def test_atomic_write_keeps_mode_and_creates_parents(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    atomic_write(script, "#!/bin/sh\necho hi\n")
    assert script.read_text() == "#!/bin/sh\necho hi\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    atomic_write(tmp_path / "a" / "b" / "c.txt", "deep")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "deep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "run.sh"]


async def test_scoped_fs_exists_and_empty_scope(ws: Path) -> None:
    fs = make_fs(ws)
    assert await fs.exists("src/app.py")
    assert not await fs.exists("src/none.py")
    empty = ScopedFs(Scope.empty(), None, Tracker())
    with pytest.raises(ScopeDenied, match="No workspace folder is open"):
        await empty.read_text("a.txt")
    with pytest.raises(ScopeDenied, match="No workspace folder is open"):
        await call(ReadFile(empty), path=str(ws / "src" / "app.py"))


async def test_disk_editor_outcomes(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    edit = ProposedEdit("c", "write_file", target, None, "new\n", None, "label")
    assert (await DiskEditor().apply_edit(edit)).status == "applied"
    assert target.read_text() == "new\n"
    again = await DiskEditor().apply_edit(edit)
    assert again.status == "stale"
    assert again.message is not None
    assert "was created" in again.message

    async def broken(edit: ProposedEdit) -> bool:
        raise RuntimeError("terminal closed")

    refused = await DiskEditor(broken).apply_edit(edit)
    assert refused.status == "rejected"
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    failing = ProposedEdit("c", "write_file", blocked / "x.txt", None, "x", None, "label")
    result = await DiskEditor().apply_edit(failing)
    assert result.status == "failed"
    assert result.message is not None
    assert "Cannot write" in result.message


def test_unified_diff(tmp_path: Path) -> None:
    path = tmp_path / "pkg" / "m.py"
    edit = ProposedEdit("c", "edit_file", path, "a = 1\nb = 2\n", "a = 1\nb = 3\n", None, "l")
    diff = unified_diff(edit, root=tmp_path)
    assert diff.splitlines() == [
        "--- a/pkg/m.py",
        "+++ b/pkg/m.py",
        "@@ -1,2 +1,2 @@",
        " a = 1",
        "-b = 2",
        "+b = 3",
    ]
    created = ProposedEdit("c", "write_file", path, None, "x", None, "l")
    assert unified_diff(created, root=tmp_path).splitlines()[:2] == [
        "--- /dev/null",
        "+++ b/pkg/m.py",
    ]
    assert "\\ No newline at end of file" in unified_diff(created, root=tmp_path)


def test_builtin_tools_describe_every_argument(ws: Path) -> None:
    editor = DiskEditor()
    env = ToolEnv(make_fs(ws, editor), editor, ApprovalGate(DenyAll(), "ask", ws))
    tools = ToolSet(builtin_tools(env))
    assert tools.names() == [
        "edit_file",
        "glob",
        "grep",
        "list_dir",
        "read_file",
        "run_command",
        "write_file",
    ]
    for spec in tools.specs():
        assert spec.description
        properties = spec.parameters["properties"]
        assert properties, spec.name
        for name, prop in properties.items():
            assert prop.get("description"), f"{spec.name}.{name} has no description"
