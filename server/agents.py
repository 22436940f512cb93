"""Sub-agents over LSP: the host's side of :mod:`agent.agents`.

A sub-agent is a pod like any other on the wire: it is listed by
``yoi/pod/list`` (with ``parentPodId``) while it runs, its ``yoi/event``
notifications carry its own ``podId`` and its parent's ``parentPodId``,
``yoi/pod/interrupt`` stops its run, and its ``yoi/approval`` requests carry
its ``podId`` and ``parentPodId`` and name it in ``reason`` ("research-agent
wants to run …"). When its run ends it leaves the list; the parent's
``subAgent`` events say how it ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.agents.manager import Children
from agent.agents.port import ChildPorts, NamedApprovals
from agent.events import Alert
from agent.ports import ApprovalRequest
from server import protocol as p
from server.approvals import LspApprovals
from server.events import LspEventSink

if TYPE_CHECKING:
    from agent.pod import Pod
    from server.app import YoiServer
    from server.pods import PodManager


class ChildEventSink(LspEventSink):
    """A sub-agent's events: its own ``podId`` and ``seq``, plus ``parentPodId``."""

    def __init__(self, server: YoiServer, pod_id: str, parent_pod_id: str) -> None:
        super().__init__(server, pod_id)
        self.parent_pod_id = parent_pod_id

    def _send(self, event: dict[str, Any]) -> None:
        params = p.event_params(self.pod_id, next(self._seq), event)
        params["parentPodId"] = self.parent_pod_id
        self.server.protocol.notify(p.EVENT, params)


class ChildApprovals(LspApprovals):
    """``yoi/approval`` for a sub-agent: ``parentPodId`` added to the params."""

    def __init__(self, server: YoiServer, pod_id: str, parent_pod_id: str, sink: LspEventSink):
        super().__init__(
            server,
            pod_id=lambda: pod_id,
            warn=lambda m: sink.emit(Alert(level="warn", source="approvals", message=m)),
        )
        self.parent_pod_id = parent_pod_id

    def params(self, request: ApprovalRequest) -> dict[str, Any]:
        params = super().params(request)
        params["parentPodId"] = self.parent_pod_id
        return params


class LspAgentHost:
    def __init__(self, manager: PodManager) -> None:
        self.manager = manager

    def child_ports(self, parent: Pod, child_id: str, name: str) -> ChildPorts:
        server = self.manager.server
        sink = ChildEventSink(server, child_id, parent.id)
        approvals = ChildApprovals(server, child_id, parent.id, sink)
        return ChildPorts(events=sink, approvals=NamedApprovals(approvals, name))

    def opened(self, child: Pod, parent: Pod, ports: ChildPorts) -> None:
        from server.pods import PodEntry

        assert isinstance(ports.events, ChildEventSink)
        self.manager.entries[child.id] = PodEntry(
            pod=child, sink=ports.events, parent_pod_id=parent.id
        )

    def closed(self, child: Pod) -> None:
        entry = self.manager.entries.pop(child.id, None)
        if entry is not None:
            entry.sink.close()


def sub_agents_to_wire(pod: Pod) -> list[dict[str, Any]]:
    """The ``subAgents`` of a ``yoi/pod/history`` result: every sub-agent the
    pod started (restored from its log), with its last state."""
    children = pod.children
    if not isinstance(children, Children):
        return []
    out: list[dict[str, Any]] = []
    for child in children.children.values():
        entry: dict[str, Any] = {
            "name": child.name,
            "status": child.status,
            "sessionId": child.session_id,
            "callId": child.call_id,
            "task": child.task,
            "scope": child.summary,
        }
        if child.pod is not None:
            entry["podId"] = child.pod.id
        entry.update({k: v for k, v in (("answer", child.answer), ("error", child.error)) if v})
        out.append(entry)
    return out
