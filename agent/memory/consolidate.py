"""Phase 2, consolidate: fold staged extractions into the memory records.

A lock file ``_staging/.consolidation.lock`` names the staging entries a run
consumes (and the process running it), taken under an ``flock`` so only one
run at a time, in any process, holds it. New entries that arrive meanwhile are
left for the next run. On success the consumed entries are deleted; on
failure only the lock is released. A lock left by a dead process is taken
over with the same consumed entries, so a crash mid-way is resumed, not
duplicated; a live one means another consolidation is running.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.errors import YoiError
from agent.fsutil import atomic_write_text, read_regular
from agent.items import Message, user
from agent.llm.types import LlmClient
from agent.memory.library import MemoryLibrary
from agent.memory.staging import StagedFile, list_staging, read_staging
from agent.memory.tools import memory_tools
from agent.ports import NullSink
from agent.prompts.catalog import PromptCatalog, PromptKey
from agent.tools.base import ToolSet
from agent.worker import InputBudget, Worker, WorkerSettings

LOCK_NAME = ".consolidation.lock"
GUARD_NAME = ".consolidation.flock"
WORKER_MAX_REQUESTS = 40


class ConsolidationFailed(YoiError):
    pass


class ConsolidationBusy(ConsolidationFailed):
    pass


@dataclass(frozen=True)
class ConsolidationReport:
    consumed: list[str]
    report: str


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(staging_dir: Path, owner: str) -> list[StagedFile]:
    """Take the consolidation lock and return the entries this run consumes
    (those named by a dead owner's lock, or every staged entry now). The
    check and the write happen under an exclusive ``flock``, so two
    processes (or two pods of one process) never both take it."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    guard = os.open(staging_dir / GUARD_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        return _acquire_locked(staging_dir, owner)
    finally:
        os.close(guard)  # releases the flock


def _acquire_locked(staging_dir: Path, owner: str) -> list[StagedFile]:
    lock = staging_dir / LOCK_NAME
    staged = {f.staging_id: f for f in list_staging(staging_dir)}
    consumed: list[str] | None = None
    if lock.exists():
        try:
            data = json.loads(read_regular(lock).decode("utf-8"))
            pid, ids = int(data["pid"]), [str(i) for i in data["consumed_ids"]]
        except (OSError, ValueError, KeyError, TypeError):
            pid, ids = 0, []
        if pid and _alive(pid):
            where = "in this process" if pid == os.getpid() else f"in process {pid}"
            raise ConsolidationBusy(
                f"Memory consolidation is already running ({where}); try again later."
            )
        consumed = [i for i in ids if i in staged] or None  # resume a dead run's entries
    if consumed is None:
        consumed = sorted(staged)
    if not consumed:
        return []
    atomic_write_text(
        lock,
        json.dumps(
            {
                "pid": os.getpid(),
                "owner": owner,
                "started_at": int(time.time() * 1000),
                "consumed_ids": consumed,
            },
            indent=2,
        ),
    )
    return [staged[i] for i in consumed]


def release(staging_dir: Path, consumed: Sequence[StagedFile], *, success: bool) -> None:
    if success:
        for entry in consumed:
            entry.path.unlink(missing_ok=True)
    (staging_dir / LOCK_NAME).unlink(missing_ok=True)


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[… cut to fit the budget …]"


class Consolidator:
    def __init__(
        self,
        *,
        client: Callable[[], LlmClient],
        catalog: PromptCatalog,
        library: MemoryLibrary,
        max_input_tokens: int,
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.library = library
        self.max_input_tokens = max_input_tokens
        self._running = asyncio.Lock()

    async def consolidate(self, owner: str) -> ConsolidationReport:
        """One run. Raises :class:`ConsolidationBusy` when another is running
        and :class:`ConsolidationFailed` when the worker fails."""
        if self._running.locked():
            raise ConsolidationBusy("Memory consolidation is already running in this process.")
        async with self._running:
            staging_dir = self.library.layout.staging_dir
            consumed = await asyncio.to_thread(acquire, staging_dir, owner)
            if not consumed:
                return ConsolidationReport([], "Nothing to consolidate.")
            try:
                report = await self._run(consumed)
            except BaseException:
                await asyncio.to_thread(release, staging_dir, consumed, success=False)
                raise
            await asyncio.to_thread(release, staging_dir, consumed, success=True)
            return ConsolidationReport([c.staging_id for c in consumed], report)

    async def _run(self, consumed: Sequence[StagedFile]) -> str:
        budget = self.max_input_tokens * 2  # characters for each of the input's parts
        staging, records, knowledge = await asyncio.to_thread(self._inputs, consumed)
        cap = InputBudget(
            self.max_input_tokens,
            "consolidation worker",
            "[memory] consolidate_worker_max_input_tokens",
        )
        worker = Worker(
            client=self.client(),
            tools=ToolSet(memory_tools(self.library)),
            events=NullSink(),
            settings=WorkerSettings(max_turns=WORKER_MAX_REQUESTS),
            system_prompt=self.catalog.render(PromptKey.CONSOLIDATE_SYSTEM),
            interceptor=cap,
            commit=cap.commit,
        )
        prompt = self.catalog.render(
            PromptKey.CONSOLIDATE_INPUT,
            staging=_cap(staging, budget // 2),
            records=_cap(records, budget // 3),
            knowledge=_cap(knowledge, budget // 6),
        )
        result = await worker.run(user(prompt))
        if result.outcome in ("error", "interrupted"):
            raise ConsolidationFailed(
                f"Memory consolidation failed ({result.error or result.outcome}); the staged "
                "entries are kept for the next run."
            )
        texts = [i.text for i in worker.history if isinstance(i, Message) and i.role == "assistant"]
        return texts[-1] if texts else "Consolidated."

    def _inputs(self, consumed: Sequence[StagedFile]) -> tuple[str, str, str]:
        entries = []
        for entry in consumed:
            try:
                entries.append({"id": entry.staging_id, **read_staging(entry.path)})
            except (OSError, ValueError) as exc:
                entries.append({"id": entry.staging_id, "unreadable": str(exc)})
        staging = json.dumps(entries, indent=1)
        layout = self.library.layout
        parts = []
        for path in [
            layout.summary_path,
            *self._markdown(layout.decisions_dir),
            *self._markdown(layout.requests_dir),
        ]:
            try:
                rel = path.relative_to(layout.root).as_posix()
                parts.append(f"### {rel}\n{read_regular(path).decode('utf-8', 'replace')}")
            except (OSError, ValueError):
                continue
        knowledge = "\n".join(
            f"- {k.slug}: {k.description}" for k in self.library.knowledge() if k.problem is None
        )
        return staging, "\n\n".join(parts), knowledge

    @staticmethod
    def _markdown(folder: Path) -> list[Path]:
        return sorted(folder.glob("*.md")) if folder.is_dir() else []
