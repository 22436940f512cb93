"""The sub-agents of one pod.

A sub-agent is a real pod in the same host: its own session log (linked to
the parent's by ``spawned_by`` in its start entry), a scope delegated from
the parent's (:mod:`agent.agents.scope`), its own approval gate ("allow for
this session" is per agent). It lives while it runs: when a run ends its pod
is closed, so its write access returns to the parent; a later message
(``send_to_agent``) re-opens its session.

A foreground spawn waits for the run and answers with the sub-agent's final
message; a background one answers at once, and the parent gets a note in its
next request when the sub-agent's run ends (a turn is started for it if the
parent is idle). Interrupting the parent interrupts its sub-agents; closing
it stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agent.agents.claims import ClaimView
from agent.agents.record import (
    DOMAIN,
    Child,
    ScopeRequest,
    ended_payload,
    resumed_payload,
    snapshot_payload,
    spawned_payload,
)
from agent.agents.scope import AgentScope, delegate, describe
from agent.errors import ExecutionFailed, InvalidArgument, YoiError
from agent.events import SubAgentEvent
from agent.ids import now_ms, short_id
from agent.items import Item, Message
from agent.manifest import Manifest
from agent.manifest.schema import AgentsSection
from agent.registry import PodRegistry
from agent.segments import TextSegment
from agent.store import Extension, SpawnedBy

if TYPE_CHECKING:
    from agent.agents.port import AgentHost
    from agent.factory import PodHost, PodSpec
    from agent.pod import Pod, TurnResult

log = logging.getLogger(__name__)

OpenPod = Callable[["PodSpec", "PodHost"], Awaitable["Pod"]]

TASK_PREAMBLE = (
    "You are the sub-agent `{name}`, started by another agent to do one task. Work only on "
    "that task, within your scope ({summary}). When you are done, answer with a complete, "
    "self-contained final message: it is all the agent that started you will see.\n\n"
    "Your task:\n{task}"
)


@dataclasses.dataclass(frozen=True)
class Delegation:
    """How a sub-agent's pod differs from a top-level one (``PodSpec.delegation``)."""

    pod_id: str
    parent_id: str
    depth: int
    scope: AgentScope
    read_only: bool
    spawned_by: SpawnedBy


class Children:
    def __init__(
        self,
        *,
        spec: PodSpec,
        host: PodHost,
        agent_host: AgentHost,
        scope: AgentScope,
        depth: int,
        open_pod: OpenPod,
    ) -> None:
        self.spec = spec
        self.host = host
        self.agent_host = agent_host
        self.scope = scope
        self.depth = depth
        self.settings: AgentsSection = spec.loaded.manifest.agents
        self.registry = PodRegistry(spec.home)
        self.claims = ClaimView(spec.home)
        self.children: dict[str, Child] = {}
        self.pod: Pod | None = None  # bound once the parent exists
        self._open_pod = open_pod
        self._tasks: set[asyncio.Future[object]] = set()
        self._closing = False
        self._snapshot: asyncio.Future[object] | None = None  # logging a compaction's

    # ------------------------------------------------------------ tools

    async def spawn(
        self,
        *,
        call_id: str,
        task: str,
        name: str | None,
        scope: ScopeRequest,
        model: str | None,
        background: bool,
        profile: str | None = None,
    ) -> str:
        parent = self._parent()
        self._check_limits()
        name = self._new_name(name)
        child = Child(
            name=name, task=task, scope=scope, model=model, call_id=call_id, profile=profile
        )
        self.children[name] = child  # counted from now on (spawns may run in parallel)
        try:
            pod = await self._open(child, resume=None)
        except BaseException:
            del self.children[name]
            raise
        try:  # logged before anyone hears of it
            await parent.session.append(
                [Extension(ts=now_ms(), domain=DOMAIN, payload=spawned_payload(child, background))]
            )
        except BaseException:
            del self.children[name]
            await asyncio.shield(self._discard(child, pod))
            raise
        text = TASK_PREAMBLE.format(name=name, summary=child.summary, task=task)
        self._start(child, pod, text, awaited=not background)
        self._announce(child, pod)
        if background:
            return (
                f"Started the sub-agent `{name}` in the background ({child.summary}); its id is "
                f"`{name}`. You will get a note with its answer when it finishes; meanwhile "
                "carry on with your own work."
            )
        return await self._wait(child)

    async def send(self, name: str, message: str) -> str:
        child = self._get(name)
        if child.live or child.status == "starting":
            raise ExecutionFailed(
                f"The sub-agent `{name}` is still working; wait for its answer (you will get a "
                "note) or stop it with stop_agent."
            )
        self._check_limits()
        before, child.status = child.status, "starting"
        try:
            pod = await self._open(child, resume=child.session_id)
        except BaseException:
            child.status = before
            raise
        child.answer, child.error = None, None
        try:
            await self._parent().session.append(
                [Extension(ts=now_ms(), domain=DOMAIN, payload=resumed_payload(child))]
            )
        except BaseException:
            child.status = before
            await asyncio.shield(self._discard(child, pod))
            raise
        self._start(child, pod, message, awaited=False)
        self._announce(child, pod)
        return f"Sent to `{name}`; you will get a note with its answer when it finishes."

    def output(self, name: str) -> str:
        child = self._get(name)
        answer = child.answer
        if child.pod is not None:
            answer = last_answer(child.pod.history) or answer
        lines = [f"`{name}` is {child.status} ({child.summary or 'not running'})."]
        if child.error:
            lines.append(f"Error: {child.error}")
        lines.append(f"Latest answer:\n{answer}" if answer else "No answer yet.")
        return "\n".join(lines)

    async def stop(self, name: str) -> str:
        child = self._get(name)
        if child.pod is None:
            return f"`{name}` is not running ({child.status}); nothing to stop."
        child.status = "stopped"
        child.pod.interrupt()
        await child.done.wait()
        return f"Stopped `{name}`; the folders it could write are yours again."

    def listing(self) -> str:
        if not self.children:
            return "No sub-agents yet."
        return "\n".join(c.line() for c in self.children.values())

    # ------------------------------------------------------------ lifecycle

    def interrupt_all(self) -> bool:
        running = [c for c in self.children.values() if c.pod is not None]
        for child in running:
            assert child.pod is not None
            child.pod.interrupt()
        return bool(running)

    async def close(self) -> None:
        self._closing = True
        if self._snapshot is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._snapshot)
        running = [c for c in self.children.values() if c.pod is not None]
        for child in running:
            child.status = "stopped"
            assert child.pod is not None
            child.pod.interrupt()
        for child in running:
            await child.done.wait()

    def compacted(self) -> None:
        if self.children:
            payload = snapshot_payload(list(self.children.values()))
            entry = Extension(ts=now_ms(), domain=DOMAIN, payload=payload)
            self._snapshot = self._keep(
                self._parent().session.append([entry]), "sub-agents snapshot"
            )

    def live(self) -> list[Pod]:
        return [c.pod for c in self.children.values() if c.pod is not None]

    # ------------------------------------------------------------ internals

    def _parent(self) -> Pod:
        if self.pod is None:
            raise RuntimeError("the sub-agents' parent pod is not bound yet")
        return self.pod

    def _get(self, name: str) -> Child:
        child = self.children.get(name)
        if child is None:
            known = ", ".join(f"`{n}`" for n in self.children) or "none"
            raise InvalidArgument(f"There is no sub-agent `{name}`; yours: {known}.")
        return child

    def _check_limits(self) -> None:
        if self._closing:
            raise ExecutionFailed("This agent is closing; it cannot start sub-agents.")
        if self.depth >= self.settings.max_depth:
            raise ExecutionFailed(
                f"This agent is itself a sub-agent at depth {self.depth}, and sub-agents may "
                f"nest only {self.settings.max_depth} deep ([agents] max_depth); do the work "
                "yourself."
            )
        running = sum(1 for c in self.children.values() if c.status in ("starting", "running"))
        if running >= self.settings.max_children:
            raise ExecutionFailed(
                f"{running} sub-agents are already running, the most allowed at once "
                f"([agents] max_children = {self.settings.max_children}); wait for one to "
                "finish, or stop one with stop_agent."
            )

    def _new_name(self, wanted: str | None) -> str:
        if wanted is not None:
            wanted = wanted.strip()
            if not wanted or any(ch.isspace() or ch == "`" for ch in wanted):
                raise InvalidArgument("`name` must be one word (letters, digits, dashes).")
            if wanted in self.children:
                raise InvalidArgument(
                    f"There is already a sub-agent `{wanted}`; pick another name, or use "
                    "send_to_agent to give it more work."
                )
            return wanted
        n = len(self.children) + 1
        while f"agent-{n}" in self.children:
            n += 1
        return f"agent-{n}"

    async def _open(self, child: Child, resume: str | None) -> Pod:
        """Delegate the child's scope, reserve it in the registry, open its pod."""
        parent = self._parent()
        child_id = short_id("pod-")
        rules = delegate(
            self.scope,
            write=child.scope.write,
            read=child.scope.read,
            deny=child.scope.deny,
            read_only=child.scope.read_only,
        )
        scope = AgentScope(
            self.scope.root,
            rules.allow,
            rules.deny,
            parent=self.scope,
            claims=self.claims,
            writer=child_id,
        )
        child.summary = describe(scope, rules.writes, child.scope.read_only)
        cwd = self.spec.root or Path.cwd()
        await asyncio.to_thread(
            self.registry.reserve, child_id, child.name, parent.id, rules.writes, cwd
        )
        ports = self.agent_host.child_ports(parent, child_id, child.name)
        host = dataclasses.replace(self.host, events=ports.events, approvals=ports.approvals)
        spec = dataclasses.replace(
            self.spec,
            loaded=dataclasses.replace(
                self.spec.loaded, manifest=self._child_manifest(child.model), problems=[]
            ),
            name=child.name,
            resume_session_id=resume,
            profile=child.profile if resume is None else None,
            delegation=Delegation(
                pod_id=child_id,
                parent_id=parent.id,
                depth=self.depth + 1,
                scope=scope,
                read_only=child.scope.read_only,
                spawned_by=SpawnedBy(
                    session_id=parent.session_id, call_id=child.call_id, name=child.name
                ),
            ),
        )
        try:
            pod = await self._open_pod(spec, host)
        except BaseException as exc:
            await asyncio.shield(asyncio.to_thread(self.registry.release, child_id))
            if isinstance(exc, YoiError):
                raise ExecutionFailed(f"Could not start `{child.name}`: {exc}") from None
            raise
        child.pod = pod
        child.status = "running"
        child.session_id = pod.session_id
        self.agent_host.opened(pod, parent, ports)
        return pod

    async def _discard(self, child: Child, pod: Pod) -> None:
        """Close a child's pod that never ran (its write access returns)."""
        child.pod = None
        await pod.close()
        self.agent_host.closed(pod)

    def _child_manifest(self, model: str | None) -> Manifest:
        manifest = self.spec.loaded.manifest
        worker = manifest.worker.model_copy(
            update={"max_turns": min(manifest.worker.max_turns, self.settings.max_requests)}
        )
        update: dict[str, object] = {
            "worker": worker,
            # a sub-agent's runs are its parent's business: no memory of their own, and
            # the workspace's snapshots are the parent's
            "memory": manifest.memory.model_copy(update={"enabled": False}),
            "checkpoints": manifest.checkpoints.model_copy(update={"enabled": False}),
        }
        if model:
            update["model"] = manifest.model.model_copy(update={"name": model})
        return manifest.model_copy(update=update)

    def _start(self, child: Child, pod: Pod, text: str, *, awaited: bool) -> None:
        child.awaited = awaited
        child.done.clear()
        turn = pod.start_chat([TextSegment(kind="text", text=text)])
        child.run = turn
        self._keep(self._follow(child, pod, turn), f"sub-agent {child.name}")

    async def _follow(self, child: Child, pod: Pod, turn: asyncio.Task[TurnResult]) -> None:
        """Wait for a child's run, then end it: close its pod (its write access
        returns), log how it ended in the parent's log, tell the parent."""
        try:
            result = await turn
            if child.status != "stopped":
                child.status = result.outcome
            child.error = result.error
        except asyncio.CancelledError:
            child.status = "stopped" if child.status == "stopped" else "interrupted"
        except Exception as exc:  # a bug in the child's turn: the parent hears of it
            log.exception("sub-agent %s failed", child.name)
            child.status, child.error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            child.answer = last_answer(pod.history)
            child.session_id = pod.session_id
            await asyncio.shield(self._end(child, pod))

    async def _end(self, child: Child, pod: Pod) -> None:
        try:
            await pod.close()
        except Exception:
            log.exception("could not close sub-agent %s", child.name)
        child.pod = None
        self.agent_host.closed(pod)
        parent = self._parent()
        try:
            await parent.session.append(
                [Extension(ts=now_ms(), domain=DOMAIN, payload=ended_payload(child))]
            )
        except Exception:
            log.exception("could not log the end of sub-agent %s", child.name)
        self._announce(child, pod)
        child.done.set()
        if not child.awaited and not self._closing:
            parent.notify(note_for(child))
            self._keep(self._wake(parent), f"note from {child.name}")

    def _announce(self, child: Child, pod: Pod) -> None:
        """Tell the parent's host (a ``subAgent`` event) once it is logged."""
        self._parent().events.emit(
            SubAgentEvent(
                pod_id=pod.id,
                name=child.name,
                status=child.status,
                call_id=child.call_id or None,
                session_id=child.session_id or None,
                task=child.task,
                scope=child.summary or None,
                answer=child.answer if not child.live else None,
                error=child.error if not child.live else None,
            )
        )

    async def _wake(self, parent: Pod) -> None:
        """Start a turn for the note once the parent is idle (unless a request
        of a running turn took it)."""
        await parent.wait_idle()
        if parent.pending_notes and not parent.busy and not self._closing:
            with contextlib.suppress(YoiError):
                await parent.start_resume()

    async def _wait(self, child: Child) -> str:
        """A foreground child: its answer, or a tool error saying how it failed.
        Interrupting the parent's tool interrupts the child."""
        try:
            await asyncio.shield(child.done.wait())
        except asyncio.CancelledError:
            if child.pod is not None:
                child.pod.interrupt()
            await asyncio.shield(child.done.wait())
            raise
        if child.status != "finished":
            raise ExecutionFailed(failure_text(child))
        return f"`{child.name}` finished. Its answer:\n\n{child.answer or '(no text)'}"

    def _keep(self, work: Awaitable[object], what: str) -> asyncio.Future[object]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)

        def done(t: asyncio.Future[object]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s failed", what, exc_info=t.exception())

        task.add_done_callback(done)
        return task


def last_answer(history: list[Item]) -> str | None:
    """The text of the last assistant message."""
    for item in reversed(history):
        if isinstance(item, Message) and item.role == "assistant" and item.text.strip():
            return item.text
    return None


def failure_text(child: Child) -> str:
    why = {
        "error": f"failed: {child.error}",
        "interrupted": "was interrupted",
        "stopped": "was stopped",
        "limitReached": "used up its requests ([agents] max_requests) before finishing",
        "paused": "paused (a hook stopped it)",
    }.get(child.status, child.status)
    tail = f" Its last answer:\n\n{child.answer}" if child.answer else ""
    return f"The sub-agent `{child.name}` {why}.{tail}"


def note_for(child: Child) -> str:
    if child.status == "finished":
        return (
            f"The sub-agent `{child.name}` finished. Its answer:\n\n{child.answer or '(no text)'}"
        )
    return failure_text(child)
