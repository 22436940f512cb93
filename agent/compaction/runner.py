"""The pod's side of compaction: deciding, showing progress, and moving the
pod to the compacted session.

The turn is always persisted before compacting, so a failed compaction leaves
a complete old session. A success writes a new session (``compacted_from`` the
old one, same system prompt, history ``[summary, re-read files, references,
retained items]``) and moves the pod, its registry entry and its usage
timeline to it; the prompt-cache anchor moves to the summary.

The thresholds come from the manifest and the model's window
(:mod:`~agent.compaction.policy`, :mod:`~agent.compaction.window`); until the
window is known they may be unknown, and :meth:`PodCompaction.settle` waits
for it. A compaction that leaves the context over the between-turns threshold
says so once (an alert), and the policy does not compact again without
progress.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent.compaction.compactor import CompactionFailed, Compactor, plan_compaction
from agent.compaction.policy import (
    Budgets,
    CompactionPolicy,
    ContextLimits,
    Thresholds,
    budgets_for,
    thresholds_for,
)
from agent.compaction.window import EARLY_CHECK_TOKENS, ContextWindow, Window
from agent.errors import YoiError
from agent.events import Alert, CompactDone, CompactFailed, CompactStart, Phase
from agent.items import Item
from agent.manifest import CompactionSection
from agent.ports import EventSink, ProgressPort

if TYPE_CHECKING:
    from agent.pod_port import PodPort

THRASH = (
    "The context is still over [compaction] compact_request_threshold right after compacting "
    "(thrash); stopped instead of compacting again. Lower compact_retained_tokens or raise "
    "the threshold."
)


async def _switch(pod: PodPort, history: list[Item]) -> str:
    """Write the new session and move the pod to it, as one step that a
    cancellation cannot split (the log and the live pod must agree)."""

    async def switch() -> str:
        new_id = await pod.session.compact_to(pod.worker.system_prompt, history, pod.turn_count)
        pod.adopt_compacted(history)
        if pod.memory is not None:
            await pod.memory.after_compaction(pod)
        return new_id

    task = asyncio.ensure_future(switch())
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])  # let it finish, then stop
        raise


class PodCompaction:
    def __init__(
        self,
        *,
        section: CompactionSection,
        window: ContextWindow,
        compactor: Compactor,
        recent_files: Callable[[], Sequence[Path]],
        events: EventSink,
        progress: ProgressPort,
    ) -> None:
        self.section = section
        self.window = window
        # explicit thresholds hold from the start; the others once the window is known
        self.policy = CompactionPolicy(
            compact_threshold=section.compact_threshold or None,
            request_threshold=section.compact_request_threshold or None,
        )
        self.thresholds: Thresholds | None = None
        self.compactor = compactor
        self.recent_files = recent_files
        self.events = events
        self.progress = progress
        self._warned: set[str] = set()
        known = window.known
        self._apply(thresholds_for(section, known.tokens if known else None))

    # ------------------------------------------------------------ thresholds

    def _apply(self, thresholds: Thresholds | None) -> None:
        if thresholds is None or thresholds == self.thresholds:
            return
        self.thresholds = thresholds
        self.policy.apply(thresholds)
        for warning in self.policy.warnings():
            if warning not in self._warned:
                self._warned.add(warning)
                self.events.emit(Alert(level="warn", source="manifest", message=warning))

    def window_known(self, window: Window) -> None:
        """Size the thresholds by the model's window."""
        self._apply(thresholds_for(self.section, window.tokens))

    async def settle(self) -> Thresholds:
        """The thresholds, waiting for the model's window if they need it."""
        if self.thresholds is None:
            self.window_known(await self.window.get())
        assert self.thresholds is not None
        return self.thresholds

    async def should_yield(self, tokens: int) -> bool:
        """Before a request: is the context over the request threshold?"""
        await self._size_for(tokens, self.section.compact_request_threshold)
        return self.policy.should_yield(tokens)

    async def due_after_run(self, tokens: int) -> bool:
        """After a run: should the pod compact between turns?"""
        await self._size_for(tokens, self.section.compact_threshold)
        return self.policy.should_compact_after_run(tokens)

    async def _size_for(self, tokens: int, explicit: int | None) -> None:
        """Wait for the model's window when a threshold still depends on it
        and the context is large enough for it to matter (see
        :data:`EARLY_CHECK_TOKENS`); after a request it is known already."""
        if self.thresholds is None and explicit is None and tokens > EARLY_CHECK_TOKENS:
            await self.settle()

    def thrashing(self) -> bool:
        """A yield before any request was made since the last compaction: the
        compacted context is still too large, and compacting again would not
        help (the flag is reset)."""
        if self.policy.just_compacted:
            self.policy.just_compacted = False
            return True
        return False

    def budgets(self) -> Budgets:
        return budgets_for(
            self.thresholds or Thresholds(None, None),
            self.section.compact_retained_tokens,
            self.section.compact_auto_read_budget,
        )

    # ------------------------------------------------------------ compacting

    async def compact(self, pod: PodPort, *, mid_run: bool) -> str:
        """Compact the pod's context; returns the new session id. Raises
        :class:`CompactionFailed` (after telling the user) when it cannot."""
        if self.policy.disabled:
            raise CompactionFailed(
                "Compaction is off for this pod after repeated failures; start a new session "
                "or resume this one in a new pod to try again."
            )
        if not pod.worker.history:
            raise CompactionFailed("Nothing to compact: the session has no messages yet.")
        await self.settle()
        if pod.memory is not None:
            await pod.memory.before_compaction(pod)
        budgets = self.budgets()
        history = pod.worker.history
        plan = plan_compaction(
            history, pod.usage_records, budgets.retained, pod.request_overhead_bytes()
        )
        if plan is None:
            raise CompactionFailed(
                f"Nothing to compact: the context (about {pod.context_tokens():,} tokens) "
                f"already fits the retained budget ({budgets.retained:,} tokens)."
            )
        previous, pod.state = pod.state, "compacting"
        self.events.emit(CompactStart())
        self.events.emit(Phase(phase="compacting"))
        progress = await self.progress.begin("Compacting context", "Measuring the context")
        try:
            progress.report(
                "Summarising the conversation" if plan.summarised else "Shrinking large outputs",
                10,
            )

            def step(used: int) -> None:
                progress.report(f"Summarising ({used:,} tokens read)", 40)

            result = await self.compactor.run(
                plan,
                self.recent_files(),
                on_step=step,
                on_reread=lambda: progress.report("Re-reading files", 75),
                read_budget=budgets.read,
            )
            progress.report("Writing the new session", 90)
            new_id = await _switch(pod, result.history)
        except asyncio.CancelledError:
            self.events.emit(CompactFailed(error="Compaction was interrupted."))
            progress.end("Compaction interrupted")
            raise
        except YoiError as exc:
            disabled = self.policy.failed()
            message = str(exc) + (
                " Compaction is now off for this pod after three failures in a row."
                if disabled
                else ""
            )
            self.events.emit(CompactFailed(error=message))
            self.events.emit(
                Alert(level="error" if mid_run else "warn", source="compactor", message=message)
            )
            progress.end("Compaction failed")
            raise CompactionFailed(message) from exc
        finally:
            pod.state = previous
        after = pod.context_tokens()
        if self.policy.succeeded(after):
            self._still_over(after)
        if plan.stubbed:
            self.events.emit(
                Alert(
                    level="info",
                    source="compactor",
                    message=(
                        f"{plan.stubbed} tool output{'s' if plan.stubbed != 1 else ''} too large "
                        "to keep were cut to a note saying so; the model may ask for a "
                        "smaller part."
                    ),
                )
            )
        self.events.emit(CompactDone(session_id=new_id))
        progress.end(f"Continuing in session {new_id[:8]}")
        return new_id

    def _still_over(self, tokens: int) -> None:
        threshold = self.policy.compact_threshold or 0
        self.events.emit(
            Alert(
                level="warn",
                source="compactor",
                message=(
                    f"After compacting, the context is still about {tokens:,} tokens, over "
                    f"the compaction threshold ({threshold:,}): the system prompt, the "
                    "summary or the re-read files are that large. yoi will not compact "
                    f"between turns again until the context grows past "
                    f"{tokens + self.policy.progress_margin():,} tokens. Raise [model] "
                    "context_window or [compaction] compact_threshold if the model allows, "
                    "or shorten AGENTS.md."
                ),
            )
        )


def context_limits(window: ContextWindow, compaction: PodCompaction | None) -> ContextLimits:
    """The window and the thresholds of a pod, as far as known."""
    known = window.known
    thresholds = compaction.thresholds if compaction is not None else None
    return ContextLimits(
        window=known.tokens if known else None,
        window_source=known.source if known else None,
        compact_at=thresholds.compact if thresholds else None,
        request_at=thresholds.request if thresholds else None,
    )
