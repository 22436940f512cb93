"""What compaction and memory see of a pod: a narrow port, so that the pod
sits above its runners (agent/pod.py imports them; they import only this).

:class:`~agent.pod.Pod` satisfies :class:`PodPort` as it is; mypy checks it
wherever the pod hands itself to a runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from agent.items import Item
from agent.session import SessionHandle
from agent.store import UsageRecord

if TYPE_CHECKING:
    from agent.memory.runner import PodMemory

PodState = Literal["idle", "running", "compacting"]


class WorkerView(Protocol):
    @property
    def history(self) -> list[Item]: ...

    @property
    def system_prompt(self) -> str: ...


class PodName(Protocol):
    @property
    def name(self) -> str: ...


class PodPort(Protocol):
    """The pod as the compaction and memory runners use it."""

    state: PodState  # "compacting" while compaction runs

    @property
    def worker(self) -> WorkerView: ...

    @property
    def session(self) -> SessionHandle: ...

    @property
    def session_id(self) -> str: ...

    @property
    def info(self) -> PodName: ...

    @property
    def turn_count(self) -> int: ...

    @property
    def usage_records(self) -> list[UsageRecord]: ...

    @property
    def memory(self) -> PodMemory | None: ...

    def context_tokens(self, history: list[Item] | None = None) -> int: ...

    def request_overhead_bytes(self) -> int: ...

    def adopt_compacted(self, history: list[Item]) -> None:
        """Continue from a compacted history (the session already switched)."""
