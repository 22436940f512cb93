"""The session store: append-only, hash-chained JSONL logs, one per session.

- :mod:`agent.store.entries`: what a log holds (frozen models by ``kind``).
- :mod:`agent.store.chain`: the frozen line format and hash chain.
- :mod:`agent.store.log`: :class:`SessionStore`: create, append (with head
  check and fork), read and restore.
- :mod:`agent.store.verify`: checking each line against the chain as it is
  read, and keeping the garbage collector out of bulk loads.
- :mod:`agent.store.restore`: folding a log into a :class:`RestoredState`.
- :mod:`agent.store.listing`: cheap, cached listing of sessions.

Everything here is synchronous file I/O; the pod calls it through
``asyncio.to_thread``.
"""

from agent.store.entries import (
    ConfigChanged,
    Extension,
    ItemsEntry,
    LlmUsage,
    LogEntry,
    Origin,
    RunCompleted,
    RunErrored,
    SessionStart,
    SpawnedBy,
    TurnEnd,
    UserInput,
)
from agent.store.listing import SessionInfo
from agent.store.log import AppendResult, LogRead, SessionStore
from agent.store.restore import RestoredState, UsageRecord
from agent.store.verify import LogRecord

__all__ = [
    "AppendResult",
    "ConfigChanged",
    "Extension",
    "ItemsEntry",
    "LlmUsage",
    "LogEntry",
    "LogRead",
    "LogRecord",
    "Origin",
    "RestoredState",
    "RunCompleted",
    "RunErrored",
    "SessionInfo",
    "SessionStart",
    "SessionStore",
    "SpawnedBy",
    "TurnEnd",
    "UsageRecord",
    "UserInput",
]
