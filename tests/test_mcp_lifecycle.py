"""MCP servers' lifecycle through the real language server: crashes and
restarts (stdio and HTTP), tools added at run time, trust, and no process
left behind after a shutdown or a kill."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from lspkit import Session, eventually, start, stop
from mcpkit import (
    FIXTURE,
    TIME_SERVER,
    alive,
    cmdline,
    descendants,
    http_fixture,
    record_mcp,
    toml_server,
    tool_messages,
    wait_ready,
    write_user_manifest,
)
from pygls.exceptions import JsonRpcInvalidParams

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(150)  # generous: each test starts real servers (busy CI)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("print('hi')\n")
    return ws.resolve()


def offered(model: ScriptedModel, request: int = 0) -> list[str]:
    return [t["function"]["name"] for t in model.requests[request].get("tools", [])]


async def test_a_crashed_server_is_restarted_and_its_tool_works_again(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(
        env,
        toml_server("fx", command=env_python(), args=[FIXTURE, "stdio"], approval="auto"),
    )
    session = await start(env, root)
    changes = record_mcp(session)
    try:
        await wait_ready(session, "fx")
        scripted_model.load(
            [
                {"tool_calls": [{"name": "mcp__fx__crash", "arguments": {}}]},
                {"text": "it crashed"},
            ]
        )
        session.state.approval_answers.append({"decision": "allow"})
        pod = await session.create_pod()
        assert (await session.chat(pod, "crash it"))["outcome"] == "finished"
        (crashed,) = tool_messages(scripted_model, 1)
        assert "fx" in crashed["content"]
        listing = await wait_ready(session, "fx")
        assert listing["servers"][0]["connects"] == 2
        statuses = [c["status"] for c in changes if c["name"] == "fx"]
        assert "error" in statuses and statuses[-1] == "ready"
        scripted_model.load(
            [
                {"tool_calls": [{"name": "mcp__fx__echo", "arguments": {"text": "back"}}]},
                {"text": "ok"},
            ]
        )
        await session.chat(pod, "again")
        assert "echo: back" in tool_messages(scripted_model, 1)[-1]["content"]
    finally:
        await stop(session)


async def test_restart_and_unknown_names(env: dict[str, str], root: Path) -> None:
    write_user_manifest(
        env,
        toml_server("fx", command=env_python(), args=[FIXTURE, "stdio"])
        + toml_server("off", command="nothing", enabled=False),
    )
    session: Session = await start(env, root)
    try:
        await wait_ready(session, "fx")
        answer = await session.request("yoi/mcp/restart", {"name": "fx"})
        assert answer == {"name": "fx", "restarting": True}
        async with asyncio.timeout(30):
            while True:
                listing = await session.request("yoi/mcp/list", {})
                fx = next(s for s in listing["servers"] if s["name"] == "fx")
                if fx["connects"] == 2 and fx["status"] == "ready":
                    break
                await asyncio.sleep(0.1)
        assert {s["name"]: s["status"] for s in listing["servers"]} == {
            "fx": "ready",
            "off": "disabled",
        }
        with pytest.raises(JsonRpcInvalidParams, match="no MCP server 'nope'"):
            await session.request("yoi/mcp/restart", {"name": "nope"})
    finally:
        await stop(session)


def env_python() -> str:
    return sys.executable


async def test_an_untrusted_workspace_starts_none_of_its_servers_and_says_how_to_trust_it(
    env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    declared = {
        "mcpServers": {"repo": {"command": "/bin/sh", "args": ["-c", f"touch {marker}; exec cat"]}}
    }
    (root / ".mcp.json").write_text(json.dumps(declared))
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text(
        toml_server("also", command="/bin/sh", args=["-c", f"touch {marker}"])
    )
    session = await start(env, root)
    try:
        listing = await session.request("yoi/mcp/list", {})
        async with asyncio.timeout(30):
            while not listing["configured"]:
                listing = await session.request("yoi/mcp/list", {})
        assert listing["servers"] == []
        assert await eventually(lambda: bool(trust_messages(session)))
        (message,) = trust_messages(session)
        assert "repo in" in message and ".mcp.json" in message and "also in" in message
        assert str(Path(env["YOI_CONFIG_DIR"]) / "manifest.toml") in message
        await session.create_pod()  # a pod does not repeat it
        await asyncio.sleep(0.5)
        assert len(trust_messages(session)) == 1
        assert not marker.exists()
    finally:
        await stop(session)


async def test_a_trusted_workspace_starts_its_mcp_json_servers(
    env: dict[str, str], root: Path
) -> None:
    declared = {"mcpServers": {"fx": {"command": sys.executable, "args": [FIXTURE, "stdio"]}}}
    (root / ".mcp.json").write_text(json.dumps(declared))
    write_user_manifest(env, f'[trust]\nworkspaces = ["{root}"]\n')
    session = await start(env, root)
    try:
        listing = await wait_ready(session, "fx")
        assert listing["servers"][0]["source"] == str(root / ".mcp.json")
        assert trust_messages(session) == []
    finally:
        await stop(session)


def trust_messages(session: Session) -> list[str]:
    return [
        m.message
        for m in session.client.messages
        if "not trusted" in m.message and "MCP" in m.message
    ]


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def mcp_processes(server_pid: int) -> list[int]:
    return [
        pid
        for pid in descendants(server_pid)
        if "mcp-server-time" in cmdline(pid)
        or FIXTURE in cmdline(pid)
        or "launch.py" in cmdline(pid)
    ]


async def test_no_mcp_process_survives_shutdown(env: dict[str, str], root: Path) -> None:
    write_user_manifest(
        env,
        toml_server("time", command=TIME_SERVER)
        + toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"]),
    )
    session = await start(env, root)
    server = session.client._server
    assert server is not None
    await wait_ready(session, "time", "fx")
    pids = mcp_processes(server.pid)
    assert len(pids) >= 4  # a launcher and a server each
    assert all(niceness(p) == 10 for p in pids)  # they start while the first chat does
    await stop(session)
    assert await eventually(lambda: not any(alive(p) for p in pids), patience=10)


async def test_no_mcp_process_survives_a_killed_server(env: dict[str, str], root: Path) -> None:
    write_user_manifest(
        env,
        toml_server("time", command=TIME_SERVER)
        + toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"]),
    )
    session = await start(env, root)
    server = session.client._server
    assert server is not None
    await wait_ready(session, "time", "fx")
    pids = mcp_processes(server.pid)
    assert len(pids) >= 4
    os.kill(server.pid, signal.SIGKILL)
    await session.client.stop()
    assert await eventually(lambda: not any(alive(p) for p in pids), patience=10)


async def test_a_tool_the_server_adds_later_reaches_the_model(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(
        env, toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"], approval="auto")
    )
    session = await start(env, root)
    changes = record_mcp(session)
    try:
        await wait_ready(session, "fx")
        scripted_model.load(
            [
                {"tool_calls": [{"name": "mcp__fx__grow", "arguments": {"name": "shiny"}}]},
                {"text": "grown"},
            ]
        )
        session.state.approval_answers += [{"decision": "allow"}, {"decision": "allow"}]
        pod = await session.create_pod()
        await session.chat(pod, "grow a tool")
        assert "mcp__fx__shiny" not in offered(scripted_model, 0)
        # the server said its tools changed: the hub lists them again
        assert await eventually(lambda: any("shiny" in c["tools"] for c in changes))
        scripted_model.load(
            [{"tool_calls": [{"name": "mcp__fx__shiny", "arguments": {}}]}, {"text": "done"}]
        )
        await session.chat(pod, "use it")
        assert "mcp__fx__shiny" in offered(scripted_model, 0)
        assert "I am shiny" in tool_messages(scripted_model, 1)[-1]["content"]
    finally:
        await stop(session)


async def test_a_restart_goes_straight_back_to_starting_and_stop_does_not_wait_for_a_silent_server(
    env: dict[str, str], root: Path
) -> None:
    write_user_manifest(
        env,
        toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"])
        + toml_server("silent", command="/bin/sh", args=["-c", "exec sleep 300"], timeout=120),
    )
    session = await start(env, root)
    changes = record_mcp(session)
    server = session.client._server
    assert server is not None
    try:
        await wait_ready(session, "fx")
        await session.request("yoi/mcp/restart", {"name": "fx"})
        assert await eventually(
            lambda: [c["connects"] for c in changes if c["status"] == "ready"][-1:] == [2]
        )
        fx = [c["status"] for c in changes if c["name"] == "fx"]
        assert "error" not in fx and fx[-3:] == ["ready", "starting", "ready"]
        silent = [p for p in descendants(server.pid) if "sleep 300" in cmdline(p)]
        assert silent
    finally:
        await stop(session)  # the silent server is still "starting": it is not waited for
    assert await eventually(lambda: not any(alive(p) for p in silent), patience=10)


async def test_an_http_server_that_crashed_and_came_back_is_reconnected(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    with http_fixture() as (first, port):
        write_user_manifest(
            env, toml_server("fx", url=f"http://127.0.0.1:{port}/mcp", approval="auto")
        )
        session = await start(env, root)
        try:
            await wait_ready(session, "fx")
            scripted_model.load(
                [{"tool_calls": [{"name": "mcp__fx__crash", "arguments": {}}]}, {"text": "gone"}]
            )
            session.state.approval_answers.append({"decision": "allow"})
            pod = await session.create_pod()
            assert (await session.chat(pod, "crash it"))["outcome"] == "finished"
            await asyncio.to_thread(first.wait, 10)
            with http_fixture(port):  # the service comes back on its port
                for _ in range(600):
                    (fx,) = (await session.request("yoi/mcp/list", {}))["servers"]
                    if fx["status"] == "ready" and fx["connects"] == 2:
                        break
                    await asyncio.sleep(0.1)
                assert fx["connects"] == 2, fx
                scripted_model.load(
                    [
                        {"tool_calls": [{"name": "mcp__fx__echo", "arguments": {"text": "back"}}]},
                        {"text": "ok"},
                    ]
                )
                await session.chat(pod, "again")
                assert "echo: back" in tool_messages(scripted_model, 1)[-1]["content"]
        finally:
            await stop(session)


async def test_restart_reads_the_configuration_again(env: dict[str, str], root: Path) -> None:
    fixture = {"command": sys.executable, "args": [FIXTURE, "stdio"]}
    write_user_manifest(env, toml_server("fx", **fixture))
    session = await start(env, root)
    try:
        listing = await wait_ready(session, "fx")
        assert "add" in listing["servers"][0]["tools"]
        # an edited entry applies
        write_user_manifest(env, toml_server("fx", **fixture, tools=["echo"]))
        assert await session.request("yoi/mcp/restart", {"name": "fx"}) == {
            "name": "fx",
            "restarting": True,
        }
        async with asyncio.timeout(60):
            while True:
                (fx,) = (await session.request("yoi/mcp/list", {}))["servers"]
                if fx["status"] == "ready" and fx["connects"] == 2:
                    break
                await asyncio.sleep(0.1)
        assert fx["tools"] == ["echo"]
        # a new entry starts; a removed one stops
        write_user_manifest(env, toml_server("fx2", **fixture))
        answer = await session.request("yoi/mcp/restart", {"name": "fx2"})
        assert answer == {"name": "fx2", "restarting": True}
        await wait_ready(session, "fx2")
        answer = await session.request("yoi/mcp/restart", {"name": "fx"})
        assert answer == {"name": "fx", "restarting": False}
        listing = await session.request("yoi/mcp/list", {})
        assert [s["name"] for s in listing["servers"]] == ["fx2"]
    finally:
        await stop(session)


async def test_no_mcp_process_survives_a_killed_editor(env: dict[str, str], root: Path) -> None:
    """The editor dies (kill -9): the language server's stdin closes, it goes,
    and its MCP servers with it."""
    write_user_manifest(
        env,
        toml_server("time", command=TIME_SERVER)
        + toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"]),
    )
    editor = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(FIXTURE).with_name("editor.py")),
        str(root),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert editor.stdout is not None
    try:
        async with asyncio.timeout(90):
            server_pid = int(await editor.stdout.readline())
        pids = [server_pid, *mcp_processes(server_pid)]
        assert len(pids) >= 5  # the server, a launcher and a server each
    finally:
        editor.kill()
        await editor.wait()
    assert await eventually(lambda: not any(alive(p) for p in pids), patience=15)
