"""The compact worker's tools: nominate files and write the summary.

``read_file`` (the ordinary tool, on a fresh tracker so compaction never
changes what the main session has "read") comes from :mod:`agent.tools.files`.
These tools only record the worker's choices in :class:`CompactNotes`; the
compactor acts on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from agent.errors import InvalidArgument
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput
from agent.tools.files import split_lines
from agent.tools.fs import ScopedFs


@dataclass(frozen=True)
class ReadMark:
    path: Path
    first: int | None  # 1-based
    count: int | None
    tokens: int

    def suffix(self) -> str:
        if self.first is None and self.count is None:
            return ""
        first = self.first or 1
        return f":{first}-" if self.count is None else f":{first}-{first + self.count - 1}"


@dataclass
class CompactNotes:
    budget: int  # tokens for re-read files; 0 = unlimited
    summary: str | None = None
    marks: list[ReadMark] = field(default_factory=list)
    references: list[Path] = field(default_factory=list)

    @property
    def used(self) -> int:
        return sum(m.tokens for m in self.marks)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


class MarkArgs(ToolArgs):
    path: str = Field(description="A file the agent must see in full after compaction.")
    offset: int | None = Field(default=None, ge=1, description="1-based first line (optional).")
    limit: int | None = Field(default=None, ge=1, description="How many lines (optional).")


class MarkReadRequired(Tool[MarkArgs]):
    name: ClassVar[str] = "mark_read_required"
    description: ClassVar[str] = (
        "Mark a file (or a line range) whose current contents must be attached after "
        "compaction. Costs its size against the re-read budget."
    )
    args_model: ClassVar[type[ToolArgs]] = MarkArgs

    def __init__(self, fs: ScopedFs, notes: CompactNotes) -> None:
        self.fs = fs
        self.notes = notes

    async def run(self, args: MarkArgs, call: ToolCallContext) -> ToolOutput:
        file = await self.fs.read_text(args.path)
        lines = split_lines(file.text)
        first = args.offset or 1
        chosen = lines[first - 1 : first - 1 + args.limit] if args.limit else lines[first - 1 :]
        tokens = estimate_tokens("\n".join(chosen))
        shown = self.fs.display(file.path)
        budget = self.notes.budget
        if budget and self.notes.used + tokens > budget:
            raise InvalidArgument(
                f"{shown} is about {tokens} tokens, but only {budget - self.notes.used} of the "
                f"{budget}-token re-read budget are left. Mark a smaller line range, drop it, "
                "or use add_reference instead."
            )
        self.notes.marks = [m for m in self.notes.marks if m.path != file.path]
        self.notes.marks.append(ReadMark(file.path, args.offset, args.limit, tokens))
        left = f"; {budget - self.notes.used} of {budget} tokens left" if budget else ""
        hint = (
            " Most of the budget is used: wrap up with write_summary."
            if budget and self.notes.used * 2 >= budget
            else ""
        )
        return ToolOutput(summary=f"Marked {shown} (about {tokens} tokens{left}).{hint}")


class ReferenceArgs(ToolArgs):
    path: str = Field(description="A file worth knowing about; listed by path only.")


class AddReference(Tool[ReferenceArgs]):
    name: ClassVar[str] = "add_reference"
    description: ClassVar[str] = (
        "List a file by path (without its contents) for the agent after compaction."
    )
    args_model: ClassVar[type[ToolArgs]] = ReferenceArgs

    def __init__(self, fs: ScopedFs, notes: CompactNotes) -> None:
        self.fs = fs
        self.notes = notes

    async def run(self, args: ReferenceArgs, call: ToolCallContext) -> ToolOutput:
        path = self.fs.scope.check_read(args.path)
        if path not in self.notes.references:
            self.notes.references.append(path)
        return ToolOutput(summary=f"Referenced {self.fs.display(path)}")


class SummaryArgs(ToolArgs):
    text: str = Field(min_length=1, description="The summary, with its five sections.")


class WriteSummary(Tool[SummaryArgs]):
    name: ClassVar[str] = "write_summary"
    description: ClassVar[str] = (
        "Record the compaction summary (the last call wins). Sections: Completed Tasks, "
        "Active Task, Key Decisions, User Directives, Current Work."
    )
    args_model: ClassVar[type[ToolArgs]] = SummaryArgs

    def __init__(self, notes: CompactNotes) -> None:
        self.notes = notes

    async def run(self, args: SummaryArgs, call: ToolCallContext) -> ToolOutput:
        verb = "Replaced" if self.notes.summary is not None else "Recorded"
        self.notes.summary = args.text.strip()
        return ToolOutput(summary=f"{verb} the summary ({estimate_tokens(args.text)} tokens)")
