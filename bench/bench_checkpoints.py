"""Checkpoint snapshots of a 10,000-file workspace with a few changes, against
``git status --porcelain`` in a plain repository of the same files (the least
a git-based "what changed" can cost), measured in the same run.

The workspace is a git repository of its own (as most are) with a
``.gitignore``; the shadow repository lives in a temporary ``YOI_HOME``. Prints
the first (full) snapshot once, then for each round: the baseline, a snapshot
with nothing changed, and a snapshot after 5 edits, 1 new file and 1 deletion;
medians and the ratios against the baseline."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.checkpoints.shadow import ShadowRepo

FILES = 10_000
PER_DIR = 50


def make_workspace(root: Path) -> list[Path]:
    paths = []
    for n in range(FILES):
        folder = root / "src" / f"pkg{n // PER_DIR:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"mod{n:05d}.py"
        path.write_text(f"# module {n}\n" + f"def f():\n    return {n}\n" * 20)
        paths.append(path)
    (root / ".gitignore").write_text("build/\n*.pyc\n")
    (root / "build").mkdir()
    (root / "build" / "out.bin").write_bytes(b"x" * 1000)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return paths


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        paths = make_workspace(root)
        repo = ShadowRepo(Path(tmp) / "home", root)
        env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}

        def status() -> None:
            subprocess.run(
                ["git", "status", "--porcelain"], cwd=root, env=env, check=True, capture_output=True
            )

        first = timed(lambda: repo.snapshot("turn"))
        print(f"workspace: {FILES:,} files in {FILES // PER_DIR} folders")
        print(f"first snapshot (every file hashed):        {first * 1000:8.1f} ms")
        base, idle, changed = [], [], []
        for r in range(args.rounds):
            base.append(timed(status))
            idle.append(timed(lambda: repo.snapshot("step")))
            for k in range(5):
                p = paths[(r * 997 + k * 131) % FILES]
                p.write_text(p.read_text() + f"# edit {r}\n")
            (root / "src" / f"new{r}.py").write_text("new\n")
            paths[(r * 389 + 7) % FILES].unlink(missing_ok=True)
            changed.append(timed(lambda: repo.snapshot("step")))
        b, i, c = (statistics.median(x) * 1000 for x in (base, idle, changed))
        print(f"baseline: git status --porcelain (median): {b:8.1f} ms")
        print(f"snapshot, nothing changed (median):        {i:8.1f} ms   {i / b:.2f}x baseline")
        print(f"snapshot, 5 edits + 1 new + 1 deleted:     {c:8.1f} ms   {c / b:.2f}x baseline")
        print(f"  every round (ms): {', '.join(f'{x * 1000:.0f}' for x in changed)}")
        print(
            f"shadow repository: {repo.size() / 1e6:.1f} MB for {len(repo.snapshots())} snapshots"
        )


if __name__ == "__main__":
    main()
