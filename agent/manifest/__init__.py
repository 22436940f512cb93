"""The manifest: a pod's configuration, layered from defaults, the
environment, the user's and the workspace's ``manifest.toml`` and the host.

Call :func:`load_manifest`; it never raises for bad configuration (unless
``strict``) but reports :class:`ManifestProblem` values for the host to show.
"""

from agent.manifest.load import LoadedManifest, load_manifest
from agent.manifest.problems import ManifestProblem, ProblemLog, read_toml
from agent.manifest.schema import (
    ApprovalsSection,
    CompactionSection,
    EditsSection,
    HookConfig,
    HookPointName,
    MainModelSection,
    Manifest,
    MemorySection,
    ModelSection,
    PodSection,
    PromptsSection,
    RunCommandSection,
    ScopeRuleConfig,
    ScopeSection,
    ToolOutputSection,
    ToolsSection,
    TrustSection,
    WorkerSection,
)

__all__ = [
    "ApprovalsSection",
    "CompactionSection",
    "EditsSection",
    "HookConfig",
    "HookPointName",
    "LoadedManifest",
    "MainModelSection",
    "Manifest",
    "ManifestProblem",
    "MemorySection",
    "ModelSection",
    "PodSection",
    "ProblemLog",
    "PromptsSection",
    "RunCommandSection",
    "ScopeRuleConfig",
    "ScopeSection",
    "ToolOutputSection",
    "ToolsSection",
    "TrustSection",
    "WorkerSection",
    "load_manifest",
    "read_toml",
]
