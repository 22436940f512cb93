"""Wiring memory into a pod (and the workspace's consolidator) from the
manifest's ``[memory]`` section.

Knowledge is the user's: a pod in a workspace reads it (resident records,
``#slug``, the knowledge tools) whether memory is on or not. Memory — the
extraction and consolidation that write records — is on unless
``[memory] enabled = false``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.events import Alert
from agent.llm.types import LlmClient, ModelConfig
from agent.manifest import Manifest, MemorySection
from agent.memory.consolidate import Consolidator
from agent.memory.extract import Extractor, ExtractPointer
from agent.memory.library import MemoryLibrary
from agent.memory.runner import PodMemory
from agent.ports import EventSink, ProgressPort
from agent.prompts.catalog import PromptCatalog

ClientMaker = Callable[[ModelConfig], LlmClient]


def consolidator_for(
    manifest: Manifest,
    library: MemoryLibrary,
    *,
    env: Mapping[str, str],
    main: ModelConfig,
    make_client: ClientMaker,
    catalog: PromptCatalog,
) -> Consolidator:
    section = manifest.memory
    model = section.consolidate_model
    config = model.to_config(env) if model is not None else main
    return Consolidator(
        client=lambda: make_client(config),
        catalog=catalog,
        library=library,
        max_input_tokens=section.consolidate_worker_max_input_tokens,
    )


def folders_outside(root: Path, section: MemorySection) -> str | None:
    """Why the memory folders cannot be used, when they resolve outside the
    workspace root (a repository's manifest must not point the agent's memory
    tools at files elsewhere); ``None`` when they are inside."""
    base = Path(os.path.realpath(root))
    for key in ("knowledge_dir", "memory_dir"):
        folder = Path(os.path.realpath(base / getattr(section, key)))
        if folder != base and base not in folder.parents:
            return (
                f"[memory] {key} resolves to {folder}, outside the workspace {base}; memory "
                "is off for this workspace. Keep the memory folders inside the workspace."
            )
    return None


def open_library(manifest: Manifest, root: Path | None, events: EventSink) -> MemoryLibrary | None:
    """The workspace's knowledge and memory records, or ``None`` when no
    workspace folder is open or the folders are outside it (with an alert)."""
    if root is None:
        return None
    problem = folders_outside(root, manifest.memory)
    if problem is not None:
        events.emit(Alert(level="warn", source="memory", message=problem))
        return None
    return MemoryLibrary.for_root(root, manifest.memory)


def build_memory(
    manifest: Manifest,
    library: MemoryLibrary | None,
    *,
    env: Mapping[str, str],
    main: ModelConfig,
    make_client: ClientMaker,
    catalog: PromptCatalog,
    events: EventSink,
    progress: ProgressPort,
    extensions: Sequence[tuple[str, Any]] = (),
) -> PodMemory | None:
    """A pod's memory, or ``None`` when it is turned off or there is no
    library (see :func:`open_library`)."""
    section = manifest.memory
    if not section.enabled or library is None:
        return None
    model = section.extract_model
    extract_config = model.to_config(env) if model is not None else main
    return PodMemory(
        section=section,
        library=library,
        extractor=Extractor(
            client=lambda: make_client(extract_config),
            catalog=catalog,
            max_input_tokens=section.extract_worker_max_input_tokens,
        ),
        consolidator=consolidator_for(
            manifest, library, env=env, main=main, make_client=make_client, catalog=catalog
        ),
        events=events,
        progress=progress,
        pointer=ExtractPointer.latest(extensions),
    )
