"""A pod's handle on its session log.

It knows the session id and the head hash, writes entries through the store
off the event loop, and keeps a mirror of the history as persisted so that,
when another writer moved the head, the store can fork a new session seeded
with exactly what this pod had written. It also keeps the registry entry in
step when the session id changes (fork, compaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from agent.ids import now_ms
from agent.items import Item, user
from agent.registry import PodRegistry
from agent.store import ItemsEntry, LogEntry, SessionStart, SessionStore, UserInput

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
        system_prompt: str | None = None,
        config: dict[str, Any] | None = None,
        history: Sequence[Item] = (),
        cwd: str | None = None,
        model: str | None = None,
        on_fork: ForkListener | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.pod_id = pod_id
        self.session_id = session_id
        self.head = head
        self.system_prompt = system_prompt
        self.config = dict(config or {})
        self.cwd = cwd
        self.model = model
        self.on_fork = on_fork
        self._persisted: list[Item] = list(history)
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        return self.head is not None

    def _start_entry(self, history: Sequence[Item]) -> SessionStart:
        return SessionStart(
            ts=now_ms(),
            system_prompt=self.system_prompt or "",
            config=self.config,
            history=list(history),
            cwd=self.cwd,
            model=self.model,
        )

    async def start(self, system_prompt: str, history: Sequence[Item]) -> None:
        """Write ``session_start`` (once, before the first turn is logged)."""
        async with self._lock:
            if self.head is not None:
                return
            self.system_prompt = system_prompt
            entry = self._start_entry(history)
            self.head = await asyncio.to_thread(self.store.create, self.session_id, entry)
            self._persisted = list(history)

    async def append(self, entries: Sequence[LogEntry]) -> None:
        if not entries:
            return
        async with self._lock:
            if self.head is None:
                raise RuntimeError("session not started")
            seed = self._start_entry(self._persisted)
            result = await asyncio.to_thread(
                self.store.append, self.session_id, self.head, list(entries), fork_seed=lambda: seed
            )
            if result.session_id != self.session_id:
                old = self.session_id
                self.session_id = result.session_id
                await asyncio.to_thread(
                    self.registry.update_session, self.pod_id, result.session_id
                )
                if self.on_fork is not None:
                    self.on_fork(old, result.session_id)
            self.head = result.head
            for entry in entries:
                if isinstance(entry, UserInput):
                    self._persisted.append(user(entry.text, list(entry.segments)))
                elif isinstance(entry, ItemsEntry):
                    self._persisted.extend(entry.items)

    def switch(self, session_id: str, head: str, history: Sequence[Item]) -> None:
        """Follow a new session written elsewhere (compaction)."""
        self.session_id = session_id
        self.head = head
        self._persisted = list(history)
