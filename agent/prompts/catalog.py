"""The prompt catalog: the short texts the runtime itself writes into a
conversation, each a jinja template under a fixed key.

Layers, key by key, low to high: the built-in pack ``builtin.toml``, the user
pack ``<config_dir>/prompts.toml``, the workspace pack
``<root>/.yoi/prompts.toml``, and the manifest's ``pod.prompt_pack``. A pack
is a ``[prompt]`` table of ``key = "template"``. Unknown keys, non-strings and
templates that do not parse are reported and ignored (the lower layer's text
stays). Missing user and workspace packs are skipped silently; a configured
``prompt_pack`` that is missing is an error.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from agent import paths
from agent.errors import PromptError
from agent.manifest import ManifestProblem, ProblemLog, read_toml
from agent.prompts.library import PromptLibrary, check_syntax

BUILTIN_PACK = Path(__file__).parent / "builtin.toml"
BUILTIN = "builtin"
PACK_FILE = "prompts.toml"


class PromptKey(StrEnum):
    """Every catalog key, with the variables its template receives. This is
    the one list of keys: ``builtin.toml`` must define exactly these."""

    NOTIFY_WRAPPER = "notify_wrapper"  # message
    INTERRUPT_TOOL_RESULT_SUMMARY = "interrupt_tool_result_summary"
    INTERRUPT_SYSTEM_NOTE = "interrupt_system_note"
    MODE_NOTE = "mode_note"  # mode: "agent" | "plan" | "ask", previous: the mode before
    WORKING_BOUNDARIES_SECTION = "working_boundaries_section"  # scope_summary
    AGENTS_MD_SECTION = "agents_md_section"  # agents_md
    RESIDENT_KNOWLEDGE_SECTION = "resident_knowledge_section"  # entries: [(slug, description)]
    COMPACT_SYSTEM = "compact_system"
    COMPACT_INPUT = "compact_input"  # references: [path], transcript, budget
    COMPACT_NUDGE = "compact_nudge"  # missing_summary: bool, references: [path]
    COMPACT_SUMMARY_HEADER = "compact_summary_header"
    EXTRACT_SYSTEM = "extract_system"
    EXTRACT_INPUT = "extract_input"  # transcript
    CONSOLIDATE_SYSTEM = "consolidate_system"
    CONSOLIDATE_INPUT = "consolidate_input"  # staging, records, knowledge


@dataclass(frozen=True)
class CatalogEntry:
    source: str  # the template text
    origin: str  # "builtin" or the pack file it came from


@dataclass(frozen=True)
class PromptCatalog:
    """The catalog entries, and the library their includes are read from."""

    entries: Mapping[PromptKey, CatalogEntry]
    library: PromptLibrary = field(default_factory=PromptLibrary, compare=False)

    def source(self, key: PromptKey | str) -> str:
        return self.entries[PromptKey(key)].source

    def origin(self, key: PromptKey | str) -> str:
        return self.entries[PromptKey(key)].origin

    def render(self, key: PromptKey | str, /, **variables: Any) -> str:
        """Render one entry (``key`` a :class:`PromptKey` or its value); raises
        :class:`PromptError` naming the key and where its text came from."""
        entry = self.entries[PromptKey(key)]
        name = f"prompt `{key}` ({entry.origin})"
        return self.library.render_source(entry.source, name, variables)

    def overlay(self, pack: Mapping[str, Any], origin: str, problems: ProblemLog) -> PromptCatalog:
        """This catalog with the valid entries of ``pack`` (a parsed pack file)
        on top."""
        entries = dict(self.entries)
        known = [str(k) for k in PromptKey]
        for key in pack:
            if key != "prompt":
                problems.unknown_key(origin, key, ["prompt"])
        table = pack.get("prompt")
        if table is None:
            problems.warn(origin, "", "has no [prompt] table, so it changes nothing")
            return self
        if not isinstance(table, Mapping):
            problems.error(origin, "prompt", 'must be a table of `key = "template"`')
            return self
        for key, value in table.items():
            dotted = f"prompt.{key}"
            if key not in known:
                problems.unknown_key(origin, dotted, known)
            elif not isinstance(value, str):
                problems.error(origin, dotted, "must be a string (a template); ignored")
            elif (syntax := check_syntax(value)) is not None:
                problems.error(origin, dotted, f"{syntax}; the lower layer's text is used")
            else:
                entries[PromptKey(key)] = CatalogEntry(value, origin)
        return PromptCatalog(entries, self.library)


@dataclass(frozen=True)
class LoadedCatalog:
    catalog: PromptCatalog
    problems: list[ManifestProblem]
    sources: list[str]  # the pack files that were read, low to high


def builtin_catalog(library: PromptLibrary | None = None) -> PromptCatalog:
    """The built-in pack, bound to ``library`` (default: the bundled templates
    only). Raises :class:`PromptError` if it does not define
    exactly the keys of :class:`PromptKey` (a packaging bug)."""
    table = tomllib.loads(BUILTIN_PACK.read_text(encoding="utf-8")).get("prompt", {})
    expected = {str(k) for k in PromptKey}
    missing, extra = expected - set(table), set(table) - expected
    if missing or extra:
        raise PromptError(
            f"the built-in prompt pack {BUILTIN_PACK} does not match PromptKey "
            f"(missing: {sorted(missing)}, unexpected: {sorted(extra)})"
        )
    entries = {PromptKey(k): CatalogEntry(str(v), BUILTIN) for k, v in table.items()}
    return PromptCatalog(entries, library or PromptLibrary())


def load_catalog(
    root: Path | None,
    *,
    prompt_pack: Path | None = None,
    config_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    library: PromptLibrary | None = None,
) -> LoadedCatalog:
    """The catalog of a workspace, bound to ``library`` (default: the
    workspace's libraries). ``prompt_pack`` is the manifest's
    ``pod.prompt_pack``, already absolute. Synchronous file reads."""
    if config_dir is None:
        config_dir = paths.config_dir(os.environ if env is None else env)
    if library is None:
        library = PromptLibrary.for_workspace(root, config_dir=config_dir)
    problems = ProblemLog()
    catalog = builtin_catalog(library)
    sources: list[str] = []
    candidates = [config_dir / PACK_FILE]
    if root is not None:
        candidates.append(paths.workspace_dir(root) / PACK_FILE)
    if prompt_pack is not None:
        if prompt_pack.exists():
            candidates.append(prompt_pack)
        else:
            problems.error(
                str(prompt_pack), "", "was not found; set [pod] prompt_pack to an existing file"
            )
    for path in candidates:
        pack = read_toml(path, problems)
        if pack is not None:
            catalog = catalog.overlay(pack, str(path), problems)
            sources.append(str(path))
    return LoadedCatalog(catalog, problems.problems, sources)
