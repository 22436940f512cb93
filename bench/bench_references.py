"""@ completion on a 100,000-file workspace.

Measures, in one run:
- the first scan (``WorkspaceIndex.build``: .gitignore-aware walk);
- per-keystroke answers while a query is typed character by character
  (``WorkspaceIndex.search``), as the language server runs them;
- the baseline a naive server would pay per keystroke: rescan the tree and
  filter it (``os.walk`` + the same fuzzy match), on the same tree;
- how long a file created after the scan takes to appear (the watcher).

Prints milliseconds and the speed-up of a keystroke over the baseline.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.fuzzy import FuzzyIndex
from agent.workspace_index import WorkspaceIndex

FILES = 100_000
QUERIES = ["servpodmgr", "readme", "testutil"]
WORDS = ["server", "client", "pods", "utils", "core", "api", "model", "view", "test", "docs"]


def make_tree(root: Path) -> None:
    """100,000 files in 2,000 directories, plus 5,000 ignored ones."""
    per_dir = FILES // 2000
    for d in range(2000):
        a, b = WORDS[d % 10], WORDS[(d // 10) % 10]
        folder = root / f"{a}_{d // 100}" / f"{b}{d}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(per_dir):
            name = f"{WORDS[(d + f) % 10]}_{f}_{'mgr' if f % 7 == 0 else 'impl'}.py"
            os.close(os.open(folder / name, os.O_CREAT | os.O_WRONLY, 0o644))
    ignored = root / "node_modules" / "pkg"
    ignored.mkdir(parents=True)
    for f in range(5000):
        os.close(os.open(ignored / f"dep{f}.js", os.O_CREAT | os.O_WRONLY, 0o644))
    (root / ".gitignore").write_text("node_modules/\n")
    (root / "README.md").write_text("# bench\n")


def naive_answer(root: Path, query: str) -> int:
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", "node_modules")]
        rel = os.path.relpath(dirpath, root)
        paths.extend(f if rel == "." else f"{rel}/{f}" for f in filenames)
    return len(FuzzyIndex(paths).search(query, 50))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        make_tree(root)
        print(f"tree: {FILES:,} files (+5,000 ignored) made in {time.perf_counter() - began:.1f} s")

        index = WorkspaceIndex(root)
        began = time.perf_counter()
        count = await index.build()
        scan = time.perf_counter() - began
        print(f"first scan:           {ms(scan)}  ({count:,} files indexed)")

        keystrokes: list[float] = []
        for query in QUERIES:
            for n in range(1, len(query) + 1):
                began = time.perf_counter()
                await index.search(query[:n], 50)
                keystrokes.append(time.perf_counter() - began)
        p50 = statistics.median(keystrokes)
        p95 = statistics.quantiles(keystrokes, n=20)[18]
        print(f"keystroke answer:     p50 {ms(p50)}  p95 {ms(p95)}  max {ms(max(keystrokes))}")

        began = time.perf_counter()
        naive_answer(root, "servpod")
        naive = time.perf_counter() - began
        print(f"baseline (rescan):    {ms(naive)} per keystroke")
        print(f"speed-up per keystroke: {naive / p50:.0f}x (p50), {naive / p95:.0f}x (p95)")

        stop = asyncio.Event()
        watcher = asyncio.ensure_future(index.watch(stop))
        await index.watching.wait()
        await asyncio.sleep(0.5)
        began = time.perf_counter()
        (root / "server_1" / "freshly_created_file.py").write_text("")
        while "server_1/freshly_created_file.py" not in index:
            await asyncio.sleep(0.005)
        print(f"new file visible in:  {ms(time.perf_counter() - began)} (watcher, no rescan)")
        stop.set()
        await watcher


if __name__ == "__main__":
    asyncio.run(main())
