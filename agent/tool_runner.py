"""Running one batch of tool calls: hooks before, the tools in parallel,
hooks after, output caps, events.

Every call ends with exactly one :class:`ToolResult`: its tool's output, an
error the model can act on (unknown tool, malformed arguments, a tool error, a
bug), a skip by a hook, or — when the batch is interrupted — a note that it
did not run. The worker concludes (:meth:`ToolRunner.conclude`), persists and
announces each result as its tool finishes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from agent import hooks as h
from agent.errors import ToolError
from agent.events import Alert, ToolResultEvent
from agent.items import ToolCall, ToolResult
from agent.ports import EventSink
from agent.running_calls import RunningCalls
from agent.tools.base import ToolCallContext, ToolSet, truncate_utf8

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolOutputLimits:
    default_max_bytes: int = 16384
    per_tool: Mapping[str, int] = field(default_factory=dict)

    def limit_for(self, tool: str) -> int:
        return self.per_tool.get(tool, self.default_max_bytes)


@dataclass
class Screened:
    """The pre-tool hooks' verdict on a batch."""

    approved: list[ToolCall]
    skipped: dict[str, ToolResult]
    pause: bool = False
    abort: str | None = None


class ToolRunner:
    def __init__(
        self,
        *,
        tools: ToolSet,
        hooks: h.Hooks,
        events: EventSink,
        limits: ToolOutputLimits,
        interrupted_summary: str,
        on_hook_problem: Callable[[str], None],
        running: RunningCalls | None = None,
    ) -> None:
        self.running = running if running is not None else RunningCalls()
        self.tools = tools
        self.hooks = hooks
        self.events = events
        self.limits = limits
        self.interrupted_summary = interrupted_summary
        self.on_hook_problem = on_hook_problem

    async def screen(self, calls: list[ToolCall]) -> Screened:
        screened = Screened(approved=[], skipped={})
        for call in calls:
            decision = await self.hooks.pre_tool_call.run(
                h.PreToolCallInfo(call.call_id, call.name, call.parsed_arguments() or {}),
                self.on_hook_problem,
            )
            match decision:
                case h.Skip(reason=reason):
                    screened.skipped[call.call_id] = not_run(
                        call, f"Not run: a hook skipped this call ({reason})."
                    )
                case h.Cancel(reason=reason):
                    screened.abort = f"a hook aborted the run before {call.name}: {reason}"
                    return screened
                case h.Pause():
                    screened.pause = True
                    return screened
                case _:
                    screened.approved.append(call)
        return screened

    def start(self, approved: list[ToolCall]) -> dict[str, asyncio.Task[ToolResult]]:
        tasks = {c.call_id: asyncio.ensure_future(self._run_one(c)) for c in approved}
        for call in approved:
            stoppable = getattr(self.tools.offered(call.name), "stoppable", False)
            self.running.watch(call.call_id, tasks[call.call_id], stoppable=stoppable)
        return tasks

    async def cancel(self, tasks: Mapping[str, asyncio.Task[ToolResult]]) -> None:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)

    def interrupted(
        self,
        calls: list[ToolCall],
        tasks: Mapping[str, asyncio.Task[ToolResult]],
        skipped: Mapping[str, ToolResult],
    ) -> list[ToolResult]:
        """Results after an interrupt: what finished, and a note for the rest."""
        done = {**skipped, **_finished(tasks)}
        return [done.get(call.call_id) or self._not_run(call) for call in calls]

    def outcome(self, task: asyncio.Task[ToolResult], call: ToolCall) -> ToolResult:
        """A finished task's result (a task that failed or was cancelled: a
        note that the call did not run)."""
        if task.cancelled() or task.exception() is not None:
            return self._not_run(call)
        return task.result()

    async def conclude(self, call: ToolCall, result: ToolResult) -> tuple[ToolResult, str | None]:
        """The post-tool hooks and the output cap for one result. Returns the
        result to persist and the reason a hook aborted the run, if one did.
        Nothing is announced: the caller persists, then :meth:`announce` s."""
        post = await self.hooks.post_tool_call.run(
            h.PostToolCallInfo(
                call.call_id, call.name, result.is_error, result.summary, result.content
            ),
            self.on_hook_problem,
        )
        abort = None
        if isinstance(post, h.Cancel):
            abort = f"a hook aborted the run after {call.name}: {post.reason}"
        return self._cap(result), abort

    def announce(self, results: list[ToolResult]) -> None:
        """One ``toolResult`` event per (persisted) result."""
        announce_results(self.events, results)

    def _not_run(self, call: ToolCall) -> ToolResult:
        return not_run(call, self.interrupted_summary)

    async def _run_one(self, call: ToolCall) -> ToolResult:
        tool = self.tools.offered(call.name)
        if tool is None:
            refusal = self.tools.refusal(call.name)
            if refusal is not None:
                return not_run(call, refusal)
            names = ", ".join(self.tools.names()) or "none"
            return not_run(call, f"There is no tool named {call.name!r}. Available tools: {names}.")
        args = call.parsed_arguments()
        if args is None:
            return not_run(
                call,
                f"The arguments of this {call.name} call are not a valid JSON object "
                f"({_preview(call.arguments)}). Call {call.name} again with a JSON object "
                "matching its schema.",
            )
        context = ToolCallContext(
            call_id=call.call_id, events=self.events, stop=self.running.stop_signal(call.call_id)
        )
        try:
            output = await tool.run(tool.parse(args), context)
        except ToolError as exc:
            return not_run(call, str(exc)).model_copy(update={"edits": context.edits or None})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("tool %s failed", call.name)
            return not_run(call, f"{call.name} failed unexpectedly: {type(exc).__name__}: {exc}")
        return ToolResult(
            call_id=call.call_id,
            name=call.name,
            summary=output.summary,
            content=output.content,
            images=list(output.images) or None,
            edits=context.edits or None,
        )

    def _cap(self, result: ToolResult) -> ToolResult:
        if result.content is None:
            return result
        limit = self.limits.limit_for(result.name)
        content, dropped = truncate_utf8(result.content, limit)
        if not dropped:
            return result
        size = len(result.content.encode("utf-8"))
        self.events.emit(
            Alert(
                level="warn",
                source="worker",
                message=(
                    f"The output of {result.name} was cut from {size:,} to {limit:,} bytes "
                    "(its limit); the model was told to narrow its request. Raise "
                    "[worker.tool_output] per_tool in the manifest to allow more."
                ),
            )
        )
        return result.model_copy(update={"content": content})


def _finished(tasks: Mapping[str, asyncio.Task[ToolResult]]) -> dict[str, ToolResult]:
    return {
        call_id: task.result()
        for call_id, task in tasks.items()
        if task.done() and not task.cancelled() and task.exception() is None
    }


def announce_results(events: EventSink, results: list[ToolResult]) -> None:
    """Tell the host about results the log already holds."""
    for result in results:
        events.emit(
            ToolResultEvent(
                id=result.call_id,
                name=result.name,
                ok=not result.is_error,
                summary=result.summary,
                content=result.content,
                edits=result.edits,
            )
        )


def not_run(call: ToolCall, summary: str) -> ToolResult:
    """An error result for ``call`` (it failed, was refused, or did not run)."""
    return ToolResult(call_id=call.call_id, name=call.name, summary=summary, is_error=True)


def _preview(text: str, limit: int = 120) -> str:
    text = text.strip() or "empty"
    return text if len(text) <= limit else text[:limit] + "…"
