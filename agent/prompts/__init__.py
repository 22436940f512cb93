"""Prompts: template libraries (``$yoi/``, ``$user/``, ``$workspace/``), the
keyed prompt catalog, and the system prompt assembled from both."""

from agent.prompts.catalog import (
    CatalogEntry,
    LoadedCatalog,
    PromptCatalog,
    PromptKey,
    builtin_catalog,
    load_catalog,
)
from agent.prompts.library import PromptLibrary, TemplateRef, check_syntax, join_ref, parse_ref
from agent.prompts.system import AgentsMd, join_sections, read_agents_md, render_system_prompt

__all__ = [
    "AgentsMd",
    "CatalogEntry",
    "LoadedCatalog",
    "PromptCatalog",
    "PromptKey",
    "PromptLibrary",
    "TemplateRef",
    "builtin_catalog",
    "check_syntax",
    "join_ref",
    "join_sections",
    "load_catalog",
    "parse_ref",
    "read_agents_md",
    "render_system_prompt",
]
