"""Building a pod: the one place that wires the runtime's parts together.

A host (the terminal CLI, the language server, a test) describes what it wants
with a :class:`PodSpec`, hands over its ports in a :class:`PodHost`, and gets a
ready :class:`~agent.pod.Pod` from :func:`open_pod`. Problems with the
configuration become alerts, never failures: a bad key falls back to its
default and the user is told which file and key to fix.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agent import paths, secrets
from agent.agents import wiring as sub_agents
from agent.approval_rules import RuleStore
from agent.approvals import ApprovalGate
from agent.checkpoints.recorder import open_checkpoints
from agent.compaction.compactor import CompactionSettings, Compactor
from agent.compaction.runner import PodCompaction
from agent.compaction.window import ContextWindow
from agent.events import Alert
from agent.hooks import CommandHook, HookPoint, Hooks
from agent.ids import short_id, uuid7
from agent.image_input import ImageInput
from agent.image_store import ImageStore
from agent.items import Item, Message
from agent.llm.types import LlmClient, ModelConfig, RetryListener, RetryNotice
from agent.manifest import LoadedManifest, Manifest, ManifestProblem
from agent.manifest.load import MANIFEST_FILE
from agent.mcp.references import input_resolver
from agent.memory.consolidate import Consolidator
from agent.memory.library import MemoryLibrary
from agent.memory.setup import build_memory, consolidator_for, folders_outside, open_library
from agent.memory.tools import knowledge_tools
from agent.pod import Pod, PodInfo
from agent.pod_config import CONFIGURED, Change, PodConfig, Settings
from agent.ports import ApprovalPort, EditorPort, EventSink, NoProgress, ProgressPort
from agent.prompts.ahead import RenderAhead, prompt_inputs
from agent.prompts.catalog import PromptCatalog, load_catalog
from agent.prompts.system import read_agents_md, render_system_prompt
from agent.registry import PodRegistry
from agent.scope import Permission, Scope, ScopeRule
from agent.session import SessionHandle
from agent.spend import Budget, DayLedger, PodMoney
from agent.store import RestoredState, SessionStore
from agent.tool_runner import ToolOutputLimits
from agent.tools.base import ToolSet
from agent.tools.builtin import ToolEnv, builtin_tools
from agent.tools.fs import ScopedFs, Tracker
from agent.worker import Worker, WorkerSettings

if TYPE_CHECKING:
    from agent.agents.manager import Delegation
    from agent.agents.port import AgentHost
    from agent.mcp.hub import McpHub

ClientFactory = Callable[[ModelConfig, RetryListener], LlmClient]


@dataclass(frozen=True)
class PodHost:
    """The host's ports."""

    events: EventSink
    approvals: ApprovalPort
    editor: EditorPort
    client_factory: ClientFactory | None = None
    progress: ProgressPort = field(default_factory=NoProgress)
    mcp: McpHub | None = None  # the host's MCP servers, shared by its pods
    agents: AgentHost | None = None  # the host's side of sub-agents (agent/agents/)


@dataclass(frozen=True)
class PodSpec:
    root: Path | None
    home: Path
    loaded: LoadedManifest
    name: str | None = None
    resume_session_id: str | None = None
    env: Mapping[str, str] | None = None
    config_dir: Path | None = None
    delegation: Delegation | None = None  # a sub-agent (agent/agents/manager.py)
    profile: str | None = None  # [profiles.<name>] to start with


def default_client(config: ModelConfig, on_retry: RetryListener) -> LlmClient:
    from agent.llm.client import LiteLlmClient

    return LiteLlmClient(config, on_retry=on_retry)


def problem_alert(problem: ManifestProblem, source: str = "manifest") -> Alert:
    return Alert(level=problem.level, source=source, message=str(problem))


def build_scope(root: Path | None, manifest: Manifest) -> Scope:
    """The workspace root is writable; the manifest adds rules (targets are
    already absolute); ``.git`` is never writable (enforced by Scope)."""
    if root is None:
        return Scope.empty()

    def rule(target: str, permission: str, recursive: bool) -> ScopeRule:
        return ScopeRule(Path(target), Permission(permission), recursive)

    allow = [ScopeRule(root, Permission.WRITE, True)]
    allow += [rule(r.target, r.permission, r.recursive) for r in manifest.scope.allow]
    deny = [rule(r.target, r.permission, r.recursive) for r in manifest.scope.deny]
    # generic tools may read the memory tree; only the memory tools write it
    for folder in (manifest.memory.knowledge_dir, manifest.memory.memory_dir):
        deny.append(ScopeRule(root / folder, Permission.WRITE, True))
    return Scope(root, allow, deny)


def build_hooks(
    manifest: Manifest, cwd: Path, events: EventSink, hidden_env: tuple[str, ...]
) -> Hooks:
    hooks = Hooks()

    def problem(message: str) -> None:
        events.emit(Alert(level="warn", source="hooks", message=message))

    for config in manifest.hooks:
        point = HookPoint(config.point)
        hooks.add(
            point,
            CommandHook(
                point=point,
                command=config.command,
                cwd=str(cwd),
                tools=tuple(config.tools),
                timeout_seconds=config.timeout_seconds,
                on_problem=problem,
                hidden_env=hidden_env,
            ),
        )
    return hooks


def retry_alerts(events: EventSink) -> RetryListener:
    def on_retry(notice: RetryNotice) -> None:
        events.emit(
            Alert(
                level="warn",
                source="llm",
                message=(
                    f"{notice.reason}; retrying in {notice.delay_seconds:.1f} s "
                    f"(attempt {notice.attempt + 1} of {notice.max_attempts})."
                ),
            )
        )

    return on_retry


@dataclass
class _Prepared:
    scope: Scope
    catalog: PromptCatalog
    restored: RestoredState | None
    alerts: list[Alert]


def _prepare(spec: PodSpec, store: SessionStore) -> _Prepared:
    """The blocking part of opening a pod (file reads), run in a thread."""
    manifest = spec.loaded.manifest
    alerts = [problem_alert(p) for p in spec.loaded.problems]
    scope = build_scope(spec.root, manifest)
    loaded = load_catalog(
        spec.root,
        prompt_pack=manifest.prompt_pack,
        config_dir=spec.config_dir,
        env=spec.env,
    )
    alerts += [problem_alert(p, "prompts") for p in loaded.problems]
    restored = None
    if spec.resume_session_id is not None:
        restored = store.restore(spec.resume_session_id)
        alerts += [Alert(level="warn", source="store", message=w) for w in restored.warnings]
    return _Prepared(scope, loaded.catalog, restored, alerts)


def _system_prompt(
    spec: PodSpec,
    *,
    scope: Scope,
    catalog: PromptCatalog,
    tool_names: list[str],
    library: MemoryLibrary | None,
    problems: list[str],
) -> str:
    """The blocking part of rendering a pod's system prompt: AGENTS.md, the
    resident knowledge, the template. AGENTS.md's problems go to ``problems``."""
    manifest = spec.loaded.manifest
    agents = read_agents_md(
        spec.root,
        manifest.prompts.agents_md_max_bytes,
        allowed=lambda path: scope.readable(path, resolved=True),
    )
    problems += agents.problems
    return render_system_prompt(
        instruction=manifest.pod.instruction,
        catalog=catalog,
        cwd=spec.root,
        scope_summary=scope.summary(),
        tool_names=tool_names,
        now=datetime.now(UTC),
        agents_md=agents.text,
        resident_knowledge=library.resident() if library else [],
    )


def _render_ahead(
    spec: PodSpec,
    *,
    scope: Scope,
    catalog: PromptCatalog,
    tools: ToolSet,
    library: MemoryLibrary | None,
    host: PodHost,
) -> RenderAhead:
    """The pod's system prompt renderer (agent/prompts/ahead.py)."""

    async def render_now() -> tuple[str, list[str]]:
        problems: list[str] = []
        prompt = await asyncio.to_thread(  # one hop, not three
            functools.partial(
                _system_prompt,
                spec,
                scope=scope,
                catalog=catalog,
                tool_names=tools.all_names(),
                library=library,
                problems=problems,
            )
        )
        return prompt, problems

    return RenderAhead(
        render_now,
        inputs=functools.partial(
            prompt_inputs, spec.root, library.layout.knowledge_dir if library else None
        ),
        problem=lambda text: host.events.emit(
            Alert(level="warn", source="agents_md", message=text)
        ),
    )


async def open_pod(spec: PodSpec, host: PodHost) -> Pod:
    """Build a pod, new or restored (``spec.resume_session_id``). Raises
    :class:`agent.errors.SessionError` when the session cannot be resumed."""
    manifest = spec.loaded.manifest
    env = secrets.environ() if spec.env is None else spec.env
    store = SessionStore(paths.sessions_dir(spec.home))
    registry = PodRegistry(spec.home)
    prepared = await asyncio.to_thread(_prepare, spec, store)
    for alert in prepared.alerts:
        host.events.emit(alert)
    scope, catalog, restored = prepared.scope, prepared.catalog, prepared.restored
    pod_id = sub_agents.pod_id_for(spec, short_id("pod-"))
    scope = sub_agents.pod_scope(spec, scope, pod_id)
    cwd = spec.root or Path.cwd()

    # the model's key never reaches commands or hooks the agent runs
    hidden = tuple(dict.fromkeys(("YOI_API_KEY", manifest.model.api_key_env)))
    tracker = Tracker()
    fs = ScopedFs(scope, host.editor, tracker)
    images = ImageInput(ImageStore(paths.sessions_dir(spec.home) / "images"), fs, model="")
    rules = RuleStore(spec.config_dir or paths.config_dir(env)) if spec.root else None
    gate = ApprovalGate(host.approvals, manifest.approvals.mode, cwd, rules)
    run_command = manifest.tools.run_command
    tools = ToolSet(
        builtin_tools(
            ToolEnv(
                fs=fs,
                editor=host.editor,
                approvals=gate,
                command_timeout=run_command.timeout_seconds,
                command_output_bytes=run_command.max_output_bytes,
                hidden_env=hidden,
                images=images,
            )
        )
    )
    children = sub_agents.children_for(spec, host, scope, open_pod)
    tools = sub_agents.pod_tools(spec, tools, children)
    if host.mcp is not None:
        host.mcp.attach(tools, gate, images)
    model_config = manifest.model_config_for(env)
    make_client = host.client_factory or default_client
    client = make_client(model_config, retry_alerts(host.events))
    images.model, images.ask = client.model_name, client.model_info
    window = ContextWindow(manifest.model.context_window, client.model_info)
    library = open_library(manifest, spec.root, host.events)
    memory = build_memory(
        manifest,
        library,
        env=env,
        main=model_config,
        make_client=lambda config: make_client(config, retry_alerts(host.events)),
        catalog=catalog,
        events=host.events,
        progress=host.progress,
        extensions=restored.extensions if restored else (),
    )
    if library is not None:  # knowledge is read whether memory is on or not
        for tool in knowledge_tools(library):
            tools.add(tool)
    settings = WorkerSettings(
        max_turns=manifest.worker.max_turns,
        tool_output=ToolOutputLimits(
            default_max_bytes=manifest.worker.tool_output.default_max_bytes,
            per_tool=dict(manifest.worker.tool_output.per_tool),
        ),
        request=manifest.request_settings(),
        interrupted_summary=catalog.render("interrupt_tool_result_summary"),
    )
    worker = Worker(
        client=client,
        tools=tools,
        events=host.events,
        settings=settings,
        hooks=build_hooks(manifest, cwd, host.events, hidden),
        system_prompt=restored.system_prompt if restored else "",
        history=restored.history if restored else [],
    )
    worker.images = images.for_request

    name = spec.name or manifest.pod.name
    session_id = restored.session_id if restored else uuid7()
    await asyncio.to_thread(registry.register, pod_id, name, session_id, str(cwd))
    session = SessionHandle(
        store=store,
        registry=registry,
        pod_id=pod_id,
        session_id=session_id,
        head=restored.head if restored else None,
        config=_request_config(manifest),
        cwd=str(spec.root) if spec.root else None,
        model=model_config.model,
        on_fork=lambda old, new: host.events.emit(
            Alert(
                level="warn",
                source="store",
                message=(
                    f"Another process wrote to session {old}; this pod continues in a new "
                    f"session {new} forked from it, so neither log is corrupted."
                ),
            )
        ),
    )

    worker.checkpoints = open_checkpoints(
        manifest.checkpoints,
        home=spec.home,
        root=spec.root,
        scope=scope,
        session=session,
        editor=host.editor,
        events=host.events,
    )

    render = _render_ahead(
        spec, scope=scope, catalog=catalog, tools=tools, library=library, host=host
    )
    if restored is None:
        render.start()  # a new session: its first turn needs the prompt

    if restored and restored.history and is_system_note(restored.history[0]):
        worker.cache_anchor = 0  # a compacted session starts with its summary
    compaction = build_compaction(
        manifest,
        window=window,
        env=env,
        main=model_config,
        make_client=lambda config: make_client(config, retry_alerts(host.events)),
        fs=lambda: ScopedFs(scope, host.editor, Tracker()),
        tracker=tracker,
        catalog=catalog,
        host=host,
    )
    pod = Pod(
        info=PodInfo(pod_id=pod_id, name=name, root=spec.root, model=client.model_name),
        worker=worker,
        session=session,
        registry=registry,
        resolver=input_resolver(
            host.mcp, fs, spec.root, library.layout.knowledge_dir if library else None
        ),
        catalog=catalog,
        events=host.events,
        render_system_prompt=render,
        window=window,
        usage=restored.usage if restored else None,
        turn_count=restored.turn_count if restored else 0,
        last_run_interrupted=restored.last_run_interrupted if restored else False,
        compaction=compaction,
        memory=memory,
        images=images,
    )
    _count_and_prune(spec, pod, env=env, restored=restored)
    pod.config = _pod_config(
        spec,
        pod,
        gate=gate,
        restored=restored,
        make_client=make_client,
        main=model_config,
        host=host,
    )
    await sub_agents.bind(pod, spec, children, restored)
    return pod


def _count_and_prune(
    spec: PodSpec, pod: Pod, *, env: Mapping[str, str], restored: RestoredState | None
) -> None:
    """The pod's spending and budget (agent/spend.py) and its prune projection."""
    manifest = spec.loaded.manifest
    worker = pod.worker
    if manifest.compaction.enabled:  # the prune projection (agent/compaction/prune.py)
        pod.prune = (
            manifest.compaction.prune_protected_turns,
            manifest.compaction.prune_min_savings,
        )
        worker.projection = lambda history: pod.projection(history).items
    pod.money = PodMoney(
        section=manifest.model,
        budget=Budget(manifest.budget, (spec.config_dir or paths.config_dir(env)) / MANIFEST_FILE),
        ledger=DayLedger(spec.home),
        info=lambda: pod.worker.client.model_info(),  # noqa: PLW0108 (the model can change)
        records=restored.usage if restored else (),
    )


def _pod_config(
    spec: PodSpec,
    pod: Pod,
    *,
    gate: ApprovalGate,
    restored: RestoredState | None,
    make_client: ClientFactory,
    main: ModelConfig,
    host: PodHost,
) -> PodConfig:
    """What ``yoi/pod/configure`` changes, set up as the spec's profile or
    the restored log says. Raises :class:`agent.pod_config.ConfigError` for
    an unknown profile."""
    manifest = spec.loaded.manifest
    worker = pod.worker

    def switch_model(name: str) -> str:
        client = make_client(dataclasses.replace(main, model=name), retry_alerts(host.events))
        worker.client = client
        if pod.images is not None:
            pod.images.model, pod.images.ask = client.model_name, client.model_info
        pod.window.repoint(client.model_info)
        return client.model_name

    config = PodConfig(
        current=Settings(model=main.model or "", reasoning_effort=manifest.worker.reasoning_effort),
        profiles=manifest.profiles,
        default_effort=manifest.worker.reasoning_effort,
        default_approvals=manifest.approvals.mode,
        worker=worker,
        gate=gate,
        switch_model=switch_model,
    )
    if restored is not None:
        settings = config.from_log(restored.config)
    elif spec.profile is not None:
        settings = config.resolve(Change(profile=spec.profile))
    else:
        settings = None
    if settings is not None:
        config.apply(settings)
        pod.info.model = worker.client.model_name
        pod.session.config[CONFIGURED] = settings.to_log()
        pod.session.model = settings.model
    return config


def open_consolidator(
    root: Path, manifest: Manifest, client_factory: ClientFactory | None = None
) -> Consolidator | None:
    """The workspace's memory consolidator (``yoi/memory/consolidate``), or
    ``None`` when memory is off (or its folders are outside the workspace)."""
    if not manifest.memory.enabled or folders_outside(root, manifest.memory) is not None:
        return None
    env = secrets.environ()
    loaded = load_catalog(root, prompt_pack=manifest.prompt_pack)
    library = MemoryLibrary.for_root(root, manifest.memory)
    return consolidator_for(
        manifest,
        library,
        env=env,
        main=manifest.model_config_for(env),
        make_client=lambda config: (client_factory or default_client)(config, lambda _n: None),
        catalog=loaded.catalog,
    )


def build_compaction(
    manifest: Manifest,
    *,
    window: ContextWindow,
    env: Mapping[str, str],
    main: ModelConfig,
    make_client: Callable[[ModelConfig], LlmClient],
    fs: Callable[[], ScopedFs],
    tracker: Tracker,
    catalog: PromptCatalog,
    host: PodHost,
) -> PodCompaction | None:
    """Compaction as the manifest's ``[compaction]`` asks (on unless
    ``enabled = false``), sized by the model's ``window``."""
    section = manifest.compaction
    if not section.enabled:
        return None
    config = section.model.to_config(env) if section.model is not None else main
    compactor = Compactor(
        settings=CompactionSettings(
            retained_tokens=section.compact_retained_tokens,
            auto_read_budget=section.compact_auto_read_budget,
            worker_max_input_tokens=section.compact_worker_max_input_tokens,
        ),
        client=lambda: make_client(config),
        fs=fs,
        catalog=catalog,
    )
    return PodCompaction(
        section=section,
        window=window,
        compactor=compactor,
        recent_files=lambda: tracker.recent(5),
        events=host.events,
        progress=host.progress,
    )


def is_system_note(item: Item) -> bool:
    return isinstance(item, Message) and item.role == "system"


def _request_config(manifest: Manifest) -> dict[str, object]:
    w = manifest.worker
    return {
        "max_tokens": w.max_tokens,
        "temperature": w.temperature,
        "top_p": w.top_p,
        "top_k": w.top_k,
        "stop": list(w.stop),
        "reasoning_effort": w.reasoning_effort,
        "max_turns": w.max_turns,
    }
