"""Where memory records live, and what a path inside the memory tree is.

::

    <root>/<knowledge_dir>/<slug>.md          knowledge
    <root>/<memory_dir>/summary.md            summary (no slug)
    <root>/<memory_dir>/decisions/<slug>.md   decision
    <root>/<memory_dir>/requests/<slug>.md    request
    <root>/<memory_dir>/_staging/<id>.json    Phase 1 output (not a record)

The slug is the file name and the record's identity.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from agent.errors import InvalidArgument
from agent.manifest.schema import MemorySection

RecordKind = Literal["summary", "decision", "request", "knowledge"]
KINDS: tuple[RecordKind, ...] = get_args(RecordKind)

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SLUG_RULE = (
    "1-64 lowercase letters, digits and single dashes, starting and ending with a letter or digit"
)
_SUBFOLDERS: dict[str, RecordKind] = {"decisions": "decision", "requests": "request"}
STAGING = "_staging"
SUMMARY_FILE = "summary.md"


class InvalidRecordPath(InvalidArgument):
    """A slug, kind or path that does not name a memory record."""


def is_slug(value: str) -> bool:
    return bool(SLUG_PATTERN.match(value)) and "--" not in value


def slugify(text: str) -> str:
    """The nearest valid slug to ``text`` (``"Use Postgres!"`` -> ``"use-postgres"``);
    ``""`` when nothing usable is left."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:64].rstrip("-")


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` is not a valid slug, as an instruction; ``None`` when it is."""
    if is_slug(slug):
        return None
    suggestion = slugify(slug)
    hint = f" such as '{suggestion}'" if suggestion else ""
    return f"'{slug}' is not a valid slug: use {SLUG_RULE}{hint}."


def check_kind_slug(kind: str, slug: str | None) -> str | None:
    """Why ``(kind, slug)`` cannot name a record, or ``None``."""
    if kind not in KINDS:
        return f"unknown kind '{kind}': use one of {', '.join(KINDS)}."
    if kind == "summary":
        if slug:
            return "the summary has no slug: omit slug when kind is 'summary'."
        return None
    if not slug:
        return f"a {kind} needs a slug (its file name): pass slug, e.g. 'short-topic-name'."
    return slug_problem(slug)


@dataclass(frozen=True)
class MemoryLayout:
    """The memory tree of one workspace; directories are absolute."""

    root: Path
    knowledge_dir: Path
    memory_dir: Path

    @classmethod
    def for_root(cls, root: Path, section: MemorySection) -> MemoryLayout:
        base = Path(os.path.realpath(root))
        return cls(
            root=base,
            knowledge_dir=Path(os.path.normpath(base / section.knowledge_dir)),
            memory_dir=Path(os.path.normpath(base / section.memory_dir)),
        )

    @property
    def summary_path(self) -> Path:
        return self.memory_dir / SUMMARY_FILE

    @property
    def decisions_dir(self) -> Path:
        return self.memory_dir / "decisions"

    @property
    def requests_dir(self) -> Path:
        return self.memory_dir / "requests"

    @property
    def staging_dir(self) -> Path:
        return self.memory_dir / STAGING

    def kind_dir(self, kind: RecordKind) -> Path:
        """The folder that holds records of ``kind``."""
        match kind:
            case "knowledge":
                return self.knowledge_dir
            case "decision":
                return self.decisions_dir
            case "request":
                return self.requests_dir
            case _:
                return self.memory_dir

    def knowledge_path(self, slug: str) -> Path:
        return self.record_path("knowledge", slug)

    def record_path(self, kind: RecordKind, slug: str | None) -> Path:
        """The file of a record; raises :class:`InvalidRecordPath` for an
        unknown kind, a bad slug, or a slug given for the summary."""
        problem = check_kind_slug(kind, slug)
        if problem is not None:
            raise InvalidRecordPath(problem[0].upper() + problem[1:])
        if kind == "summary":
            return self.summary_path
        return self.kind_dir(kind) / f"{slug}.md"

    def display(self, path: Path) -> str:
        """``path`` relative to the workspace root when inside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def classify(self, path: Path) -> tuple[RecordKind, str | None] | None:
        """The ``(kind, slug)`` of a record file, or ``None`` for a path outside
        the tree, a folder of the tree, a staging file or a hidden file (editor
        and atomic-write temporaries). Anything else inside the tree raises
        :class:`InvalidRecordPath` saying where records belong."""
        target = Path(os.path.realpath(Path(path).parent)) / Path(path).name
        knowledge = _relative(target, self.knowledge_dir)
        if knowledge is not None:
            return self._classify_knowledge(knowledge, path)
        memory = _relative(target, self.memory_dir)
        if memory is not None:
            return self._classify_memory(memory, path)
        return None

    def _classify_knowledge(
        self, parts: tuple[str, ...], path: Path
    ) -> tuple[RecordKind, str | None] | None:
        if not parts or any(p.startswith(".") for p in parts):
            return None
        shown = self.display(Path(path))
        if len(parts) > 1:
            raise InvalidRecordPath(
                f"{shown} is in a subfolder; knowledge records live directly in "
                f"{self.display(self.knowledge_dir)} as <slug>.md."
            )
        return "knowledge", _slug_of(parts[0], shown)

    def _classify_memory(
        self, parts: tuple[str, ...], path: Path
    ) -> tuple[RecordKind, str | None] | None:
        if not parts or parts[0] == STAGING or any(p.startswith(".") for p in parts):
            return None
        shown = self.display(Path(path))
        where = (
            f"memory records are {self.display(self.summary_path)}, "
            f"{self.display(self.decisions_dir)}/<slug>.md and "
            f"{self.display(self.requests_dir)}/<slug>.md"
        )
        if parts == (SUMMARY_FILE,):
            return "summary", None
        kind = _SUBFOLDERS.get(parts[0])
        if kind is None or len(parts) != 2:
            if kind is not None and len(parts) == 1:
                return None  # the decisions/ or requests/ folder itself
            raise InvalidRecordPath(f"{shown} is not a memory record: {where}.")
        return kind, _slug_of(parts[1], shown)


def _relative(path: Path, base: Path) -> tuple[str, ...] | None:
    canonical_base = Path(os.path.realpath(base))
    for candidate in (base, canonical_base):
        if path == candidate or path.is_relative_to(candidate):
            return path.relative_to(candidate).parts
    return None


def _slug_of(name: str, shown: str) -> str:
    if not name.endswith(".md"):
        raise InvalidRecordPath(f"{shown} is not a record: record files are <slug>.md.")
    slug = name.removesuffix(".md")
    problem = slug_problem(slug)
    if problem is not None:
        raise InvalidRecordPath(f"{shown}: {problem} Rename the file.")
    return slug
