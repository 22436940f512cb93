"""Modes and profiles where they meet MCP servers and sub-agents, through the
real ``yoi lsp`` process: plan mode offers an MCP server's read-only tools
and nothing else of it; ``spawn_agent`` starts a child with a profile."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, start, stop
from lspkit import env as env  # noqa: PLC0414 (the fixture)
from lspkit import lsp as lsp  # noqa: PLC0414 (the fixture)
from mcpkit import FIXTURE, toml_server, wait_ready, write_user_manifest
from test_agents_lsp import call, manifest, requests_of, say

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("print('app')\n")
    return ws.resolve()


def tool_names(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


async def test_plan_mode_offers_an_mcp_servers_read_only_tools_only(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(env, toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"]))
    session = await start(env, root)
    try:
        await wait_ready(session, "fx")
        add = {"name": "mcp__fx__add", "arguments": {"a": 1, "b": 2}}
        scripted_model.load([{"tool_calls": [add]}, {"text": "planned"}])
        pod = await session.create_pod(mode="plan")
        await session.chat(pod, "plan with the server")
        offered = tool_names(scripted_model.requests[0])
        assert {"mcp__fx__echo", "mcp__fx__pid"} <= offered  # readOnlyHint
        assert not offered & {"mcp__fx__add", "mcp__fx__crash", "mcp__fx__fail"}
        refused = [
            str(m["content"]) for m in scripted_model.requests[1]["messages"] if m["role"] == "tool"
        ]
        assert "mcp__fx__add is not available in plan mode" in refused[0]
        assert session.state.approvals == []  # refused before anyone was asked
    finally:
        await stop(session)


PROFILES = """
[profiles.reviewer]
model = "openai/review-model"
mode = "plan"
tools = ["read_file", "grep"]
"""


async def test_spawn_agent_starts_a_child_with_a_profile(
    lsp: Session, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    manifest(tmp_path, PROFILES)
    scripted_model.load(
        [
            call("spawn_agent", {"task": "CHILD-P review src", "profile": "reviewer"}, "PARENT-P"),
            say("Looks fine.", "CHILD-P"),
            say("done", "PARENT-P"),
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-P review it"))["outcome"] == "finished"
    (child,) = requests_of(scripted_model, "CHILD-P")
    assert child["model"] == "review-model"
    assert tool_names(child) == {"read_file", "grep"}
    parent = requests_of(scripted_model, "PARENT-P")
    assert {r["model"] for r in parent} == {"scripted"}  # the parent keeps its own
    assert "spawn_agent" in tool_names(parent[0])
