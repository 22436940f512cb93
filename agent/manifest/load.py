"""The manifest cascade.

Layers, low to high: built-in defaults < environment (``YOI_MODEL``,
``YOI_API_BASE``) < user manifest ``<config_dir>/manifest.toml`` < workspace
manifest ``<root>/.yoi/manifest.toml`` < host overrides. Each layer is cleaned
on its own (see :mod:`agent.manifest.layers`), its paths made absolute, and
merged over the layers below.

The workspace manifest belongs to the repository, which may not be the
user's: unless the workspace is trusted, it may only narrow yoi's reach. Its
deny rules are kept, its allow rules only when their target is inside the
workspace root; ``approvals.mode = "auto"`` and its ``[[hooks]]`` are dropped,
each with a warning naming the file, the key and how to allow it. A workspace
is trusted when its root is (or is inside) a folder listed in
``[trust] workspaces`` of the user manifest or the overrides; ``[trust]`` in a
workspace manifest is ignored with a warning. See :mod:`agent.manifest.trust`.

Paths: scope rule targets are relative to the workspace root in every layer;
``pod.prompt_pack`` is relative to the config dir in the user manifest and to
the workspace root elsewhere; ``trust.workspaces`` are absolute. ``~`` expands
in all of them.

Loading reads a few small files synchronously; async callers wrap it in
``asyncio.to_thread``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent import paths
from agent.approval_rules import TrustStore
from agent.manifest.layers import clean_layer, merge
from agent.manifest.problems import (
    ManifestProblem,
    ProblemLog,
    describe_validation_error,
    read_toml,
)
from agent.manifest.schema import Manifest
from agent.manifest.trust import (
    is_trusted,
    restrict_untrusted,
    trusted_workspaces,
    without_trust,
)

ENVIRONMENT = "environment"
OVERRIDES = "overrides"
MANIFEST_FILE = "manifest.toml"


@dataclass(frozen=True)
class LoadedManifest:
    """The effective manifest, what was wrong on the way, and the layers that
    contributed (low to high: ``environment``, file paths, ``overrides``).
    ``workspace_trusted``: whether the workspace manifest was taken whole."""

    manifest: Manifest
    problems: list[ManifestProblem]
    sources: list[str]
    workspace_trusted: bool = False


@dataclass(frozen=True)
class _Layer:
    label: str
    raw: Mapping[str, Any]
    base: Path | None  # where a relative prompt_pack points from
    workspace: bool = False


def load_manifest(
    root: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    config_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    strict: bool = False,
) -> LoadedManifest:
    """Build the manifest for a workspace (``root``; ``None`` when no folder is
    open). Problems are collected, never raised, unless ``strict`` is set: then
    the first error raises :class:`agent.errors.ManifestError`."""
    env = os.environ if env is None else env
    config = paths.config_dir(env) if config_dir is None else config_dir
    problems = ProblemLog(strict=strict)
    layers: list[_Layer] = []
    if env_raw := _environment_layer(env):
        layers.append(_Layer(ENVIRONMENT, env_raw, None))
    user_file = config / MANIFEST_FILE
    if (raw := read_toml(user_file, problems)) is not None:
        layers.append(_Layer(str(user_file), raw, config))
    if root is not None:
        workspace_file = paths.workspace_dir(root) / MANIFEST_FILE
        if (raw := read_toml(workspace_file, problems)) is not None:
            layers.append(_Layer(str(workspace_file), raw, root, workspace=True))
    if overrides:
        layers.append(_Layer(OVERRIDES, overrides, root))

    cleaned: list[tuple[_Layer, dict[str, Any]]] = []
    for layer in layers:
        clean = clean_layer(Manifest, layer.raw, layer.label, problems)
        cleaned.append((layer, _absolute_paths(clean, layer, root)))
    trusted = root is not None and is_trusted(
        root,
        [
            *trusted_workspaces(clean for layer, clean in cleaned if not layer.workspace),
            *TrustStore(config).workspaces(),  # trusted from an editor (yoi/workspace/trust)
        ],
    )
    merged: dict[str, Any] = {}
    for layer, clean in cleaned:
        allowed = clean
        if layer.workspace and root is not None:
            allowed = without_trust(allowed, layer.label, user_file, problems)
            if not trusted:
                allowed = restrict_untrusted(allowed, root, layer.label, user_file, problems)
        merged = merge(merged, allowed)
    try:
        manifest = Manifest.model_validate(merged)
    except ValidationError as exc:  # cleaning should make this unreachable
        for loc, reason in describe_validation_error(exc):
            problems.error("manifest", ".".join(map(str, loc)), f"{reason}; defaults are used")
        manifest = Manifest()
    sources = [layer.label for layer in layers]
    return LoadedManifest(manifest, problems.problems, sources, workspace_trusted=trusted)


def _environment_layer(env: Mapping[str, str]) -> dict[str, Any]:
    model: dict[str, str] = {}
    for var, key in (("YOI_MODEL", "name"), ("YOI_API_BASE", "api_base")):
        if value := env.get(var, "").strip():
            model[key] = value
    return {"model": model} if model else {}


def _absolute_paths(clean: dict[str, Any], layer: _Layer, root: Path | None) -> dict[str, Any]:
    out = dict(clean)
    if "scope" in out:
        scope = dict(out["scope"])
        for kind in ("allow", "deny"):
            if kind in scope:
                scope[kind] = [
                    {**rule, "target": _against(rule["target"], root)} for rule in scope[kind]
                ]
        out["scope"] = scope
    pack = out.get("pod", {}).get("prompt_pack")
    if pack:
        out["pod"] = {**out["pod"], "prompt_pack": _against(pack, layer.base)}
    if "hooks" in out:
        out["hooks"] = [{**hook, "source": layer.label} for hook in out["hooks"]]
    workspaces = out.get("trust", {}).get("workspaces")
    if workspaces:
        out["trust"] = {
            **out["trust"],
            "workspaces": [str(Path(p).expanduser()) for p in workspaces],
        }
    return out


def _against(raw: str, base: Path | None) -> str:
    path = Path(raw).expanduser()
    if path.is_absolute() or base is None:
        return str(path)
    return str(base / path)
