"""Helpers for the MCP tests: real MCP servers (``mcp-server-time``,
``mcp-server-git`` from PyPI, and the fixture server in ``mcp_fixtures/``),
a user manifest that configures them, and a language-server session that
records ``yoi/mcp/changed``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lspkit import Session, eventually

from agent.testing import ScriptedModel

BIN = Path(sys.executable).parent
TIME_SERVER = str(BIN / "mcp-server-time")
GIT_SERVER = str(BIN / "mcp-server-git")
FIXTURE = str(Path(__file__).parent / "mcp_fixtures" / "server.py")


def toml_server(name: str, **values: Any) -> str:
    """``[mcp.servers.<name>]`` with ``values`` (strings, lists, numbers, tables)."""
    lines = [f"[mcp.servers.{name}]"]
    for key, value in values.items():
        lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_user_manifest(env: dict[str, str], text: str) -> Path:
    config = Path(env["YOI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    path = config / "manifest.toml"
    path.write_text(text)
    return path


def record_mcp(session: Session) -> list[dict[str, Any]]:
    """Collect ``yoi/mcp/changed`` (register before the first yoi/* request)."""
    seen: list[dict[str, Any]] = []

    @session.client.feature("yoi/mcp/changed")
    def on_changed(params: dict[str, Any]) -> None:
        seen.append(params)

    return seen


async def wait_ready(session: Session, *names: str, patience: float = 30.0) -> dict[str, Any]:
    """Poll ``yoi/mcp/list`` until the named servers are ready."""
    listing: dict[str, Any] = {}

    async def ready() -> bool:
        nonlocal listing
        listing = await session.request("yoi/mcp/list", {})
        by_name = {s["name"]: s for s in listing["servers"]}
        return all(by_name.get(n, {}).get("status") == "ready" for n in names)

    for _ in range(int(patience * 10)):
        if await ready():
            return listing
        await asyncio.sleep(0.1)
    raise TimeoutError(f"MCP servers {names} not ready: {listing}")


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (through /proc/<pid>/task/*/children)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            found += children
            stack += children
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


@contextmanager
def http_fixture(port: int = 0) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The fixture server over streamable HTTP on 127.0.0.1."""
    proc = subprocess.Popen(
        [sys.executable, FIXTURE, "http", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc, int(proc.stdout.readline())
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (path / "hello.txt").write_text("hello\n")
    git("add", "hello.txt")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first")
    (path / "hello.txt").write_text("hello, changed\n")
    return path


__all__ = ["eventually"]


def tool_messages(model: ScriptedModel, request: int) -> list[dict[str, Any]]:
    """The tool messages of the model's ``request``-th request."""
    return [m for m in model.requests[request]["messages"] if m["role"] == "tool"]
