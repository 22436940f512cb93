"""Wiring memory into a pod (and the workspace's consolidator) from the
manifest's ``[memory]`` section."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.llm.types import LlmClient, ModelConfig
from agent.manifest import Manifest
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
    assert section is not None
    model = section.consolidate_model
    config = model.to_config(env) if model is not None else main
    return Consolidator(
        client=lambda: make_client(config),
        catalog=catalog,
        library=library,
        max_input_tokens=section.consolidate_worker_max_input_tokens,
    )


def build_memory(
    manifest: Manifest,
    root: Path | None,
    *,
    env: Mapping[str, str],
    main: ModelConfig,
    make_client: ClientMaker,
    catalog: PromptCatalog,
    events: EventSink,
    progress: ProgressPort,
    extensions: Sequence[tuple[str, Any]] = (),
) -> PodMemory | None:
    """A pod's memory, or ``None`` when ``[memory]`` is absent or no
    workspace folder is open."""
    section = manifest.memory
    if section is None or root is None:
        return None
    library = MemoryLibrary.for_root(root, section)
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
