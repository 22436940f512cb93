"""Hooks: read-only observers at six points of a run that may steer it.

The points are the seed's: ``prompt_submit``, ``pre_request``, ``pre_tool_call``,
``post_tool_call``, ``turn_end`` and ``abort``. A hook receives a frozen summary
(it can never mutate history) and returns a decision. Several hooks at one point
run in registration order; the first decision other than :class:`Continue`
wins. Hooks are registered before a pod's first run; the registry is frozen
then.

Hooks come from code (any async callable) or from the manifest as commands
(:class:`CommandHook`), which get the summary as JSON on stdin, like Claude
Code's hooks: exit 0 continues (or returns a JSON decision on stdout), exit 2
blocks with stderr as the reason, anything else is reported and ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from agent.process import DEFAULT_HIDDEN_ENV, child_env, kill_group

log = logging.getLogger(__name__)


class HookPoint(StrEnum):
    PROMPT_SUBMIT = "prompt_submit"
    PRE_REQUEST = "pre_request"
    PRE_TOOL_CALL = "pre_tool_call"
    POST_TOOL_CALL = "post_tool_call"
    TURN_END = "turn_end"
    ABORT = "abort"


# ---------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Continue:
    pass


@dataclass(frozen=True)
class Cancel:
    """Stop the run (prompt_submit, pre_request, post_tool_call) or abort it
    (pre_tool_call)."""

    reason: str


@dataclass(frozen=True)
class Skip:
    """pre_tool_call only: do not run this call; the model is told why."""

    reason: str


@dataclass(frozen=True)
class Pause:
    """pre_tool_call and turn_end: end the run as ``paused``; ``resume`` goes on."""


@dataclass(frozen=True)
class ContinueWith:
    """turn_end only: instead of finishing, add these user messages and go on."""

    messages: tuple[str, ...]


Decision = Continue | Cancel | Skip | Pause | ContinueWith
CONTINUE = Continue()

# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class PromptSubmitInfo:
    text: str
    turn_index: int


@dataclass(frozen=True)
class PreRequestInfo:
    item_count: int
    request_index: int  # 0-based index of this request within the run
    turn_index: int


@dataclass(frozen=True)
class PreToolCallInfo:
    call_id: str
    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class PostToolCallInfo:
    call_id: str
    tool: str
    is_error: bool
    summary: str
    content: str | None


@dataclass(frozen=True)
class TurnEndInfo:
    turn_index: int
    tool_calls_count: int
    final_text_preview: str


@dataclass(frozen=True)
class AbortInfo:
    reason: str


InfoT = TypeVar("InfoT")
HookFn = Callable[[InfoT], Awaitable[Decision]]

# Which decisions each point accepts; anything else is treated as Continue.
_ALLOWED: dict[HookPoint, tuple[type, ...]] = {
    HookPoint.PROMPT_SUBMIT: (Cancel,),
    HookPoint.PRE_REQUEST: (Cancel,),
    HookPoint.PRE_TOOL_CALL: (Cancel, Skip, Pause),
    HookPoint.POST_TOOL_CALL: (Cancel,),
    HookPoint.TURN_END: (Pause, ContinueWith),
    HookPoint.ABORT: (),
}


@dataclass
class _Chain(Generic[InfoT]):
    point: HookPoint
    hooks: list[HookFn[InfoT]] = field(default_factory=list)

    async def run(self, info: InfoT, on_error: Callable[[str], None]) -> Decision:
        for hook in self.hooks:
            try:
                decision = await hook(info)
            except Exception as exc:  # a broken hook never breaks the run
                log.exception("hook at %s failed", self.point)
                on_error(f"A {self.point} hook failed and was ignored: {exc}")
                continue
            if isinstance(decision, _ALLOWED[self.point]):
                return decision
        return CONTINUE


class Hooks:
    """The hooks of one pod."""

    def __init__(self) -> None:
        self.prompt_submit: _Chain[PromptSubmitInfo] = _Chain(HookPoint.PROMPT_SUBMIT)
        self.pre_request: _Chain[PreRequestInfo] = _Chain(HookPoint.PRE_REQUEST)
        self.pre_tool_call: _Chain[PreToolCallInfo] = _Chain(HookPoint.PRE_TOOL_CALL)
        self.post_tool_call: _Chain[PostToolCallInfo] = _Chain(HookPoint.POST_TOOL_CALL)
        self.turn_end: _Chain[TurnEndInfo] = _Chain(HookPoint.TURN_END)
        self.abort: _Chain[AbortInfo] = _Chain(HookPoint.ABORT)
        self._frozen = False

    def freeze(self) -> None:
        self._frozen = True

    def chain(self, point: HookPoint) -> _Chain[Any]:
        chains: dict[HookPoint, _Chain[Any]] = {
            HookPoint.PROMPT_SUBMIT: self.prompt_submit,
            HookPoint.PRE_REQUEST: self.pre_request,
            HookPoint.PRE_TOOL_CALL: self.pre_tool_call,
            HookPoint.POST_TOOL_CALL: self.post_tool_call,
            HookPoint.TURN_END: self.turn_end,
            HookPoint.ABORT: self.abort,
        }
        return chains[point]

    def add(self, point: HookPoint, hook: HookFn[Any]) -> None:
        if self._frozen:
            raise RuntimeError("hooks must be added before the pod's first run")
        self.chain(point).hooks.append(hook)


# ---------------------------------------------------------------- command hooks


@dataclass(frozen=True)
class CommandHook:
    """A hook that runs a shell command with the summary as JSON on stdin.
    The command does not see the environment variables named in
    ``hidden_env`` (the model's API key)."""

    point: HookPoint
    command: str
    cwd: str
    tools: tuple[str, ...] = ()
    timeout_seconds: float = 30.0
    hidden_env: tuple[str, ...] = DEFAULT_HIDDEN_ENV
    on_problem: Callable[[str], None] = field(default=lambda _m: None, compare=False)

    async def __call__(self, info: Any) -> Decision:
        tool = getattr(info, "tool", None)
        if self.tools and tool is not None and tool not in self.tools:
            return CONTINUE
        payload = json.dumps({"point": str(self.point), **asdict(info)})
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            self.command,
            cwd=self.cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_env(self.hidden_env, extra={"YOI_HOOK_POINT": str(self.point)}),
            start_new_session=True,
        )
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(payload.encode()), self.timeout_seconds
            )
        except TimeoutError:
            kill_group(proc.pid)
            await proc.wait()
            self.on_problem(
                f"Hook `{self.command}` ({self.point}) took longer than "
                f"{self.timeout_seconds:g} s and was stopped; the run goes on."
            )
            return CONTINUE
        except asyncio.CancelledError:
            kill_group(proc.pid)
            raise
        stderr = err.decode(errors="replace").strip()
        if proc.returncode == 2:
            return self._blocking(stderr or f"blocked by hook `{self.command}`")
        if proc.returncode != 0:
            self.on_problem(
                f"Hook `{self.command}` ({self.point}) exited with {proc.returncode}"
                f"{': ' + stderr[:300] if stderr else ''}; it was ignored."
            )
            return CONTINUE
        return self._parse(out.decode(errors="replace").strip())

    def _blocking(self, reason: str) -> Decision:
        if self.point is HookPoint.PRE_TOOL_CALL:
            return Skip(reason)
        if self.point is HookPoint.TURN_END:
            return ContinueWith((reason,))
        return Cancel(reason)

    def _parse(self, stdout: str) -> Decision:
        if not stdout.startswith("{"):
            return CONTINUE
        try:
            data = json.loads(stdout)
        except ValueError:
            self.on_problem(f"Hook `{self.command}` printed invalid JSON; it was ignored.")
            return CONTINUE
        kind = str(data.get("decision", "continue"))
        reason = str(data.get("reason", f"hook `{self.command}`"))
        match kind:
            case "cancel" | "block":
                return self._blocking(reason)
            case "skip":
                return Skip(reason)
            case "pause":
                return Pause()
            case "continue_with":
                messages = data.get("messages", [])
                return ContinueWith(tuple(str(m) for m in messages))
            case _:
                return CONTINUE
