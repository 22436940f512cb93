"""The memory linter: checks a record before it is written.

Errors refuse the write; warnings are tidy hints returned with a successful
write. Every message says what to change. The linter writes nothing; it reads
the tree to check slugs that must (or must not) exist, and re-reads it on each
call (records are few and small).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import ToolError
from agent.fsutil import open_regular
from agent.memory.frontmatter import FrontmatterError, normalize_body, split_frontmatter
from agent.memory.layout import KINDS, MemoryLayout, RecordKind, check_kind_slug, is_slug
from agent.memory.records import (
    BODY_LIMITS,
    RESIDENT_DESCRIPTION_LIMIT,
    DecisionFrontmatter,
    Frontmatter,
    KnowledgeFrontmatter,
    RecordError,
    validate_frontmatter,
)

LARGE_BODY = 1500
MAX_SOURCES = 10
SIMILAR_DISTANCE = 2
SIMILAR_CLUSTER = 2
MAX_SCAN_BYTES = 1_000_000

_REFERENCE = re.compile(
    r"(?:(?<=[\s(\[])|^)#(?P<slug>[a-z0-9][a-z0-9-]*)(?=[\s,;!?)\]]|[.:](?:\s|$)|$)"
)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


@dataclass(frozen=True)
class LintReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class LintError(ToolError):
    """A write refused by the linter; the message lists every violation."""

    def __init__(self, report: LintReport, subject: str = "the record") -> None:
        self.report = report
        count = len(report.errors)
        lines = [
            f"Nothing was written: {subject} has {count} problem{'s' if count != 1 else ''} "
            "to fix before it can be saved:"
        ]
        lines += [f"- {error}" for error in report.errors]
        if report.warnings:
            lines.append("Also worth fixing (warnings):")
            lines += [f"- {warning}" for warning in report.warnings]
        super().__init__("\n".join(lines))


def lint(
    layout: MemoryLayout,
    kind: RecordKind,
    slug: str | None,
    frontmatter: Mapping[str, Any],
    body: str,
    *,
    creating: bool,
) -> LintReport:
    """Check a record of ``kind`` named ``slug`` about to be written."""
    errors: list[str] = []
    warnings: list[str] = []
    problem = check_kind_slug(kind, slug)
    if problem is not None:
        errors.append(problem)
    if kind not in KINDS:
        return LintReport(errors, warnings)
    named = slug if problem is None and kind != "summary" else None
    body = normalize_body(body)
    model: Frontmatter | None = None
    try:
        model = validate_frontmatter(kind, frontmatter)
    except RecordError as exc:
        errors.extend(exc.problems)

    limit = BODY_LIMITS[kind]
    if len(body) > limit:
        errors.append(
            f"the body is {len(body)} characters, over the {limit} allowed for a {kind}: "
            f"cut at least {len(body) - limit} characters (drop detail, or split it by subject)."
        )
    if isinstance(model, KnowledgeFrontmatter):
        errors += _knowledge_errors(model)
    if isinstance(model, DecisionFrontmatter) and named is not None:
        errors += _decision_errors(layout, named, model)
    if named is not None and creating and _exists(layout, kind, named):
        errors.append(
            f"a {kind} named '{named}' already exists: change it with memory_edit, "
            "or choose another slug."
        )
    errors += _reference_errors(layout, kind, named, body)

    if model is not None:
        unknown = model.unknown_keys()
        if unknown:
            keys = ", ".join(f"`{k}`" for k in unknown)
            known = ", ".join(f"`{k}`" for k in sorted(model.known_keys()))
            warnings.append(
                f"unknown frontmatter key(s) {keys} are kept but mean nothing to a {kind}; "
                f"remove them or use the known keys ({known})."
            )
    if kind != "summary":
        warnings += _source_warnings(kind, frontmatter, body)
    if named is not None:
        warnings += _similar_warnings(layout, kind, named)
    return LintReport(errors, warnings)


def _knowledge_errors(model: KnowledgeFrontmatter) -> list[str]:
    errors: list[str] = []
    description = model.description.strip()
    if not description:
        errors.append(
            "`description` is empty: write one or two sentences saying what the record covers "
            "and when it is useful."
        )
    if model.model_invocation and len(model.description) > RESIDENT_DESCRIPTION_LIMIT:
        errors.append(
            f"`description` is {len(model.description)} characters, but a record with "
            f"`model_invocation: true` is listed in every system prompt, so it may have at most "
            f"{RESIDENT_DESCRIPTION_LIMIT}: shorten it and move the detail into the body."
        )
    return errors


def _decision_errors(layout: MemoryLayout, slug: str, model: DecisionFrontmatter) -> list[str]:
    target = model.replaced_by
    if model.status == "replaced" and target is None:
        return [
            "`status` is 'replaced' but `replaced_by` is missing: set `replaced_by` to the "
            "slug of the decision that replaces this one."
        ]
    if target is None:
        return []
    if model.status != "replaced":
        return [
            f"`replaced_by` is set but `status` is '{model.status}': set `status: replaced`, "
            "or remove `replaced_by`."
        ]
    if target == slug:
        return [
            "`replaced_by` names this decision itself: point it at the decision that "
            "replaces this one."
        ]
    if not is_slug(target) or not _exists(layout, "decision", target):
        return [
            f"`replaced_by` names '{target}', but there is no decision with that slug: "
            "write the replacing decision first, or fix the slug."
        ]
    chain = [slug, target]
    current: str | None = target
    seen = {slug}
    while current is not None and current not in seen:
        seen.add(current)
        current = _replaced_by(layout, current)
        if current is not None:
            chain.append(current)
            if current == slug:
                shown = " -> ".join(chain)
                return [
                    f"`replaced_by` makes a cycle ({shown}): a decision cannot be replaced, "
                    "directly or not, by one it replaces; point `replaced_by` at the newest "
                    "decision of the chain."
                ]
    return []


def _replaced_by(layout: MemoryLayout, slug: str) -> str | None:
    text = _read_small(layout.decisions_dir / f"{slug}.md")
    if text is None:
        return None
    try:
        data, _ = split_frontmatter(text)
    except FrontmatterError:
        return None
    value = data.get("replaced_by")
    return value if isinstance(value, str) and is_slug(value) else None


def _reference_errors(
    layout: MemoryLayout, kind: RecordKind, slug: str | None, body: str
) -> list[str]:
    wanted = references(body)
    if kind == "knowledge" and slug is not None:
        wanted.discard(slug)
    if not wanted:
        return []
    existing = record_slugs(layout.knowledge_dir)
    missing = sorted(wanted - existing)
    if not missing:
        return []
    names = ", ".join(f"#{s}" for s in missing)
    return [
        f"the body refers to {names}, but there is no knowledge record with "
        f"{'that slug' if len(missing) == 1 else 'those slugs'}: fix the reference, write "
        "the knowledge record first, or drop the '#'."
    ]


def references(body: str) -> set[str]:
    """The ``#slug`` knowledge references in a Markdown body, outside code
    (fenced blocks and inline code) and not counting issue numbers (``#123``)."""
    found: set[str] = set()
    for line in _prose_lines(body):
        for match in _REFERENCE.finditer(line):
            slug = match["slug"]
            if not slug.isdigit():
                found.add(slug)
    return found


def _prose_lines(body: str) -> list[str]:
    lines: list[str] = []
    fence: str | None = None
    for line in body.split("\n"):
        stripped = line.lstrip()
        marker = stripped[:3]
        if fence is None and marker in ("```", "~~~"):
            fence = marker
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        lines.append(_INLINE_CODE.sub(" ", line))
    return lines


def _source_warnings(kind: RecordKind, frontmatter: Mapping[str, Any], body: str) -> list[str]:
    key = "last_sources" if kind == "knowledge" else "sources"
    raw = frontmatter.get(key)
    count = len(raw) if isinstance(raw, list) else 0
    warnings: list[str] = []
    if len(body) >= LARGE_BODY and count <= 1:
        warnings.append(
            f"the body is {len(body)} characters but `{key}` has only {count} source(s): a "
            "large record with little provenance is often noise; trim it to what its sources "
            "support, or merge it into a related record."
        )
    if count > MAX_SOURCES:
        warnings.append(
            f"`{key}` has {count} entries (more than {MAX_SOURCES}): merge adjacent ranges of "
            "the same session, or split the record by subject."
        )
    return warnings


def _similar_warnings(layout: MemoryLayout, kind: RecordKind, slug: str) -> list[str]:
    others = record_slugs(layout.kind_dir(kind)) - {slug}
    close = sorted(s for s in others if levenshtein(s, slug, SIMILAR_DISTANCE) <= SIMILAR_DISTANCE)
    if len(close) < SIMILAR_CLUSTER:
        return []
    names = ", ".join(f"'{s}'" for s in close)
    how = (
        "merge them into one decision and mark the others `status: replaced` with `replaced_by`"
        if kind == "decision"
        else "merge them into one record"
    )
    return [
        f"the {kind} slug '{slug}' is within {SIMILAR_DISTANCE} edits of {names}: if they "
        f"cover the same subject, {how}."
    ]


def levenshtein(a: str, b: str, cutoff: int | None = None) -> int:
    """Edit distance between ``a`` and ``b``; with ``cutoff``, any distance
    above it may be reported as ``cutoff + 1``."""
    if cutoff is not None and abs(len(a) - len(b)) > cutoff:
        return cutoff + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if cutoff is not None and min(current) > cutoff:
            return cutoff + 1
        previous = current
    return previous[-1]


def record_slugs(folder: Path) -> set[str]:
    """Slugs of the ``<slug>.md`` entries of ``folder`` (empty when missing)."""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries]
    except OSError:
        return set()
    return {n[:-3] for n in names if n.endswith(".md") and is_slug(n[:-3])}


def _exists(layout: MemoryLayout, kind: RecordKind, slug: str) -> bool:
    path = layout.summary_path if kind == "summary" else layout.kind_dir(kind) / f"{slug}.md"
    return os.path.lexists(path)


def _read_small(path: Path) -> str | None:
    try:
        with open_regular(path) as fh:
            data = fh.read(MAX_SCAN_BYTES)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")
