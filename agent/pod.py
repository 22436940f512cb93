"""The pod: one agent with one session.

A pod wires a :class:`~agent.worker.Worker` to its session log, its scope and
tools, its host's ports and its manifest. It is built by
:func:`agent.factory.open_pod`; this module is the running object:

- :meth:`Pod.chat` runs one user turn: resolve the input segments, log them,
  run the worker (which commits every item as it happens), log the turn's end;
- :meth:`Pod.resume` runs without input (after a pause, or to see notes);
- :meth:`Pod.interrupt` stops the running turn at once;
- :meth:`Pod.notify` queues a note for the next request.

The system prompt is rendered once, right before the first turn, and written
to the log; a restored pod replays it verbatim.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from agent.compaction.compactor import CompactionFailed
from agent.compaction.policy import ContextLimits
from agent.compaction.prune import Projection, project
from agent.compaction.runner import THRASH, PodCompaction, context_limits
from agent.compaction.window import ContextWindow
from agent.errors import PodBusy, YoiError
from agent.events import Alert, ConfigEvent, TurnEnd, TurnStart, UsageEvent
from agent.ids import now_ms
from agent.image_input import ImageInput
from agent.input import InputResolver
from agent.items import Item, Message, ToolResult, system, user, user_segments
from agent.llm.types import Usage
from agent.memory.runner import ExtractOutcome, MemoryNotEnabled, PodMemory
from agent.pod_config import CONFIGURED, Change, ConfigError, PodConfig, Settings
from agent.ports import EventSink
from agent.prompts.catalog import PromptCatalog
from agent.registry import PodRegistry
from agent.segments import Segment, flatten
from agent.session import SessionHandle
from agent.spend import PodMoney, request_cost
from agent.store import (
    ConfigChanged,
    ItemsEntry,
    LlmUsage,
    LogEntry,
    RunCompleted,
    RunErrored,
    UsageRecord,
    UserInput,
)
from agent.store import (
    TurnEnd as TurnEndEntry,
)
from agent.usage import TokenEstimator
from agent.worker import Proceed, RequestMeasure, RunReport, Stop, Worker, YieldRun

if TYPE_CHECKING:
    from agent.agents.port import Subordinates

log = logging.getLogger(__name__)

PodState = Literal["idle", "running", "compacting"]
T = TypeVar("T")
CLOSE_PATIENCE = 10.0  # seconds close() waits for the current turn to end
# A restored history is sized (serialised once per item, in a thread: on the
# loop 46,000 items took 350 ms) this long after the pod is made, so the
# sizing does not compete with answering yoi/pod/create; sooner if needed.
SIZING_DELAY = 0.25


class _SideInterrupted(Exception):
    """Compaction or memory work stopped by :meth:`Pod.interrupt`."""


PublicOutcome = Literal[
    "finished", "paused", "limitReached", "interrupted", "error", "budgetExceeded"
]


@dataclass(frozen=True)
class TurnResult:
    outcome: PublicOutcome
    session_id: str
    usage: Usage
    error: str | None = None


@dataclass
class PodInfo:
    pod_id: str
    name: str
    root: Path | None
    model: str


@dataclass
class _TurnUsage:
    records: list[Usage] = field(default_factory=list)

    def total(self) -> Usage:
        return Usage(
            input_tokens=sum(u.input_tokens for u in self.records),
            output_tokens=sum(u.output_tokens for u in self.records),
            cache_read_tokens=sum(u.cache_read_tokens for u in self.records),
            cache_write_tokens=sum(u.cache_write_tokens for u in self.records),
        )


SystemPromptRenderer = Callable[[], Awaitable[str]]


class Pod:
    def __init__(
        self,
        *,
        info: PodInfo,
        worker: Worker,
        session: SessionHandle,
        registry: PodRegistry,
        resolver: InputResolver,
        catalog: PromptCatalog,
        events: EventSink,
        render_system_prompt: SystemPromptRenderer,
        window: ContextWindow,
        usage: list[UsageRecord] | None = None,
        turn_count: int = 0,
        last_run_interrupted: bool = False,
        compaction: PodCompaction | None = None,
        memory: PodMemory | None = None,
        images: ImageInput | None = None,
    ) -> None:
        self.info = info
        self.images = images
        self.worker = worker
        self.session = session
        self.registry = registry
        self.resolver = resolver
        self.catalog = catalog
        self.events = events
        self._render_system_prompt = render_system_prompt
        self.usage_records: list[UsageRecord] = list(usage or [])
        self.turn_count = turn_count
        self.last_run_interrupted = last_run_interrupted
        self.state: PodState = "idle"
        self.window = window
        self.compaction = compaction
        self.memory = memory
        self._overhead: tuple[tuple[str, tuple[str, ...]], int] | None = None
        self._interrupted = False
        self._side_task: asyncio.Future[Any] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._notes: list[str] = []
        self.children: Subordinates | None = None  # its sub-agents (agent/agents/)
        self.config: PodConfig | None = None  # what yoi/pod/configure changes
        self.money: PodMoney | None = None  # costs and the budget (agent/spend.py)
        # the prune projection (agent/compaction/prune.py): (protected turns, min savings)
        self.prune: tuple[int, int] | None = None
        self._stubs: dict[str, ToolResult] = {}
        self._projected: tuple[tuple[int, int, int, int], Projection] | None = None
        self._mode_note: tuple[str, str] | None = None  # (mode, previous) to tell the model
        self._turn_usage = _TurnUsage()
        self._closed = False
        self._sizing: asyncio.Future[None] | None = None  # see SIZING_DELAY
        self._sizing_later: asyncio.TimerHandle | None = None
        if worker.history:  # after the pod is answered for (pod/create), unless asked sooner
            self._sizing_later = asyncio.get_running_loop().call_later(
                SIZING_DELAY, self._start_sizing
            )
        worker.commit = self._commit
        worker.interceptor = self

    # ------------------------------------------------------------ views

    @property
    def id(self) -> str:
        return self.info.pod_id

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def history(self) -> list[Item]:
        return self.worker.history

    @property
    def user_segments(self) -> list[list[Segment]]:
        """The typed input of every user message in the history."""
        return user_segments(self.worker.history)

    @property
    def busy(self) -> bool:
        return self.state != "idle"

    def projection(self, history: list[Item] | None = None) -> Projection:
        """What the next request would send instead of ``history`` (the
        pod's): old tool outputs pruned when that saves enough."""
        if history is None:
            history = self.worker.history
        if self.prune is None:
            return Projection(history)
        base = self.request_overhead_bytes()
        # the same history asks again (each request, each pod/list): answered once
        key = (len(history), id(history[-1]) if history else 0, len(self.usage_records), base)
        cached = self._projected
        if cached is not None and cached[0] == key:
            return cached[1]
        turns, minimum = self.prune
        projected = project(
            history,
            self.usage_records,
            base_bytes=base,
            protected_turns=turns,
            min_savings=minimum,
            stubs=self._stubs,
        )
        self._projected = (key, projected)
        return projected

    def request_tokens(self, history: list[Item] | None = None) -> int:
        """The estimated size of the next request: :meth:`context_tokens` of
        its pruned history."""
        return self.context_tokens(self.projection(history).items)

    def context_tokens(self, history: list[Item] | None = None) -> int:
        """The estimated size of the context a request with ``history`` (by
        default the pod's) would send, system prompt included."""
        if history is None:
            history = self.worker.history
        return TokenEstimator(history, self.usage_records, self.request_overhead_bytes()).total()

    async def sized(self) -> None:
        """Wait until the restored history is sized, so that
        :meth:`context_tokens` is cheap."""
        if self._sizing_later is not None:
            self._start_sizing()
        if self._sizing is not None:
            await asyncio.shield(self._sizing)
            self._sizing = None

    def _start_sizing(self) -> None:
        if self._sizing_later is None:
            return
        self._sizing_later.cancel()
        self._sizing_later = None
        self._sizing = asyncio.ensure_future(
            asyncio.to_thread(_size_items, list(self.worker.history))
        )

    def context_limits(self) -> ContextLimits:
        """The model's window and the compaction thresholds, as far as known."""
        return context_limits(self.window, self.compaction)

    def request_overhead_bytes(self) -> int:
        """What every request sends besides the history: the system prompt and
        the tool definitions."""
        specs = self.worker.tools.specs()
        key = (self.worker.system_prompt, tuple(spec.name for spec in specs))  # a mode changes them
        if self._overhead is None or self._overhead[0] != key:
            tools = json.dumps([spec.__dict__ for spec in specs])
            size = len(self.worker.system_prompt.encode("utf-8")) + len(tools.encode("utf-8"))
            self._overhead = (key, size)
        return self._overhead[1]

    # ------------------------------------------------------------ turns

    async def chat(self, segments: list[Segment]) -> TurnResult:
        """Run one user turn and return when it is over."""
        return await self.start_chat(segments)

    async def resume(self) -> TurnResult:
        """Continue without new input (after a pause, or to see notes)."""
        return await self.start_resume()

    async def configure(self, change: Change) -> Settings:
        """Change the model, mode, reasoning effort or profile between turns
        (:class:`PodBusy` during one, :class:`ConfigError` for a change that
        cannot be made). Logged as ``config_changed``; a mode change is told
        to the model before the user's next message."""
        if self.config is None:
            raise ConfigError("This pod's settings cannot be changed.")
        new = self.config.resolve(change)
        self._claim()
        try:
            old = self.config.current
            if new == old:
                return old
            self.config.apply(new)
            self.info.model = self.worker.client.model_name
            configured = {CONFIGURED: new.to_log()}
            self.session.config = {**self.session.config, **configured}
            self.session.model = new.model
            if self.session.started:
                await self.session.append([ConfigChanged(config=configured)])
            if new.mode != old.mode:
                previous = self._mode_note[1] if self._mode_note else old.mode
                self._mode_note = None if new.mode == previous else (new.mode, previous)
            self.events.emit(
                ConfigEvent(
                    model=new.model,
                    mode=new.mode,
                    reasoning_effort=new.reasoning_effort,
                    profile=new.profile,
                )
            )
            return new
        finally:
            self._release()

    def start_chat(self, segments: list[Segment]) -> asyncio.Task[TurnResult]:
        """Claim the pod now (:class:`PodBusy` at once if it is not idle) and
        run the turn as a task."""
        self._claim()
        return asyncio.ensure_future(self._claimed_turn(self._chat(segments)))

    def start_resume(self) -> asyncio.Task[TurnResult]:
        self._claim()
        return asyncio.ensure_future(self._claimed_turn(self._resume()))

    async def _claimed_turn(self, body: Coroutine[Any, Any, TurnResult]) -> TurnResult:
        """Run one claimed turn and, whatever happens, end it properly."""
        try:
            self._begin_turn()
            await self._ensure_started()
            result = await body
            await self.session.flush()  # a turn that logged nothing still leaves its session
            return result
        except asyncio.CancelledError:
            await asyncio.shield(self._record_cancelled())
            raise
        except Exception as exc:
            return await self._fail_turn(exc)
        finally:
            body.close()  # never awaited when something failed before it
            self._release()

    async def _chat(self, segments: list[Segment]) -> TurnResult:
        if self.images is not None:  # stored before they are logged (a no-op if they are)
            segments = await self.images.prepare(segments)
        resolved = await self.resolver.resolve(segments)
        for alert in resolved.alerts:
            self.events.emit(alert)
        text = flatten(segments, resolved.attachments)
        veto = await self.worker.screen_prompt(text)
        if veto is not None:
            return self._finish("error", f"cancelled by a hook: {veto}")
        prelude = self._prelude()
        entries: list[LogEntry] = []
        if prelude:
            entries.append(ItemsEntry(ts=now_ms(), items=prelude))
        entries.append(UserInput(ts=now_ms(), segments=list(segments), text=text))
        await self.session.append(entries)
        self.worker.append(prelude)
        self._mode_note = None  # told
        return await self._end_turn(await self._run(user(text, list(segments))))

    async def _resume(self) -> TurnResult:
        return await self._end_turn(await self._run(None))

    @property
    def interrupt_requested(self) -> bool:
        """Whether :meth:`interrupt` was called during the current turn."""
        return self._interrupted

    def stop_tool(self, call_id: str) -> bool:
        """Stop one running tool call (a command) and let the turn go on; the
        model gets its output so far. ``False`` when no such call runs."""
        return self.worker.running_calls.stop(call_id)

    def interrupt(self) -> bool:
        """Stop whatever the pod is doing — the model's stream, tools, hooks,
        compaction, memory work, its sub-agents; ``False`` when nothing ran."""
        children = self.children is not None and self.children.interrupt_all()
        if self.state == "idle":
            return children
        self._interrupted = True
        self.worker.interrupt()
        if self._side_task is not None and not self._side_task.done():
            self._side_task.cancel()
        return True

    async def compact(self) -> str:
        """Compact the context now (``yoi/pod/compact``); the new session id."""
        compaction = self._need_compaction()
        self._claim()
        try:
            return await self._side(compaction.compact(self, mid_run=False))
        except _SideInterrupted:
            raise CompactionFailed(
                "Compaction was interrupted; the session was left as it was."
            ) from None
        finally:
            self._release()

    async def extract_memory(self) -> ExtractOutcome | None:
        """Run memory extraction now (``yoi/memory/extract``)."""
        if self.memory is None:
            raise MemoryNotEnabled(
                "Memory is off for this pod: [memory] enabled = false in a manifest, no "
                "workspace folder is open, or the memory folders are outside the workspace."
            )
        self._claim()
        try:
            return await self._side(self.memory.extract(self))
        except _SideInterrupted:
            raise MemoryNotEnabled("Extraction was interrupted; nothing was recorded.") from None
        finally:
            self._release()

    def _need_compaction(self) -> PodCompaction:
        if self.compaction is None:
            raise CompactionFailed(
                "Compaction is off for this pod: [compaction] enabled = false in a manifest."
            )
        return self.compaction

    def adopt_compacted(self, history: list[Item]) -> None:
        """Continue from a compacted history (the session already switched)."""
        self.worker.replace_history(history)
        self.worker.cache_anchor = 0
        self.usage_records = []
        if self.children is not None:  # the new session learns of its sub-agents
            self.children.compacted()

    async def _side(self, work: Coroutine[Any, Any, T]) -> T:
        """Compaction and memory work, run so that :meth:`interrupt` stops it."""
        if self._interrupted:
            work.close()
            raise _SideInterrupted
        task = asyncio.ensure_future(work)
        self._side_task = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            outer = current.cancelling() if current is not None else 0
            if self.interrupt_requested and outer == 0:
                raise _SideInterrupted from None
            raise
        finally:
            self._side_task = None

    async def _run(self, message: Message | None) -> RunReport:
        """Run the worker; when it yields for compaction, persist, compact and
        resume the same turn in the new session."""
        report = await self.worker.run(message)
        while report.outcome == "yielded" and self.compaction is not None:
            await self.session.append(
                [RunCompleted(ts=now_ms(), outcome="yielded", interrupted=True)]
            )
            if self.compaction.thrashing():
                return RunReport(outcome="error", requests=report.requests, error=THRASH)
            try:
                await self._side(self.compaction.compact(self, mid_run=True))
            except CompactionFailed as exc:
                return RunReport(outcome="error", requests=report.requests, error=str(exc))
            except _SideInterrupted:
                return RunReport(outcome="interrupted", requests=report.requests)
            report = await self.worker.run(None)
        return report

    async def _after_run(self, report: RunReport) -> None:
        """Between turns: record memory, then compact if the context grew too
        large (extraction first: compaction reshapes the history)."""
        if report.outcome in ("error", "interrupted"):
            return
        with contextlib.suppress(_SideInterrupted, CompactionFailed):
            if self.memory is not None:
                await self._side(self.memory.after_run(self))
            compaction = self.compaction
            if compaction is not None and await compaction.due_after_run(self.request_tokens()):
                await self._side(compaction.compact(self, mid_run=False))

    def notify(self, message: str) -> None:
        """Queue a note for the next request (as a system message that is not
        kept in the history). The host starts a turn if the pod is idle."""
        self._notes.append(message)
        del self._notes[:-128]

    @property
    def pending_notes(self) -> int:
        """Notes waiting for the next request."""
        return len(self._notes)

    async def wait_idle(self) -> None:
        """Return once no turn (or compaction, or memory work) is running."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop what the pod is doing, wait for it to end cleanly, then give
        its session back (so another pod may resume it)."""
        if self._closed:
            return
        self._closed = True
        if self._sizing_later is not None:
            self._sizing_later.cancel()
            self._sizing_later = None
        self.interrupt()
        self.window.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), CLOSE_PATIENCE)
        if self.children is not None:
            await self.children.close()
        await asyncio.to_thread(self.registry.release, self.id)

    # ------------------------------------------------------------ internals

    def _claim(self) -> None:
        if self._closed:
            raise PodBusy("This pod was disposed; create a new one.")
        if self.state != "idle":
            raise PodBusy("A turn is already running on this pod; wait or interrupt it.")
        self.state = "running"
        self._interrupted = False
        self._idle.clear()

    def _release(self) -> None:
        self.state = "idle"
        self._idle.set()

    def _begin_turn(self) -> None:
        self._turn_usage = _TurnUsage()
        if self.money is not None:
            self.money.begin_turn()
        self.window.resolve_soon()  # the turn's first request loads the model anyway
        self.worker.begin_turn()
        self.events.emit(TurnStart(turn=self.turn_count + 1))

    async def _ensure_started(self) -> None:
        if self.session.started:
            return
        prompt = await self._render_system_prompt()
        self.worker.system_prompt = prompt
        await self.session.start(prompt, self.worker.history)

    def _prelude(self) -> list[Item]:
        """Items that must precede a new user message: results closing tool
        calls left unanswered (a pause, a crash), and a note after an
        interrupted turn. Computed, not applied: the caller logs them first."""
        items: list[Item] = list(
            self.worker.orphan_closures(self.catalog.render("interrupt_tool_result_summary"))
        )
        if self.last_run_interrupted:
            items.append(system(self.catalog.render("interrupt_system_note")))
        if self._mode_note is not None:
            mode, previous = self._mode_note
            items.append(system(self.catalog.render("mode_note", mode=mode, previous=previous)))
        return items

    async def _commit(self, items: list[Item], measure: RequestMeasure | None) -> None:
        entries: list[LogEntry] = []
        if items:
            entries.append(ItemsEntry(ts=now_ms(), items=items))
        if measure is not None:
            u = measure.usage
            record = UsageRecord(
                history_len=measure.history_len,
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cache_read_tokens=u.cache_read_tokens,
                cache_write_tokens=u.cache_write_tokens,
                cost_usd=request_cost(u, self.money.section) if self.money else u.cost_usd,
            )
            entries.append(LlmUsage(ts=now_ms(), **record.model_dump()))
        await self.session.append(entries)
        if measure is not None:
            if self.money is not None:
                await self.money.spent(u)
            if self.compaction is not None:
                self.compaction.policy.request_made()
            self.usage_records.append(record)
            self._turn_usage.records.append(measure.usage)
            window = await self.window.get()  # loaded by now: an immediate answer
            if self.compaction is not None:
                self.compaction.window_known(window)
            limits = self.context_limits()
            self.events.emit(
                UsageEvent(
                    input_tokens=u.input_tokens,
                    output_tokens=u.output_tokens,
                    cache_read_tokens=u.cache_read_tokens,
                    cache_write_tokens=u.cache_write_tokens,
                    context_tokens=self.request_tokens(),
                    context_window=window.tokens,
                    context_window_source=window.source,
                    compact_at=limits.compact_at,
                    compact_request_at=limits.request_at,
                    **self._costs(record.cost_usd),
                )
            )

    async def _end_turn(self, report: RunReport) -> TurnResult:
        outcome: PublicOutcome = "finished" if report.outcome == "yielded" else report.outcome
        interrupted = outcome == "interrupted"
        self.turn_count += 1
        self.last_run_interrupted = interrupted
        end: LogEntry
        if outcome == "error":
            end = RunErrored(ts=now_ms(), error=report.error or "error", interrupted=interrupted)
        else:
            end = RunCompleted(ts=now_ms(), outcome=outcome, interrupted=interrupted)
        await self.session.append([TurnEndEntry(ts=now_ms(), turn_count=self.turn_count), end])
        result = self._finish(outcome, report.error)
        await self._after_run(report)
        return TurnResult(
            outcome=result.outcome,
            session_id=self.session_id,
            usage=result.usage,
            error=result.error,
        )

    async def _fail_turn(self, exc: Exception) -> TurnResult:
        """A failure outside the worker (rendering the prompt, writing the log,
        a bug): the user is told, the log records it if it can."""
        if isinstance(exc, YoiError):
            message = str(exc)
            log.warning("turn failed: %s", exc)
        else:
            message = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("turn failed")
        self.events.emit(Alert(level="error", source="pod", message=message))
        try:
            if self.session.started:
                await self.session.append(
                    [RunErrored(ts=now_ms(), error=message, interrupted=False)]
                )
        except Exception:
            log.exception("could not log the failed turn")
        return self._finish("error", message)

    async def _record_cancelled(self) -> None:
        """The host cancelled the turn task: log its end as interrupted."""
        self.last_run_interrupted = True
        try:
            if self.session.started:
                await self.session.append(
                    [RunCompleted(ts=now_ms(), outcome="interrupted", interrupted=True)]
                )
        except Exception:
            log.exception("could not log the cancelled turn")
        self.events.emit(TurnEnd(outcome="interrupted"))

    def _finish(self, outcome: PublicOutcome, error: str | None) -> TurnResult:
        self.events.emit(TurnEnd(outcome=outcome, error=error))
        return TurnResult(
            outcome=outcome,
            session_id=self.session_id,
            usage=self._turn_usage.total(),
            error=error,
        )

    def _costs(self, cost: float | None) -> dict[str, Any]:
        money = self.money
        if money is None:
            return {"cost_usd": cost}
        return {
            "cost_usd": cost,
            "turn_cost_usd": money.turn.usd,
            "session_cost_usd": money.session.usd,
            "day_cost_usd": money.day.usd if money.day is not None else None,
        }

    # ------------------------------------------------------------ interceptor

    async def before_request(self, history: list[Item]) -> Proceed | YieldRun | Stop:
        """Yield for compaction when the context is over the request
        threshold; otherwise pending notes go into this request only, as
        system messages."""
        await self.sized()
        tokens = self.request_tokens(history)  # what pruning leaves counts, not what it drops
        if self.compaction is not None and await self.compaction.should_yield(tokens):
            return YieldRun()
        if self.money is not None:
            stopped = await self.money.check(tokens)
            if stopped is not None:
                self.events.emit(Alert(level="error", source="budget", message=stopped))
                return Stop(stopped, outcome="budgetExceeded")
        if not self._notes:
            return Proceed()
        notes, self._notes = self._notes, []
        extra: list[Item] = [
            Message(role="system", text=self.catalog.render("notify_wrapper", message=n))
            for n in notes
        ]
        return Proceed(extra=tuple(extra))


def _size_items(history: list[Item]) -> None:
    for item in history:
        item.wire_bytes  # noqa: B018 - computes and caches the size
