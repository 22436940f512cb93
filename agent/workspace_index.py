"""The workspace's files, for ``@`` completion: scanned once, then kept current
by watchfiles instead of rescanning.

Paths are workspace-relative POSIX strings. The scan and the watcher honour
``.gitignore`` (through :class:`agent.tools.ignore.IgnoreTree`) and never enter
``.git``. The scan runs in a thread; searches run on the event loop and are
fast enough to answer every keystroke (see ``bench/bench_references.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import Change, awatch

from agent.fuzzy import FuzzyIndex, Match
from agent.tools.ignore import IgnoreTree

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


def _not_in_git(change: Change, path: str) -> bool:
    return "/.git/" not in path and not path.endswith("/.git")


class WorkspaceIndex:
    def __init__(self, root: Path, *, debounce_ms: int = 50) -> None:
        self.root = root
        self.ignore = IgnoreTree(root)
        self.fuzzy = FuzzyIndex()
        self.ready = asyncio.Event()
        self.debounce_ms = debounce_ms
        self.watching = asyncio.Event()
        # told about every batch of file-system changes (e.g. knowledge records)
        self.listeners: list[Callable[[set[tuple[Change, str]]], None]] = []

    # ------------------------------------------------------------ scan

    def _relative(self, path: Path) -> str | None:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def _scan(self, progress: ProgressCallback | None) -> FuzzyIndex:
        found: list[str] = []
        for path in self.ignore.walk(self.root, symlinks=False):
            rel = self._relative(path)
            if rel is not None:
                found.append(rel)
                if progress is not None and len(found) % 5000 == 0:
                    progress(len(found))
        index = FuzzyIndex(found)
        index.prepare()
        return index

    async def build(self, progress: ProgressCallback | None = None) -> int:
        """Scan the workspace (in a thread). ``progress`` is called on the event
        loop with the number of files found so far."""
        loop = asyncio.get_running_loop()

        def report(count: int) -> None:
            if progress is not None:
                loop.call_soon_threadsafe(progress, count)

        self.fuzzy = await asyncio.to_thread(self._scan, report)
        self.ready.set()
        return len(self.fuzzy)

    # ------------------------------------------------------------ watch

    async def watch(self, stop: asyncio.Event | None = None) -> None:
        """Apply file-system changes until ``stop`` is set (or cancelled)."""
        await self.ready.wait()
        try:
            watcher = awatch(
                self.root,
                watch_filter=_not_in_git,
                debounce=self.debounce_ms,
                step=10,
                stop_event=stop,
                yield_on_timeout=True,
                rust_timeout=200,
            )
            self.watching.set()
            async for changes in watcher:
                if changes:
                    for listener in self.listeners:
                        listener(changes)
                    await self.apply(changes)
        except OSError as exc:  # e.g. the inotify watch limit
            log.warning(
                "cannot watch %s for changes (%s); @ completion may miss new files", self.root, exc
            )

    async def apply(self, changes: Iterable[tuple[Change, str]]) -> None:
        removed, added, rescan = await asyncio.to_thread(self._classify, list(changes))
        if rescan:
            await self.build()
            return
        for rel in removed:
            self._remove_tree(rel)
        for rel in added:
            self.fuzzy.add(rel)

    def _classify(self, changes: list[tuple[Change, str]]) -> tuple[list[str], list[str], bool]:
        """What the changes mean for the index (file-system reads: in a thread)."""
        removed: list[str] = []
        added: list[str] = []
        for change, raw in changes:
            path = Path(raw)
            rel = self._relative(path)
            if rel is None or rel == ".":
                continue
            if path.name == ".gitignore":
                return [], [], True
            if change == Change.deleted or not path.exists():
                removed.append(rel)
            elif path.is_dir() and not path.is_symlink():
                if not self.ignore.is_ignored(path, True):
                    walked = (self._relative(f) for f in self.ignore.walk(path, symlinks=False))
                    added.extend(r for r in walked if r is not None)
            elif path.is_file() and not self.ignore.is_ignored(path, False):
                added.append(rel)
        return removed, added, False

    def _remove_tree(self, rel: str) -> None:
        prefix = rel + "/"
        self.fuzzy.remove_where(lambda p: p == rel or p.startswith(prefix))

    # ------------------------------------------------------------ search

    async def search(self, query: str, limit: int = 50) -> list[Match]:
        """The best matches; waits for the first scan if it is still running."""
        await self.ready.wait()
        return self.fuzzy.search(query, limit)

    def __contains__(self, rel: object) -> bool:
        return rel in self.fuzzy
