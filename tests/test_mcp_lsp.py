"""MCP servers as tools, end to end: the real language server, the real
litellm and the scripted model, with real MCP servers (``mcp-server-time``
and ``mcp-server-git`` from PyPI, and the fixture server over streamable
HTTP and stdio)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lspkit import start, stop
from mcpkit import (
    FIXTURE,
    GIT_SERVER,
    TIME_SERVER,
    git_repo,
    http_fixture,
    record_mcp,
    toml_server,
    tool_messages,
    wait_ready,
    write_user_manifest,
)

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(150)  # generous: each test starts real servers (busy CI)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("print('hi')\n")
    return ws.resolve()


def answers_by_tool(model: ScriptedModel, request: int) -> dict[str, str]:
    """The tool results a request carried, by the name of the tool called."""
    names = {
        call["id"]: call["function"]["name"]
        for m in model.requests[request]["messages"]
        for call in m.get("tool_calls") or []
    }
    return {names[m["tool_call_id"]]: m["content"] for m in tool_messages(model, request)}


def offered(model: ScriptedModel, request: int = 0) -> list[str]:
    return [t["function"]["name"] for t in model.requests[request].get("tools", [])]


async def test_the_time_server_answers_the_model_after_approval(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(
        env, toml_server("time", command=TIME_SERVER, args=["--local-timezone", "UTC"])
    )
    session = await start(env, root)
    changes = record_mcp(session)
    try:
        listing = await wait_ready(session, "time")
        (server,) = listing["servers"]
        assert server["toolCount"] == 2 and "get_current_time" in server["tools"]
        assert server["transport"] == "stdio" and server["lastError"] is None
        assert [c["status"] for c in changes if c["name"] == "time"][-1] == "ready"
        scripted_model.load(
            [
                {
                    "tool_calls": [
                        {
                            "name": "mcp__time__get_current_time",
                            "arguments": {"timezone": "Asia/Tokyo"},
                        }
                    ]
                },
                {"text": "It is evening in Tokyo."},
            ]
        )
        session.state.approval_answers.append({"decision": "allowSession"})
        pod = await session.create_pod()
        result = await session.chat(pod, "What time is it in Tokyo?")
        assert result["outcome"] == "finished"
        assert "mcp__time__get_current_time" in offered(scripted_model)
        (approval,) = session.state.approvals
        assert approval["tool"] == "mcp__time__get_current_time"
        assert approval["arguments"] == {"timezone": "Asia/Tokyo"}
        (answer,) = tool_messages(scripted_model, 1)
        assert '"timezone": "Asia/Tokyo"' in answer["content"]
        (done,) = session.events(pod, "toolResult")
        assert done["ok"] and done["name"] == "mcp__time__get_current_time"
    finally:
        await stop(session)


async def test_the_git_server_reads_a_repository_without_asking_when_configured_auto(
    env: dict[str, str], root: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    repo = git_repo(tmp_path / "repo")
    write_user_manifest(
        env,
        toml_server(
            "git",
            command=GIT_SERVER,
            args=["--repository", str(repo)],
            tool_approval={"git_status": "auto"},
        ),
    )
    session = await start(env, root)
    try:
        await wait_ready(session, "git")
        scripted_model.load(
            [
                {
                    "tool_calls": [
                        {"name": "mcp__git__git_status", "arguments": {"repo_path": str(repo)}}
                    ]
                },
                {"text": "hello.txt changed."},
            ]
        )
        pod = await session.create_pod()
        result = await session.chat(pod, "what changed?")
        assert result["outcome"] == "finished"
        assert session.state.approvals == []
        (answer,) = tool_messages(scripted_model, 1)
        assert "hello.txt" in answer["content"]
    finally:
        await stop(session)


async def test_http_server_results_errors_images_resources_and_a_hang(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    with http_fixture() as (_proc, port):
        write_user_manifest(
            env,
            toml_server(
                "fx",
                url=f"http://127.0.0.1:{port}/mcp",
                timeout=2,
                approval="auto",
                tool_approval={
                    "picture": "auto",
                    "embedded": "auto",
                    "fail": "auto",
                    "hang": "auto",
                },
            ),
        )
        session = await start(env, root)
        try:
            listing = await wait_ready(session, "fx")
            (server,) = listing["servers"]
            assert server["transport"] == "http" and server["resourceCount"] == 1
            assert server["prompts"] == ["review"]
            calls = [
                {"name": "mcp__fx__echo", "arguments": {"text": "hi"}},
                {"name": "mcp__fx__picture", "arguments": {}},
                {"name": "mcp__fx__embedded", "arguments": {}},
                {"name": "mcp__fx__fail", "arguments": {"message": "the disk is on fire"}},
                {"name": "mcp__fx__hang", "arguments": {}},
            ]
            scripted_model.load([{"tool_calls": calls}, {"text": "done"}])
            pod = await session.create_pod()
            result = await session.chat(pod, "use the tools")
            assert result["outcome"] == "finished"  # the hang did not hold the turn
            texts = answers_by_tool(scripted_model, 1)
            assert len(texts) == 5
            assert "echo: hi" in texts["mcp__fx__echo"]
            assert "a one-pixel picture" in texts["mcp__fx__picture"]
            assert "[image from fx: image/png, 70 bytes; attached]" in texts["mcp__fx__picture"]
            # the image itself follows the tool results (the model may see images)
            (url,) = scripted_model.image_urls[1]
            assert url.startswith("data:image/png;base64,iVBORw0KGgo")
            assert "[resource notes://inline]\ninline notes" in texts["mcp__fx__embedded"]
            failed = texts["mcp__fx__fail"]
            assert "the disk is on fire" in failed and "reported an error" in failed
            assert "did not answer the tool hang within 2 s" in texts["mcp__fx__hang"]
            results = {e["name"]: e for e in session.events(pod, "toolResult")}
            assert results["mcp__fx__echo"]["ok"] and not results["mcp__fx__fail"]["ok"]
            assert not results["mcp__fx__hang"]["ok"]
            # the connection survived the hang: the next call works
            scripted_model.load(
                [
                    {"tool_calls": [{"name": "mcp__fx__echo", "arguments": {"text": "again"}}]},
                    {"text": "ok"},
                ]
            )
            await session.chat(pod, "once more")
            assert "echo: again" in tool_messages(scripted_model, 1)[-1]["content"]
        finally:
            await stop(session)


async def test_prompts_as_workflows_and_resources_as_references(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    with http_fixture() as (_proc, port):
        write_user_manifest(env, toml_server("fx", url=f"http://127.0.0.1:{port}/mcp"))
        session = await start(env, root)
        try:
            await wait_ready(session, "fx")
            files = await session.request("yoi/references/complete", {"prefix": "", "kind": "file"})
            paths = [i["path"] for i in files["items"]]
            assert paths[-1] == "fx:notes://readme" and "app.py" in paths  # after the files
            readme = files["items"][-1]
            assert readme["kind"] == "file" and "MCP fx" in readme["detail"]
            flows = await session.request(
                "yoi/references/complete", {"prefix": "rev", "kind": "workflow"}
            )
            assert [i["label"] for i in flows["items"]] == ["fx:review"]

            scripted_model.load([{"text": "reviewed"}, {"text": "again"}])
            pod = await session.create_pod()
            await session.chat(
                pod,
                "",
                {"kind": "workflow", "slug": "fx:review"},
                {"kind": "text", "text": " app.py"},
                {"kind": "file", "path": "fx:notes://readme"},
            )
            sent = scripted_model.requests[0]["messages"][-1]["content"]
            assert "Please review app.py carefully." in sent
            assert "[MCP resource: fx:notes://readme]" in sent
            assert "Fixture readme: the answer is 42." in sent
            assert session.events(pod, "alert") == []

            await session.chat(pod, "", {"kind": "workflow", "slug": "fx:review"})
            sent = scripted_model.requests[1]["messages"][-1]["content"]
            assert "the prompt needs topic" in sent
            (alert,) = session.events(pod, "alert")
            assert "/fx:review was not attached" in alert["message"]
        finally:
            await stop(session)


async def test_server_auto_approval_covers_read_only_tools_only_and_a_denial_reaches_the_model(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(
        env, toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"], approval="auto")
    )
    session = await start(env, root)
    try:
        await wait_ready(session, "fx")
        calls = [
            {"name": "mcp__fx__echo", "arguments": {"text": "read-only"}},
            {"name": "mcp__fx__add", "arguments": {"a": 1, "b": 2}},
        ]
        scripted_model.load([{"tool_calls": calls}, {"text": "ok"}])
        session.state.approval_answers.append({"decision": "deny"})
        pod = await session.create_pod()
        await session.chat(pod, "echo and add")
        (asked,) = session.state.approvals  # echo is read-only: not asked
        assert asked["tool"] == "mcp__fx__add"
        assert asked["reason"] == "Call add on the MCP server fx"
        answers = answers_by_tool(scripted_model, 1)
        assert "echo: read-only" in answers["mcp__fx__echo"]
        assert "The user denied calling add on the MCP server fx." in answers["mcp__fx__add"]
    finally:
        await stop(session)
