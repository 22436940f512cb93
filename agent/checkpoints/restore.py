"""Bringing files back to a checkpoint: the plan, and the writes to disk.

A restore compares a fresh snapshot of the workspace (``now``) with the
checkpoint (``target``): every path that differs goes back to the target's
bytes and executable bit, or is deleted when the target lacks it. The host
writes open documents through the editor; :func:`write_files` does the rest.

Changes the user made outside the agent are told apart from the agent's by
the snapshot sequence: the agent's work lies between a turn's start and its
last tool step; what changed between two turns (a ``turn`` snapshot against
the one before it) or since the last snapshot (the ``now`` one) was someone
else. A path changed that way after the checkpoint is a *conflict*: the host
asks before it overwrites it.

Every write is atomic (temporary file, rename), and a restore only moves files
towards the target, so one interrupted at any point and run again ends in the
same state; nothing already at the target is written twice.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agent.checkpoints.shadow import Change, ShadowRepo, default_bits
from agent.fsutil import fsync_dir

TEMP_MARK = ".yoi-restore-"
USER_KINDS = frozenset({"turn", "now"})  # snapshots that end an interval the agent did not act in


@dataclass(frozen=True)
class Plan:
    target: str
    now: str
    changes: tuple[Change, ...]  # old: the workspace now; new: the checkpoint
    conflicts: tuple[str, ...]  # changed outside the agent since the checkpoint
    modes: dict[str, int]  # the checkpoint's permission bits that git does not hold
    chmods: tuple[tuple[str, int | None], ...]  # same bytes, other bits (None: git's)

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]


def plan(repo: ShadowRepo, target: str, target_seq: int | None, now: str, now_seq: int) -> Plan:
    changes = [c for c in repo.changes(now, target) if _restorable(c)]
    touched = {c.path for c in changes}
    outside = user_changes(repo, target_seq, now_seq) & touched if touched else set()
    outside = {path for path in outside if not is_leftover(path)}
    modes, modes_now = repo.modes(target), repo.modes(now)
    chmods = tuple(
        (path, modes.get(path))
        for path in sorted(set(modes) | set(modes_now))
        if path not in touched and modes.get(path) != modes_now.get(path)
    )
    return Plan(target, now, tuple(changes), tuple(sorted(outside)), modes, chmods)


def user_changes(repo: ShadowRepo, after_seq: int | None, through_seq: int) -> set[str]:
    """Paths changed outside the agent's tool steps between snapshot
    ``after_seq`` and snapshot ``through_seq``."""
    snaps = repo.snapshots()
    pairs = []
    for before, snap in zip(snaps, snaps[1:], strict=False):
        if after_seq is not None and snap.seq <= after_seq:
            continue
        if snap.seq > through_seq:
            break
        if snap.kind in USER_KINDS:
            pairs.append((before.commit, snap.commit))
    found: set[str] = set()
    for paths in repo.changed_between(pairs):
        found |= paths
    return found


def is_leftover(path: str) -> bool:
    """A temporary file of a restore that was killed before its rename (the
    next restore deletes it: no checkpoint holds it)."""
    name = path.rsplit("/", 1)[-1]
    return name.startswith(".") and TEMP_MARK in name and name.endswith(".tmp")


def _restorable(change: Change) -> bool:
    """Gitlinks (nested repositories) are never written."""
    return "160000" not in (change.old_mode, change.new_mode)


def write_files(
    repo: ShadowRepo, changes: Iterable[Change], modes: dict[str, int] | None = None
) -> list[str]:
    """Bring each path on disk to the change's ``new`` side (``modes``: the
    permission bits git does not hold); the paths written."""
    modes = modes or {}
    changes = sorted(changes, key=lambda c: c.new_sha is not None)  # deletions first
    blobs = repo.blobs([c.new_sha for c in changes if c.new_sha is not None])
    done = []
    for change in changes:
        path = repo.root / change.path
        if change.new_sha is None:
            _remove(path, repo.root)
        else:
            mode = change.new_mode or "100644"
            bits = modes.get(change.path, default_bits(mode == "100755"))
            _write(path, blobs[change.new_sha], mode, bits, repo.root)
        done.append(change.path)
    return done


def set_modes(root: Path, chmods: Iterable[tuple[str, int | None]]) -> None:
    """Permission bits back to the checkpoint's, for files whose bytes are."""
    for rel, bits in chmods:
        path = root / rel
        with contextlib.suppress(FileNotFoundError):
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                os.chmod(path, bits if bits is not None else default_bits(bool(st.st_mode & 0o100)))


def _write(path: Path, data: bytes, mode: str, bits: int, root: Path) -> None:
    _make_parents(path, root)
    if mode == "120000":
        _remove(path, root, prune=False)
        os.symlink(os.fsdecode(data), path)
        return
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        try:
            os.rmdir(path)  # a folder where the file goes: only an empty one yields
        except OSError:
            raise IsADirectoryError(
                errno.EISDIR, "a folder that is not empty stands where the file goes", str(path)
            ) from None
        st = None
    elif st is not None and stat.S_ISLNK(st.st_mode):
        path.unlink()
        st = None
    if st is not None and st.st_size == len(data) and (st.st_mode & 0o7777) == bits:
        with contextlib.suppress(OSError), open(path, "rb") as fh:
            if fh.read() == data:
                return
    _atomic_write(path, data, bits)


def _atomic_write(path: Path, data: bytes, bits: int) -> None:
    """Write ``data`` to a temporary file beside ``path`` (named so a killed
    restore's leftover is known: :func:`is_leftover`), then rename it over."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{TEMP_MARK}", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), bits)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _make_parents(path: Path, root: Path) -> None:
    """Create the parent folders, replacing a file that stands where one must be."""
    for parent in reversed(path.relative_to(root).parents):
        folder = root / parent
        if folder == root:
            continue
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
        if not folder.exists():
            folder.mkdir()


def _remove(path: Path, root: Path, *, prune: bool = True) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        return  # a folder is never deleted by a restore unless it ends up empty
    path.unlink()
    if not prune:
        return
    parent = path.parent
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()  # only when empty
        except OSError:
            break
        parent = parent.parent
