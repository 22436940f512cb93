"""Which MCP servers a workspace gets, read from the manifest cascade and the
workspace's ``.mcp.json``.

Sources, low to high: ``.mcp.json`` at the workspace root (``{"mcpServers":
{...}}``, the file other agents read; ``"type": "http"`` or a ``url`` means
streamable HTTP), then ``[mcp.servers.<name>]`` of the manifest cascade (a
name in both: the manifest's). Values may name environment variables as
``${env:NAME}`` (``.mcp.json`` also takes ``${NAME}`` and ``${NAME:-default}``);
their values never appear in logs or messages: :meth:`ServerConfig.describe`
shows the command and the names only.

A repository may come from anyone, so the servers it declares (in
``<root>/.yoi/manifest.toml`` or ``.mcp.json``) start only when the workspace
is trusted in the user manifest (``[trust] workspaces``, see
:mod:`agent.manifest.trust`); otherwise :attr:`McpSetup.untrusted` says which
were skipped and how to trust the workspace. Reading is blocking (small
files): async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from agent import paths
from agent.manifest import ProblemLog, load_manifest, read_toml
from agent.manifest.load import MANIFEST_FILE
from agent.manifest.problems import describe_validation_error
from agent.manifest.schema import McpServerSection

PROJECT_FILE = ".mcp.json"
SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_BARE_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Transport = Literal["stdio", "http"]
Approval = Literal["ask", "auto"]


@dataclass(frozen=True)
class ServerConfig:
    """One server, ready to start: variables substituted, paths absolute."""

    name: str
    transport: Transport
    source: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    tools: tuple[str, ...] | None = None
    timeout: float = 60.0
    approval: Approval = "ask"
    tool_approval: Mapping[str, Approval] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # values never to show: see mask()

    def mask(self, text: str) -> str:
        """``text`` with the server's secrets (its ``env`` and ``headers``
        values, what ``${env:…}`` put elsewhere) replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def describe(self) -> str:
        """The server without secrets: its command (or URL without query) and
        the names of the variables and headers it is given."""
        if self.transport == "http":
            where = self.url.split("?", 1)[0]
            names = f" (headers: {', '.join(sorted(self.headers))})" if self.headers else ""
            return f"{where}{names}"
        names = f" (env: {', '.join(sorted(self.env))})" if self.env else ""
        return " ".join([self.command, *self.args]) + names

    def allows(self, tool: str) -> bool:
        return self.tools is None or tool in self.tools

    def approval_for(self, tool: str, read_only: bool) -> Approval:
        """``tool_approval`` for this tool; else the server's ``approval``,
        which is "auto" only for tools that declare themselves read-only."""
        if tool in self.tool_approval:
            return self.tool_approval[tool]
        return "auto" if self.approval == "auto" and read_only else "ask"


@dataclass(frozen=True)
class McpSetup:
    servers: tuple[ServerConfig, ...]
    disabled: tuple[str, ...] = ()  # configured with enabled = false
    problems: tuple[str, ...] = ()  # bad entries, unset variables: warnings for the user
    untrusted: str | None = None  # servers the repository declared, not started: why and how


def load_setup(
    root: Path | None,
    *,
    env: Mapping[str, str],
    config_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> McpSetup:
    """The servers to start for the workspace ``root`` (``None``: no folder)."""
    config = paths.config_dir(env) if config_dir is None else config_dir
    problems: list[str] = []
    loaded = load_manifest(root, env=env, config_dir=config, overrides=overrides)
    trusted = loaded.workspace_trusted
    sections = dict(loaded.manifest.mcp.servers)
    declared: list[str] = []
    if root is not None and not trusted:
        workspace = _workspace_servers(root)
        if workspace:
            file = paths.workspace_dir(root) / MANIFEST_FILE
            declared.append(f"{', '.join(workspace)} in {file}")
            # the cascade without the workspace layer: what the user configured
            user = load_manifest(None, env=env, config_dir=config, overrides=overrides)
            sections = dict(user.manifest.mcp.servers)
    servers: dict[str, ServerConfig | None] = {}
    if root is not None:
        project = _read_project_file(root / PROJECT_FILE, problems)
        if project and not trusted:
            declared.append(f"{', '.join(project)} in {root / PROJECT_FILE}")
        elif project:
            for name, section in project.items():
                source = str(root / PROJECT_FILE)
                servers[name] = _resolve(name, section, source, root, env=env, problems=problems)
    for name, section in sections.items():
        if not SERVER_NAME.fullmatch(name):
            problems.append(
                f"MCP server {name!r}: a name may only use letters, digits, '_' and '-' "
                "(at most 40); it was skipped"
            )
            continue
        servers[name] = _resolve(name, section, "manifest", root, env=env, problems=problems)
    enabled = tuple(s for s in servers.values() if s is not None and _usable(s, problems))
    disabled = tuple(name for name, s in servers.items() if s is None)
    untrusted = None
    if declared:
        untrusted = (
            f"This workspace declares MCP servers ({'; '.join(declared)}); they were not "
            f"started because the workspace is not trusted. To trust it, add {str(root)!r} "
            f"to [trust] workspaces in {config / MANIFEST_FILE}."
        )
    return McpSetup(enabled, disabled, tuple(problems), untrusted)


def _usable(server: ServerConfig, problems: list[str]) -> bool:
    if server.transport == "stdio" and not server.command:
        problems.append(
            f"MCP server {server.name!r} ({server.source}): set `command` (stdio) or "
            "`url` (streamable HTTP); it was skipped"
        )
        return False
    return True


def _resolve(
    name: str,
    section: McpServerSection,
    source: str,
    root: Path | None,
    *,
    env: Mapping[str, str],
    problems: list[str],
) -> ServerConfig | None:
    if not section.enabled:
        return None

    found: list[str] = []

    def sub(value: str) -> str:
        return substitute(value, env, name, problems, found)

    cwd = sub(section.cwd) if section.cwd else ""
    if cwd and not Path(cwd).expanduser().is_absolute() and root is not None:
        cwd = str(root / cwd)
    return ServerConfig(
        name=name,
        transport="http" if section.url and not section.command else "stdio",
        source=source,
        command=sub(section.command),
        args=tuple(sub(a) for a in section.args),
        env={k: sub(v) for k, v in section.env.items()},
        cwd=str(Path(cwd).expanduser()) if cwd else (str(root) if root else None),
        url=sub(section.url),
        headers={k: sub(v) for k, v in section.headers.items()},
        tools=section.tools,
        timeout=section.timeout,
        approval=section.approval,
        tool_approval=dict(section.tool_approval),
        secrets=_secrets(found, section.env, section.headers, sub(section.url)),
    )


def _secrets(
    substituted: list[str], env: Mapping[str, str], headers: Mapping[str, str], url: str
) -> tuple[str, ...]:
    """What a server's messages must not show: values taken from the
    environment (not paths), and the ``env`` and ``headers`` values and URL
    query as written; longest first, so a value never leaves part of itself."""
    values = [v for v in substituted if len(v) >= 6 and not v.startswith(("/", "~"))]
    values += [v for v in (*env.values(), *headers.values()) if len(v) >= 4]
    if "?" in url:
        values.append(url.split("?", 1)[1])
    unique = {v for v in values if v}
    return tuple(sorted(unique, key=len, reverse=True))


def substitute(
    value: str,
    env: Mapping[str, str],
    server: str,
    problems: list[str],
    found: list[str] | None = None,
) -> str:
    """``${env:NAME}``, ``${NAME}`` and ``${NAME:-default}`` from ``env``; an
    unset variable becomes "" (or the default) with a warning naming it. The
    values taken from ``env`` are added to ``found``."""

    def env_ref(match: re.Match[str]) -> str:
        return _keep(_lookup(match.group(1), None, env, server, problems))

    def bare_ref(match: re.Match[str]) -> str:
        return _keep(_lookup(match.group(1), match.group(2), env, server, problems))

    def _keep(text: str) -> str:
        if found is not None:
            found.append(text)
        return text

    return _BARE_REF.sub(bare_ref, _ENV_REF.sub(env_ref, value))


def _lookup(
    name: str, default: str | None, env: Mapping[str, str], server: str, problems: list[str]
) -> str:
    if name in env:
        return env[name]
    if default is not None:
        return default
    problems.append(f"MCP server {server!r}: the environment variable {name} is not set")
    return ""


def _workspace_servers(root: Path) -> list[str]:
    raw = read_toml(paths.workspace_dir(root) / MANIFEST_FILE, ProblemLog())
    mcp = raw.get("mcp") if raw else None
    servers = mcp.get("servers") if isinstance(mcp, Mapping) else None
    return sorted(servers) if isinstance(servers, Mapping) else []


def _read_project_file(path: Path, problems: list[str]) -> dict[str, McpServerSection]:
    """The servers of ``.mcp.json`` as manifest sections (bad entries reported)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{path} cannot be read ({exc}); its MCP servers were skipped")
        return {}
    entries = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        problems.append(f'{path}: expected {{"mcpServers": {{...}}}}; the file was skipped')
        return {}
    out: dict[str, McpServerSection] = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict) or not SERVER_NAME.fullmatch(str(name)):
            problems.append(f"{path}: the server {name!r} is not a valid entry; it was skipped")
            continue
        kind = entry.get("type", "stdio")
        if kind == "sse":
            problems.append(f"{path}: {name!r} uses the SSE transport, which yoi does not speak")
            continue
        known = {k: v for k, v in entry.items() if k in McpServerSection.model_fields}
        try:
            out[str(name)] = McpServerSection.model_validate(known)
        except ValidationError as exc:
            for loc, reason in describe_validation_error(exc):
                where = ".".join(map(str, loc))
                problems.append(f"{path}: {name}.{where}: {reason}; the server was skipped")
    return out
