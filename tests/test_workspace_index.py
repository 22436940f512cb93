"""The workspace index behind @ completion: the scan keeps what the
.gitignore-aware walk keeps, the watcher applies changes, and neither the
scan nor the watcher stalls the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.tools.ignore import IgnoreTree
from agent.workspace_index import WorkspaceIndex


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return Path(os.path.realpath(tmp_path))


def make(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


def _queued() -> float:
    """Seconds this process's threads have waited for a CPU (Linux's
    schedstat); 0 where that is unknown."""
    total = 0.0
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with (
                contextlib.suppress(OSError, ValueError, IndexError),
                open(f"/proc/self/task/{task}/schedstat") as stat,
            ):
                total += int(stat.read().split()[1]) / 1e9
    return total


class LoopLag:
    """A task that sleeps ``tick`` seconds in a loop and records how late it
    wakes up: the longest the event loop could not run.

    ``worst`` is wall-clock lateness. On a busy machine (other engineers'
    builds on the same two cores) part of it is this process's threads
    waiting for a CPU, the loop's own or one that holds the GIL, which this
    process cannot help; ``worst_here`` leaves that run-queue wait out (from
    /proc), so what remains is the loop blocked by this process's work: a
    long call on the loop, or another thread running with the GIL."""

    def __init__(self, tick: float = 0.002) -> None:
        self.tick = tick
        self.worst = 0.0
        self.worst_here = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _probe(self) -> None:
        while True:
            asked, queued = time.perf_counter(), _queued()
            await asyncio.sleep(self.tick)
            late = time.perf_counter() - asked - self.tick
            self.worst = max(self.worst, late)
            self.worst_here = max(self.worst_here, late - (_queued() - queued))

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._probe())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def until(condition: Callable[[], bool], patience: float = 10.0) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_the_scan_keeps_what_the_ignore_walk_keeps(root: Path) -> None:
    (root / ".gitignore").write_text(
        "*.log\nbuild/\n/top.txt\n!keep.log\ndocs/**/*.tmp\n**/logs\nlib/**\n[!a]x\n\\#hash\n"
    )
    make(
        root,
        [
            "a.log",
            "keep.log",
            "top.txt",
            "sub/top.txt",
            "sub/b.log",
            "build/out.js",
            "sub/build/x.js",
            "buildfile",
            "docs/a/b/c.tmp",
            "docs/readme.md",
            "pkg/b.gen",
            "pkg/a.gen",
            "pkg/data/x.csv",
            "data/y.csv",
            "out/keep.txt",
            "out/x.txt",
            ".git/config",
            "src/.git",
            "src/a.py",
            "elsewhere/b.py",
            "Mixed/Case.PY",
            "deep/er/logs/1",
            "lib/x/y",
            "lib.txt",
            "ax",
            "bx",
            "sub/bx",
            "#hash",
            "nested/cache/x.txt",
            "nested/cache.txt",
        ],
    )
    (root / "nested" / ".gitignore").write_text("cache/\n!*.log\n")
    (root / "pkg" / ".gitignore").write_text("*.gen\n!b.gen\n/data/\n")
    (root / "out" / ".gitignore").write_text("*\n!keep.txt\n")
    (root / "src" / "linked").symlink_to(root / "elsewhere")
    (root / "src" / "linked.py").symlink_to(root / "src" / "a.py")
    os.mkfifo(root / "src" / "pipe")
    expected = sorted(
        p.relative_to(root).as_posix() for p in IgnoreTree(root).walk(root, symlinks=False)
    )
    assert "pkg/b.gen" in expected and "keep.log" in expected and "a.log" not in expected

    index = WorkspaceIndex(root)
    assert await index.build() == len(expected)
    assert sorted(index.fuzzy.paths()) == expected
    assert index.fuzzy.search("case.py")[0].path == "Mixed/Case.PY"


async def test_the_watcher_applies_changes(root: Path) -> None:
    make(root, ["src/a.py", "src/deep/b.py", "src/deep/c.py", "README.md"])
    index = WorkspaceIndex(root)
    await index.build()
    stop = asyncio.Event()
    watcher = asyncio.create_task(index.watch(stop))
    try:
        await asyncio.wait_for(index.watching.wait(), 10)
        (root / "src" / "fresh.py").write_text("")
        make(root, ["new/dir/inside.py"])
        await until(lambda: "src/fresh.py" in index and "new/dir/inside.py" in index)
        (root / "src" / "a.py").unlink()
        await until(lambda: "src/a.py" not in index)
        for name in ("b.py", "c.py"):
            (root / "src" / "deep" / name).unlink()
        (root / "src" / "deep").rmdir()
        await until(lambda: not any(p.startswith("src/deep/") for p in index.fuzzy.paths()))
        (root / ".gitignore").write_text("src/\n")  # a rule change rescans
        await until(lambda: "src/fresh.py" not in index)
        assert sorted(index.fuzzy.paths()) == [".gitignore", "README.md", "new/dir/inside.py"]
    finally:
        stop.set()
        await asyncio.wait_for(watcher, 10)


@pytest.fixture
def roomy(tmp_path: Path) -> Iterator[Path]:
    """A directory for a big tree: in memory (/dev/shm) where there is one,
    since making 100,000 files on a busy disk can take half a minute."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield Path(os.path.realpath(tmp_path))
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="yoi-test-") as tmp:
        yield Path(os.path.realpath(tmp))


async def index_watch_and_delete(root: Path, rel: str) -> LoopLag:
    """Build an index of ``root``, start its watcher and delete ``rel``,
    under a loop-lag probe."""
    index = WorkspaceIndex(root)
    stop = asyncio.Event()
    async with LoopLag() as lag:
        assert await index.build() == 100_000
        watcher = asyncio.create_task(index.watch(stop))
        try:
            await asyncio.wait_for(index.watching.wait(), 30)
            (root / rel).unlink()
            await until(lambda: rel not in index)
        finally:
            stop.set()
            await asyncio.wait_for(watcher, 10)
    found = [m.path for m in index.fuzzy.search(rel)]
    assert found and rel not in found
    (root / rel).touch()
    return lag


@pytest.mark.quiet
@pytest.mark.timeout(90)
async def test_indexing_and_a_deletion_never_stall_the_loop(roomy: Path) -> None:
    """100,000 files: the scan, the watcher's start and applying a deletion
    keep the event loop answering within 20 ms.

    A stall of this process's making (a long call on the loop, a long C call
    in a thread holding the GIL) comes back on every try; an overloaded
    machine's scheduling now and then does not, so up to three tries are
    made and the best must stay under 20 ms."""
    root = roomy
    for d in range(2000):
        folder = root / f"pkg{d // 100}" / f"module{d}"
        folder.mkdir(parents=True)
        for f in range(50):
            os.close(os.open(folder / f"file_{f}.py", os.O_CREAT | os.O_WRONLY, 0o644))
    tries: list[str] = []
    for attempt in range(3):
        d = 777 * attempt
        lag = await index_watch_and_delete(root, f"pkg{d // 100}/module{d}/file_7.py")
        tries.append(f"{lag.worst_here * 1000:.1f} ms ({lag.worst * 1000:.1f} ms wall clock)")
        if lag.worst_here < 0.020:
            break
    print("loop lag per try:", ", ".join(tries))
    assert lag.worst_here < 0.020, f"the event loop stalled: {', '.join(tries)}"
