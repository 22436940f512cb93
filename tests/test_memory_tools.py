"""Memory tools and the library end to end on a real workspace in tmp_path:
create, update, lint errors the model can fix, edit, query, knowledge search
and read, listing broken records, and refusing symlinks and FIFOs."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from agent.errors import (
    EditConflict,
    ExecutionFailed,
    FileNotFound,
    InvalidArgument,
    ScopeDenied,
    ToolError,
)
from agent.manifest.schema import MemorySection
from agent.memory.layout import MemoryLayout
from agent.memory.library import MemoryLibrary
from agent.memory.linter import LintError
from agent.memory.records import KnowledgeFrontmatter, parse_record
from agent.memory.tools import knowledge_tools, memory_tools
from agent.ports import NullSink
from agent.tools.base import Tool, ToolCallContext, ToolOutput, ToolSet

SOURCE = {"session_id": "s1", "range": [2, 7]}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def library(tmp_path: Path, clock: Clock) -> MemoryLibrary:
    layout = MemoryLayout.for_root(tmp_path, MemorySection())
    return MemoryLibrary(layout, result_limit=5, excerpt_lines=1, clock=clock)


@pytest.fixture
def tools(library: MemoryLibrary) -> dict[str, Tool[Any]]:
    return {tool.name: tool for tool in memory_tools(library)}


async def call(tools: dict[str, Tool[Any]], name: str, **raw: Any) -> ToolOutput:
    tool = tools[name]
    return await tool.run(tool.parse(raw), ToolCallContext(call_id="c1", events=NullSink()))


def knowledge_fm(**extra: Any) -> dict[str, Any]:
    return {"description": "How to cut a release.", "last_sources": [SOURCE]} | extra


def test_tool_sets(library: MemoryLibrary) -> None:
    every = ToolSet(memory_tools(library))
    assert every.names() == [
        "knowledge_read",
        "knowledge_search",
        "memory_edit",
        "memory_query",
        "memory_read",
        "memory_write",
    ]
    assert [t.name for t in knowledge_tools(library)] == ["knowledge_search", "knowledge_read"]
    write = next(s for s in every.specs() if s.name == "memory_write")
    assert write.parameters["properties"]["kind"]["enum"] == [
        "summary",
        "decision",
        "request",
        "knowledge",
    ]
    assert set(write.parameters["required"]) == {"kind", "frontmatter", "body"}


async def test_unknown_kind_is_an_argument_error(tools: dict[str, Tool[Any]]) -> None:
    with pytest.raises(InvalidArgument, match="kind"):
        await call(tools, "memory_read", kind="workflow", slug="x")


# ---------------------------------------------------------------- write


async def test_create_then_update_keeps_created_at(
    tools: dict[str, Tool[Any]], library: MemoryLibrary, clock: Clock
) -> None:
    out = await call(
        tools,
        "memory_write",
        kind="knowledge",
        slug="release-process",
        frontmatter=knowledge_fm(model_invocation=True),
        body="# Releases\n\nTag, then push.",
    )
    assert out.summary == (
        "Created knowledge 'release-process' (.yoi/knowledge/release-process.md)"
    )
    path = library.layout.knowledge_path("release-process")
    first = parse_record("knowledge", path.read_text())
    assert isinstance(first.frontmatter, KnowledgeFrontmatter)
    assert first.frontmatter.created_at == clock.now
    assert first.frontmatter.model_invocation is True

    clock.advance(5)
    out = await call(
        tools,
        "memory_write",
        kind="knowledge",
        slug="release-process",
        frontmatter=knowledge_fm(created_at="2000-01-01T00:00:00Z"),
        body="# Releases\n\nTag, push, announce.",
    )
    assert out.summary.startswith("Replaced knowledge 'release-process'")
    second = parse_record("knowledge", path.read_text())
    assert second.frontmatter.created_at == first.frontmatter.created_at
    assert second.frontmatter.updated_at == clock.now
    assert second.body == "# Releases\n\nTag, push, announce."


async def test_summary_write(tools: dict[str, Tool[Any]], library: MemoryLibrary) -> None:
    out = await call(tools, "memory_write", kind="summary", frontmatter={}, body="All quiet.")
    assert out.summary == "Created the summary (.yoi/memory/summary.md)"
    text = library.layout.summary_path.read_text()
    assert "created_at: '2025-03-01T09:00:00Z'" in text and text.endswith("\nAll quiet.\n")


async def test_lint_violation_is_returned_then_fixed(
    tools: dict[str, Tool[Any]], library: MemoryLibrary
) -> None:
    bad = {"status": "replaced", "sources": [SOURCE]}
    with pytest.raises(LintError) as info:
        await call(
            tools,
            "memory_write",
            kind="decision",
            slug="use-sqlite",
            frontmatter=bad,
            body="We use SQLite. See #storage.",
        )
    message = str(info.value)
    assert isinstance(info.value, ToolError)
    assert "Nothing was written: decision 'use-sqlite' has 2 problems" in message
    assert "`replaced_by` is missing" in message
    assert "#storage" in message
    assert not library.layout.record_path("decision", "use-sqlite").exists()

    good = {"status": "open", "sources": [SOURCE]}
    out = await call(
        tools,
        "memory_write",
        kind="decision",
        slug="use-sqlite",
        frontmatter=good,
        body="We use SQLite.",
    )
    assert out.summary.startswith("Created decision 'use-sqlite'")


async def test_warnings_come_back_with_the_write(tools: dict[str, Tool[Any]]) -> None:
    out = await call(
        tools,
        "memory_write",
        kind="request",
        slug="dark-mode",
        frontmatter={"sources": [SOURCE]},
        body="x" * 2000,
    )
    assert out.summary.endswith("[1 warning]")
    assert out.content is not None and "only 1 source(s)" in out.content


async def test_bad_slug_is_a_lint_error(tools: dict[str, Tool[Any]]) -> None:
    with pytest.raises(LintError, match="'dark-mode'"):
        await call(
            tools,
            "memory_write",
            kind="request",
            slug="Dark Mode",
            frontmatter={"sources": []},
            body="b",
        )


# ---------------------------------------------------------------- read and edit


async def write_decision(tools: dict[str, Tool[Any]], slug: str, body: str) -> None:
    await call(
        tools,
        "memory_write",
        kind="decision",
        slug=slug,
        frontmatter={"status": "open", "sources": [SOURCE]},
        body=body,
    )


async def test_read_numbers_lines(tools: dict[str, Tool[Any]]) -> None:
    await write_decision(tools, "d", "Line one.")
    out = await call(tools, "memory_read", kind="decision", slug="d")
    assert out.summary == "Read decision 'd' (10 lines)"
    assert out.content is not None
    assert out.content.splitlines()[0] == "     1\t---"
    assert out.content.splitlines()[-1] == "    10\tLine one."
    with pytest.raises(FileNotFound, match="create it with memory_write"):
        await call(tools, "memory_read", kind="decision", slug="nope")


async def test_edit_uniqueness(
    tools: dict[str, Tool[Any]], library: MemoryLibrary, clock: Clock
) -> None:
    await write_decision(tools, "d", "pick A. pick A.")
    with pytest.raises(EditConflict, match="matches 2 places"):
        await call(
            tools,
            "memory_edit",
            kind="decision",
            slug="d",
            old_string="pick A",
            new_string="pick B",
        )
    with pytest.raises(EditConflict, match="not found"):
        await call(
            tools,
            "memory_edit",
            kind="decision",
            slug="d",
            old_string="pick C",
            new_string="pick B",
        )
    with pytest.raises(InvalidArgument, match="identical"):
        await call(tools, "memory_edit", kind="decision", slug="d", old_string="A", new_string="A")
    clock.advance(1)
    out = await call(
        tools,
        "memory_edit",
        kind="decision",
        slug="d",
        old_string="pick A",
        new_string="pick B",
        replace_all=True,
    )
    assert out.summary.startswith("Edited decision 'd'")
    record = parse_record("decision", library.read("decision", "d"))
    assert record.body == "pick B. pick B."
    assert record.frontmatter.updated_at == clock.now
    assert record.frontmatter.created_at == clock.now - dt.timedelta(hours=1)


async def test_edit_frontmatter_is_linted(
    tools: dict[str, Tool[Any]], library: MemoryLibrary
) -> None:
    await write_decision(tools, "old", "Use A.")
    await write_decision(tools, "new", "Use B.")
    with pytest.raises(LintError, match="`replaced_by` is missing"):
        await call(
            tools,
            "memory_edit",
            kind="decision",
            slug="old",
            old_string="status: open",
            new_string="status: replaced",
        )
    await call(
        tools,
        "memory_edit",
        kind="decision",
        slug="old",
        old_string="status: open",
        new_string="status: replaced\nreplaced_by: new",
    )
    assert "replaced_by: new" in library.read("decision", "old")
    with pytest.raises(LintError, match="not closed"):
        await call(
            tools, "memory_edit", kind="decision", slug="new", old_string="---\n\n", new_string="\n"
        )
    assert "Use B." in library.read("decision", "new")


async def test_edit_a_crlf_record(tools: dict[str, Tool[Any]], library: MemoryLibrary) -> None:
    path = library.layout.record_path("request", "r")
    path.parent.mkdir(parents=True)
    path.write_bytes(
        b"---\r\ncreated_at: 2025-01-01T00:00:00Z\r\nupdated_at: 2025-01-01T00:00:00Z\r\n"
        b"sources: []\r\n---\r\nfirst\r\nsecond\r\n"
    )
    await call(
        tools,
        "memory_edit",
        kind="request",
        slug="r",
        old_string="first\nsecond",
        new_string="only",
    )
    text = library.read("request", "r")
    assert "\r" not in text and text.endswith("\nonly\n")
    assert "created_at: '2025-01-01T00:00:00Z'" in text


# ---------------------------------------------------------------- query


async def test_query(tools: dict[str, Tool[Any]], library: MemoryLibrary) -> None:
    await call(
        tools, "memory_write", kind="summary", frontmatter={}, body="We talked about the cache."
    )
    await write_decision(tools, "cache-layer", "Redis cache in front.\nThe cache expires.")
    await write_decision(tools, "logging", "Structured logs.")
    await call(
        tools,
        "memory_write",
        kind="knowledge",
        slug="cache-tips",
        frontmatter=knowledge_fm(description="Cache invalidation notes."),
        body="Flush.",
    )

    out = await call(tools, "memory_query", query="Cache")
    assert out.summary == '3 hits for "Cache"'
    assert out.content is not None
    blocks = out.content.split("\n\n")
    assert blocks[0].startswith("decision cache-layer (status: open)")  # most matches first
    assert "Redis cache in front." in blocks[0]
    assert any(
        b.startswith("knowledge cache-tips\n  description: Cache invalidation") for b in blocks
    )
    assert "logging" not in out.content

    hits = library.query("cache expires")
    assert [(h.kind, h.slug) for h in hits] == [("decision", "cache-layer")]
    (excerpt,) = hits[0].excerpts
    assert excerpt.line == 9
    assert excerpt.text == "\nRedis cache in front.\nThe cache expires."

    only = await call(tools, "memory_query", query="cache", kinds=["summary"])
    assert only.summary == '1 hit for "cache"'

    listing = await call(tools, "memory_query")
    assert listing.summary == "4 records"
    assert listing.content is not None
    heads = [b.splitlines()[0] for b in listing.content.split("\n\n")]
    assert heads == [
        "summary",
        "decision cache-layer (status: open)",
        "decision logging (status: open)",
        "knowledge cache-tips",
    ]
    with pytest.raises(InvalidArgument, match="omit it to list"):
        await call(tools, "memory_query", query="  ")


async def test_query_is_capped(tools: dict[str, Tool[Any]], library: MemoryLibrary) -> None:
    for i in range(7):
        await write_decision(tools, f"topic-{i}", "shared words")
    assert len(library.query("shared")) == 5
    assert len(library.query(None)) == 5


async def test_knowledge_search_and_read(tools: dict[str, Tool[Any]]) -> None:
    await call(
        tools,
        "memory_write",
        kind="knowledge",
        slug="release-process",
        frontmatter=knowledge_fm(),
        body="# Releases\n\nRun make release.",
    )
    await write_decision(tools, "release-day", "Release on Mondays.")
    out = await call(tools, "knowledge_search", query="release")
    assert out.summary == '1 hit for "release"'
    assert out.content is not None
    assert out.content.startswith("knowledge release-process\n  description: How to cut")
    assert "\tRun make release." in out.content

    listing = await call(tools, "knowledge_search")
    assert listing.summary == "1 knowledge record"

    read = await call(tools, "knowledge_read", slug="release-process")
    assert read.summary == "Read knowledge 'release-process' (3 lines)"
    assert read.content == ("Description: How to cut a release.\n\n# Releases\n\nRun make release.")
    with pytest.raises(FileNotFound, match="knowledge_search lists them"):
        await call(tools, "knowledge_read", slug="missing")
    with pytest.raises(InvalidArgument, match="not a valid slug"):
        await call(tools, "knowledge_read", slug="../etc/passwd")


# ---------------------------------------------------------------- listing


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_knowledge_listing_shows_broken_records(library: MemoryLibrary) -> None:
    kdir = library.layout.knowledge_dir
    put(
        kdir / "good.md",
        "---\ndescription: Good one.\nmodel_invocation: true\n"
        "created_at: 2025-01-01T00:00:00Z\nupdated_at: 2025-01-02T00:00:00Z\n---\n# Good\n",
    )
    put(kdir / "broken.md", "---\ndescription: [unclosed\n---\n# Broken\n")
    put(kdir / "partial.md", "---\ndescription: Partial.\nmodel_invokation: true\n---\nno title\n")
    put(kdir / "Bad Name.md", "---\ndescription: x\n---\n")
    put(kdir / ".hidden.md", "ignored")
    put(kdir / "notes.txt", "ignored")

    infos = {i.slug: i for i in library.knowledge()}
    assert list(infos) == sorted(infos) == ["Bad Name", "broken", "good", "partial"]
    good = infos["good"]
    assert (good.title, good.description, good.problem) == ("Good", "Good one.", None)
    assert good.model_invocation and good.user_invocable
    assert good.updated_at == int(dt.datetime(2025, 1, 2, tzinfo=dt.UTC).timestamp() * 1000)
    broken = infos["broken"]
    assert broken.problem is not None and "not valid YAML" in broken.problem
    assert broken.title == "Broken"
    assert broken.updated_at == (kdir / "broken.md").stat().st_mtime_ns // 1_000_000
    partial = infos["partial"]
    assert partial.problem is not None and "missing `created_at`" in partial.problem
    assert partial.description == "Partial." and partial.model_invocation
    assert partial.title == "partial"
    problem = infos["Bad Name"].problem
    assert problem is not None and "not a valid slug" in problem

    assert library.resident() == [("good", "Good one.")]
    assert library.invocable("#") == [
        ("broken", ""),
        ("good", "Good one."),
        ("partial", "Partial."),
    ]
    assert library.invocable("go") == [("good", "Good one.")]

    doc = library.read_knowledge("broken")
    assert doc.frontmatter == {} and doc.problem is not None
    ok = library.read_knowledge("good")
    assert ok.frontmatter["updated_at"] == "2025-01-02T00:00:00Z" and ok.body == "# Good"


def test_resident_folds_and_caps_descriptions(library: MemoryLibrary) -> None:
    library.write(
        "knowledge", "a", {"description": "line one\n  line two", "model_invocation": True}, ""
    )
    library.write("knowledge", "b", {"description": "not resident"}, "")
    put(
        library.layout.knowledge_dir / "c.md",
        "---\ndescription: "
        + "x" * 2000
        + "\nmodel_invocation: true\ncreated_at: 2025-01-01T00:00:00Z\n"
        "updated_at: 2025-01-01T00:00:00Z\n---\n",
    )
    resident = library.resident()
    assert resident[0] == ("a", "line one line two")
    assert [slug for slug, _ in resident] == ["a", "c"]
    assert len(resident[1][1]) == 1024 and resident[1][1].endswith("…")


def test_listing_without_a_folder_is_empty(library: MemoryLibrary) -> None:
    assert library.knowledge() == []
    assert library.resident() == []
    assert library.query(None) == []


# ---------------------------------------------------------------- special files


def test_symlink_out_of_the_tree_is_refused(library: MemoryLibrary, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = put(outside / "d.md", "---\nstatus: open\n---\nsecret\n")
    library.layout.memory_dir.mkdir(parents=True)
    library.layout.decisions_dir.symlink_to(outside)
    with pytest.raises(ScopeDenied, match="leads out of the memory folders"):
        library.read("decision", "d")
    with pytest.raises(ScopeDenied):
        library.write("decision", "e", {"status": "open", "sources": []}, "x")
    assert not (outside / "e.md").exists()
    assert secret.read_text().endswith("secret\n")
    (listed,) = library.query(None)
    assert listed.problem is not None and "leads out" in listed.problem
    assert library.query("secret") == []


def test_symlinked_record_is_refused(library: MemoryLibrary, tmp_path: Path) -> None:
    target = put(tmp_path / "elsewhere.md", "---\ndescription: x\n---\nprivate\n")
    library.layout.knowledge_dir.mkdir(parents=True)
    (library.layout.knowledge_dir / "link.md").symlink_to(target)
    with pytest.raises(ScopeDenied, match="symbolic link"):
        library.read_knowledge("link")
    with pytest.raises(ScopeDenied, match="symbolic link"):
        library.write("knowledge", "link", {"description": "y"}, "overwrite")
    assert target.read_text().endswith("private\n")
    (info,) = library.knowledge()
    assert info.problem is not None and "symbolic link" in info.problem


@pytest.mark.timeout(5)
def test_fifo_is_refused_without_blocking(library: MemoryLibrary) -> None:
    library.layout.knowledge_dir.mkdir(parents=True)
    os.mkfifo(library.layout.knowledge_dir / "pipe.md")
    with pytest.raises(ExecutionFailed, match="a FIFO, not a regular file"):
        library.read_knowledge("pipe")
    with pytest.raises(ExecutionFailed, match="a FIFO"):
        library.write("knowledge", "pipe", {"description": "y"}, "")
    (info,) = library.knowledge()
    assert info.problem is not None and "FIFO" in info.problem
    assert library.resident() == []
    hits = library.query(None, ["knowledge"])
    assert hits[0].problem is not None
    assert library.query("pipe", ["knowledge"]) == []


def test_memory_folder_linked_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / ".yoi").symlink_to(outside)
    library = MemoryLibrary.for_root(workspace, MemorySection())
    with pytest.raises(ScopeDenied, match="symbolic link out of the workspace"):
        library.write("summary", None, {}, "x")
    assert list(outside.iterdir()) == []
