"""Phase 1, extract: record what happened in the new part of a session.

A disposable worker reads the pruned transcript of the items added since the
last extraction and calls ``write_extracted`` once. The pod stamps the source
(session id and the range of log entries covered), writes the staging file,
and saves the processed-through pointer as an ``extension`` entry in the
session log, so a restored session knows where to go on from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import JsonValue

from agent.compaction.transcript import render_transcript
from agent.errors import YoiError
from agent.items import Item, user
from agent.llm.types import LlmClient
from agent.memory.staging import Extracted
from agent.ports import NullSink
from agent.prompts.catalog import PromptCatalog, PromptKey
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput, ToolSet
from agent.worker import InputBudget, Worker, WorkerSettings

log = logging.getLogger(__name__)

EXTENSION_DOMAIN = "memory.extract"
WORKER_MAX_REQUESTS = 4


class ExtractionFailed(YoiError):
    """Extraction could not run; the pointer did not move and nothing was lost."""


@dataclass(frozen=True)
class ExtractPointer:
    """How far extraction has got in the current session's log."""

    processed_through_entry: int
    processed_through_history_len: int
    staging_id: str

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "processed_through_entry": self.processed_through_entry,
            "processed_through_history_len": self.processed_through_history_len,
            "staging_id": self.staging_id,
        }

    @classmethod
    def latest(cls, extensions: Sequence[tuple[str, Any]]) -> ExtractPointer | None:
        """The last pointer among a restored session's extensions."""
        pointer = None
        for domain, payload in extensions:
            if domain != EXTENSION_DOMAIN or not isinstance(payload, dict):
                continue
            try:
                pointer = cls(
                    int(payload["processed_through_entry"]),
                    int(payload["processed_through_history_len"]),
                    str(payload.get("staging_id", "")),
                )
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring a malformed memory.extract pointer: %r", payload)
        return pointer


class WriteExtracted(Tool[Extracted]):
    name: ClassVar[str] = "write_extracted"
    description: ClassVar[str] = (
        "Record the decisions, discussions, attempts and requests of this slice (call once; "
        "empty arrays are fine)."
    )
    args_model: ClassVar[type[ToolArgs]] = Extracted

    def __init__(self) -> None:
        self.payload: Extracted | None = None

    async def run(self, args: Extracted, call: ToolCallContext) -> ToolOutput:
        self.payload = args
        counts = (
            f"{len(args.decisions)} decisions, {len(args.discussions)} discussions, "
            f"{len(args.attempts)} attempts, {len(args.requests)} requests"
        )
        return ToolOutput(summary=f"Recorded {counts}")


class Extractor:
    def __init__(
        self, *, client: Callable[[], LlmClient], catalog: PromptCatalog, max_input_tokens: int
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.max_input_tokens = max_input_tokens

    async def extract(self, items: Sequence[Item]) -> Extracted:
        """Run the worker on ``items``; an empty payload if it never called the tool."""
        tool = WriteExtracted()
        cap = InputBudget(
            self.max_input_tokens,
            "extraction worker",
            "[memory] extract_worker_max_input_tokens",
        )
        worker = Worker(
            client=self.client(),
            tools=ToolSet([tool]),
            events=NullSink(),
            settings=WorkerSettings(max_turns=WORKER_MAX_REQUESTS),
            system_prompt=self.catalog.render(PromptKey.EXTRACT_SYSTEM),
            interceptor=cap,
            commit=cap.commit,
        )
        transcript = render_transcript(items, max_chars=self.max_input_tokens * 2)
        report = await worker.run(
            user(self.catalog.render(PromptKey.EXTRACT_INPUT, transcript=transcript))
        )
        if report.outcome in ("error", "interrupted"):
            raise ExtractionFailed(
                f"Memory extraction failed ({report.error or report.outcome}); nothing was "
                "recorded and it will be retried after the next turn."
            )
        if tool.payload is None:
            log.info("the extraction worker did not call write_extracted; recording nothing")
            return Extracted()
        return tool.payload
