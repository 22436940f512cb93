"""Phase 1's output: one JSON file per extraction under ``<memory>/_staging``.

Each file is ``{"source": {"session_id", "range": [start_entry, end_entry]},
"decisions": [...], "discussions": [...], "attempts": [...], "requests": [...]}``.
The source is stamped by the pod from the session log, never by the model.
Synchronous file I/O; callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.fsutil import atomic_write_text, read_regular
from agent.ids import uuid7
from agent.tools.base import ToolArgs


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DecisionEntry(_Entry):
    options: list[str] = Field(default_factory=list, description="The options considered.")
    chosen: str = Field(description="The option chosen.")
    rationale: str = Field(description="Why.")


class DiscussionEntry(_Entry):
    topic: str
    points: list[str] = Field(default_factory=list)


class AttemptEntry(_Entry):
    action: str = Field(description="What was tried.")
    result: str = Field(description="What came of it.")
    succeeded: bool = Field(description="False for failures and partial successes.")


class RequestEntry(_Entry):
    intent: str = Field(description="What the user wanted.")
    target: str | None = Field(default=None, description="What it was about, if anything.")
    summary: str = Field(description="One line.")


class Extracted(ToolArgs):
    """What a slice of a session produced (empty lists are fine)."""

    decisions: list[DecisionEntry] = Field(default_factory=list)
    discussions: list[DiscussionEntry] = Field(default_factory=list)
    attempts: list[AttemptEntry] = Field(default_factory=list)
    requests: list[RequestEntry] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.decisions or self.discussions or self.attempts or self.requests)


@dataclass(frozen=True)
class Source:
    session_id: str
    start_entry: int
    end_entry: int

    def as_json(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "range": [self.start_entry, self.end_entry]}


@dataclass(frozen=True)
class StagedFile:
    staging_id: str
    path: Path
    size: int


def write_staging(staging_dir: Path, extracted: Extracted, source: Source) -> str:
    """Write one staging file; returns its id (a UUIDv7: names sort by time)."""
    staging_id = uuid7()
    document = {"source": source.as_json(), **extracted.model_dump(mode="json")}
    staging_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(staging_dir / f"{staging_id}.json", json.dumps(document, indent=2) + "\n")
    return staging_id


def list_staging(staging_dir: Path) -> list[StagedFile]:
    if not staging_dir.is_dir():
        return []
    found = []
    for path in sorted(staging_dir.glob("*.json")):
        if path.is_file() and not path.is_symlink():
            found.append(StagedFile(path.stem, path, path.stat().st_size))
    return found


def read_staging(path: Path) -> dict[str, Any]:
    data = json.loads(read_regular(path).decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data
