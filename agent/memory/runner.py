"""The pod's side of memory: when to extract, where the pointer is, when to
consolidate, and telling the user.

After each run (and before compaction, which must not leave anything
unrecorded) the pod extracts the items added since the pointer once they are
worth ``extract_threshold`` tokens (0: only on demand). Never two extractions
at once for a pod; a failure is an alert and the pointer stays, so nothing is
lost. Compaction resets the pointer, since the new session's log starts over.
Staged extractions are consolidated once there are
``consolidate_threshold_files`` of them or they hold
``consolidate_threshold_bytes`` (0: that trigger is off), and always before a
compaction.

The first time memory writes in a workspace (its memory folder did not exist),
the user is told where it went and how to turn memory off.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.errors import YoiError
from agent.events import Alert
from agent.ids import now_ms
from agent.manifest import MemorySection
from agent.memory.consolidate import ConsolidationReport, Consolidator
from agent.memory.extract import EXTENSION_DOMAIN, Extractor, ExtractPointer
from agent.memory.library import MemoryLibrary
from agent.memory.staging import Extracted, Source, list_staging, write_staging
from agent.ports import EventSink, ProgressPort
from agent.store import Extension
from agent.usage import TokenEstimator

if TYPE_CHECKING:
    from agent.pod_port import PodPort

log = logging.getLogger(__name__)


class MemoryNotEnabled(YoiError):
    pass


@dataclass(frozen=True)
class ExtractOutcome:
    pointer: ExtractPointer
    source: Source
    empty: bool


class PodMemory:
    def __init__(
        self,
        *,
        section: MemorySection,
        library: MemoryLibrary,
        extractor: Extractor,
        consolidator: Consolidator,
        events: EventSink,
        progress: ProgressPort,
        pointer: ExtractPointer | None = None,
    ) -> None:
        self.section = section
        self.library = library
        self.extractor = extractor
        self.consolidator = consolidator
        self.events = events
        self.progress = progress
        self.pointer = pointer
        self._extracting = False

    # ------------------------------------------------------------ triggers

    def tokens_since(self, pod: PodPort) -> int:
        history = pod.worker.history
        estimator = TokenEstimator(history, pod.usage_records, pod.request_overhead_bytes())
        start = self.pointer.processed_through_history_len if self.pointer else 0
        return estimator.tokens_at(len(history)) - estimator.tokens_at(start)

    def _due(self, pod: PodPort) -> bool:
        threshold = self.section.extract_threshold
        start = self.pointer.processed_through_history_len if self.pointer else 0
        return (
            threshold > 0
            and len(pod.worker.history) > start
            and self.tokens_since(pod) >= threshold
        )

    async def after_run(self, pod: PodPort) -> None:
        """Extract while due (coalescing what accumulated), then consolidate
        if the staged entries passed their threshold."""
        while self._due(pod):
            try:
                if await self.extract(pod) is None:
                    break
            except YoiError:
                break  # the user was told; the pointer did not move
        await self.maybe_consolidate(pod.info.name)

    async def before_compaction(self, pod: PodPort) -> None:
        """Record what the compaction is about to summarise, and fold it in."""
        start = self.pointer.processed_through_history_len if self.pointer else 0
        if len(pod.worker.history) > start:
            try:
                await self.extract(pod)
            except YoiError:
                return
        if await asyncio.to_thread(list_staging, self.library.layout.staging_dir):
            try:
                await self.consolidate(pod.info.name)
            except YoiError:
                return

    async def after_compaction(self, pod: PodPort) -> None:
        """The new session starts with everything before it recorded (or
        summarised): point past its seed history, in its own log."""
        self.pointer = ExtractPointer(0, len(pod.worker.history), "")
        await pod.session.append(
            [Extension(ts=now_ms(), domain=EXTENSION_DOMAIN, payload=self.pointer.as_json())]
        )

    # ------------------------------------------------------------ phase 1

    async def extract(self, pod: PodPort) -> ExtractOutcome | None:
        """Extract the items since the pointer now. ``None`` when there is
        nothing new (or an extraction is already running). Raises
        :class:`YoiError` after an alert when it fails."""
        if self._extracting:
            return None
        self._extracting = True
        try:
            return await self._extract(pod)
        finally:
            self._extracting = False

    async def _extract(self, pod: PodPort) -> ExtractOutcome | None:
        history = pod.worker.history
        start_len = self.pointer.processed_through_history_len if self.pointer else 0
        if len(history) <= start_len:
            return None
        session_id = pod.session_id
        read = await asyncio.to_thread(pod.session.store.read, session_id)
        end_entry = len(read.records) - 1
        start_entry = self.pointer.processed_through_entry + 1 if self.pointer else 0
        if end_entry < start_entry:
            return None
        progress = await self.progress.begin("Extracting memory", "Reading the new turns")
        try:
            extracted = await self.extractor.extract(history[start_len:])
            source = Source(session_id, start_entry, end_entry)
            progress.report("Writing the staging file", 80)
            task = asyncio.ensure_future(self._record(pod, extracted, source, len(history)))
            try:  # the staging file and the pointer go together, even when interrupted
                pointer = await asyncio.shield(task)
            except asyncio.CancelledError:
                await asyncio.wait([task])
                raise
        except asyncio.CancelledError:
            progress.end("Extraction interrupted")
            raise
        except YoiError as exc:
            progress.end("Extraction failed")
            self.events.emit(Alert(level="warn", source="memory", message=str(exc)))
            raise
        progress.end("Nothing worth recording" if extracted.empty else "Recorded")
        return ExtractOutcome(pointer, source, extracted.empty)

    async def _record(
        self, pod: PodPort, extracted: Extracted, source: Source, history_len: int
    ) -> ExtractPointer:
        staging_id = ""
        if not extracted.empty:
            layout = self.library.layout
            first = not await asyncio.to_thread(layout.memory_dir.exists)
            staging_id = await asyncio.to_thread(
                write_staging, layout.staging_dir, extracted, source
            )
            if first:
                self.events.emit(Alert(level="info", source="memory", message=self.first_note()))
        pointer = ExtractPointer(source.end_entry, history_len, staging_id)
        await pod.session.append(
            [Extension(ts=now_ms(), domain=EXTENSION_DOMAIN, payload=pointer.as_json())]
        )
        self.pointer = pointer
        return pointer

    def first_note(self) -> str:
        layout = self.library.layout
        memory, knowledge = layout.display(layout.memory_dir), layout.display(layout.knowledge_dir)
        return (
            f"Memory is on: yoi keeps what it learns in this workspace as Markdown you can "
            f"read and edit, in {memory}/ (decisions, requests, a summary) and {knowledge}/ "
            "(knowledge). To turn it off, set `[memory] enabled = false` in .yoi/manifest.toml "
            "for this workspace, or in your user manifest for every workspace."
        )

    # ------------------------------------------------------------ phase 2

    async def maybe_consolidate(self, owner: str) -> None:
        staged = await asyncio.to_thread(list_staging, self.library.layout.staging_dir)
        files, size = len(staged), sum(s.size for s in staged)
        by_files = self.section.consolidate_threshold_files
        by_bytes = self.section.consolidate_threshold_bytes
        if (by_files > 0 and files >= by_files) or (by_bytes > 0 and size >= by_bytes):
            try:
                await self.consolidate(owner)
            except YoiError:
                return

    async def consolidate(self, owner: str) -> ConsolidationReport:
        progress = await self.progress.begin("Consolidating memory", "Folding staged entries")
        try:
            report = await self.consolidator.consolidate(owner)
        except YoiError as exc:
            progress.end("Consolidation failed")
            self.events.emit(Alert(level="warn", source="memory", message=str(exc)))
            raise
        progress.end(f"Folded {len(report.consumed)} staged entries")
        return report
