"""The memory tools.

``memory_read``, ``memory_write``, ``memory_edit`` and ``memory_query`` are the
consolidation worker's; ``knowledge_search`` and ``knowledge_read`` are the
main agent's way to pull knowledge bodies on demand. Paths are derived from
``kind`` and ``slug``, never given by the model, and every write is linted:
violations come back as a tool error the model can fix.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from pydantic import Field

from agent.memory.layout import RecordKind
from agent.memory.library import Hit, MemoryLibrary, WriteResult
from agent.memory.records import BODY_LIMITS, TIMESTAMP_EXAMPLE
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput
from agent.tools.files import number_lines, plural, split_lines

_KIND = (
    "The record kind: 'summary' (the one summary.md, no slug), 'decision', 'request' or "
    "'knowledge' (each needs a slug)."
)
_SLUG = (
    "The record's name and file name: lowercase letters, digits and single dashes "
    "(e.g. 'use-postgres'). Omit for the summary."
)
_SOURCES = "[{session_id, range: [start_entry, end_entry]}]"


class MemoryReadArgs(ToolArgs):
    kind: RecordKind = Field(description=_KIND)
    slug: str | None = Field(default=None, description=_SLUG)


class MemoryRead(Tool[MemoryReadArgs]):
    name: ClassVar[str] = "memory_read"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Read a memory record whole: its YAML frontmatter and Markdown body. Lines come "
        "numbered (`number<TAB>text`); the numbers are not part of the record."
    )
    args_model: ClassVar[type[ToolArgs]] = MemoryReadArgs

    def __init__(self, library: MemoryLibrary) -> None:
        self.library = library

    async def run(self, args: MemoryReadArgs, call: ToolCallContext) -> ToolOutput:
        text = await asyncio.to_thread(self.library.read, args.kind, args.slug)
        lines = split_lines(text)
        return ToolOutput(
            summary=f"Read {_name(args.kind, args.slug)} ({plural(len(lines), 'line')})",
            content=number_lines(lines, 1),
        )


class MemoryWriteArgs(ToolArgs):
    kind: RecordKind = Field(description=_KIND)
    slug: str | None = Field(default=None, description=_SLUG)
    frontmatter: dict[str, Any] = Field(
        description="The frontmatter keys (created_at and updated_at are stamped for you)."
    )
    body: str = Field(description="The Markdown body, without the frontmatter.")


class MemoryWrite(Tool[MemoryWriteArgs]):
    name: ClassVar[str] = "memory_write"
    description: ClassVar[str] = (
        "Create a memory record, or replace one whole (prefer memory_edit for a change). "
        "Frontmatter by kind: decision {status: open|resolved|replaced, replaced_by?: slug "
        f"(required when replaced), sources: {_SOURCES}}}; request {{sources}}; knowledge "
        "{description, model_invocation: bool (listed in every system prompt; description "
        "<= 1024 chars), user_invocable: bool (the user may attach it as #slug), "
        f"last_sources: {_SOURCES}}}; summary {{}}. created_at is kept and updated_at "
        f"stamped automatically (RFC 3339 UTC, e.g. {TIMESTAMP_EXAMPLE}). Body limits: "
        f"{BODY_LIMITS['summary']} characters for the summary, {BODY_LIMITS['decision']} "
        "for the others. `#slug` in a body must name an existing knowledge record. A record "
        "that breaks these rules is not written: the error lists what to fix."
    )
    args_model: ClassVar[type[ToolArgs]] = MemoryWriteArgs

    def __init__(self, library: MemoryLibrary) -> None:
        self.library = library

    async def run(self, args: MemoryWriteArgs, call: ToolCallContext) -> ToolOutput:
        result = await asyncio.to_thread(
            self.library.write, args.kind, args.slug, args.frontmatter, args.body
        )
        verb = "Created" if result.created else "Replaced"
        return _written(self.library, verb, args.kind, args.slug, result)


class MemoryEditArgs(ToolArgs):
    kind: RecordKind = Field(description=_KIND)
    slug: str | None = Field(default=None, description=_SLUG)
    old_string: str = Field(
        description="The exact text to replace, as memory_read shows it (without the line "
        "numbers); may span the frontmatter. Must match one place unless replace_all is set."
    )
    new_string: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(
        default=False, description="Replace every occurrence of old_string instead of one."
    )


class MemoryEdit(Tool[MemoryEditArgs]):
    name: ClassVar[str] = "memory_edit"
    description: ClassVar[str] = (
        "Replace an exact string in a memory record (frontmatter or body), then check and "
        "save it like memory_write; updated_at is stamped for you. old_string must match "
        "one place exactly, or set replace_all."
    )
    args_model: ClassVar[type[ToolArgs]] = MemoryEditArgs

    def __init__(self, library: MemoryLibrary) -> None:
        self.library = library

    async def run(self, args: MemoryEditArgs, call: ToolCallContext) -> ToolOutput:
        result = await asyncio.to_thread(
            self.library.edit,
            args.kind,
            args.slug,
            args.old_string,
            args.new_string,
            args.replace_all,
        )
        return _written(self.library, "Edited", args.kind, args.slug, result)


class MemoryQueryArgs(ToolArgs):
    query: str | None = Field(
        default=None,
        description="Words to look for (case-insensitive; every word must appear in the "
        "record). Omit to list every record.",
    )
    kinds: list[RecordKind] | None = Field(
        default=None, description="Only these kinds (default: all of them)."
    )


class MemoryQuery(Tool[MemoryQueryArgs]):
    name: ClassVar[str] = "memory_query"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Search the memory records (summary, decisions, requests, knowledge) for words, best "
        "matches first, with the lines around each match; or list them all."
    )
    args_model: ClassVar[type[ToolArgs]] = MemoryQueryArgs

    def __init__(self, library: MemoryLibrary) -> None:
        self.library = library

    async def run(self, args: MemoryQueryArgs, call: ToolCallContext) -> ToolOutput:
        hits = await asyncio.to_thread(self.library.query, args.query, args.kinds)
        return _hits_output(hits, args.query, "record")


class KnowledgeSearchArgs(ToolArgs):
    query: str | None = Field(
        default=None,
        description="Words to look for (case-insensitive; every word must appear). Omit to "
        "list every knowledge record.",
    )


class KnowledgeSearch(Tool[KnowledgeSearchArgs]):
    name: ClassVar[str] = "knowledge_search"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Search the workspace's knowledge records (notes kept from earlier work): slug, "
        "description and the lines that match, best first. Read one with knowledge_read."
    )
    args_model: ClassVar[type[ToolArgs]] = KnowledgeSearchArgs

    def __init__(self, library: MemoryLibrary) -> None:
        self.library = library

    async def run(self, args: KnowledgeSearchArgs, call: ToolCallContext) -> ToolOutput:
        hits = await asyncio.to_thread(self.library.query, args.query, ["knowledge"])
        return _hits_output(hits, args.query, "knowledge record")


class KnowledgeReadArgs(ToolArgs):
    slug: str = Field(description="The knowledge record's slug, e.g. 'release-process'.")


class KnowledgeRead(Tool[KnowledgeReadArgs]):
    name: ClassVar[str] = "knowledge_read"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = "Read the body of a knowledge record by its slug."
    args_model: ClassVar[type[ToolArgs]] = KnowledgeReadArgs

    def __init__(self, library: MemoryLibrary) -> None:
        self.library = library

    async def run(self, args: KnowledgeReadArgs, call: ToolCallContext) -> ToolOutput:
        doc = await asyncio.to_thread(self.library.read_knowledge, args.slug)
        description = doc.frontmatter.get("description")
        head = f"Description: {description}\n\n" if isinstance(description, str) else ""
        lines = plural(len(split_lines(doc.body)), "line")
        return ToolOutput(
            summary=f"Read knowledge '{doc.slug}' ({lines})",
            content=head + (doc.body or "(the record has no body)"),
        )


def memory_tools(library: MemoryLibrary) -> list[Tool[Any]]:
    """Every memory tool: what the consolidation worker works with."""
    return [
        MemoryRead(library),
        MemoryWrite(library),
        MemoryEdit(library),
        MemoryQuery(library),
        *knowledge_tools(library),
    ]


def knowledge_tools(library: MemoryLibrary) -> list[Tool[Any]]:
    """The main agent's read-only access to knowledge."""
    return [KnowledgeSearch(library), KnowledgeRead(library)]


def _name(kind: RecordKind, slug: str | None) -> str:
    return "the summary" if kind == "summary" else f"{kind} '{slug}'"


def _written(
    library: MemoryLibrary, verb: str, kind: RecordKind, slug: str | None, result: WriteResult
) -> ToolOutput:
    summary = f"{verb} {_name(kind, slug)} ({library.layout.display(result.path)})"
    if not result.warnings:
        return ToolOutput(summary=summary)
    count = plural(len(result.warnings), "warning")
    lines = [f"Saved, with {count} worth acting on:"]
    lines += [f"- {warning}" for warning in result.warnings]
    return ToolOutput(summary=f"{summary} [{count}]", content="\n".join(lines))


def _hits_output(hits: list[Hit], query: str | None, noun: str) -> ToolOutput:
    if query is None:
        summary = plural(len(hits), noun)
    else:
        summary = f'{plural(len(hits), "hit")} for "{query}"'
    if not hits:
        return ToolOutput(summary=summary)
    return ToolOutput(summary=summary, content="\n\n".join(_render_hit(h) for h in hits))


def _render_hit(hit: Hit) -> str:
    head = "summary" if hit.slug is None else f"{hit.kind} {hit.slug}"
    if hit.status is not None:
        head += f" (status: {hit.status})"
    lines = [head]
    if hit.description:
        lines.append("  description: " + " ".join(hit.description.split()))
    if hit.problem:
        lines.append(f"  problem: {hit.problem}")
    for excerpt in hit.excerpts:
        lines.append(number_lines(excerpt.text.split("\n"), excerpt.line))
    return "\n".join(lines)
