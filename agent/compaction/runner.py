"""The pod's side of compaction: deciding, showing progress, and moving the
pod to the compacted session.

The turn is always persisted before compacting, so a failed compaction leaves
a complete old session. A success writes a new session (``compacted_from`` the
old one, same system prompt, history ``[summary, re-read files, references,
retained items]``) and moves the pod, its registry entry and its usage
timeline to it; the prompt-cache anchor moves to the summary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent.compaction.compactor import CompactionFailed, Compactor, plan_compaction
from agent.compaction.policy import CompactionPolicy
from agent.errors import YoiError
from agent.events import Alert, CompactDone, CompactFailed, CompactStart, Phase
from agent.items import Item
from agent.ports import EventSink, ProgressPort

if TYPE_CHECKING:
    from agent.pod import Pod


async def _switch(pod: Pod, history: list[Item]) -> str:
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
        policy: CompactionPolicy,
        compactor: Compactor,
        retained_tokens: int,
        recent_files: Callable[[], Sequence[Path]],
        events: EventSink,
        progress: ProgressPort,
    ) -> None:
        self.policy = policy
        self.compactor = compactor
        self.retained_tokens = retained_tokens
        self.recent_files = recent_files
        self.events = events
        self.progress = progress

    async def compact(self, pod: Pod, *, mid_run: bool) -> str:
        """Compact the pod's context; returns the new session id. Raises
        :class:`CompactionFailed` (after telling the user) when it cannot."""
        if self.policy.disabled:
            raise CompactionFailed(
                "Compaction is off for this pod after repeated failures; start a new session "
                "or resume this one in a new pod to try again."
            )
        if pod.memory is not None:
            await pod.memory.before_compaction(pod)
        history = pod.worker.history
        plan = plan_compaction(
            history, pod.usage_records, self.retained_tokens, pod.request_overhead_bytes()
        )
        if plan is None:
            raise CompactionFailed(
                f"Nothing to compact: the context (about {pod.context_tokens():,} tokens) "
                f"already fits the retained budget ({self.retained_tokens:,} tokens)."
            )
        previous, pod.state = pod.state, "compacting"
        self.events.emit(CompactStart())
        self.events.emit(Phase(phase="compacting"))
        progress = await self.progress.begin("Compacting context", "Measuring the context")
        try:
            progress.report("Summarising the conversation", 10)

            def step(used: int) -> None:
                progress.report(f"Summarising ({used:,} tokens read)", 40)

            result = await self.compactor.run(
                plan,
                self.recent_files(),
                on_step=step,
                on_reread=lambda: progress.report("Re-reading files", 75),
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
        self.policy.succeeded()
        self.events.emit(CompactDone(session_id=new_id))
        progress.end(f"Continuing in session {new_id[:8]}")
        return new_id
