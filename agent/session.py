"""A pod's handle on its session log.

It knows the session id and the head hash and writes entries through the
store off the event loop. When another writer moved the head, the store forks
(a copy of this pod's log up to its head, then the new entries) and the handle
follows the new session, keeping the registry entry in step.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from agent.errors import SessionError, YoiError
from agent.ids import now_ms, uuid7
from agent.items import Item
from agent.registry import PodRegistry
from agent.store import LogEntry, Origin, SessionStart, SessionStore, SpawnedBy

log = logging.getLogger(__name__)

ForkListener = Callable[[str, str], None]  # (old session id, new session id)


class SessionHandle:
    def __init__(
        self,
        *,
        store: SessionStore,
        registry: PodRegistry,
        pod_id: str,
        session_id: str,
        head: str | None = None,
        config: dict[str, Any] | None = None,
        cwd: str | None = None,
        model: str | None = None,
        on_fork: ForkListener | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.pod_id = pod_id
        self.session_id = session_id
        self.head = head
        self.config = dict(config or {})
        self.cwd = cwd
        self.model = model
        self.on_fork = on_fork
        self.spawned_by: SpawnedBy | None = None  # a sub-agent's link to its parent
        self._lock = asyncio.Lock()
        self._unwritten: SessionStart | None = None  # see start()

    @property
    def started(self) -> bool:
        return self.head is not None or self._unwritten is not None

    def _start_entry(
        self,
        system_prompt: str,
        history: Sequence[Item],
        compacted_from: Origin | None = None,
        turn_count: int = 0,
    ) -> SessionStart:
        return SessionStart(
            ts=now_ms(),
            system_prompt=system_prompt,
            config=self.config,
            history=list(history),
            cwd=self.cwd,
            model=self.model,
            compacted_from=compacted_from,
            turn_count=turn_count,
            spawned_by=self.spawned_by,
        )

    async def start(self, system_prompt: str, history: Sequence[Item]) -> None:
        """Begin the session (once, before the first turn is logged). Its
        ``session_start`` is written together with the first entries the pod
        appends, in one write and one fsync: the first turn's request waits
        for one file operation, not two."""
        async with self._lock:
            if self.started:
                return
            self._unwritten = self._start_entry(system_prompt, history)

    async def flush(self) -> None:
        """Write ``session_start`` if nothing was appended after :meth:`start`."""
        async with self._lock:
            start = self._unwritten
            if start is None:
                return
            self.head = await asyncio.to_thread(self.store.create, self.session_id, start)
            self._unwritten = None

    async def append(self, entries: Sequence[LogEntry]) -> None:
        """Append entries; if another writer moved the log on, the store forks
        and this handle follows the new session (and tells the registry)."""
        if not entries:
            return
        async with self._lock:
            if not self.started:
                raise RuntimeError("session not started")
            try:
                if self._unwritten is not None:
                    start, more = self._unwritten, list(entries)
                    head = await asyncio.to_thread(self.store.create, self.session_id, start, more)
                    self._unwritten, self.head = None, head
                    return
                assert self.head is not None
                result = await asyncio.to_thread(
                    self.store.append, self.session_id, self.head, list(entries)
                )
            except OSError as exc:
                raise SessionError(
                    f"Cannot write the session log of {self.session_id}: {exc.strerror or exc}. "
                    "The turn is not saved; free some disk space or check permissions."
                ) from exc
            old = self.session_id
            self.session_id, self.head = result.session_id, result.head
            if result.session_id != old:
                try:
                    await asyncio.to_thread(
                        self.registry.update_session, self.pod_id, result.session_id
                    )
                except YoiError:
                    log.exception("could not record the fork in the pod registry")
                if self.on_fork is not None:
                    self.on_fork(old, result.session_id)

    async def compact_to(self, system_prompt: str, history: Sequence[Item], turn_count: int) -> str:
        """Start a new session seeded with a compacted history, linked to this
        one, and follow it. The old log is not touched. Returns the new id."""
        async with self._lock:
            if self.head is None:
                raise SessionError("There is nothing to compact: the session has not started.")
            new_id = uuid7()
            entry = self._start_entry(
                system_prompt,
                history,
                compacted_from=Origin(session_id=self.session_id, at_hash=self.head),
                turn_count=turn_count,
            )
            try:
                head = await asyncio.to_thread(self.store.create, new_id, entry)
            except OSError as exc:
                raise SessionError(
                    f"Cannot write the compacted session: {exc.strerror or exc}."
                ) from exc
            self.session_id, self.head = new_id, head
            try:
                await asyncio.to_thread(self.registry.update_session, self.pod_id, new_id)
            except YoiError:
                log.exception("could not record the compacted session in the pod registry")
            return new_id
