"""The manifest's schema: every key, its type, its default and its limits.

Each section is a frozen pydantic model whose fields all have defaults, so any
subset of keys is a valid layer. Scalars are strict (``"50"`` is not a number)
because TOML already types its values; a wrong one is reported by the loader
and falls back to the lower layers' value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from agent import secrets
from agent.llm.types import ModelConfig, RequestSettings

HookPointName = Literal[
    "prompt_submit", "pre_request", "pre_tool_call", "post_tool_call", "turn_end", "abort"
]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TEMPLATE_REF = re.compile(r"\$(yoi|user|workspace)/\S+")


def _env_var_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(
            "must be the name of an environment variable, such as `ANTHROPIC_API_KEY` "
            "(the key itself never goes in a manifest)"
        )
    return value


def _template_ref(value: str) -> str:
    if not _TEMPLATE_REF.fullmatch(value):
        raise ValueError(
            "must be a template reference such as `$yoi/default`, `$user/<name>` "
            "or `$workspace/<name>`"
        )
    return value


def _trusted_path(value: str) -> str:
    if not (value.startswith("~") or Path(value).is_absolute()):
        raise ValueError(f"must be an absolute path or start with `~` (got {value!r})")
    return value


PositiveInt = Annotated[StrictInt, Field(ge=1)]
Count = Annotated[StrictInt, Field(ge=0)]
Seconds = Annotated[StrictFloat, Field(gt=0)]
Delay = Annotated[StrictFloat, Field(ge=0)]
Ratio = Annotated[StrictFloat, Field(gt=0, le=1)]
NonEmpty = Annotated[StrictStr, Field(min_length=1)]
EnvVarName = Annotated[StrictStr, AfterValidator(_env_var_name)]
TemplateRef = Annotated[StrictStr, AfterValidator(_template_ref)]
TrustedPath = Annotated[StrictStr, AfterValidator(_trusted_path)]


class Section(BaseModel):
    """Base of every manifest table."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PodSection(Section):
    name: NonEmpty = "yoi"
    instruction: TemplateRef = "$yoi/default"
    # An extra prompts TOML (the highest catalog layer). A relative path is
    # resolved against the directory of the manifest that sets it.
    prompt_pack: StrictStr = ""


class ModelSection(Section):
    """Where to reach a model. Also the shape of ``[compaction.model]`` and
    ``[memory.extract_model]``."""

    name: StrictStr = ""
    api_base: StrictStr = ""
    api_key_env: EnvVarName = "YOI_API_KEY"
    timeout_seconds: Seconds = 600.0
    max_retries: Count = 4
    retry_base_delay: Delay = 1.0
    retry_max_delay: Delay = 30.0
    # tried in order when this model fails on rate limits, server errors or a
    # context too long; each is a litellm model string (same provider as ``name``:
    # the same api_base and key, else the provider's own environment variables)
    fallbacks: tuple[NonEmpty, ...] = ()

    def to_config(self, env: Mapping[str, str]) -> ModelConfig:
        """The client configuration; the API key is read from ``env`` under the
        variable named by ``api_key_env``."""
        return ModelConfig(
            model=self.name.strip() or None,
            api_base=self.api_base.strip() or None,
            api_key=env.get(self.api_key_env, "").strip() or None,
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
            retry_base_delay=self.retry_base_delay,
            retry_max_delay=self.retry_max_delay,
            api_key_env=self.api_key_env,
            fallbacks=self.fallbacks,
        )


class MainModelSection(ModelSection):
    """``[model]``: the pod's own model, which also sizes compaction."""

    # The model's input window in tokens; unset: litellm's model map, else
    # agent.compaction.window.FALLBACK_WINDOW.
    context_window: PositiveInt | None = None
    # Prices in US dollars per million tokens, for models litellm's cost map
    # lacks (or to override it); both or neither.
    input_cost_per_mtok: Annotated[StrictFloat, Field(ge=0)] | None = None
    output_cost_per_mtok: Annotated[StrictFloat, Field(ge=0)] | None = None


class BudgetSection(Section):
    """``[budget]``: hard spending limits (read from the user manifest only).
    A turn stops before the request that would pass one (outcome
    ``budgetExceeded``). Token limits count input and output tokens, for
    models without a price."""

    per_session_usd: Annotated[StrictFloat, Field(gt=0)] | None = None
    per_day_usd: Annotated[StrictFloat, Field(gt=0)] | None = None
    per_session_tokens: PositiveInt | None = None
    per_day_tokens: PositiveInt | None = None


class ToolOutputSection(Section):
    default_max_bytes: PositiveInt = 16384
    per_tool: dict[str, PositiveInt] = Field(default_factory=dict)

    def limit_for(self, tool: str) -> int:
        return self.per_tool.get(tool, self.default_max_bytes)


class WorkerSection(Section):
    max_turns: PositiveInt = 50
    max_tokens: PositiveInt | None = None
    temperature: Annotated[StrictFloat, Field(ge=0, le=2)] | None = None
    top_p: Annotated[StrictFloat, Field(ge=0, le=1)] | None = None
    top_k: PositiveInt | None = None
    reasoning_effort: NonEmpty | None = None
    stop: tuple[StrictStr, ...] = ()
    tool_output: ToolOutputSection = Field(default_factory=ToolOutputSection)


class RunCommandSection(Section):
    timeout_seconds: Seconds = 120.0
    max_output_bytes: PositiveInt = 30000


class ToolsSection(Section):
    run_command: RunCommandSection = Field(default_factory=RunCommandSection)


class ApprovalsSection(Section):
    mode: Literal["ask", "auto"] = "ask"


class EditsSection(Section):
    fallback: Literal["refuse", "disk"] = "refuse"


class ScopeRuleConfig(Section):
    """One scope rule. ``target`` is relative to the workspace root in every
    layer (``~`` expands); the loader makes it absolute when a root is known.
    On an allow rule ``permission`` is what is granted; on a deny rule it is
    what is taken away (deny ``read`` hides the path, deny ``write`` leaves it
    read-only)."""

    target: NonEmpty
    permission: Literal["read", "write"] = "read"
    recursive: StrictBool = True


class ScopeSection(Section):
    allow: tuple[ScopeRuleConfig, ...] = ()
    deny: tuple[ScopeRuleConfig, ...] = ()


class PromptsSection(Section):
    agents_md_max_bytes: PositiveInt = 32768


class HookConfig(Section):
    """A command hook: run with ``/bin/sh -c`` in the workspace root, the
    summary as JSON on stdin. ``source`` is the manifest that declared it."""

    point: HookPointName
    command: NonEmpty
    tools: tuple[StrictStr, ...] = ()
    timeout_seconds: Seconds = 30.0
    source: StrictStr = ""


class TrustSection(Section):
    """Workspaces whose own manifest is trusted to widen the scope, turn
    approvals off and add hooks (see :mod:`agent.manifest.trust`). Honoured in
    the user manifest and the host overrides only."""

    workspaces: tuple[TrustedPath, ...] = ()


class CompactionSection(Section):
    """Compaction (on unless ``enabled = false``). The thresholds default to
    fractions of the model's input window; an explicit number wins, and 0
    turns that trigger off."""

    enabled: StrictBool = True
    compact_threshold: Count | None = None
    compact_request_threshold: Count | None = None
    compact_threshold_ratio: Ratio = 0.75
    compact_request_threshold_ratio: Ratio = 0.9
    compact_retained_tokens: Count = 8000
    compact_auto_read_budget: Count = 8000
    compact_worker_max_input_tokens: PositiveInt = 50000
    # reserved for the prune projection (accepted, not used yet)
    prune_protected_turns: Count = 3
    prune_min_savings: Count = 4096
    model: ModelSection | None = None


class MemorySection(Section):
    """Memory (on unless ``enabled = false``) and knowledge (read whether
    memory is on or not). Folders are relative to the workspace root. A
    threshold of 0 never triggers: that work then runs only on demand (and
    before a compaction)."""

    enabled: StrictBool = True
    knowledge_dir: NonEmpty = ".yoi/knowledge"
    memory_dir: NonEmpty = ".yoi/memory"
    extract_threshold: Count = 30000
    extract_worker_max_input_tokens: PositiveInt = 30000
    extract_model: ModelSection | None = None
    consolidate_threshold_files: Count = 10
    consolidate_threshold_bytes: Count = 65536
    consolidate_worker_max_input_tokens: PositiveInt = 80000
    consolidate_model: ModelSection | None = None
    query_result_limit: PositiveInt = 20
    query_excerpt_lines: Count = 3


class McpServerSection(Section):
    """``[mcp.servers.<name>]``: one MCP server, reached over stdio (``command``,
    ``args``, ``env``, ``cwd``) or streamable HTTP (``url``, ``headers``).
    Values may name environment variables as ``${env:NAME}``. ``approval``:
    "auto" runs the server's read-only tools (``readOnlyHint``) without asking;
    ``tool_approval`` sets "ask" or "auto" for single tools. See agent/mcp/."""

    command: StrictStr = ""
    args: tuple[StrictStr, ...] = ()
    env: dict[str, StrictStr] = Field(default_factory=dict)
    cwd: StrictStr = ""
    url: StrictStr = ""
    headers: dict[str, StrictStr] = Field(default_factory=dict)
    enabled: StrictBool = True
    tools: tuple[StrictStr, ...] | None = None  # an allow-list; unset: every tool
    timeout: Seconds = 60.0
    approval: Literal["ask", "auto"] = "ask"
    tool_approval: dict[str, Literal["ask", "auto"]] = Field(default_factory=dict)


class McpSection(Section):
    servers: dict[str, McpServerSection] = Field(default_factory=dict)


class CheckpointsSection(Section):
    """``[checkpoints]``: snapshots of the workspace per turn (agent/checkpoints/).
    Files over ``max_file_bytes`` are left out; the oldest snapshots are pruned
    once the workspace's shadow repository passes ``max_repo_bytes``."""

    enabled: StrictBool = True
    max_file_bytes: PositiveInt = 1024 * 1024
    max_repo_bytes: PositiveInt = 256 * 1024 * 1024


class AgentsSection(Section):
    """``[agents]``: sub-agents (agent/agents/). ``max_children``: a pod's
    sub-agents at once; ``max_depth``: how deep sub-agents may nest (2: a
    sub-agent may start sub-agents of its own, they may not); ``max_requests``:
    the model requests one run of a sub-agent may make."""

    enabled: StrictBool = True
    max_children: PositiveInt = 4
    max_depth: PositiveInt = 2
    max_requests: PositiveInt = 30


class ProfileSection(Section):
    """``[profiles.<name>]``: a preset a pod can be started with or switched
    to (``initializationOptions.profile``, ``yoi/pod/create``,
    ``yoi/pod/configure``, ``spawn_agent``). Unset keys leave the pod's own
    setting. ``tools``: the only tools offered (names as the model sees them,
    ``mcp__server__tool`` included); ``approvals``: ``"auto"`` runs commands and
    tools without asking (dropped from a workspace manifest that is not
    trusted, like ``[approvals] mode``)."""

    model: NonEmpty | None = None
    mode: Literal["agent", "plan", "ask"] | None = None
    reasoning_effort: NonEmpty | None = None
    tools: tuple[NonEmpty, ...] | None = None
    approvals: Literal["ask", "auto"] | None = None
    description: StrictStr = ""


class Manifest(Section):
    """The effective configuration of a pod, after the cascade."""

    pod: PodSection = Field(default_factory=PodSection)
    model: MainModelSection = Field(default_factory=MainModelSection)
    worker: WorkerSection = Field(default_factory=WorkerSection)
    tools: ToolsSection = Field(default_factory=ToolsSection)
    approvals: ApprovalsSection = Field(default_factory=ApprovalsSection)
    edits: EditsSection = Field(default_factory=EditsSection)
    scope: ScopeSection = Field(default_factory=ScopeSection)
    prompts: PromptsSection = Field(default_factory=PromptsSection)
    hooks: tuple[HookConfig, ...] = ()
    trust: TrustSection = Field(default_factory=TrustSection)
    compaction: CompactionSection = Field(default_factory=CompactionSection)
    memory: MemorySection = Field(default_factory=MemorySection)
    mcp: McpSection = Field(default_factory=McpSection)
    checkpoints: CheckpointsSection = Field(default_factory=CheckpointsSection)
    agents: AgentsSection = Field(default_factory=AgentsSection)
    profiles: dict[NonEmpty, ProfileSection] = Field(default_factory=dict)
    budget: BudgetSection = Field(default_factory=BudgetSection)

    @property
    def prompt_pack(self) -> Path | None:
        """``pod.prompt_pack`` as a path, or ``None`` when unset."""
        return Path(self.pod.prompt_pack) if self.pod.prompt_pack else None

    def model_config_for(self, env: Mapping[str, str] | None = None) -> ModelConfig:
        """The main model's client configuration; the key is read from ``env``
        (default: the process environment)."""
        return self.model.to_config(secrets.environ() if env is None else env)

    def request_settings(self) -> RequestSettings:
        w = self.worker
        return RequestSettings(
            max_tokens=w.max_tokens,
            temperature=w.temperature,
            top_p=w.top_p,
            top_k=w.top_k,
            stop=w.stop,
            reasoning_effort=w.reasoning_effort,
        )
