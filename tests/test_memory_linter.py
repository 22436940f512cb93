"""The memory linter: every error and warning, over a real tree in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.errors import ToolError
from agent.manifest.schema import MemorySection
from agent.memory.layout import MemoryLayout, RecordKind
from agent.memory.linter import LintError, LintReport, levenshtein, lint, references

T0 = "2025-01-31T12:00:00Z"
SOURCE = {"session_id": "s1", "range": [0, 4]}


@pytest.fixture
def layout(tmp_path: Path) -> MemoryLayout:
    return MemoryLayout.for_root(tmp_path, MemorySection())


def fm(kind: RecordKind, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"created_at": T0, "updated_at": T0}
    if kind == "knowledge":
        base["description"] = "What this covers."
    if kind == "decision":
        base |= {"status": "open", "sources": [SOURCE]}
    if kind == "request":
        base["sources"] = [SOURCE]
    return base | extra


def put(layout: MemoryLayout, kind: RecordKind, slug: str, text: str = "") -> None:
    path = layout.record_path(kind, slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text or f"---\ndescription: x\ncreated_at: {T0}\nupdated_at: {T0}\n---\n")


def decision(layout: MemoryLayout, slug: str, replaced_by: str | None = None) -> None:
    extra = f"status: replaced\nreplaced_by: {replaced_by}\n" if replaced_by else "status: open\n"
    put(
        layout,
        "decision",
        slug,
        f"---\n{extra}created_at: {T0}\nupdated_at: {T0}\nsources: []\n---\nbody\n",
    )


def check(
    layout: MemoryLayout,
    kind: RecordKind,
    slug: str | None,
    frontmatter: dict[str, Any],
    body: str = "Body.",
    *,
    creating: bool = True,
) -> LintReport:
    return lint(layout, kind, slug, frontmatter, body, creating=creating)


def one_error(report: LintReport) -> str:
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


# ---------------------------------------------------------------- clean records


@pytest.mark.parametrize(
    ("kind", "slug"),
    [("summary", None), ("decision", "d"), ("request", "r"), ("knowledge", "k")],
)
def test_a_good_record_passes_clean(layout: MemoryLayout, kind: RecordKind, slug: str) -> None:
    report = check(layout, kind, slug, fm(kind))
    assert report == LintReport([], [])
    assert report.ok


# ---------------------------------------------------------------- errors


def test_invalid_slug(layout: MemoryLayout) -> None:
    error = one_error(check(layout, "knowledge", "Release_Notes", fm("knowledge")))
    assert "'Release_Notes' is not a valid slug" in error
    assert "'release-notes'" in error


def test_summary_takes_no_slug_and_others_need_one(layout: MemoryLayout) -> None:
    assert "omit slug" in one_error(check(layout, "summary", "main", fm("summary")))
    assert "needs a slug" in one_error(check(layout, "request", None, fm("request")))


def test_missing_and_malformed_fields(layout: MemoryLayout) -> None:
    data = fm("request", created_at="yesterday")
    del data["sources"]
    report = check(layout, "request", "r", data)
    assert len(report.errors) == 2
    assert any("missing `sources`" in e for e in report.errors)
    assert any("`created_at`" in e and "RFC 3339" in e for e in report.errors)


def test_bad_status(layout: MemoryLayout) -> None:
    error = one_error(check(layout, "decision", "d", fm("decision", status="done")))
    assert "`status` is invalid (got 'done')" in error
    assert "one of open, resolved, replaced" in error


def test_replaced_needs_replaced_by_and_the_other_way_round(layout: MemoryLayout) -> None:
    error = one_error(check(layout, "decision", "d", fm("decision", status="replaced")))
    assert "`replaced_by` is missing" in error
    decision(layout, "newer")
    error = one_error(check(layout, "decision", "d", fm("decision", replaced_by="newer")))
    assert "set `status: replaced`, or remove `replaced_by`" in error


def test_replaced_by_itself(layout: MemoryLayout) -> None:
    data = fm("decision", status="replaced", replaced_by="d")
    assert "names this decision itself" in one_error(check(layout, "decision", "d", data))


def test_replaced_by_a_missing_decision(layout: MemoryLayout) -> None:
    data = fm("decision", status="replaced", replaced_by="ghost")
    error = one_error(check(layout, "decision", "d", data))
    assert "no decision with that slug" in error and "'ghost'" in error
    decision(layout, "ghost")
    assert check(layout, "decision", "d", data).ok


def test_replaced_by_cycle(layout: MemoryLayout) -> None:
    decision(layout, "b", replaced_by="c")
    decision(layout, "c", replaced_by="a")
    data = fm("decision", status="replaced", replaced_by="b")
    error = one_error(check(layout, "decision", "a", data, creating=False))
    assert "cycle (a -> b -> c -> a)" in error
    # a chain that ends, or loops elsewhere, is fine
    decision(layout, "c", replaced_by="b")
    assert check(layout, "decision", "a", data, creating=False).ok


@pytest.mark.parametrize(("kind", "limit"), [("summary", 20_000), ("decision", 8_000)])
def test_body_over_its_cap(layout: MemoryLayout, kind: RecordKind, limit: int) -> None:
    slug = None if kind == "summary" else "x"
    assert check(layout, kind, slug, fm(kind), "a" * limit).errors == []
    error = one_error(check(layout, kind, slug, fm(kind), "a" * (limit + 7)))
    assert f"over the {limit} allowed" in error and "cut at least 7 characters" in error


def test_resident_description_over_1024(layout: MemoryLayout) -> None:
    long = "d" * 1025
    assert check(layout, "knowledge", "k", fm("knowledge", description=long)).ok
    data = fm("knowledge", description=long, model_invocation=True)
    error = one_error(check(layout, "knowledge", "k", data))
    assert "1025 characters" in error and "at most 1024" in error


def test_empty_description(layout: MemoryLayout) -> None:
    error = one_error(check(layout, "knowledge", "k", fm("knowledge", description="  ")))
    assert "`description` is empty" in error


def test_creating_an_existing_slug(layout: MemoryLayout) -> None:
    put(layout, "knowledge", "k")
    error = one_error(check(layout, "knowledge", "k", fm("knowledge")))
    assert "already exists" in error and "memory_edit" in error
    assert check(layout, "knowledge", "k", fm("knowledge"), creating=False).ok


def test_references_to_missing_knowledge(layout: MemoryLayout) -> None:
    put(layout, "knowledge", "present")
    body = "See #present and #absent, also (#gone). Fixed in #123.\n`#code` and\n```\n#include\n```"
    error = one_error(check(layout, "decision", "d", fm("decision"), body))
    assert "#absent, #gone" in error
    assert "#present" not in error and "#include" not in error and "#123" not in error


def test_knowledge_may_refer_to_itself(layout: MemoryLayout) -> None:
    assert check(layout, "knowledge", "self-ref", fm("knowledge"), "Unlike #self-ref.").ok


def test_references_outside_code_only() -> None:
    body = "# Heading\n#alpha, #beta.\nmail@x#nope #Upper\n~~~\n#fenced\n~~~\n`#inline` #gamma"
    assert references(body) == {"alpha", "beta", "gamma"}


def test_all_errors_are_reported_together(layout: MemoryLayout) -> None:
    data = fm("decision", status="closed")
    report = check(layout, "decision", "d", data, "#nowhere " + "x" * 8000)
    assert len(report.errors) == 3
    error = LintError(report, "decision 'd'")
    assert isinstance(error, ToolError)
    message = str(error)
    assert message.startswith("Nothing was written: decision 'd' has 3 problems")
    assert all(f"- {e}" in message for e in report.errors)


# ---------------------------------------------------------------- warnings


def test_large_body_with_few_sources(layout: MemoryLayout) -> None:
    body = "x" * 1500
    report = check(layout, "request", "r", fm("request"), body)
    assert report.ok and len(report.warnings) == 1
    assert "1500 characters but `sources` has only 1 source(s)" in report.warnings[0]
    two = fm("request", sources=[SOURCE, SOURCE])
    assert check(layout, "request", "r", two, body).warnings == []
    assert check(layout, "request", "r", fm("request"), "x" * 1499).warnings == []
    knowledge = check(layout, "knowledge", "k", fm("knowledge"), body).warnings
    assert len(knowledge) == 1 and "`last_sources` has only 0" in knowledge[0]


def test_summary_has_no_warning_band(layout: MemoryLayout) -> None:
    assert check(layout, "summary", None, fm("summary"), "x" * 5000).warnings == []


def test_too_many_sources(layout: MemoryLayout) -> None:
    assert check(layout, "decision", "d", fm("decision", sources=[SOURCE] * 10)).warnings == []
    report = check(layout, "decision", "d", fm("decision", sources=[SOURCE] * 11))
    assert report.ok and len(report.warnings) == 1
    assert "11 entries (more than 10)" in report.warnings[0]


def test_similar_slug_cluster(layout: MemoryLayout) -> None:
    put(layout, "request", "login-page")
    assert check(layout, "request", "login-pages", fm("request")).warnings == []
    put(layout, "request", "logins-page")
    put(layout, "knowledge", "login-pag")  # another kind does not count
    report = check(layout, "request", "login-pages", fm("request"))
    assert report.ok and len(report.warnings) == 1
    assert "'login-page', 'logins-page'" in report.warnings[0]
    assert "merge them into one record" in report.warnings[0]


def test_similar_decisions_suggest_replacing(layout: MemoryLayout) -> None:
    decision(layout, "db-v1")
    decision(layout, "db-v2")
    (warning,) = check(layout, "decision", "db-v3", fm("decision")).warnings
    assert "`status: replaced`" in warning


def test_unknown_keys_warn(layout: MemoryLayout) -> None:
    report = check(layout, "decision", "d", fm("decision", owner="ana", replacedby="x"))
    assert report.ok and len(report.warnings) == 1
    assert "`owner`, `replacedby`" in report.warnings[0]
    assert "`replaced_by`" in report.warnings[0]


def test_levenshtein() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert levenshtein("same", "same") == 0
    assert levenshtein("abcdef", "a", cutoff=2) == 3
