"""The workspace's files, for ``@`` completion: scanned once, then kept current
by watchfiles instead of rescanning.

Paths are workspace-relative POSIX strings. The scan and the watcher honour
``.gitignore`` (the rules of :mod:`agent.tools.ignore`, decided as
:meth:`IgnoreTree.is_ignored` does) and never enter ``.git``. The scan (in a
thread) lists directories with ``os.scandir`` a batch at a time and builds
each relative path once, from the names it listed (no ``Path`` per file);
types, paths and the rules are C-level passes over a batch's entries.

The watcher is its own process (watchfiles holds the GIL while it sets up its
recursive watch, about a second for 100,000 files); it reports batches of
changes on a pipe within ``step_ms`` of the last change. Each batch becomes a
new :class:`FuzzyIndex` built in a worker thread from the current one, which
keeps answering until the new one replaces it. Searches run on the event loop
(see ``bench/bench_references.py``).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate, chain, compress, repeat
from operator import add, and_, attrgetter, gt, itemgetter, ne, not_, or_
from pathlib import Path

from watchfiles import Change, watch

from agent.fsutil import read_regular
from agent.fuzzy import FuzzyIndex, Match
from agent.tools.ignore import IgnoreRule, IgnoreTree, parse_gitignore

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]
Changes = set[tuple[Change, str]]
_LINE_LIMIT = 1 << 30  # one batch of changes is one line
_CHUNK = 8192  # paths per C-level pass
_DIRS = 256  # directories listed per batch
_REPORT_EVERY = 5000  # files found between progress reports
_NAME = attrgetter("name")


def _not_in_git(change: Change, path: str) -> bool:
    return "/.git/" not in path and not path.endswith("/.git")


_ANYWHERE = "^(?:.*/)?"  # how a rule without a slash starts: it matches a name


@dataclass(frozen=True)
class _Run:
    """Consecutive rules with the same verdict, as at most two regexes: the
    rules without a slash match a file name alone (shorter, and no
    backtracking over the folders), the others the path below the
    ``.gitignore``."""

    negate: bool
    names: re.Pattern[str] | None
    paths: re.Pattern[str] | None


@dataclass(frozen=True)
class _Rules:
    """One ``.gitignore``'s rules as runs, read from the last rule: the first
    run that matches a path decides it, as the last matching rule would."""

    base: str  # the directory holding the file, relative to the root
    files: tuple[_Run, ...]  # for files
    dirs: tuple[_Run, ...]  # and for directories

    @classmethod
    def of(cls, base: str, rules: Iterable[IgnoreRule]) -> _Rules:
        ordered = list(reversed(list(rules)))
        return cls(base, _runs([r for r in ordered if not r.dir_only]), _runs(ordered))


def _runs(rules: list[IgnoreRule]) -> tuple[_Run, ...]:
    runs: list[tuple[bool, list[str], list[str]]] = []
    for rule in rules:
        if not runs or runs[-1][0] != rule.negate:
            runs.append((rule.negate, [], []))
        pattern = rule.regex.pattern
        if pattern.startswith(_ANYWHERE):
            runs[-1][1].append("^" + pattern[len(_ANYWHERE) :])
        else:
            runs[-1][2].append(pattern)
    return tuple(_Run(negate, _either(names), _either(paths)) for negate, names, paths in runs)


def _either(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(patterns), re.DOTALL) if patterns else None


def _kept(
    levels: tuple[_Rules, ...], paths: list[str], names: list[str], is_dir: bool
) -> list[str]:
    """The ``paths`` (relative to the root, with their last parts ``names``,
    all in directories where the ``.gitignore`` files ``levels`` apply) that
    no rule ignores: the deepest file first, as :meth:`IgnoreTree.is_ignored`
    decides; a few C-level passes per run of rules, however many paths."""
    if len(paths) > _CHUNK:  # a chunk per C-level pass, so the GIL changes hands
        return [
            kept
            for at in range(0, len(paths), _CHUNK)
            for kept in _kept(levels, paths[at : at + _CHUNK], names[at : at + _CHUNK], is_dir)
        ]
    kept: list[str] = []
    for rules in reversed(levels):
        cut = len(rules.base) + 1 if rules.base else 0
        for run in rules.dirs if is_dir else rules.files:
            hits: list[bool] = [False] * len(paths)
            if run.names is not None:
                hits = list(map(bool, map(run.names.match, names)))
            if run.paths is not None:
                subs = list(map(itemgetter(slice(cut, None)), paths)) if cut else paths
                hits = list(map(or_, hits, map(bool, map(run.paths.match, subs))))
            if any(hits):
                if run.negate:
                    kept += compress(paths, hits)
                rest = list(map(not_, hits))
                paths, names = list(compress(paths, rest)), list(compress(names, rest))
        if not paths:
            break
    return kept + paths


def _release(items: list[str]) -> None:
    """Empty a big list a chunk at a time: freeing 100,000 strings at once is
    one long C call holding the GIL."""
    while items:
        del items[-_CHUNK:]


def _chunked_set(items: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(items), _CHUNK):
        found.update(items[start : start + _CHUNK])
    return found


def _rules_in(directory: str, rel: str) -> _Rules | None:
    try:
        data = read_regular(os.path.realpath(os.path.join(directory, ".gitignore")))
    except OSError:
        return None
    rules = parse_gitignore(data.decode("utf-8", errors="replace"))
    return _Rules.of(rel, rules) if rules else None


def _walk(
    top: str, rel: str, rules: tuple[_Rules, ...], progress: ProgressCallback | None
) -> list[str]:
    """The relative paths of the files under ``top`` (whose path relative to
    the root is ``rel``) that the rules keep; symlinks are not followed.
    Depth first, a batch of directories at a time: Python lists each
    directory; the rest is C-level passes over a batch's entries."""
    found: list[str] = []
    base = top[: len(top) - len(rel)] if rel else f"{top}/"  # the root, with a slash
    # directories to list and the rules above each: two lists, not pairs, so
    # the walk makes no objects for the garbage collector to track
    stack = _Stack([rel], [rules])
    reported = 0
    while stack.rels:
        batch = _Stack(stack.rels[-_DIRS:], stack.rules[-_DIRS:])
        del stack.rels[-_DIRS:], stack.rules[-_DIRS:]
        found += _listed(base, top, batch, stack)
        if progress is not None and len(found) - reported >= _REPORT_EVERY:
            reported = len(found)
            progress(reported)
    return found


@dataclass
class _Stack:
    rels: list[str]
    rules: list[tuple[_Rules, ...]]


def _listed(base: str, top: str, batch: _Stack, deeper: _Stack) -> list[str]:
    """The kept files of a batch of directories; their kept subdirectories
    are pushed on ``deeper``."""
    listings: list[list[os.DirEntry[str]]] = []
    owners: list[str] = []
    chains: list[tuple[_Rules, ...]] = []
    for where, rules in zip(batch.rels, batch.rules, strict=True):
        try:
            with os.scandir(base + where if where else top) as listing:
                listings.append(list(listing))
        except OSError:
            continue
        owners.append(where)
        chains.append(rules)
    entries = list(chain.from_iterable(listings))
    names = list(map(_NAME, entries))
    sizes = list(map(len, listings))
    if ".gitignore" in names:  # a directory with rules of its own
        ends, at = list(accumulate(sizes)), -1
        with contextlib.suppress(ValueError):  # when no more are found
            while True:
                at = names.index(".gitignore", at + 1)
                d = bisect.bisect_right(ends, at)
                read = _rules_in(base + owners[d] if owners[d] else top, owners[d])
                if read is not None:
                    chains[d] = (*chains[d], read)
    prefixes = [f"{where}/" if where else "" for where in owners]
    paths = list(map(add, chain.from_iterable(map(repeat, prefixes, sizes)), names))
    regular = list(map(gt, map(os.DirEntry.is_file, entries), map(os.DirEntry.is_symlink, entries)))
    wanted = list(map(ne, names, repeat(".git")))
    regular = list(map(and_, regular, wanted))
    others = compress(range(len(entries)), map(and_, map(not_, regular), wanted))
    folders = [i for i in others if entries[i].is_dir(follow_symlinks=False)]  # few
    groups = {id(rules): rules for rules in chains}
    kept: list[str] = []
    for key, rules in groups.items():
        if len(groups) == 1:
            selected: list[bool] = regular
            mine = folders
        else:  # the entries of the directories that have these rules
            member = list(chain.from_iterable(map(repeat, [id(c) == key for c in chains], sizes)))
            selected = list(map(and_, regular, member))
            mine = [i for i in folders if member[i]]
        files = list(compress(paths, selected))
        dirs = [paths[i] for i in mine]
        if rules:
            files = _kept(rules, files, list(compress(names, selected)), False)
            dirs = _kept(rules, dirs, [names[i] for i in mine], True)
        kept += files
        deeper.rels += dirs
        deeper.rules += repeat(rules, len(dirs))
    return kept


async def _close_on(stop: asyncio.Event, process: asyncio.subprocess.Process) -> None:
    await stop.wait()
    if process.stdin is not None:
        process.stdin.close()  # the watcher process ends within a step


async def _ended(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


def _recent(root: str, since_ns: int) -> list[str]:
    """The files under ``root`` (``.git`` and symlinks left out) changed at or
    after ``since_ns``, by their modification time."""
    found: list[str] = []
    stack = [root]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.name == ".git" or entry.is_symlink():
                        continue
                    if entry.is_dir():
                        stack.append(entry.path)
                    elif entry.stat(follow_symlinks=False).st_mtime_ns >= since_ns:
                        found.append(entry.path)
    return found


def _serve(root: str, debounce_ms: int, step_ms: int, since_ns: int) -> None:
    """The watcher process: one JSON line per batch of changes on stdout,
    ``[[change, path], ...]``, or ``{"error": ...}`` when it cannot watch.
    The first batch comes once it is watching and adds, as modified, every
    file changed since ``since_ns`` (when the host's scan began), so nothing
    that changed before the watch was set up goes unreported. It ends when
    its stdin closes. Its stdout carries only those lines: file descriptor 1
    points at stderr."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    halt = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.buffer.read()
        halt.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    told = False
    with contextlib.suppress(BrokenPipeError):
        try:
            for changes in watch(
                root,
                watch_filter=_not_in_git,
                debounce=debounce_ms,
                step=step_ms,
                stop_event=halt,
                rust_timeout=100,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                batch = [[int(change), path] for change, path in changes]
                if not told:
                    told = True
                    batch += [[int(Change.modified), path] for path in _recent(root, since_ns)]
                elif not batch:
                    continue
                out.write(json.dumps(batch) + "\n")
                out.flush()
        except OSError as exc:
            out.write(json.dumps({"error": str(exc)}) + "\n")
            out.flush()


class WorkspaceIndex:
    def __init__(self, root: Path, *, debounce_ms: int = 50, step_ms: int = 10) -> None:
        self.root = root
        self.ignore = IgnoreTree(root)
        self.fuzzy = FuzzyIndex()
        self.ready = asyncio.Event()
        self.debounce_ms = debounce_ms  # the longest a batch of changes is held
        self.step_ms = step_ms  # a batch ends after this long without a change
        self.watching = asyncio.Event()  # set once the watcher sees every change
        self._scanned_ns = 0  # when the last scan began (epoch nanoseconds)
        # told about every batch of file-system changes (e.g. knowledge records)
        self.listeners: list[Callable[[Changes], None]] = []

    # ------------------------------------------------------------ scan

    def _relative(self, path: Path) -> str | None:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def _scan(self, progress: ProgressCallback | None) -> FuzzyIndex:
        found = _walk(str(self.ignore.root), "", (), progress)
        index = FuzzyIndex(found)
        _release(found)
        return index

    def _chain(self, rel: str) -> tuple[_Rules, ...]:
        """The rules of the ``.gitignore`` files above the directory ``rel``
        (its own is read when it is listed)."""
        root = str(self.ignore.root)
        parts = rel.split("/") if rel else []
        levels: list[_Rules] = []
        for depth in range(len(parts)):
            above = "/".join(parts[:depth])
            rules = _rules_in(os.path.join(root, above), above)
            if rules is not None:
                levels.append(rules)
        return tuple(levels)

    async def build(self, progress: ProgressCallback | None = None) -> int:
        """Scan the workspace (in a thread). ``progress`` is called on the event
        loop with the number of files found so far."""
        loop = asyncio.get_running_loop()

        def report(count: int) -> None:
            if progress is not None:
                loop.call_soon_threadsafe(progress, count)

        # when the scan began, less the lag of the coarse clock that stamps files
        self._scanned_ns = time.time_ns() - 20_000_000
        old, self.fuzzy = self.fuzzy, await asyncio.to_thread(self._scan, report)
        self.ready.set()
        await asyncio.to_thread(old.release)  # a rescan's old paths go off the loop
        return len(self.fuzzy)

    # ------------------------------------------------------------ watch

    async def watch(self, stop: asyncio.Event | None = None) -> None:
        """Apply file-system changes until ``stop`` is set (or cancelled).

        The watcher is its own process (``python -m agent.workspace_index``):
        watchfiles sets up its recursive watch holding the GIL, for about a
        second on 100,000 files, and that must not stall this event loop."""
        await self.ready.wait()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent.workspace_index",
            str(self.root),
            str(self.debounce_ms),
            str(self.step_ms),
            str(self._scanned_ns),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,  # the host's log
            limit=_LINE_LIMIT,
        )
        assert process.stdout is not None
        closer = asyncio.ensure_future(_close_on(stop, process)) if stop is not None else None
        try:
            while line := await process.stdout.readline():
                if len(line) < 1 << 16:
                    batch = json.loads(line)
                else:  # a large batch is parsed off the loop
                    batch = await asyncio.to_thread(json.loads, line)
                if isinstance(batch, dict):  # e.g. the inotify watch limit
                    log.warning(
                        "cannot watch %s for changes (%s); @ completion may miss new files",
                        self.root,
                        batch.get("error"),
                    )
                    return
                changes = {(Change(change), path) for change, path in batch}
                first = not self.watching.is_set()  # it comes once the watch is set up
                if first:  # what was added or deleted since the scan, by a rescan
                    self.fuzzy, missed = await asyncio.to_thread(self._reconciled)
                    changes |= missed
                if changes:
                    for listener in self.listeners:
                        listener(changes)
                    await self.apply(changes)
                if first:
                    self.watching.set()
        finally:
            if closer is not None:
                closer.cancel()
            await _ended(process)

    def _reconciled(self) -> tuple[FuzzyIndex, Changes]:
        """The index brought up to date with a fresh scan, and what changed
        (in a thread; the sets are filled a chunk at a time and compared by
        Python loops, so the GIL changes hands)."""
        fresh = _walk(str(self.ignore.root), "", (), None)
        known = self.fuzzy.paths()
        now, before = _chunked_set(fresh), _chunked_set(known)
        added = [path for path in fresh if path not in before]
        removed = [path for path in known if path not in now]
        _release(fresh)
        if not added and not removed:
            return self.fuzzy, set()
        root = str(self.root)
        missed = {(Change.added, os.path.join(root, path)) for path in added}
        missed |= {(Change.deleted, os.path.join(root, path)) for path in removed}
        return self.fuzzy.updated(removed, added), missed

    async def apply(self, changes: Iterable[tuple[Change, str]]) -> None:
        """Change the index for a batch of changes; the new index is built in
        a thread and replaces the old one when it is complete."""
        updated = await asyncio.to_thread(self._updated, list(changes))
        if updated is None:
            await self.build()
        else:
            self.fuzzy = updated

    def _updated(self, changes: list[tuple[Change, str]]) -> FuzzyIndex | None:
        """The index after the changes (file-system reads: in a thread), or
        ``None`` when a ``.gitignore`` changed and the tree must be rescanned."""
        removed: list[str] = []
        added: list[str] = []
        for change, raw in changes:
            path = Path(raw)
            rel = self._relative(path)
            if rel is None or rel == ".":
                continue
            if path.name == ".gitignore":
                return None
            if change == Change.modified and rel in self.fuzzy:
                continue  # a known file's content changed: nothing to index
            if change == Change.deleted or not path.exists():
                removed.append(rel)
            elif path.is_dir() and not path.is_symlink():
                if not self.ignore.is_ignored(path, True):
                    added += _walk(raw, rel, self._chain(rel), None)
            elif (
                path.is_file() and not path.is_symlink() and not self.ignore.is_ignored(path, False)
            ):
                added.append(rel)
        if not removed and not added:
            return self.fuzzy
        return self.fuzzy.updated(removed, added)

    # ------------------------------------------------------------ search

    async def search(self, query: str, limit: int = 50) -> list[Match]:
        """The best matches; waits for the first scan if it is still running."""
        await self.ready.wait()
        return self.fuzzy.search(query, limit)

    def __contains__(self, rel: object) -> bool:
        return rel in self.fuzzy


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
