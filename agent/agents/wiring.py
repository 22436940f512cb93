"""Where sub-agents meet :func:`agent.factory.open_pod`: the few calls the
factory makes so that every pod has a scope that respects the write claims,
a sub-agent has its delegated scope and its tools, and a pod that may spawn
has its :class:`~agent.agents.manager.Children`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.agents.claims import ClaimView
from agent.agents.manager import Children, OpenPod
from agent.agents.port import QuietHost
from agent.agents.restore import restore_children
from agent.agents.scope import AgentScope
from agent.agents.tools import READ_ONLY_DROPS, agent_tools
from agent.scope import Scope
from agent.tools.base import ToolSet

if TYPE_CHECKING:
    from agent.factory import PodHost, PodSpec
    from agent.pod import Pod
    from agent.store import RestoredState


def pod_id_for(spec: PodSpec, new_id: str) -> str:
    return spec.delegation.pod_id if spec.delegation is not None else new_id


def pod_scope(spec: PodSpec, scope: Scope, pod_id: str) -> Scope:
    """A sub-agent's delegated scope; for any other pod its own scope, which
    also refuses writes into folders a running sub-agent holds."""
    if spec.delegation is not None:
        return spec.delegation.scope
    if scope.root is None:
        return scope
    return AgentScope.guarding(scope, ClaimView(spec.home), pod_id)


def children_for(spec: PodSpec, host: PodHost, scope: Scope, open_pod: OpenPod) -> Children | None:
    """The pod's sub-agents, when it may have some (a workspace is open and
    ``[agents] enabled``)."""
    if not spec.loaded.manifest.agents.enabled or not isinstance(scope, AgentScope):
        return None
    return Children(
        spec=spec,
        host=host,
        agent_host=host.agents or QuietHost(host.approvals),
        scope=scope,
        depth=spec.delegation.depth if spec.delegation is not None else 0,
        open_pod=open_pod,
    )


def pod_tools(spec: PodSpec, tools: ToolSet, children: Children | None) -> ToolSet:
    """A read-only sub-agent loses the tools that write or run commands;
    a pod that may spawn gets the sub-agent tools."""
    read_only = spec.delegation is not None and spec.delegation.read_only
    kept = ToolSet(
        t
        for n in tools.all_names()
        if not (read_only and n in READ_ONLY_DROPS)
        if (t := tools.get(n))
    )
    for tool in agent_tools(children) if children is not None else ():
        kept.add(tool)
    return kept


async def bind(
    pod: Pod, spec: PodSpec, children: Children | None, restored: RestoredState | None
) -> None:
    """Link a sub-agent's session to its parent's; give the pod its
    sub-agents (restored from its log when it was)."""
    if spec.delegation is not None:
        pod.session.spawned_by = spec.delegation.spawned_by
    if children is None:
        return
    children.pod = pod
    pod.children = children
    if restored is not None:
        await restore_children(children, pod, restored)
