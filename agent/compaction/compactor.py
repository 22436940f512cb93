"""Running a compaction: the disposable worker, then the new history.

The compact worker reads a pruned transcript of the part being summarised
(plus the recently touched files, which it may read), nominates files to
re-read (within a budget) and to list by path, and writes a five-section
summary. It is nudged once if it stops without a summary (or without
nominating anything while files were touched); no summary after that is a
:class:`CompactionFailed`. Its own input is capped: the transcript is cut to
fit, and an interceptor stops it once its requests exceed
``compact_worker_max_input_tokens`` in all.

The new history is ``[summary, re-read files…, referenced files?, retained…]``
(see :mod:`~agent.compaction.cut` for what is retained). When shrinking the
retained items is enough (an oversized tool result), nothing is summarised
and no worker runs: the new history is the shrunk one. Nothing here touches
the session log; the pod writes the new session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.compaction.cut import plan_retention
from agent.compaction.tools import (
    AddReference,
    CompactNotes,
    MarkReadRequired,
    ReadMark,
    WriteSummary,
)
from agent.compaction.transcript import render_transcript
from agent.errors import ToolError, YoiError
from agent.items import Item, system, user
from agent.llm.types import LlmClient
from agent.ports import NullSink
from agent.prompts.catalog import PromptCatalog, PromptKey
from agent.segments import fence
from agent.tools.base import ToolSet
from agent.tools.files import ReadFile, number_lines, split_lines
from agent.tools.fs import ScopedFs
from agent.usage import Measurement
from agent.worker import InputBudget, RequestMeasure, Worker, WorkerSettings

log = logging.getLogger(__name__)

WORKER_MAX_REQUESTS = 20
DEFAULT_REFERENCES = 5


class CompactionFailed(YoiError):
    """Compaction could not produce a new context; the session is unchanged."""


@dataclass(frozen=True)
class CompactionPlan:
    cut: int
    summarised: list[Item]
    retained: list[Item]
    stubbed: int = 0  # retained results cut to a stub


@dataclass(frozen=True)
class CompactionResult:
    history: list[Item]
    summary: str
    marks: list[ReadMark]
    references: list[Path]


@dataclass(frozen=True)
class CompactionSettings:
    retained_tokens: int = 8000
    auto_read_budget: int = 8000
    worker_max_input_tokens: int = 50000


def plan_compaction(
    history: Sequence[Item],
    records: Sequence[Measurement],
    retained_tokens: int,
    base_bytes: int = 0,
) -> CompactionPlan | None:
    """Where to cut and what to retain, or ``None`` when there is nothing to
    compact."""
    retention = plan_retention(history, records, retained_tokens, base_bytes)
    if retention is None:
        return None
    cut = retention.cut
    return CompactionPlan(cut, list(history[:cut]), retention.retained, retention.stubbed)


class Compactor:
    def __init__(
        self,
        *,
        settings: CompactionSettings,
        client: Callable[[], LlmClient],
        fs: Callable[[], ScopedFs],
        catalog: PromptCatalog,
    ) -> None:
        self.settings = settings
        self.client = client
        self.fs = fs  # a fresh scoped fs (and tracker) per compaction
        self.catalog = catalog

    async def run(
        self,
        plan: CompactionPlan,
        recent: Sequence[Path],
        on_step: Callable[[int], None] = lambda _n: None,
        on_reread: Callable[[], None] = lambda: None,
        read_budget: int | None = None,
    ) -> CompactionResult:
        """Summarise ``plan.summarised`` (re-reading at most ``read_budget``
        tokens of files; default: the settings') and build the new history."""
        if not plan.summarised:
            return CompactionResult(list(plan.retained), "", [], [])
        budget = self.settings.auto_read_budget if read_budget is None else read_budget
        fs = self.fs()
        notes = CompactNotes(budget=budget)
        cap = InputBudget(
            self.settings.worker_max_input_tokens,
            "compaction worker",
            "[compaction] compact_worker_max_input_tokens",
        )

        async def commit(items: list[Item], measure: RequestMeasure | None) -> None:
            await cap.commit(items, measure)
            if measure is not None:
                on_step(cap.used)

        worker = Worker(
            client=self.client(),
            tools=ToolSet(
                [
                    ReadFile(fs),
                    MarkReadRequired(fs, notes),
                    AddReference(fs, notes),
                    WriteSummary(notes),
                ]
            ),
            events=NullSink(),
            settings=WorkerSettings(max_turns=WORKER_MAX_REQUESTS),
            system_prompt=self.catalog.render(PromptKey.COMPACT_SYSTEM),
            interceptor=cap,
            commit=commit,
        )
        references = [fs.display(p) for p in list(recent)[:DEFAULT_REFERENCES]]
        # the transcript may use about half of the worker's input budget
        max_chars = self.settings.worker_max_input_tokens * 2
        prompt = self.catalog.render(
            PromptKey.COMPACT_INPUT,
            references=references,
            transcript=render_transcript(plan.summarised, max_chars=max_chars),
            budget=budget,
        )
        await self._run(worker, prompt)
        if notes.summary is None or (references and not notes.marks):
            nudge = self.catalog.render(
                PromptKey.COMPACT_NUDGE,
                missing_summary=notes.summary is None,
                references=references,
            )
            await self._run(worker, nudge)
        if notes.summary is None:
            raise CompactionFailed(
                "The compaction model stopped without writing a summary, even after being "
                "asked again; the session was left as it was."
            )
        on_reread()
        history = [
            system(f"{self.catalog.render(PromptKey.COMPACT_SUMMARY_HEADER)}\n\n{notes.summary}"),
            *await self._reread(fs, notes.marks),
            *self._reference_list(fs, notes.references),
            *plan.retained,
        ]
        return CompactionResult(history, notes.summary, list(notes.marks), list(notes.references))

    async def _run(self, worker: Worker, text: str) -> None:
        report = await worker.run(user(text))
        if report.outcome == "error":
            raise CompactionFailed(f"The compaction model failed: {report.error}")
        if report.outcome == "interrupted":
            raise CompactionFailed("Compaction was interrupted; the session was left as it was.")

    async def _reread(self, fs: ScopedFs, marks: Sequence[ReadMark]) -> list[Item]:
        """The marked files as they are now (unreadable ones are skipped)."""
        items: list[Item] = []
        for mark in marks:
            try:
                file = await fs.read_text(str(mark.path))
            except ToolError as exc:
                log.info("compaction: not re-reading %s: %s", mark.path, exc)
                continue
            lines = split_lines(file.text)
            first = mark.first or 1
            chosen = lines[first - 1 : first - 1 + mark.count] if mark.count else lines[first - 1 :]
            body = number_lines(chosen, first)
            items.append(
                system(f"[Auto-read file: {fs.display(file.path)}{mark.suffix()}]\n{fence(body)}")
            )
        return items

    def _reference_list(self, fs: ScopedFs, references: Sequence[Path]) -> list[Item]:
        if not references:
            return []
        lines = "\n".join(f"- {fs.display(p)}" for p in references)
        return [
            system(
                "[Referenced files — read before compaction, contents not included]\n"
                f"{lines}\nUse read_file if you need their current contents."
            )
        ]
