"""The pods of one language server, and the glue between each pod and the wire.

Each pod gets its own event sink (``yoi/event`` with a per-pod ``seq``), its
own approval port (``yoi/approval``) and the server's editor port (open
buffers and ``workspace/applyEdit``). Runs are awaited by the ``yoi/chat``
handler; notifications that arrive while a pod is idle start a turn here, as a
kept background task.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import paths
from agent.approval_rules import RuleStore, TrustStore
from agent.context_view import breakdown
from agent.errors import SessionNotFound
from agent.events import Alert, Event
from agent.factory import PodHost, PodSpec, open_pod
from agent.images import ImageRejected
from agent.manifest import load_manifest
from agent.pod import Pod, TurnResult
from agent.pod_config import Change, ConfigError
from agent.store import SessionStore
from server import payloads as pl
from server import protocol as p
from server.agents import LspAgentHost, sub_agents_to_wire
from server.approvals import LspApprovals
from server.editor import LspEditor
from server.errors import invalid_params
from server.events import LspEventSink
from server.progress import LspProgressPort
from server.wire import (
    history_to_wire,
    limits_to_wire,
    session_to_wire,
    turn_result_to_wire,
)

if TYPE_CHECKING:
    from agent.mcp.hub import McpHub
    from server.app import YoiServer

log = logging.getLogger(__name__)


@dataclass
class PodEntry:
    pod: Pod
    sink: LspEventSink
    parent_pod_id: str | None = None  # a sub-agent (server/agents.py)


class PodManager:
    def __init__(self, server: YoiServer) -> None:
        self.server = server
        self.entries: dict[str, PodEntry] = {}
        self.mcp: McpHub | None = None  # set by server.startup
        self.agents = LspAgentHost(self)

    def get(self, pod_id: str, method: str) -> PodEntry:
        entry = self.entries.get(pod_id)
        if entry is None:
            raise invalid_params(method, f"`podId` {pod_id!r} is not a live pod (see yoi/pod/list)")
        return entry

    async def create(self, params: pl.PodCreateParams) -> dict[str, Any]:
        server = self.server
        root = server.root
        loaded = await asyncio.to_thread(
            load_manifest, root, overrides=server.overrides(params.model)
        )
        pod_ref: list[Pod] = []
        sink = _Deferred()
        host = PodHost(
            events=sink,
            approvals=LspApprovals(
                server,
                pod_id=lambda: pod_ref[0].id if pod_ref else "",
                warn=lambda m: sink.emit(Alert(level="warn", source="approvals", message=m)),
            ),
            editor=LspEditor(server, fallback=loaded.manifest.edits.fallback),
            progress=LspProgressPort(server),
            client_factory=server.client_factory(),
            mcp=self.mcp,
            agents=self.agents,
        )
        options = server.options
        profile = params.profile or (options.profile if options else None)
        spec = PodSpec(
            root=root,
            home=server.home,
            loaded=loaded,
            name=params.name,
            resume_session_id=params.resume_session_id,
            profile=None if params.resume_session_id else profile,
        )
        try:
            pod = await open_pod(spec, host)
        except SessionNotFound as exc:
            raise invalid_params(p.POD_CREATE, f"`resumeSessionId`: {exc}") from None
        except ConfigError as exc:
            raise invalid_params(p.POD_CREATE, f"`profile`: {exc}") from None
        if params.mode is not None and pod.config is not None:
            await pod.configure(Change(mode=params.mode))
        pod_ref.append(pod)
        real = LspEventSink(server, pod.id)
        sink.attach(real)
        self.entries[pod.id] = PodEntry(pod=pod, sink=real)
        return {
            "podId": pod.id,
            "sessionId": pod.session_id,
            "model": pod.info.model,
            "restored": params.resume_session_id is not None,
            **settings_to_wire(pod),
        }

    def _root(self, method: str) -> Path:
        root = self.server.root
        if root is None:
            raise invalid_params(method, "no workspace folder is open")
        return root

    async def approval_rules(self) -> dict[str, Any]:
        """The workspace's lasting approval rules (agent/approval_rules.py)."""
        root = self._root(p.APPROVALS_RULES)
        rules = await asyncio.to_thread(RuleStore(paths.config_dir()).rules, root)
        return {
            "workspace": str(root),
            "rules": [
                {
                    "id": r.id,
                    "key": r.key,
                    "tool": r.tool,
                    "label": r.label,
                    "createdAt": r.created_at,
                }
                for r in rules
            ],
        }

    async def revoke_rule(self, rule_id: str) -> dict[str, Any]:
        root = self._root(p.APPROVALS_REVOKE)
        store = RuleStore(paths.config_dir())
        return {"revoked": await asyncio.to_thread(store.revoke, root, rule_id)}

    async def trust_workspace(self) -> dict[str, Any]:
        """Trust this workspace (the user confirmed it in the editor): pods
        created from now on take its manifest whole."""
        root = self._root(p.WORKSPACE_TRUST)
        await asyncio.to_thread(TrustStore(paths.config_dir()).trust, root)
        return {"workspace": str(root), "trusted": True}

    async def profiles(self) -> dict[str, Any]:
        """The ``[profiles.<name>]`` of the manifests for this workspace."""
        server = self.server
        loaded = await asyncio.to_thread(load_manifest, server.root, overrides=server.overrides())
        return {
            "profiles": [
                {
                    "name": name,
                    "description": profile.description,
                    "model": profile.model,
                    "mode": profile.mode,
                    "reasoningEffort": profile.reasoning_effort,
                    "tools": list(profile.tools) if profile.tools is not None else None,
                    "approvals": profile.approvals,
                }
                for name, profile in sorted(loaded.manifest.profiles.items())
            ]
        }

    async def context(self, pod_id: str) -> dict[str, Any]:
        pod = self.get(pod_id, p.POD_CONTEXT).pod
        await pod.sized()
        return breakdown(pod)

    def raise_budget(self, params: pl.BudgetRaiseParams) -> dict[str, Any]:
        pod = self.get(params.pod_id, p.BUDGET_RAISE).pod
        if pod.money is None:
            raise invalid_params(p.BUDGET_RAISE, "this pod has no budget")
        budget = pod.money.budget
        if params.per_session_usd is None and params.per_session_tokens is None:
            raise invalid_params(p.BUDGET_RAISE, "give `perSessionUsd` or `perSessionTokens`")
        budget.raise_session(params.per_session_usd, params.per_session_tokens)
        return {
            "podId": pod.id,
            "perSessionUsd": budget.per_session_usd,
            "perSessionTokens": budget.per_session_tokens,
            **spend_to_wire(pod),
        }

    async def configure(self, params: pl.PodConfigureParams) -> dict[str, Any]:
        pod = self.get(params.pod_id, p.POD_CONFIGURE).pod
        settings = await pod.configure(
            Change(
                model=params.model,
                mode=params.mode,
                reasoning_effort=params.reasoning_effort,
                profile=params.profile,
            )
        )
        return {"podId": pod.id, **settings.to_wire()}

    async def list(self) -> dict[str, Any]:
        for entry in list(self.entries.values()):
            await entry.pod.sized()
        return {
            "pods": [
                {
                    "podId": pod_id,
                    "name": e.pod.info.name,
                    "sessionId": e.pod.session_id,
                    "state": e.pod.state,
                    "model": e.pod.info.model,
                    **settings_to_wire(e.pod),
                    **spend_to_wire(e.pod),
                    "contextTokens": e.pod.request_tokens(),
                    "turnCount": e.pod.turn_count,
                    **limits_to_wire(e.pod.context_limits()),
                    **({"parentPodId": e.parent_pod_id} if e.parent_pod_id else {}),
                }
                for pod_id, e in self.entries.items()
            ]
        }

    async def dispose(self, pod_id: str) -> None:
        entry = self.get(pod_id, p.POD_DISPOSE)
        del self.entries[pod_id]
        await entry.pod.close()
        entry.sink.close()  # a disposed pod goes quiet

    async def dispose_all(self) -> None:
        for pod_id in list(self.entries):
            if pod_id in self.entries:  # a parent's disposal took its sub-agents along
                await self.dispose(pod_id)

    def history(self, params: pl.PodHistoryParams) -> dict[str, Any]:
        pod = self.get(params.pod_id, p.POD_HISTORY).pod
        out = history_to_wire(pod.session_id, pod.history, limit=params.limit, before=params.before)
        out["lastRunInterrupted"] = pod.last_run_interrupted
        out.update(spend_to_wire(pod))
        if agents := sub_agents_to_wire(pod):
            out["subAgents"] = agents
        return out

    async def chat(self, params: pl.ChatParams) -> dict[str, Any]:
        """Run a turn and answer when it ends. If the request is cancelled
        (``$/cancelRequest``), the turn is interrupted and still answered."""
        pod = self.get(params.pod_id, p.CHAT).pod
        segments = params.input
        if pod.images is not None:  # images stored, and refused before the turn starts
            try:
                segments = await pod.images.prepare(segments)
            except ImageRejected as exc:
                raise invalid_params(p.CHAT, str(exc)) from None
        turn = pod.start_chat(segments)  # claims now: a busy pod fails here
        try:
            result: TurnResult = await asyncio.shield(turn)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            pod.interrupt()
            result = await turn
        return turn_result_to_wire(result)

    async def extract(self, pod_id: str) -> dict[str, Any]:
        pod = self.get(pod_id, p.MEMORY_EXTRACT).pod
        outcome = await pod.extract_memory()
        if outcome is None:
            return {"extracted": False}
        result: dict[str, Any] = {
            "extracted": True,
            "processedThroughEntry": outcome.pointer.processed_through_entry,
            "source": outcome.source.as_json(),
        }
        if outcome.pointer.staging_id:
            result["stagingId"] = outcome.pointer.staging_id
        return result

    async def compact(self, pod_id: str) -> dict[str, Any]:
        pod = self.get(pod_id, p.POD_COMPACT).pod
        return {"sessionId": await pod.compact()}

    def interrupt(self, pod_id: str) -> None:
        self.get(pod_id, p.POD_INTERRUPT).pod.interrupt()

    def notify(self, pod_id: str, message: str) -> None:
        pod = self.get(pod_id, p.POD_NOTIFY).pod
        pod.notify(message)
        if not pod.busy:
            self.server.keep(pod.start_resume(), f"notification turn {pod_id}")

    async def sessions(self) -> dict[str, Any]:
        store = SessionStore(self.server.home / "sessions")
        infos = await asyncio.to_thread(store.list_sessions)
        return {"sessions": [session_to_wire(i) for i in infos]}


class _Deferred:
    """An event sink that buffers until the real one is known (events emitted
    while a pod is being built, such as manifest warnings)."""

    def __init__(self) -> None:
        self._buffer: list[Event] = []
        self._target: LspEventSink | None = None

    def attach(self, target: LspEventSink) -> None:
        self._target = target
        for event in self._buffer:
            target.emit(event)
        self._buffer.clear()

    def emit(self, event: Event) -> None:
        if self._target is None:
            self._buffer.append(event)
        else:
            self._target.emit(event)


def settings_to_wire(pod: Pod) -> dict[str, Any]:
    """The pod's mode, reasoning effort and profile (``model`` is sent apart)."""
    if pod.config is None:
        return {"mode": "agent", "reasoningEffort": None, "profile": None}
    wire = pod.config.current.to_wire()
    del wire["model"]
    return wire


def spend_to_wire(pod: Pod) -> dict[str, Any]:
    """What the pod's session has spent (US dollars; tokens in and out)."""
    if pod.money is None:
        return {}
    session = pod.money.session
    return {"sessionCostUsd": session.usd, "sessionTokens": session.tokens}
