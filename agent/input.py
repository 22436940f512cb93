"""Resolving a turn's referring segments (``@file``, ``#knowledge``, ``/workflow``).

Files are read through the scoped filesystem, so an open editor buffer's
unsaved text wins over the disk and nothing outside the scope is ever read.
A segment that cannot be resolved becomes a placeholder the model can see plus
an ``alert`` for the user; it never fails the turn.

Knowledge records live in ``<root>/.yoi/knowledge/<slug>.md`` and workflows in
``<root>/.yoi/workflows/<slug>.md``; their YAML frontmatter is not sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ToolError
from agent.events import Alert
from agent.fsutil import read_regular
from agent.segments import (
    Attachment,
    FileSegment,
    KnowledgeSegment,
    Segment,
    WorkflowSegment,
    fence,
    mention,
)
from agent.tools.fs import ScopedFs

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_ATTACHMENT_BYTES = 256 * 1024


@dataclass(frozen=True)
class Resolved:
    attachments: dict[int, Attachment]
    alerts: list[Alert]


def strip_frontmatter(text: str) -> str:
    if not text.startswith("---"):
        return text
    lines = text.splitlines(keepends=True)
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[i + 1 :]).lstrip("\n")
    return text


def _numbered(lines: list[str], first: int) -> str:
    return "\n".join(f"{n:6d}\t{line}" for n, line in enumerate(lines, start=first))


def _cap(text: str) -> tuple[str, bool]:
    data = text.encode("utf-8")
    if len(data) <= MAX_ATTACHMENT_BYTES:
        return text, False
    return data[:MAX_ATTACHMENT_BYTES].decode("utf-8", errors="ignore"), True


class InputResolver:
    def __init__(self, fs: ScopedFs, root: Path | None, knowledge_dir: Path | None = None) -> None:
        self.fs = fs
        self.root = root
        self.knowledge_dir = knowledge_dir or (root / ".yoi" / "knowledge" if root else None)

    async def resolve(self, segments: list[Segment]) -> Resolved:
        attachments: dict[int, Attachment] = {}
        alerts: list[Alert] = []
        for index, segment in enumerate(segments):
            try:
                match segment:
                    case FileSegment():
                        attachments[index] = await self._file(segment)
                    case KnowledgeSegment(slug=slug):
                        attachments[index] = await self._record(
                            self.knowledge_dir, "Knowledge", slug
                        )
                    case WorkflowSegment(slug=slug):
                        folder = self.root / ".yoi" / "workflows" if self.root else None
                        attachments[index] = await self._record(folder, "Workflow", slug)
                    case _:
                        continue
            except ToolError as exc:
                attachments[index] = Attachment(
                    title=mention(segment), body=f"[not attached: {exc}]", ok=False
                )
                alerts.append(
                    Alert(
                        level="warn",
                        source="input",
                        message=f"{mention(segment)} was not attached: {exc}",
                    )
                )
        return Resolved(attachments, alerts)

    async def _file(self, segment: FileSegment) -> Attachment:
        file = await self.fs.read_text(segment.path)
        shown = self.fs.scope.display(file.path)
        unsaved = " (unsaved editor buffer)" if file.from_buffer else ""
        self.fs.tracker.record(file.path, file.text, file.version)
        if segment.range is None:
            body, cut = _cap(file.text)
            note = "\n[truncated: attach a line range to see the rest]" if cut else ""
            return Attachment(title=f"File: {shown}{unsaved}", body=fence(body) + note)
        lines = file.text.splitlines()
        first, last = segment.range.line_span()
        last = min(last, len(lines))
        if first > len(lines):
            raise _RangeError(f"{shown} has only {len(lines)} lines; line {first} does not exist")
        body = _numbered(lines[first - 1 : last], first)
        return Attachment(
            title=f"File: {shown}, lines {first}-{last} of {len(lines)}{unsaved}",
            body=fence(body),
        )

    async def _record(self, folder: Path | None, label: str, slug: str) -> Attachment:
        if not SLUG.match(slug):
            raise _RangeError(f"{slug!r} is not a valid name (lowercase letters, digits, dashes)")
        if folder is None:
            raise _RangeError("no workspace folder is open")
        path = folder / f"{slug}.md"
        file = await self.fs.read_text(str(path))
        return Attachment(title=f"{label}: {slug}", body=strip_frontmatter(file.text).strip())


class _RangeError(ToolError):
    pass


def list_documents(root: Path | None, folder: str) -> list[tuple[str, str]]:
    """``(slug, description)`` of the Markdown records in ``<root>/.yoi/<folder>``
    (``knowledge`` or ``workflows``), sorted by slug. Blocking: small reads."""
    if root is None:
        return []
    base = root / ".yoi" / folder
    if not base.is_dir():
        return []
    found = []
    for path in sorted(base.glob("*.md")):
        if not SLUG.match(path.stem):
            continue
        try:
            head = read_regular(path)[:4096].decode("utf-8", errors="replace")
        except OSError:
            continue
        found.append((path.stem, _description(head)))
    return found


def _description(text: str) -> str:
    if text.startswith("---"):
        for line in text.splitlines()[1:]:
            if line.strip() == "---":
                break
            key, _, value = line.partition(":")
            if key.strip() == "description":
                return value.strip().strip("\"'")
    body = strip_frontmatter(text).strip().splitlines()
    return body[0].lstrip("# ").strip() if body else ""
