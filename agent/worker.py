"""The worker loop: request → stream → run tools → feed results → repeat.

The worker owns the history of one conversation and runs one *run* at a time
(a user turn, a resume, or a notification turn). It ends with an outcome:

- ``finished``: the model answered without tool calls;
- ``paused``: a hook asked to wait (tool calls may be left for ``resume``);
- ``limitReached``: ``max_turns`` requests were made in this run;
- ``interrupted``: :meth:`Worker.interrupt` was called;
- ``error``: the model failed after its retries, a hook cancelled, or a bug;
- ``yielded``: the interceptor asked to stop so the pod can compact (internal).

Invariants: every item is committed (handed to the ``commit`` callback, which
persists it) as soon as it exists, so a crash loses at most the request in
flight; and after any outcome but ``paused`` every tool call has a result, so
the history is always a valid request for the next run. Tool failures are tool
results the model sees; they never end the run.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from agent import hooks as h
from agent.checkpoints.recorder import CheckpointPort, NoCheckpoints
from agent.errors import LlmError, YoiError
from agent.events import Alert, Phase, ReasoningDelta, TextDelta, ToolCallEvent
from agent.items import Item, Message, Reasoning, ToolCall, ToolResult, unanswered_calls
from agent.llm.types import (
    ClientLoading,
    ClientReady,
    Completed,
    LlmClient,
    LlmRequest,
    ReasoningChunk,
    RequestSettings,
    Response,
    TextChunk,
    Usage,
)
from agent.ports import EventSink
from agent.running_calls import RunningCalls
from agent.tool_runner import (
    Screened,
    ToolOutputLimits,
    ToolRunner,
    announce_results,
    not_run,
)
from agent.tools.base import ToolSet

log = logging.getLogger(__name__)
T = TypeVar("T")

RunOutcome = Literal[
    "finished", "paused", "limitReached", "interrupted", "error", "yielded", "budgetExceeded"
]

INTERRUPTED_SUMMARY = "[Interrupted by user]"
# After the text of an answer that broke off (the model sees it next turn).
CUT_OFF_MARK = "\n\n[cut off: the answer broke off here]"


@dataclass(frozen=True)
class WorkerSettings:
    max_turns: int = 50
    tool_output: ToolOutputLimits = ToolOutputLimits()
    request: RequestSettings = RequestSettings()
    interrupted_summary: str = INTERRUPTED_SUMMARY


# ---------------------------------------------------------------- interceptor


@dataclass(frozen=True)
class Proceed:
    """Send the request; ``extra`` items go into this request only."""

    extra: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Stop:
    reason: str
    outcome: RunOutcome = "error"  # or "budgetExceeded"


@dataclass(frozen=True)
class YieldRun:
    """Stop before this request so the pod can compact, then resume."""


InterceptDecision = Proceed | Stop | YieldRun


class Interceptor(Protocol):
    async def before_request(self, history: list[Item]) -> InterceptDecision: ...


class InputBudget:
    """For disposable workers: counts the input tokens of every request (use
    :meth:`commit` as the worker's commit) and stops the run before the next
    request once they pass ``cap`` (use it as the interceptor)."""

    def __init__(self, cap: int, who: str, setting: str) -> None:
        self.cap = cap
        self.who = who
        self.setting = setting
        self.used = 0

    async def commit(self, items: list[Item], measure: RequestMeasure | None) -> None:
        if measure is not None:
            self.used += measure.usage.input_tokens

    async def before_request(self, history: list[Item]) -> InterceptDecision:
        if self.used > self.cap:
            return Stop(
                f"the {self.who} used {self.used:,} input tokens, over its cap of "
                f"{self.cap:,} ({self.setting})"
            )
        return Proceed()


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class RequestMeasure:
    """One request's usage, and the history length it was measured at."""

    history_len: int
    usage: Usage


@dataclass(frozen=True)
class RunReport:
    outcome: RunOutcome
    requests: int
    error: str | None = None
    exception: BaseException | None = None


Commit = Callable[[list[Item], RequestMeasure | None], Awaitable[None]]


class _Interrupted(Exception):
    pass


class _Aborted(Exception):
    def __init__(self, reason: str, outcome: RunOutcome = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


async def _no_commit(items: list[Item], measure: RequestMeasure | None) -> None:
    return None


class Worker:
    def __init__(
        self,
        *,
        client: LlmClient,
        tools: ToolSet,
        events: EventSink,
        settings: WorkerSettings = WorkerSettings(),
        hooks: h.Hooks | None = None,
        system_prompt: str = "",
        history: list[Item] | None = None,
        interceptor: Interceptor | None = None,
        commit: Commit = _no_commit,
    ) -> None:
        self.client = client
        self.tools = tools
        self.events = events
        self.settings = settings
        # what a request sends instead of the history (the prune projection); the
        # history itself is never changed
        self.projection: Callable[[list[Item]], list[Item]] | None = None
        self.hooks = hooks or h.Hooks()
        self.system_prompt = system_prompt
        self.interceptor = interceptor
        self.commit = commit
        self.checkpoints: CheckpointPort = NoCheckpoints()  # snapshots of the workspace
        self._snapshot: asyncio.Future[None] | None = None
        self.cache_anchor: int | None = None
        # the data URLs of a request's images (agent.image_input.ImageInput.for_request)
        self.images: Callable[[list[Item]], Awaitable[dict[str, str]]] | None = None
        self._history: list[Item] = list(history or [])
        self.running_calls = RunningCalls()  # the user may stop one (yoi/tool/cancel)
        self._interrupt_requested = False
        self._current: asyncio.Future[Any] | None = None
        self._running = False
        self._partial_text: list[str] = []
        self._partial_reasoning: list[str] = []
        self._prompt_index = 0
        self._requests = 0

    # ------------------------------------------------------------ state

    @property
    def history(self) -> list[Item]:
        """A copy of the history (callers never mutate the worker's list)."""
        return list(self._history)

    @property
    def running(self) -> bool:
        return self._running

    def replace_history(self, items: list[Item]) -> None:
        if self._running:
            raise RuntimeError("cannot replace the history during a run")
        self._history = list(items)

    def append(self, items: list[Item]) -> None:
        """Add items between runs (pod notes)."""
        if self._running:
            raise RuntimeError("cannot append to the history during a run")
        self._history.extend(items)

    def orphan_closures(self, summary: str) -> list[ToolResult]:
        """Results for every unanswered tool call (after a pause or a crash),
        saying it did not run. Nothing is changed: the caller persists them,
        then :meth:`append` s them."""
        return [not_run(c, summary) for c in unanswered_calls(self._history)]

    def begin_turn(self) -> None:
        """Forget an earlier interrupt: a new turn is starting."""
        self._interrupt_requested = False

    def interrupt(self) -> None:
        """Stop the turn at once: the stream, the running tools or the hooks
        are cancelled and the run ends with outcome ``interrupted``. An
        interrupt before the run starts (while the pod prepares the turn) makes
        it end before its first request."""
        self._interrupt_requested = True
        if self._current is not None and not self._current.done():
            self._current.cancel()

    async def screen_prompt(self, text: str) -> str | None:
        """Run the prompt_submit hooks; the reason when one cancels the turn."""
        decision = await self.hooks.prompt_submit.run(
            h.PromptSubmitInfo(text=text, turn_index=self._prompt_index), self._hook_problem
        )
        self._prompt_index += 1
        return decision.reason if isinstance(decision, h.Cancel) else None

    # ------------------------------------------------------------ the run

    async def run(self, user_message: Message | None = None) -> RunReport:
        """Run until the model stops. With ``user_message`` None this resumes:
        pending tool calls (after a pause) run first."""
        if self._running:
            raise RuntimeError("the worker is already running")
        self._running = True
        self.hooks.freeze()
        self._requests = 0
        try:
            try:
                requests = await self._loop(user_message)
                return RunReport(outcome="finished", requests=requests)
            except _Outcome as done:
                return RunReport(outcome=done.outcome, requests=done.requests)
            except _Interrupted:
                return await self._end("interrupted", "interrupted by the user")
            except _Aborted as exc:
                return await self._end(exc.outcome, exc.reason)
            except YoiError as exc:  # LlmError and the other deliberate failures
                return await self._end("error", str(exc), exc)
            except asyncio.CancelledError:  # the host cancelled the whole turn
                await asyncio.shield(self._settle(self.settings.interrupted_summary))
                raise
            except Exception as exc:
                log.exception("worker run failed")
                return await self._end("error", f"internal error: {type(exc).__name__}: {exc}", exc)
        finally:
            await self._snapshot_taken()
            self._running = False
            self._current = None

    async def _snapshot_taken(self) -> None:
        """Wait for the turn's snapshot, if one is being taken (it never raises)."""
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            await asyncio.shield(snapshot)

    async def _end(
        self, outcome: RunOutcome, reason: str, exc: BaseException | None = None
    ) -> RunReport:
        """End an interrupted or failed run with a consistent history."""
        if outcome == "interrupted":
            await self._settle(self.settings.interrupted_summary)
            error = None
        else:
            await self._settle(f"[Not run: {reason}]", cut_off=True)
            error = reason
        await self._on_abort(reason)
        return RunReport(outcome=outcome, requests=self._requests, error=error, exception=exc)

    async def _add(self, items: list[Item], measure: RequestMeasure | None = None) -> None:
        """Persist, then remember: the history never holds what the log lacks."""
        await self._snapshot_taken()
        await self.commit(items, measure)
        self._history.extend(items)

    async def _loop(self, user_message: Message | None) -> int:
        if user_message is not None:
            self._history.append(user_message)  # the pod logged it as user input
            # The turn's snapshot is taken while the first request goes out: it
            # only has to be done before a tool can change a file, and before
            # anything else is logged (see _add).
            self._snapshot = asyncio.ensure_future(self.checkpoints.turn_started())
        else:
            pending = unanswered_calls(self._history)
            if pending:
                await self._execute(pending)
        while True:
            self._check_interrupt()
            if self._requests >= self.settings.max_turns:
                raise _Outcome("limitReached", self._requests)
            extra = await self._intercept()
            response = await self._request(extra)
            if response.tool_calls:
                await self._execute(response.tool_calls)
                continue
            info = h.TurnEndInfo(
                turn_index=self._prompt_index,
                tool_calls_count=0,
                final_text_preview=response.text[:512],
            )
            decision = await self._cancellable(
                functools.partial(self.hooks.turn_end.run, info, self._hook_problem)
            )
            if isinstance(decision, h.Pause):
                raise _Outcome("paused", self._requests)
            if isinstance(decision, h.ContinueWith) and decision.messages:
                await self._add([Message(role="user", text=m) for m in decision.messages])
                continue
            return self._requests

    def _check_interrupt(self) -> None:
        if self._interrupt_requested:
            raise _Interrupted

    async def _intercept(self) -> tuple[Item, ...]:
        extra: tuple[Item, ...] = ()
        if self.interceptor is not None:
            interceptor = self.interceptor
            history = list(self._history)
            decision = await self._cancellable(lambda: interceptor.before_request(history))
            if isinstance(decision, YieldRun):
                raise _Outcome("yielded", self._requests)
            if isinstance(decision, Stop):
                raise _Aborted(decision.reason, decision.outcome)
            extra = decision.extra
        info = h.PreRequestInfo(
            item_count=len(self._history) + len(extra),
            request_index=self._requests,
            turn_index=self._prompt_index,
        )
        hook = await self._cancellable(lambda: self.hooks.pre_request.run(info, self._hook_problem))
        if isinstance(hook, h.Cancel):
            raise _Aborted(f"cancelled by a hook: {hook.reason}")
        return extra

    async def _request(self, extra: tuple[Item, ...]) -> Response:
        history_len = len(self._history)
        history = self.projection(self._history) if self.projection else self._history
        sent = [*history, *extra]
        request = LlmRequest(
            system=self.system_prompt,
            items=sent,
            tools=self.tools.specs(),
            settings=self.settings.request,
            cache_anchor=self.cache_anchor,
            images=await self.images(sent) if self.images is not None else {},
        )
        self._partial_text = []
        self._partial_reasoning = []
        response = await self._cancellable(lambda: self._stream(request))
        self._partial_text = []
        self._partial_reasoning = []
        self._requests += 1
        items: list[Item] = []
        if response.reasoning or response.reasoning_signature:
            items.append(Reasoning(text=response.reasoning, signature=response.reasoning_signature))
        if response.text:
            items.append(Message(role="assistant", text=response.text))
        items.extend(response.tool_calls)
        measure = RequestMeasure(history_len, response.usage) if response.usage else None
        await self._add(items, measure)
        if response.fallback is not None:
            self.events.emit(
                Alert(
                    level="warn",
                    source="llm",
                    message=(
                        f"{self.client.model_name} did not answer (a rate limit, a server error "
                        f"or a context too long for it); the fallback {response.fallback} "
                        "answered instead ([model] fallbacks)."
                    ),
                )
            )
        for call in response.tool_calls:
            self.events.emit(
                ToolCallEvent(id=call.call_id, name=call.name, arguments=_args_or_empty(call))
            )
        return response

    async def _stream(self, request: LlmRequest) -> Response:
        async for event in self.client.stream(request):
            match event:
                case TextChunk(text=text):
                    self._partial_text.append(text)
                    self.events.emit(TextDelta(text=text))
                case ReasoningChunk(text=text):
                    self._partial_reasoning.append(text)
                    self.events.emit(ReasoningDelta(text=text))
                case Completed(response=response):
                    return response
                case ClientLoading():
                    self.events.emit(Phase(phase="loadingModel"))
                case ClientReady():
                    self.events.emit(Phase(phase="waitingForModel"))
        raise LlmError("The model's stream ended without a final message.")

    async def _cancellable(self, start: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``start()`` so that :meth:`interrupt` cancels it at once."""
        self._check_interrupt()
        task = asyncio.ensure_future(start())
        self._current = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            outer = current.cancelling() if current is not None else 0
            if self._interrupt_requested and outer == 0:
                raise _Interrupted from None
            raise
        finally:
            self._current = None

    # ------------------------------------------------------------ tools

    async def _execute(self, calls: list[ToolCall]) -> None:
        """Run a batch of tool calls in parallel. Each result is persisted,
        then announced, as soon as its tool finishes (a crash loses only the
        tools still running); after an interrupt, the calls without a result
        get one saying they did not run."""
        runner = self._runner()
        screened = await self._cancellable(lambda: runner.screen(calls))
        if screened.pause:
            raise _Outcome("paused", self._requests)
        if screened.abort is not None:
            raise _Aborted(screened.abort)
        if screened.approved:
            names = dict.fromkeys(c.name for c in screened.approved)
            self.events.emit(Phase(phase="runningTool", tool=", ".join(names)))
        answered: set[str] = set()
        abort: str | None = None

        async def record(call: ToolCall, result: ToolResult) -> None:
            nonlocal abort
            final, reason = await runner.conclude(call, result)
            abort = abort or reason
            await self._add([final])
            answered.add(call.call_id)
            runner.announce([final])

        tasks = runner.start(screened.approved)
        try:
            await self._run_batch(calls, tasks, screened, runner, record, answered)
        finally:  # the tools may have changed files, whatever became of the batch
            ran = [c.name for c in screened.approved]
            await asyncio.shield(self.checkpoints.tools_done(ran))
        if abort is not None:
            raise _Aborted(abort)

    async def _run_batch(  # noqa: PLR0917 (the parts of one _execute)
        self,
        calls: list[ToolCall],
        tasks: dict[str, asyncio.Task[ToolResult]],
        screened: Screened,
        runner: ToolRunner,
        record: Callable[[ToolCall, ToolResult], Coroutine[Any, Any, None]],
        answered: set[str],
    ) -> None:
        try:
            for call in calls:
                if call.call_id in screened.skipped:
                    await self._cancellable(
                        functools.partial(record, call, screened.skipped[call.call_id])
                    )
            pending = set(tasks.values())
            while pending:
                finished, pending = await self._cancellable(
                    functools.partial(asyncio.wait, pending, return_when=asyncio.FIRST_COMPLETED)
                )
                for call in calls:  # in call order within one wake-up
                    task = tasks.get(call.call_id)
                    if task in finished:
                        await self._cancellable(
                            functools.partial(record, call, runner.outcome(task, call))
                        )
        except _Interrupted:
            await runner.cancel(tasks)
            rest = runner.interrupted(
                [c for c in calls if c.call_id not in answered], tasks, screened.skipped
            )
            await self._add(list(rest))
            runner.announce(rest)
            raise
        except asyncio.CancelledError:
            await asyncio.shield(runner.cancel(tasks))
            raise

    def _runner(self) -> ToolRunner:
        return ToolRunner(
            tools=self.tools,
            hooks=self.hooks,
            events=self.events,
            limits=self.settings.tool_output,
            interrupted_summary=self.settings.interrupted_summary,
            on_hook_problem=self._hook_problem,
            running=self.running_calls,
        )

    # ------------------------------------------------------------ endings

    async def _settle(self, summary: str, *, cut_off: bool = False) -> None:
        """After an interrupt or error: keep what streamed so far (with
        ``cut_off``, its text ends with :data:`CUT_OFF_MARK`) and close
        unanswered calls, so the history stays a valid request. If the log
        cannot take them, the history stays as the log has it (the next turn
        closes the calls)."""
        items: list[Item] = []
        if self._partial_reasoning:
            items.append(Reasoning(text="".join(self._partial_reasoning)))
        if self._partial_text:
            text = "".join(self._partial_text) + (CUT_OFF_MARK if cut_off else "")
            items.append(Message(role="assistant", text=text))
        self._partial_text = []
        self._partial_reasoning = []
        closures = [not_run(c, summary) for c in unanswered_calls(self._history)]
        if not items and not closures:
            return
        try:
            await self._add([*items, *closures])
        except Exception:
            log.exception("could not persist the end of an aborted run")
            return
        announce_results(self.events, closures)

    async def _on_abort(self, reason: str) -> None:
        await self.hooks.abort.run(h.AbortInfo(reason=reason), self._hook_problem)

    def _hook_problem(self, message: str) -> None:
        self.events.emit(Alert(level="warn", source="hooks", message=message))


class _Outcome(Exception):
    def __init__(self, outcome: RunOutcome, requests: int) -> None:
        super().__init__(outcome)
        self.outcome: RunOutcome = outcome
        self.requests = requests


def _args_or_empty(call: ToolCall) -> dict[str, Any]:
    return call.parsed_arguments() or {}
