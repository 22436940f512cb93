"""glob and grep over real trees; grep's ripgrep and Python backends agree."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from agent.errors import FileNotFound, InvalidArgument, ScopeDenied
from agent.ports import BufferSnapshot, EditResult, NullSink, ProposedEdit
from agent.scope import Permission, Scope, ScopeRule
from agent.tools.base import Tool, ToolCallContext, ToolOutput
from agent.tools.fs import ScopedFs, Tracker
from agent.tools.search import Glob, Grep

HAVE_RG = shutil.which("rg") is not None


class OpenBuffers:
    """An editor port with open buffers and nothing else."""

    def __init__(self, buffers: dict[Path, str]) -> None:
        self.buffers = buffers

    def open_buffer(self, path: Path) -> BufferSnapshot | None:
        text = self.buffers.get(path)
        return BufferSnapshot(text, 3) if text is not None else None

    def open_paths(self) -> list[Path]:
        return list(self.buffers)

    async def apply_edit(self, edit: ProposedEdit) -> EditResult:
        return EditResult("rejected")


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = Path(os.path.realpath(tmp_path)) / "ws"
    write(
        root,
        {
            ".gitignore": "build/\n*.log\n",
            "src/app.py": "import os\n\ndef main():\n    return helper()\n",
            "src/util.py": "def helper():\n    return 42\n",
            "src/a b.py": "# helper with a space\n",
            "src/sub/deep.py": "class Helper:\n    pass\n",
            "docs/guide.md": "Use helper() to help.\nHELPER in caps\n",
            ".github/ci.yml": "run: helper\n",
            ".git/config": "helper = git\n",
            "build/gen.py": "def helper(): pass\n",
            "debug.log": "helper called\n",
            "blob.bin": b"helper\x00\x01\x02",
            "crlf.txt": b"first\r\nhelper line\r\n",
        },
    )
    outside = root.parent / "outside"
    write(outside, {"secret.py": "helper = 'secret'\n"})
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "secret_link.py").symlink_to(outside / "secret.py")
    return root


def make_fs(root: Path, editor: Any = None, scope: Scope | None = None) -> ScopedFs:
    return ScopedFs(scope or Scope.default(root), editor, Tracker())


async def call(tool: Tool[Any], **raw: Any) -> ToolOutput:
    return await tool.run(tool.parse(raw), ToolCallContext(call_id="c", events=NullSink()))


def lines(out: ToolOutput) -> list[str]:
    return (out.content or "").splitlines()


# ---------------------------------------------------------------- glob


async def test_glob_matches_relative_paths_and_honours_gitignore(ws: Path) -> None:
    out = await call(Glob(make_fs(ws)), pattern="**/*.py")
    assert sorted(lines(out)) == ["src/a b.py", "src/app.py", "src/sub/deep.py", "src/util.py"]
    assert out.summary == "Found 4 files matching `**/*.py` in ."
    top = await call(Glob(make_fs(ws)), pattern="*.py")
    assert lines(top) == []
    assert top.summary == "No files match `*.py` in ."
    hidden = await call(Glob(make_fs(ws)), pattern="**/*.yml")
    assert lines(hidden) == [".github/ci.yml"]
    assert lines(await call(Glob(make_fs(ws)), pattern="**/config")) == []


async def test_glob_sorts_newest_first_and_takes_a_base(ws: Path) -> None:
    now = time.time()
    for i, name in enumerate(["util.py", "app.py", "a b.py"]):
        os.utime(ws / "src" / name, (now - 100 + i * 10, now - 100 + i * 10))
    os.utime(ws / "src" / "sub" / "deep.py", (now - 500, now - 500))
    out = await call(Glob(make_fs(ws)), pattern="*.py", path="src")
    assert lines(out) == ["src/a b.py", "src/app.py", "src/util.py"]
    out = await call(Glob(make_fs(ws)), pattern="src/**/*.{py,md}")
    assert lines(out) == ["src/a b.py", "src/app.py", "src/util.py", "src/sub/deep.py"]
    out = await call(Glob(make_fs(ws)), pattern=f"{ws}/src/sub/*.py")
    assert lines(out) == ["src/sub/deep.py"]


async def test_glob_stays_in_scope(ws: Path) -> None:
    tool = Glob(make_fs(ws))
    with pytest.raises(ScopeDenied):
        await call(tool, pattern="*.py", path="..")
    with pytest.raises(ScopeDenied):
        await call(tool, pattern="../outside/*.py")
    with pytest.raises(ScopeDenied):
        await call(tool, pattern="*.py", path="linked")
    out = await call(tool, pattern="**/secret*")
    assert lines(out) == []  # the symlinked dir is not entered, the file link resolves outside
    with pytest.raises(InvalidArgument, match="is a file"):
        await call(tool, pattern="*", path="src/app.py")


async def test_glob_caps_results(ws: Path) -> None:
    many = ws / "many"
    many.mkdir()
    for i in range(1003):
        (many / f"f{i:04d}.txt").touch()
    out = await call(Glob(make_fs(ws)), pattern="many/*.txt")
    assert len(lines(out)) == 1001
    assert lines(out)[-1] == "[3 more files not shown; narrow the pattern]"
    assert out.summary.endswith("(showing the 1000 newest)")


# ---------------------------------------------------------------- grep (Python backend)


def py_grep(root: Path, editor: Any = None, scope: Scope | None = None) -> Grep:
    return Grep(make_fs(root, editor, scope), use_ripgrep=False)


async def test_grep_content_mode(ws: Path) -> None:
    out = await call(py_grep(ws), pattern=r"def \w+\(")
    assert lines(out) == ["src/app.py:3:def main():", "src/util.py:1:def helper():"]
    assert out.summary == "Found 2 matching lines in 2 files"


async def test_grep_honours_gitignore_hidden_binary_and_symlinks(ws: Path) -> None:
    out = await call(py_grep(ws), pattern="helper", output_mode="files_with_matches")
    assert lines(out) == [
        ".github/ci.yml",
        "crlf.txt",
        "docs/guide.md",
        "src/a b.py",
        "src/app.py",
        "src/util.py",
    ]
    assert out.summary == "Found 6 files with matches"


async def test_grep_modes_and_options(ws: Path) -> None:
    grep = py_grep(ws)
    out = await call(grep, pattern="helper", ignore_case=True, output_mode="count")
    assert "docs/guide.md:2" in lines(out)
    assert "src/sub/deep.py:1" in lines(out)
    out = await call(grep, pattern="helper", glob="*.md")
    assert lines(out) == ["docs/guide.md:1:Use helper() to help."]
    out = await call(grep, pattern="helper", glob="src/*.py", path=".")
    assert lines(out) == [
        "src/a b.py:1:# helper with a space",
        "src/app.py:4:    return helper()",
        "src/util.py:1:def helper():",
    ]
    out = await call(grep, pattern="return", context=1, path="src")
    assert lines(out) == [
        "src/app.py-3-def main():",
        "src/app.py:4:    return helper()",
        "--",
        "src/util.py-1-def helper():",
        "src/util.py:2:    return 42",
    ]
    out = await call(grep, pattern="helper line$", path="crlf.txt")
    assert lines(out) == []  # like ripgrep, `$` does not match before a CR
    out = await call(grep, pattern="helper line", path="crlf.txt")
    assert lines(out) == ["crlf.txt:2:helper line"]
    out = await call(grep, pattern="helper", head_limit=2)
    assert lines(out)[:2] == [".github/ci.yml:1:run: helper", "crlf.txt:2:helper line"]
    assert lines(out)[2].startswith("[showing 2 of 6 lines")
    out = await call(grep, pattern="nothing-like-this")
    assert out.summary == "No matches for `nothing-like-this` in ."
    assert out.content is None


async def test_grep_refusals(ws: Path) -> None:
    grep = py_grep(ws)
    with pytest.raises(InvalidArgument, match="not a valid regular expression"):
        await call(grep, pattern="def (")
    with pytest.raises(ScopeDenied):
        await call(grep, pattern="x", path="../outside")
    with pytest.raises(FileNotFound):
        await call(grep, pattern="x", path="nope")
    with pytest.raises(InvalidArgument, match="output_mode"):
        await call(grep, pattern="x", output_mode="lines")


async def test_grep_respects_deny_rules(ws: Path) -> None:
    scope = Scope(
        ws,
        [ScopeRule(ws, Permission.WRITE)],
        deny=[ScopeRule(ws / "docs", Permission.READ)],
    )
    out = await call(py_grep(ws, scope=scope), pattern="helper", output_mode="files_with_matches")
    assert "docs/guide.md" not in lines(out)
    assert "src/util.py" in lines(out)


async def test_grep_searches_open_buffers_instead_of_disk(ws: Path) -> None:
    editor = OpenBuffers(
        {
            ws / "src" / "util.py": "def renamed():\n    return 42\n",
            ws / "src" / "unsaved_new.py": "def helper_two():\n",
            ws / "build" / "open_but_ignored.py": "helper\n",
            ws.parent / "outside" / "open_outside.py": "helper\n",
        }
    )
    out = await call(py_grep(ws, editor), pattern="def helper", output_mode="files_with_matches")
    assert lines(out) == ["src/unsaved_new.py"]
    out = await call(py_grep(ws, editor), pattern="renamed", path="src/util.py")
    assert lines(out) == ["src/util.py:1:def renamed():"]
    # Naming an ignored directory searches it, open buffers included.
    out = await call(py_grep(ws, editor), pattern="helper", path="build")
    assert lines(out) == ["build/gen.py:1:def helper(): pass", "build/open_but_ignored.py:1:helper"]


# ---------------------------------------------------------------- the two backends agree


CASES: list[dict[str, Any]] = [
    {"pattern": "helper"},
    {"pattern": "helper", "output_mode": "files_with_matches"},
    {"pattern": "helper", "output_mode": "count", "ignore_case": True},
    {"pattern": "return|class", "context": 2},
    {"pattern": "^def", "path": "src"},
    {"pattern": "help", "glob": "*.{py,md}"},
    {"pattern": "helper", "path": "build"},
    {"pattern": "helper", "path": "debug.log"},
    {"pattern": "helper", "path": "blob.bin"},
    {"pattern": r"(he)lper\(\)", "head_limit": 1},
    {"pattern": r"(\w)\1"},  # a backreference: ripgrep cannot, so both use Python
]


@pytest.mark.skipif(not HAVE_RG, reason="ripgrep is not installed")
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
async def test_ripgrep_and_python_backends_agree(
    ws: Path, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        ws,
        {
            "src/pkg/.gitignore": "*.tmp\n!keep.tmp\n",
            "src/pkg/x.tmp": "helper\n",
            "src/pkg/keep.tmp": "helper kept\n",
            "a.txt": "helper a\n",
            "a/b.txt": "helper b\n",
            "a-b/c.txt": "helper c\n",
            "late_nul.dat": "helper\n" + "x" * 20000 + "\x00",
            "latin.txt": b"helper caf\xe9\n",
        },
    )
    editor = OpenBuffers({ws / "src" / "util.py": "def helper():\n    return 'buffer'\n"})
    fast = Grep(make_fs(ws, editor), use_ripgrep=True)
    slow = Grep(make_fs(ws, editor), use_ripgrep=False)
    if case is not CASES[-1]:

        def no_fallback(*_: Any) -> None:
            raise AssertionError("ripgrep should have run this search")

        monkeypatch.setattr(fast, "_search_python", no_fallback)
    rg_out = await call(fast, **case)
    py_out = await call(slow, **case)
    assert rg_out == py_out
    if case == CASES[0]:
        assert "src/util.py:2:    return 'buffer'" not in lines(rg_out)
        assert "src/util.py:1:def helper():" in lines(rg_out)
        assert "src/pkg/keep.tmp:1:helper kept" in lines(rg_out)
        assert "latin.txt:1:helper caf\ufffd" in lines(rg_out)
        assert not any(line.startswith(("src/pkg/x.tmp", "late_nul")) for line in lines(rg_out))
        names = [line.split(":")[0] for line in lines(rg_out)]
        assert names.index("a/b.txt") < names.index("a-b/c.txt") < names.index("a.txt")
