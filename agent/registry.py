"""The machine-wide pod registry: which live pod writes which session.

The table lives in ``<home>/pods.json`` (mode 0600; ``home`` is created 0700)
as ``{"version": 1, "allocations": [Allocation, ...]}``. Every operation is
one read-modify-write under an exclusive ``flock`` on ``<home>/pods.lock``, and
a changed table is saved atomically (temporary file, ``fsync``, rename).

Every operation first reclaims stale allocations: those whose process is gone
(``os.kill(pid, 0)`` says there is no such process, or it is a zombie), or
whose pid now belongs to another process (its start time, from
``/proc/<pid>/stat``, differs from the one recorded). A
``pods.json`` that cannot be read is treated as empty, with a logged warning,
so a damaged file never keeps pods from starting.

One session has at most one live pod: registering, or moving a pod to, a
session that another pod holds raises :class:`~agent.errors.SessionInUse`, even
when both pods live in the same process.

A sub-agent's allocation (:meth:`PodRegistry.reserve`, agent/agents/) also
names its parent pod and the subtrees it holds write access to while it runs;
subtrees held by two pods never overlap, unless one is an ancestor of the
other that delegated part of its own (:func:`overlaps`). Every pod's scope
refuses writes into a subtree another pod holds (agent/agents/claims.py).

The class keeps no state but its paths; each call opens its own file
description for the lock, so threads and processes exclude each other alike.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from agent.errors import SessionInUse, WriteConflict, YoiError
from agent.fsutil import atomic_write_bytes
from agent.ids import now_ms

log = logging.getLogger(__name__)

_VERSION = 1


class Allocation(BaseModel):
    """One live pod and the session it writes."""

    model_config = ConfigDict(frozen=True)
    pod_id: str
    name: str
    pid: int
    session_id: str
    cwd: str
    started_at: int  # Unix ms
    # the process's start time in clock ticks after boot (Linux): a pid reused
    # by another process does not keep the session
    process_start: int | None = None
    # a sub-agent (agent/agents/): the pod that spawned it, and the subtrees
    # (canonical absolute paths) it holds write access to while it runs; no
    # other pod may write there meanwhile
    parent_pod_id: str | None = None
    writes: tuple[str, ...] = ()


_TableAdapter: TypeAdapter[list[Allocation]] = TypeAdapter(list[Allocation])


class PodNotRegistered(YoiError, LookupError):
    """An operation named a pod that has no allocation (released or reclaimed)."""


class PodRegistry:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.file = home / "pods.json"
        self.lock_file = home / "pods.lock"

    def register(self, pod_id: str, name: str, session_id: str, cwd: Path | str) -> Allocation:
        """Record this process's pod ``pod_id`` as the writer of ``session_id``.

        Registering a pod id again replaces its allocation."""
        allocation = Allocation(
            pod_id=pod_id,
            name=name,
            pid=os.getpid(),
            session_id=session_id,
            cwd=str(cwd),
            started_at=now_ms(),
            process_start=process_start(os.getpid()),
        )
        with self._table() as table:
            _check_free(table, session_id, pod_id)
            prior = next((a for a in table if a.pod_id == pod_id), None)
            if prior is not None:  # a reservation keeps its delegation
                allocation = allocation.model_copy(
                    update={"parent_pod_id": prior.parent_pod_id, "writes": prior.writes}
                )
            table[:] = [a for a in table if a.pod_id != pod_id]
            table.append(allocation)
        return allocation

    def reserve(
        self, pod_id: str, name: str, parent_pod_id: str, writes: tuple[str, ...], cwd: Path | str
    ) -> Allocation:
        """Pre-register sub-agent ``pod_id`` of ``parent_pod_id`` holding write
        access to ``writes`` (its session is named when it registers).
        Raises :class:`agent.errors.WriteConflict` when another pod holds a
        subtree that overlaps one of them (unless it is an ancestor delegating
        part of its own)."""
        allocation = Allocation(
            pod_id=pod_id,
            name=name,
            pid=os.getpid(),
            session_id=f"reserved:{pod_id}",
            cwd=str(cwd),
            started_at=now_ms(),
            process_start=process_start(os.getpid()),
            parent_pod_id=parent_pod_id,
            writes=writes,
        )
        with self._table() as table:
            _check_writes(table, pod_id, parent_pod_id, writes)
            table[:] = [a for a in table if a.pod_id != pod_id]
            table.append(allocation)
        return allocation

    def update_session(self, pod_id: str, session_id: str) -> Allocation:
        """Move pod ``pod_id`` to ``session_id`` (after a fork or a compaction)."""
        with self._table() as table:
            index = next((i for i, a in enumerate(table) if a.pod_id == pod_id), None)
            if index is None:
                raise PodNotRegistered(
                    f"Pod {pod_id} is not in the pod registry; register it before moving it "
                    f"to session {session_id}."
                )
            _check_free(table, session_id, pod_id)
            moved = table[index].model_copy(update={"session_id": session_id})
            table[index] = moved
        return moved

    def release(self, pod_id: str) -> None:
        """Forget pod ``pod_id``; releasing an unknown pod does nothing."""
        with self._table() as table:
            table[:] = [a for a in table if a.pod_id != pod_id]

    def owner_of(self, session_id: str) -> Allocation | None:
        with self._table() as table:
            return next((a for a in table if a.session_id == session_id), None)

    def allocations(self) -> list[Allocation]:
        with self._table() as table:
            return list(table)

    # ------------------------------------------------------------ the table

    @contextlib.contextmanager
    def _table(self) -> Iterator[list[Allocation]]:
        """The live allocations, under the lock; saved on exit if changed."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            stored = self._load()
            table = [a for a in stored if _holds(a)]
            for gone in (a for a in stored if a not in table):
                log.info(
                    "reclaimed pod %s (%s): process %d is gone", gone.pod_id, gone.name, gone.pid
                )
            yield table
            if table != stored:
                self._save(table)
        finally:
            os.close(fd)  # releases the lock

    def _load(self) -> list[Allocation]:
        try:
            raw = self.file.read_bytes()
        except FileNotFoundError:
            return []
        if not raw.strip():
            return []
        try:
            data = json.loads(raw)
            return _TableAdapter.validate_python(data["allocations"])
        except (ValueError, TypeError, KeyError) as exc:  # ValidationError is a ValueError
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc
            log.warning(
                "%s is unreadable (%s); treating the pod registry as empty", self.file, reason
            )
            return []

    def _save(self, table: list[Allocation]) -> None:
        payload = {"version": _VERSION, "allocations": [a.model_dump() for a in table]}
        data = (json.dumps(payload, indent=2) + "\n").encode("utf-8")
        atomic_write_bytes(self.file, data, mode=0o600)


def _check_free(table: list[Allocation], session_id: str, pod_id: str) -> None:
    owner = next((a for a in table if a.session_id == session_id and a.pod_id != pod_id), None)
    if owner is not None:
        raise SessionInUse(
            f"Session {session_id} is already open in another yoi pod ({owner.name}, "
            f"process {owner.pid}). Close it there first, or start a new session."
        )


def overlaps(a: str, b: str) -> bool:
    """Whether two subtrees (canonical absolute paths) overlap."""
    pa, pb = Path(a), Path(b)
    return pa == pb or pa.is_relative_to(pb) or pb.is_relative_to(pa)


def _check_writes(
    table: list[Allocation], pod_id: str, parent_pod_id: str | None, writes: tuple[str, ...]
) -> None:
    """Another pod's subtree may overlap a requested one only when that pod is
    an ancestor of ``pod_id`` and its subtree holds the requested one (a
    sub-agent delegating part of its own)."""
    by_id = {a.pod_id: a for a in table}
    ancestors: set[str] = set()
    cursor = parent_pod_id
    while cursor is not None and cursor not in ancestors:
        ancestors.add(cursor)
        parent = by_id.get(cursor)
        cursor = parent.parent_pod_id if parent is not None else None
    for other in table:
        if other.pod_id == pod_id:
            continue
        for held in other.writes:
            for wanted in writes:
                if not overlaps(held, wanted):
                    continue
                if other.pod_id in ancestors and Path(wanted).is_relative_to(held):
                    continue
                raise WriteConflict(
                    f"{wanted} overlaps {held}, which sub-agent {other.name} ({other.pod_id}, "
                    f"process {other.pid}) holds write access to while it runs; wait until it "
                    "ends or stop it, or delegate another folder."
                )


def is_live(allocation: Allocation) -> bool:
    """Whether the allocation's process is alive (and the same process)."""
    return _holds(allocation)


def _holds(allocation: Allocation) -> bool:
    """The allocation's process is alive, and is the same process."""
    if not _alive(allocation.pid):
        return False
    if allocation.process_start is None:
        return True  # recorded where start times are unknown
    return process_start(allocation.pid) in (allocation.process_start, None)


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot (Linux's
    ``/proc/<pid>/stat`` field 22); ``None`` where that is unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return int(stat[stat.rfind(")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A process that exited but was not reaped yet (Linux; elsewhere: no)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # "pid (comm) state ...": comm may hold spaces and parentheses.
    return stat[stat.rfind(")") + 2 :].startswith("Z")
