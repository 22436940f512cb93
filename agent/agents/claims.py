"""Who may write where while sub-agents run: the write claims of the registry.

A sub-agent's allocation in ``<home>/pods.json`` lists the subtrees it holds
write access to while it runs (:meth:`agent.registry.PodRegistry.reserve`).
A write to a path inside such a subtree is allowed only to the pod holding
the deepest subtree that covers it (so a sub-agent that delegated part of its
own subtree to a sub-agent of its own cannot write there either, meanwhile;
when both hold the very same subtree, the one it was delegated to writes).

:class:`ClaimView` answers that question on every write without taking the
registry's lock: it re-reads ``pods.json`` only when the file changed (the
registry replaces it atomically, so a read always sees a whole table), which
costs one ``stat`` per write. Claims of a process that is gone are ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from agent.errors import WriteConflict
from agent.registry import Allocation, is_live


class ClaimView:
    def __init__(self, home: Path) -> None:
        self.file = home / "pods.json"
        self._stamp: tuple[int, int, int] | None = None
        # (subtree, subtree + "/", depth, holder): canonical paths compared as
        # strings; of two pods holding the same subtree, the deeper sub-agent
        # (delegated it by the other) is the one that writes there
        self._claims: list[tuple[str, str, int, Allocation]] = []

    def holder_of(self, path: Path) -> Allocation | None:
        """The live pod holding the deepest write subtree that covers the
        canonical ``path``, or ``None``."""
        text = str(path)
        best: tuple[int, int, Allocation] | None = None
        for subtree, prefix, depth, holder in self._current():
            if text == subtree or text.startswith(prefix):
                rank = (len(subtree), depth, holder)
                if best is None or rank[:2] > best[:2]:
                    best = rank
        if best is None or not is_live(best[2]):
            return None
        return best[2]

    def blocker(self, path: Path, writer: str) -> Allocation | None:
        """The pod whose claim keeps pod ``writer`` from writing ``path``."""
        holder = self.holder_of(path)
        return holder if holder is not None and holder.pod_id != writer else None

    def _current(self) -> list[tuple[str, str, int, Allocation]]:
        try:
            st = os.stat(self.file)
        except FileNotFoundError:
            self._stamp, self._claims = None, []
            return []
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            self._claims = _read_claims(self.file)
            self._stamp = stamp
        return self._claims


def conflict(holder: Allocation, shown: str) -> WriteConflict:
    return WriteConflict(
        f"`{shown}` is inside a folder delegated to the sub-agent {holder.name} "
        f"({holder.pod_id}), which holds write access to it while it runs; wait until it "
        "has finished (or stop it), then write here."
    )


def _read_claims(file: Path) -> list[tuple[str, str, int, Allocation]]:
    try:
        data = json.loads(file.read_bytes())
        rows = [Allocation.model_validate(a) for a in data["allocations"]]
    except (OSError, ValueError, TypeError, KeyError):
        return []  # the registry logs an unreadable table and treats it as empty
    parents = {a.pod_id: a.parent_pod_id for a in rows}

    def depth(pod_id: str) -> int:
        seen: set[str] = set()
        cursor = parents.get(pod_id)
        while cursor is not None and cursor not in seen:
            seen.add(cursor)
            cursor = parents.get(cursor)
        return len(seen)

    return [(w, w.rstrip("/") + "/", depth(a.pod_id), a) for a in rows for w in a.writes]
