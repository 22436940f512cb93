"""Turning typed text with ``@path``, ``@path:10-20``, ``@"a path with spaces":3``,
``#slug`` and ``/slug`` mentions into segments (what the terminal does; the editors build segments
themselves).

A mention starts at the beginning of the text or after white space, so e-mail
addresses and decorators inside words are left alone. ``/slug`` is a workflow
only at the very start of the input (like a slash command).
"""

from __future__ import annotations

import re

from agent.segments import (
    FileSegment,
    KnowledgeSegment,
    Position,
    Range,
    Segment,
    TextSegment,
    WorkflowSegment,
)

_MENTION = re.compile(
    r"(?:(?<=\s)|^)(?:"
    r'@(?:"(?P<quoted>[^"]+)"|(?P<path>[^\s:"]+?))(?::(?P<first>\d+)(?:-(?P<last>\d+))?)?'
    r"|#(?P<slug>[a-z0-9][a-z0-9-]*)"
    r")(?=[\s,;!?)]|[.:](?:\s|$)|$)"
)
_WORKFLOW = re.compile(r"^/(?P<slug>[a-z0-9][a-z0-9-]*)(?=\s|$)")


def line_range(first: int, last: int | None) -> Range:
    """An LSP range covering 1-based lines ``first``..``last`` (inclusive)."""
    last = first if last is None else max(first, last)
    return Range(
        start=Position(line=first - 1, character=0),
        end=Position(line=last, character=0),
    )


def parse_mentions(text: str) -> list[Segment]:
    segments: list[Segment] = []
    workflow = _WORKFLOW.match(text)
    if workflow:
        segments.append(WorkflowSegment(kind="workflow", slug=workflow["slug"]))
        text = text[workflow.end() :]
    pos = 0
    for match in _MENTION.finditer(text):
        if match.start() > pos:
            segments.append(TextSegment(kind="text", text=text[pos : match.start()]))
        path = match["quoted"] or match["path"]
        if path is not None:
            rng = None
            if match["first"] is not None:
                last = int(match["last"]) if match["last"] else None
                rng = line_range(max(1, int(match["first"])), last)
            segments.append(FileSegment(kind="file", path=path, range=rng))
        else:
            segments.append(KnowledgeSegment(kind="knowledge", slug=match["slug"]))
        pos = match.end()
    if pos < len(text):
        segments.append(TextSegment(kind="text", text=text[pos:]))
    return segments
