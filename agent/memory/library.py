"""The memory library: reading, listing, searching and writing records.

All methods do synchronous file I/O; async callers use ``asyncio.to_thread``.
Only regular files inside the tree are read or written: a record that is a
symlink, a FIFO or a device, or a folder that leads out of the tree through a
symlink, is refused. Writes are linted first and atomic.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.errors import EditConflict, ExecutionFailed, FileNotFound, InvalidArgument, ScopeDenied
from agent.fsutil import NotRegularFile, atomic_write_text, open_regular
from agent.manifest.schema import MemorySection
from agent.memory.frontmatter import FrontmatterError, normalize_body, split_frontmatter
from agent.memory.layout import KINDS, MemoryLayout, RecordKind, check_kind_slug, slug_problem
from agent.memory.linter import LintError, LintReport, lint, record_slugs
from agent.memory.records import (
    RESIDENT_DESCRIPTION_LIMIT,
    Record,
    RecordError,
    format_timestamp,
    parse_timestamp,
    render_record,
    utc_now,
    validate_frontmatter,
)

MAX_RECORD_BYTES = 1_000_000
MAX_EXCERPTS_PER_HIT = 3
MAX_EXCERPT_LINE = 300


@dataclass(frozen=True)
class KnowledgeInfo:
    """One knowledge record as listed; ``problem`` says why it is unusable
    (bad frontmatter, bad file name, not a regular file) and the other fields
    hold what could still be read."""

    slug: str
    title: str
    description: str
    model_invocation: bool
    user_invocable: bool
    path: Path
    updated_at: int
    problem: str | None = None


@dataclass(frozen=True)
class KnowledgeDoc:
    slug: str
    frontmatter: dict[str, Any]
    body: str
    path: Path
    problem: str | None = None


@dataclass(frozen=True)
class WriteResult:
    path: Path
    created: bool
    warnings: list[str]


@dataclass(frozen=True)
class Excerpt:
    line: int
    """1-based number of the first line, in the whole file."""
    text: str


@dataclass(frozen=True)
class Hit:
    kind: RecordKind
    slug: str | None
    path: Path
    excerpts: tuple[Excerpt, ...] = ()
    description: str | None = None
    status: str | None = None
    problem: str | None = None


class MemoryLibrary:
    def __init__(
        self,
        layout: MemoryLayout,
        *,
        result_limit: int = 20,
        excerpt_lines: int = 3,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.layout = layout
        self.result_limit = result_limit
        self.excerpt_lines = excerpt_lines
        self.clock = clock

    @classmethod
    def for_root(cls, root: Path, section: MemorySection) -> MemoryLibrary:
        return cls(
            MemoryLayout.for_root(root, section),
            result_limit=section.query_result_limit,
            excerpt_lines=section.query_excerpt_lines,
        )

    # ------------------------------------------------------------ knowledge

    def knowledge(self) -> list[KnowledgeInfo]:
        """Every ``*.md`` file of the knowledge folder, sorted by slug; broken
        ones are listed with ``problem`` set."""
        try:
            with os.scandir(self.layout.knowledge_dir) as entries:
                names = sorted(e.name for e in entries)
        except OSError:
            return []
        return [
            self._knowledge_info(name[:-3], self.layout.knowledge_dir / name)
            for name in names
            if name.endswith(".md") and not name.startswith(".")
        ]

    def read_knowledge(self, slug: str) -> KnowledgeDoc:
        path = self.layout.knowledge_path(slug)
        text = self._read_raw(
            path, missing=f"There is no knowledge record '{slug}'; knowledge_search lists them."
        )
        try:
            data, body = split_frontmatter(text)
            problem = _validation_problem("knowledge", data)
        except FrontmatterError as exc:
            data, body, problem = {}, normalize_body(text), str(exc)
        return KnowledgeDoc(slug=slug, frontmatter=data, body=body, path=path, problem=problem)

    def resident(self) -> list[tuple[str, str]]:
        """``(slug, description)`` of the sound records with ``model_invocation:
        true``, the description on one line, sorted by slug."""
        found: list[tuple[str, str]] = []
        for info in self.knowledge():
            if info.problem is None and info.model_invocation:
                text = " ".join(info.description.split())
                if len(text) > RESIDENT_DESCRIPTION_LIMIT:
                    text = text[: RESIDENT_DESCRIPTION_LIMIT - 1] + "…"
                found.append((info.slug, text))
        return found

    def invocable(self, prefix: str = "") -> list[tuple[str, str]]:
        """``(slug, description)`` of the records the user may attach as
        ``#slug`` whose slug starts with ``prefix``."""
        start = prefix.removeprefix("#").lower()
        return [
            (info.slug, " ".join(info.description.split()))
            for info in self.knowledge()
            if info.user_invocable
            and info.slug.startswith(start)
            and slug_problem(info.slug) is None
        ]

    def _knowledge_info(self, slug: str, path: Path) -> KnowledgeInfo:
        problem = slug_problem(slug)
        if problem is not None:
            problem = f"the file name is not a valid slug: {problem} Rename the file."
        data: dict[str, Any] = {}
        body = ""
        try:
            text = self._read_raw(path)
            data, body = split_frontmatter(text)
            problem = problem or _validation_problem("knowledge", data)
        except FrontmatterError as exc:
            problem = problem or str(exc)
            body = normalize_body(text)
        except (FileNotFound, ScopeDenied, ExecutionFailed) as exc:
            problem = problem or str(exc)
        description = data.get("description")
        invocation = data.get("model_invocation", data.get("model_invokation"))
        invocable = data.get("user_invocable")
        return KnowledgeInfo(
            slug=slug,
            title=_title(body) or slug,
            description=description if isinstance(description, str) else "",
            model_invocation=invocation if isinstance(invocation, bool) else False,
            user_invocable=invocable if isinstance(invocable, bool) else True,
            path=path,
            updated_at=_updated_ms(data.get("updated_at"), path),
            problem=problem,
        )

    # ------------------------------------------------------------ records

    def read(self, kind: RecordKind, slug: str | None) -> str:
        """The raw text of a record (frontmatter and body)."""
        path = self.layout.record_path(kind, slug)
        return self._read_raw(
            path,
            missing=f"There is no {_name(kind, slug)} yet "
            f"({self.layout.display(path)}); create it with memory_write.",
        )

    def write(
        self, kind: RecordKind, slug: str | None, frontmatter: Mapping[str, Any], body: str
    ) -> WriteResult:
        """Create or replace a record. ``created_at`` is kept from the existing
        file (or stamped now) and ``updated_at`` stamped now. Raises
        :class:`LintError` listing every violation; nothing is written then."""
        problem = check_kind_slug(kind, slug)
        if problem is not None:
            raise LintError(LintReport([problem]), _name(kind, slug))
        path = self.layout.record_path(kind, slug)
        self._check_inside(path)
        existing = self._read_raw(path) if os.path.lexists(path) else None
        data = self._stamp(frontmatter, existing)
        body = normalize_body(body)
        creating = existing is None
        report = lint(self.layout, kind, slug, data, body, creating=creating)
        if not report.ok:
            raise LintError(report, _name(kind, slug))
        text = render_record(Record(kind, validate_frontmatter(kind, data), body))
        self._write_file(path, text, creating=creating)
        return WriteResult(path=path, created=creating, warnings=report.warnings)

    def edit(
        self, kind: RecordKind, slug: str | None, old: str, new: str, replace_all: bool = False
    ) -> WriteResult:
        """Replace ``old`` with ``new`` in the record's raw text (exactly one
        match unless ``replace_all``), then lint and write it like
        :meth:`write`."""
        if not old:
            raise InvalidArgument("old_string is empty; to write a whole record use memory_write.")
        if old == new:
            raise InvalidArgument("old_string and new_string are identical; nothing would change.")
        text = self.read(kind, slug)
        if old not in text and "\r\n" in text and "\r" not in old:
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
        count = text.count(old)
        name = _name(kind, slug)
        if count == 0:
            raise EditConflict(
                f"old_string was not found in the {name}. Check whitespace and indentation, "
                "or read it again with memory_read."
            )
        if count > 1 and not replace_all:
            raise EditConflict(
                f"old_string matches {count} places in the {name}; include more surrounding "
                "text to make it unique, or set replace_all."
            )
        after = text.replace(old, new) if replace_all else text.replace(old, new, 1)
        try:
            data, body = split_frontmatter(after)
        except FrontmatterError as exc:
            raise LintError(LintReport([str(exc)]), name) from None
        return self.write(kind, slug, data, body)

    def query(self, text: str | None, kinds: Iterable[RecordKind] | None = None) -> list[Hit]:
        """Records of ``kinds`` (default: all) matching ``text``, best first,
        at most ``result_limit``. A record matches when every word of ``text``
        appears in its slug or file (case-insensitive); excerpts show the lines
        around the words. Without ``text``: every record, in tree order."""
        wanted = set(KINDS if kinds is None else kinds)
        phrase = None if text is None else " ".join(text.lower().split())
        if phrase == "":
            raise InvalidArgument("query is empty; omit it to list every record.")
        scored: list[tuple[int, int, Hit]] = []
        for order, (kind, slug, path) in enumerate(self._record_files(wanted)):
            hit, score = self._match(kind, slug, path, phrase)
            if hit is not None:
                scored.append((-score, order, hit))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [hit for _, _, hit in scored[: self.result_limit]]

    def _record_files(self, kinds: set[RecordKind]) -> list[tuple[RecordKind, str | None, Path]]:
        files: list[tuple[RecordKind, str | None, Path]] = []
        for kind in KINDS:
            if kind not in kinds:
                continue
            if kind == "summary":
                if os.path.lexists(self.layout.summary_path):
                    files.append(("summary", None, self.layout.summary_path))
                continue
            folder = self.layout.kind_dir(kind)
            files += [(kind, s, folder / f"{s}.md") for s in sorted(record_slugs(folder))]
        return files

    def _match(
        self, kind: RecordKind, slug: str | None, path: Path, phrase: str | None
    ) -> tuple[Hit | None, int]:
        try:
            raw = self._read_raw(path)
        except (FileNotFound, ScopeDenied, ExecutionFailed) as exc:
            if phrase is None:
                return Hit(kind=kind, slug=slug, path=path, problem=str(exc)), 0
            return None, 0
        data = _lenient_frontmatter(raw)
        description = data.get("description") if kind == "knowledge" else None
        status = data.get("status") if kind == "decision" else None
        hit = Hit(
            kind=kind,
            slug=slug,
            path=path,
            description=description if isinstance(description, str) else None,
            status=status if isinstance(status, str) else None,
        )
        if phrase is None:
            return hit, 0
        terms = phrase.split()
        name = (slug or kind).replace("-", " ")
        haystack = f"{name}\n{raw.lower()}"
        if not all(term in haystack for term in terms):
            return None, 0
        lines = raw.split("\n")
        if raw.endswith("\n"):
            lines.pop()
        matched = [i for i, line in enumerate(lines) if any(t in line.lower() for t in terms)]
        score = len(matched) + 3 * sum(phrase in lines[i].lower() for i in matched)
        score += 5 if phrase in name or phrase in (slug or "") else 0
        excerpts = _excerpts(lines, matched, self.excerpt_lines)
        return Hit(
            kind=kind,
            slug=slug,
            path=path,
            excerpts=excerpts,
            description=hit.description,
            status=hit.status,
        ), score

    # ------------------------------------------------------------ files

    def _stamp(self, frontmatter: Mapping[str, Any], existing: str | None) -> dict[str, Any]:
        now = self.clock()
        created = _timestamp(_lenient_frontmatter(existing).get("created_at")) if existing else None
        if created is None and existing is None:
            created = _timestamp(frontmatter.get("created_at"))
        data = dict(frontmatter)
        data["created_at"] = format_timestamp(created or now)
        data["updated_at"] = format_timestamp(now)
        return data

    def _check_inside(self, path: Path) -> None:
        """Refuse a record path whose folders, or the file itself, are a
        symlink, so nothing outside the tree is ever read or written."""
        tree = (
            self.layout.knowledge_dir
            if path.is_relative_to(self.layout.knowledge_dir)
            else self.layout.memory_dir
        )
        real_tree = Path(os.path.realpath(tree))
        expected = real_tree / path.parent.relative_to(tree)
        actual = Path(os.path.realpath(path.parent))
        shown = self.layout.display(path)
        root = Path(os.path.realpath(self.layout.root))
        if tree.is_relative_to(self.layout.root) and not real_tree.is_relative_to(root):
            raise ScopeDenied(
                f"{self.layout.display(tree)} is a symbolic link out of the workspace (to "
                f"{real_tree}); memory tools do not follow it. Set the folder in the "
                "manifest's [memory] section to an absolute path to keep memory elsewhere."
            )
        if actual != expected:
            raise ScopeDenied(
                f"{shown} leads out of the memory folders through a symbolic link (to "
                f"{actual}); memory tools only use files inside {self.layout.display(tree)}."
            )
        if os.path.islink(path):
            raise ScopeDenied(
                f"{shown} is a symbolic link; memory records must be regular files. "
                "Replace the link with the file itself."
            )

    def _read_raw(self, path: Path, *, missing: str | None = None) -> str:
        self._check_inside(path)
        shown = self.layout.display(path)
        try:
            with open_regular(path) as fh:
                data = fh.read(MAX_RECORD_BYTES + 1)
        except FileNotFoundError:
            raise FileNotFound(missing or f"{shown} does not exist.") from None
        except NotRegularFile as exc:
            raise ExecutionFailed(
                f"{shown} is {exc.kind}, not a regular file; memory records must be "
                "regular Markdown files."
            ) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ScopeDenied(f"{shown} is a symbolic link; it is not read.") from None
            raise ExecutionFailed(f"Cannot read {shown}: {exc.strerror or exc}.") from None
        if len(data) > MAX_RECORD_BYTES:
            raise ExecutionFailed(
                f"{shown} is over {MAX_RECORD_BYTES} bytes, far beyond any record's limit; "
                "trim it by hand."
            )
        return data.decode("utf-8", errors="replace")

    def _write_file(self, path: Path, text: str, *, creating: bool) -> None:
        shown = self.layout.display(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._check_inside(path)
            atomic_write_text(path, text, exclusive=creating)
        except FileExistsError:
            raise EditConflict(
                f"{shown} was created by someone else meanwhile; read it with memory_read "
                "and change it with memory_edit."
            ) from None
        except OSError as exc:
            raise ExecutionFailed(f"Cannot write {shown}: {exc.strerror or exc}.") from None


def _name(kind: str, slug: str | None) -> str:
    return "summary" if kind == "summary" or not slug else f"{kind} '{slug}'"


def _validation_problem(kind: RecordKind, data: Mapping[str, Any]) -> str | None:
    try:
        validate_frontmatter(kind, data)
    except RecordError as exc:
        return str(exc)
    return None


def _lenient_frontmatter(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        return split_frontmatter(text)[0]
    except FrontmatterError:
        return {}


def _timestamp(value: object) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _updated_ms(value: object, path: Path) -> int:
    stamp = _timestamp(value)
    if stamp is not None:
        return int(stamp.timestamp() * 1000)
    try:
        return os.lstat(path).st_mtime_ns // 1_000_000
    except OSError:
        return 0


def _title(body: str) -> str | None:
    for line in body.split("\n"):
        if line.startswith("# "):
            return line[2:].strip() or None
    return None


def _excerpts(lines: list[str], matched: list[int], context: int) -> tuple[Excerpt, ...]:
    windows: list[list[int]] = []
    for index in matched:
        start, end = max(0, index - context), min(len(lines) - 1, index + context)
        if windows and start <= windows[-1][1] + 1:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    out: list[Excerpt] = []
    for start, end in windows[:MAX_EXCERPTS_PER_HIT]:
        chunk = [_cut(line.rstrip("\r")) for line in lines[start : end + 1]]
        out.append(Excerpt(line=start + 1, text="\n".join(chunk)))
    return tuple(out)


def _cut(line: str) -> str:
    return line if len(line) <= MAX_EXCERPT_LINE else line[:MAX_EXCERPT_LINE] + " …"
