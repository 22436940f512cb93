"""What the sub-agents need from their host, and what a pod needs from its
sub-agents.

:class:`AgentHost` is the host's side (the language server implements it in
``server/agents.py``): the ports of a new sub-agent (its own event sink and
approval port, so its events carry its own pod id and its approvals name it),
and word of sub-agents opening and closing (so the host can list them and
route ``yoi/pod/interrupt`` to them). A host without one gets
:class:`QuietHost`: a sub-agent's events are dropped and its approvals go
through the parent's port, with the sub-agent named in the reason.

:class:`Subordinates` is what :class:`agent.pod.Pod` holds of its sub-agents:
interrupting or closing the pod interrupts or closes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from agent.ports import (
    ApprovalDecision,
    ApprovalPort,
    ApprovalRequest,
    EventSink,
    NullSink,
)

if TYPE_CHECKING:
    from agent.pod import Pod


@dataclass(frozen=True)
class ChildPorts:
    events: EventSink
    approvals: ApprovalPort


class AgentHost(Protocol):
    def child_ports(self, parent: Pod, child_id: str, name: str) -> ChildPorts:
        """The event sink and approval port of sub-agent ``child_id``."""
        ...

    def opened(self, child: Pod, parent: Pod, ports: ChildPorts) -> None:
        """Sub-agent ``child`` of ``parent`` is live (``ports``: what
        :meth:`child_ports` gave it)."""
        ...

    def closed(self, child: Pod) -> None:
        """Sub-agent ``child`` has ended (its pod is closed)."""
        ...


class Subordinates(Protocol):
    def interrupt_all(self) -> bool:
        """Interrupt every running sub-agent; whether one was running."""
        ...

    async def close(self) -> None:
        """Stop every sub-agent and wait for them to end."""
        ...

    def compacted(self) -> None:
        """The pod continues in a new (compacted) session: log the
        sub-agents' states there, so restoring it restores them."""
        ...


class NamedApprovals:
    """An approval port that asks through ``port``, naming the sub-agent:
    "research-agent wants to run `pytest` in the workspace root"."""

    def __init__(self, port: ApprovalPort, name: str) -> None:
        self.port = port
        self.name = name

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        reason = request.reason
        if not reason.startswith(f"{self.name} wants to "):
            reason = f"{self.name} wants to {reason[:1].lower()}{reason[1:]}"
        named = ApprovalRequest(
            tool_call_id=request.tool_call_id,
            tool=request.tool,
            arguments=request.arguments,
            reason=reason,
            cwd=request.cwd,
            session_key=request.session_key,
        )
        return await self.port.request_approval(named)


class QuietHost:
    """The host of a pod whose host knows nothing of sub-agents."""

    def __init__(self, approvals: ApprovalPort) -> None:
        self.approvals = approvals

    def child_ports(self, parent: Pod, child_id: str, name: str) -> ChildPorts:
        return ChildPorts(events=NullSink(), approvals=NamedApprovals(self.approvals, name))

    def opened(self, child: Pod, parent: Pod, ports: ChildPorts) -> None:
        return None

    def closed(self, child: Pod) -> None:
        return None
