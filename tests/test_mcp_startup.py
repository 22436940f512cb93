"""Start-up with MCP servers configured is as light as without: nothing of
MCP loads before ``initialize`` is answered, the event loop never stalls
while two servers start, and a chat never waits for a server that is still
starting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lspkit import start, stop
from mcpkit import FIXTURE, TIME_SERVER, toml_server, wait_ready, write_user_manifest

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(120)

TWO_SERVERS = toml_server("time", command=TIME_SERVER) + toml_server(
    "fx", command=sys.executable, args=[FIXTURE, "stdio"]
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "app.py").write_text("print('hi')\n")
    return folder


def test_initialize_loads_nothing_of_mcp() -> None:
    code = (
        "import sys\n"
        "from server.app import create_server\n"
        "create_server()\n"
        "print([m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'agent.mcp'))])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "[]"


def test_the_runtime_loads_no_mcp_sdk_without_servers() -> None:
    code = (
        "import sys\n"
        "import server.startup, server.handlers\n"
        "print('mcp' in sys.modules, 'agent.mcp.client' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "False False"


def test_a_hub_without_servers_never_imports_the_sdk(tmp_path: Path) -> None:
    """(It would load on the event loop's thread: a 600 ms stall.)"""
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from agent.mcp.hub import McpHub, start_hub\n"
        "hub = McpHub()\n"
        f"asyncio.run(start_hub(hub, None, env={{}}, config_dir=Path({str(tmp_path)!r})))\n"
        "print(hub.configured.is_set(), 'mcp' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "True False"


@pytest.mark.quiet
def test_two_mcp_servers_start_without_stalling_the_event_loop(tmp_path: Path) -> None:
    """The same 20 ms bound as tests/test_lsp_startup.py, with the runtime,
    the model process and two MCP servers (the SDK imported in a thread)."""
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    for i in range(300):
        (root / "pkg" / f"mod_{i}.py").write_text(f"X = {i}\n")
    config = tmp_path / "config"
    config.mkdir()
    (config / "manifest.toml").write_text(TWO_SERVERS)
    probe = Path(__file__).parent / "probes" / "mcp_startup_lag.py"
    run = subprocess.run(
        [sys.executable, str(probe), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={
            **os.environ,
            "YOI_PREWARM": "1",
            "YOI_HOME": str(tmp_path / "home"),
            "YOI_CONFIG_DIR": str(config),
        },
    )
    *_, ready, worst = run.stdout.strip().splitlines()
    assert ready == "fx time"
    assert float(worst) < 20, f"the event loop stalled {worst} ms (stderr: {run.stderr[-2000:]})"


async def test_a_chat_never_waits_for_a_server_still_starting(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    # a server that never answers initialize, and one that is slow to start
    write_user_manifest(
        env,
        toml_server("silent", command="/bin/sh", args=["-c", "exec sleep 300"], timeout=60)
        + toml_server("time", command=TIME_SERVER),
    )
    scripted_model.load([{"text": "answered"}])
    session = await start(env, root)
    try:
        pod = await session.create_pod()
        result = await session.chat(pod, "hello")
        assert result["outcome"] == "finished"
        # the chat went ahead: the servers start after its turn, and the silent one
        # never gets past "starting"
        listing = await wait_ready(session, "time", patience=60)
        silent = next(s for s in listing["servers"] if s["name"] == "silent")
        assert silent["status"] == "starting"
        tools = [t["function"]["name"] for t in scripted_model.requests[0].get("tools", [])]
        assert not any(name.startswith("mcp__silent__") for name in tools)
    finally:
        await stop(session)


async def test_the_first_chat_during_the_warm_up_goes_first_then_the_servers_start(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    """As tests/test_lsp_startup.py's warm-up case, with two servers
    configured: the chat goes as it does without them, and the servers start
    once the model process is warm (their tools then reach the next turns)."""
    write_user_manifest(env, TWO_SERVERS)
    scripted_model.load([{"text": "ready now"}])
    session = await start({**env, "YOI_PREWARM": "1"}, root)
    try:
        pod = await session.create_pod()  # right away: the model process is still loading
        result = await session.chat(pod, "hello")
        assert result["outcome"] == "finished"
        phases = [e["phase"] for e in session.events(pod, "phase")]
        assert phases[:2] == ["loadingModel", "waitingForModel"]
        await wait_ready(session, "time", "fx", patience=60)
    finally:
        await stop(session)
