"""The tool calls running now, so the user can stop one of them
(``yoi/tool/cancel``) without interrupting the turn.

Only tools that declare ``stoppable`` watch their call's stop signal
(``run_command``: it kills the command and returns the output so far, saying
it was stopped by the user); stopping any other call, or one that has
finished, does nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunningCalls:
    _stops: dict[str, asyncio.Event] = field(default_factory=dict)
    _stoppable: set[str] = field(default_factory=set)

    def watch(self, call_id: str, task: asyncio.Future[Any], *, stoppable: bool) -> None:
        """Track a started call until its task is done."""
        self._stops[call_id] = asyncio.Event()
        if stoppable:
            self._stoppable.add(call_id)
        task.add_done_callback(lambda _: self._forget(call_id))

    def stop_signal(self, call_id: str) -> asyncio.Event:
        """The event a tool watches (a fresh one for an untracked call)."""
        return self._stops.get(call_id) or asyncio.Event()

    def stop(self, call_id: str) -> bool:
        """Ask a running, stoppable call to stop; whether there was one."""
        if call_id not in self._stoppable:
            return False
        self._stops[call_id].set()
        return True

    def _forget(self, call_id: str) -> None:
        self._stops.pop(call_id, None)
        self._stoppable.discard(call_id)
