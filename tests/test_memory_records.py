"""Memory layout, frontmatter and records: slugs, path classification,
parsing and rendering round trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agent.errors import InvalidArgument
from agent.manifest.schema import MemorySection
from agent.memory.frontmatter import FrontmatterError, render_frontmatter, split_frontmatter
from agent.memory.layout import InvalidRecordPath, MemoryLayout, is_slug, slug_problem, slugify
from agent.memory.records import (
    DecisionFrontmatter,
    KnowledgeFrontmatter,
    Record,
    RecordError,
    SourceRef,
    SummaryFrontmatter,
    format_timestamp,
    parse_record,
    render_record,
)

T0 = "2025-01-31T12:00:00Z"
T1 = "2025-02-01T08:30:00Z"


@pytest.fixture
def layout(tmp_path: Path) -> MemoryLayout:
    return MemoryLayout.for_root(tmp_path, MemorySection())


# ---------------------------------------------------------------- slugs and layout


@pytest.mark.parametrize("slug", ["a", "0", "use-postgres", "a1-b2", "x" * 64])
def test_valid_slugs(slug: str) -> None:
    assert is_slug(slug)
    assert slug_problem(slug) is None


@pytest.mark.parametrize(
    "slug", ["", "-a", "a-", "a--b", "Use-Postgres", "a_b", "a b", "x" * 65, "é", "a.md"]
)
def test_invalid_slugs(slug: str) -> None:
    assert not is_slug(slug)
    assert slug_problem(slug) is not None


def test_slug_problem_suggests_a_fix() -> None:
    problem = slug_problem("Use Postgres!")
    assert problem is not None and "'use-postgres'" in problem
    assert slugify("--A__b--") == "a-b"


def test_layout_paths(layout: MemoryLayout, tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert layout.summary_path == root / ".yoi/memory/summary.md"
    assert layout.decisions_dir == root / ".yoi/memory/decisions"
    assert layout.requests_dir == root / ".yoi/memory/requests"
    assert layout.staging_dir == root / ".yoi/memory/_staging"
    assert layout.knowledge_path("x") == root / ".yoi/knowledge/x.md"
    assert layout.record_path("decision", "d") == root / ".yoi/memory/decisions/d.md"
    assert layout.record_path("request", "r") == root / ".yoi/memory/requests/r.md"
    assert layout.record_path("summary", None) == layout.summary_path


def test_layout_follows_the_manifest_folders(tmp_path: Path) -> None:
    section = MemorySection(knowledge_dir="docs/kb", memory_dir="notes/mem")
    layout = MemoryLayout.for_root(tmp_path, section)
    assert layout.knowledge_path("x") == tmp_path.resolve() / "docs/kb/x.md"
    assert layout.summary_path == tmp_path.resolve() / "notes/mem/summary.md"


@pytest.mark.parametrize(
    ("kind", "slug", "needle"),
    [
        ("summary", "s", "omit slug"),
        ("decision", None, "needs a slug"),
        ("knowledge", "Bad Slug", "'bad-slug'"),
        ("workflow", "x", "Unknown kind .workflow.: use one of summary"),
    ],
)
def test_record_path_refuses_bad_names(
    layout: MemoryLayout, kind: str, slug: str | None, needle: str
) -> None:
    with pytest.raises(InvalidRecordPath, match=needle) as info:
        layout.record_path(kind, slug)  # type: ignore[arg-type]
    assert isinstance(info.value, InvalidArgument)


def test_classify(layout: MemoryLayout, tmp_path: Path) -> None:
    mem = tmp_path / ".yoi/memory"
    assert layout.classify(tmp_path / ".yoi/knowledge/a-b.md") == ("knowledge", "a-b")
    assert layout.classify(mem / "summary.md") == ("summary", None)
    assert layout.classify(mem / "decisions/d1.md") == ("decision", "d1")
    assert layout.classify(mem / "requests/r1.md") == ("request", "r1")
    # not records: outside, staging, folders, hidden temporaries
    assert layout.classify(tmp_path / "src/a.md") is None
    assert layout.classify(mem / "_staging/0193.json") is None
    assert layout.classify(mem / "decisions") is None
    assert layout.classify(mem) is None
    assert layout.classify(tmp_path / ".yoi/knowledge/.a.md.x1.tmp") is None


@pytest.mark.parametrize(
    ("relative", "needle"),
    [
        (".yoi/knowledge/Bad_Name.md", "not a valid slug"),
        (".yoi/knowledge/notes.txt", "<slug>.md"),
        (".yoi/knowledge/sub/x.md", "directly in .yoi/knowledge"),
        (".yoi/memory/workflow/x.md", "not a memory record"),
        (".yoi/memory/decisions/nested/x.md", "not a memory record"),
        (".yoi/memory/notes.md", "not a memory record"),
        (".yoi/memory/decisions/a--b.md", "not a valid slug"),
    ],
)
def test_classify_refuses_strays(
    layout: MemoryLayout, tmp_path: Path, relative: str, needle: str
) -> None:
    with pytest.raises(InvalidRecordPath, match=needle):
        layout.classify(tmp_path / relative)


def test_classify_sees_through_a_symlinked_root(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    layout = MemoryLayout.for_root(tmp_path / "link", MemorySection())
    assert layout.classify(real / ".yoi/knowledge/k.md") == ("knowledge", "k")


# ---------------------------------------------------------------- frontmatter


def test_split_frontmatter_tolerates_crlf_and_a_bom() -> None:
    text = "\ufeff---\r\ndescription: hi\r\nflag: true\r\n---\r\n\r\n# Title\r\nline\r\n"
    data, body = split_frontmatter(text)
    assert data == {"description": "hi", "flag": True}
    assert body == "# Title\nline"


def test_empty_frontmatter_is_an_empty_mapping() -> None:
    assert split_frontmatter("---\n---\nbody") == ({}, "body")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("no frontmatter\n", "must start with a '---' line"),
        ("---\ndescription: x\n", "not closed"),
        ("---\ndescription: a: b\n---\n", "line 2, column 15"),
        ("---\n- a\n- b\n---\n", "must be a YAML mapping"),
        ("---\n1: x\n---\n", "keys must be names"),
    ],
)
def test_frontmatter_errors_say_what_to_fix(text: str, needle: str) -> None:
    with pytest.raises(FrontmatterError, match=needle):
        split_frontmatter(text)


def test_yaml_timestamps_come_back_as_rfc3339_strings() -> None:
    data, _ = split_frontmatter("---\nat: 2025-01-31T12:00:00+02:00\nday: 2025-01-31\n---\n")
    assert data == {"at": "2025-01-31T10:00:00Z", "day": "2025-01-31"}


def test_render_frontmatter_keeps_key_order() -> None:
    text = render_frontmatter({"z": 1, "a": [1, 2], "m": "x: y"}, "\n\nbody\n\n")
    assert text == "---\nz: 1\na: [1, 2]\nm: 'x: y'\n---\n\nbody\n"


# ---------------------------------------------------------------- records


KNOWLEDGE = f"""---
description: How releases are cut.
model_invocation: true
user_invocable: false
created_at: {T0}
updated_at: {T1}
last_sources:
- session_id: s1
  range: [3, 9]
---

# Releases

Tag, then push.
"""


def test_knowledge_round_trip() -> None:
    record = parse_record("knowledge", KNOWLEDGE)
    fm = record.frontmatter
    assert isinstance(fm, KnowledgeFrontmatter)
    assert fm.description == "How releases are cut."
    assert fm.model_invocation is True and fm.user_invocable is False
    assert fm.created_at == dt.datetime(2025, 1, 31, 12, tzinfo=dt.UTC)
    assert fm.last_sources == [SourceRef(session_id="s1", range=(3, 9))]
    assert record.body == "# Releases\n\nTag, then push."
    rendered = render_record(record)
    assert rendered.replace("'", "") == KNOWLEDGE
    assert parse_record("knowledge", rendered) == record


def test_seed_spelling_is_read_and_written_back_correctly() -> None:
    text = KNOWLEDGE.replace("model_invocation: true", "model_invokation: true")
    record = parse_record("knowledge", text)
    assert isinstance(record.frontmatter, KnowledgeFrontmatter)
    assert record.frontmatter.model_invocation is True
    rendered = render_record(record)
    assert "model_invocation: true" in rendered
    assert "invokation" not in rendered


def test_knowledge_defaults() -> None:
    record = parse_record(
        "knowledge", f"---\ndescription: d\ncreated_at: {T0}\nupdated_at: {T0}\n---\n"
    )
    fm = record.frontmatter
    assert isinstance(fm, KnowledgeFrontmatter)
    assert (fm.model_invocation, fm.user_invocable, fm.last_sources) == (False, True, [])


def test_decision_round_trip_keeps_unknown_keys() -> None:
    fm = DecisionFrontmatter.model_validate(
        {
            "status": "replaced",
            "replaced_by": "newer",
            "created_at": T0,
            "updated_at": T1,
            "sources": [{"session_id": "s", "range": [1, 2]}],
            "owner": "ana",
        }
    )
    record = Record("decision", fm, "Chose X.")
    text = render_record(record)
    assert text.splitlines()[:4] == [
        "---",
        "status: replaced",
        "replaced_by: newer",
        f"created_at: '{T0}'",
    ]
    assert "owner: ana" in text
    assert parse_record("decision", text) == record


def test_summary_needs_only_updated_at() -> None:
    record = parse_record("summary", f"---\nupdated_at: {T0}\n---\nAll quiet.\n")
    assert isinstance(record.frontmatter, SummaryFrontmatter)
    assert record.frontmatter.created_at is None
    assert "created_at" not in render_record(record)


def test_request_requires_sources() -> None:
    with pytest.raises(RecordError, match="missing `sources`"):
        parse_record("request", f"---\ncreated_at: {T0}\nupdated_at: {T0}\n---\n")


def test_record_errors_list_every_problem() -> None:
    text = (
        "---\nstatus: done\ncreated_at: 2025-01-31\n"
        "sources: [{session_id: s, range: [5, 1]}, {session_id: t, range: [1, 2], x: 1}]\n---\n"
    )
    with pytest.raises(RecordError) as info:
        parse_record("decision", text)
    problems = info.value.problems
    assert any("`status`" in p and "one of open, resolved, replaced" in p for p in problems)
    assert any("`created_at`" in p and "no time zone" in p for p in problems)
    assert any("missing `updated_at`" in p for p in problems)
    assert any("`sources[0].range`" in p and "start <= end" in p for p in problems)
    assert any("`sources[1].x` is not allowed" in p for p in problems)
    assert len(problems) == 5


def test_parse_record_wraps_frontmatter_errors() -> None:
    with pytest.raises(RecordError, match="must start with a '---' line"):
        parse_record("summary", "just text")


def test_timestamps_render_in_utc() -> None:
    aware = dt.datetime(2025, 1, 31, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_timestamp(aware) == "2025-01-31T12:00:00Z"
    assert format_timestamp(aware.replace(microsecond=5)) == "2025-01-31T12:00:00.000005Z"
