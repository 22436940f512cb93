"""Memory and knowledge: Markdown records with YAML frontmatter under the
workspace, which the user can read, edit and trust.

- :mod:`~agent.memory.layout` says where records live and what a path is.
- :mod:`~agent.memory.records` types each kind's frontmatter and parses and
  renders records (:mod:`~agent.memory.frontmatter` does the YAML).
- :mod:`~agent.memory.linter` checks a record before it is written.
- :mod:`~agent.memory.library` reads, lists, searches and writes records.
- :mod:`~agent.memory.tools` exposes the library to the model.
"""

from agent.memory.layout import KINDS, InvalidRecordPath, MemoryLayout, RecordKind, is_slug
from agent.memory.library import (
    Excerpt,
    Hit,
    KnowledgeDoc,
    KnowledgeInfo,
    MemoryLibrary,
    WriteResult,
)
from agent.memory.linter import LintError, LintReport, lint
from agent.memory.records import (
    DecisionFrontmatter,
    KnowledgeFrontmatter,
    Record,
    RecordError,
    RequestFrontmatter,
    SourceRef,
    SummaryFrontmatter,
    parse_record,
    render_record,
)
from agent.memory.tools import knowledge_tools, memory_tools

__all__ = [
    "KINDS",
    "DecisionFrontmatter",
    "Excerpt",
    "Hit",
    "InvalidRecordPath",
    "KnowledgeDoc",
    "KnowledgeFrontmatter",
    "KnowledgeInfo",
    "LintError",
    "LintReport",
    "MemoryLayout",
    "MemoryLibrary",
    "Record",
    "RecordError",
    "RecordKind",
    "RequestFrontmatter",
    "SourceRef",
    "SummaryFrontmatter",
    "WriteResult",
    "is_slug",
    "knowledge_tools",
    "lint",
    "memory_tools",
    "parse_record",
    "render_record",
]
