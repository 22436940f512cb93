"""Sub-agents' limits, interrupts, approvals and a crash, end to end through
the real server and the scripted model (see tests/test_agents_lsp.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, eventually, start, stop
from test_agents_lsp import call, manifest, requests_of, say, store, sub_events, tool_results

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("print('app')\n")
    return ws.resolve()


async def test_a_read_only_child_cannot_edit_or_run_commands(
    lsp: Session, scripted_model: ScriptedModel, root: Path
) -> None:
    scripted_model.load(
        [
            call("spawn_agent", {"task": "CHILD-R look only", "readOnly": True}, "PARENT-R"),
            call("edit_file", {"path": "src/app.py", "old": "app", "new": "x"}, "CHILD-R"),
            call("run_command", {"command": "touch src/made"}, "CHILD-R"),
            say("I could only read.", "CHILD-R"),
            say("ok", "PARENT-R"),
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-R look"))["outcome"] == "finished"
    child = requests_of(scripted_model, "CHILD-R")
    names = {t["function"]["name"] for t in child[0]["tools"]}
    assert {"read_file", "grep", "spawn_agent"} <= names
    assert not names & {"write_file", "edit_file", "run_command"}
    assert "no tool named 'edit_file'" in tool_results(child[1])[-1]
    assert "no tool named 'run_command'" in tool_results(child[2])[-1]
    assert (root / "src" / "app.py").read_text() == "print('app')\n"
    assert not (root / "src" / "made").exists()
    assert lsp.state.edits == [] and lsp.state.approvals == []


async def test_depth_and_count_limits_give_clear_errors(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    manifest(tmp_path, "[agents]\nmax_children = 1\nmax_depth = 1\n")
    scripted_model.load(
        [
            {
                "match": "PARENT-L",
                "tool_calls": [
                    {
                        "name": "spawn_agent",
                        "arguments": {
                            "task": "CHILD-L1 nest",
                            "name": "one",
                            "readOnly": True,
                            "background": True,
                        },
                    },
                    {
                        "name": "spawn_agent",
                        "arguments": {
                            "task": "CHILD-L2 never",
                            "name": "two",
                            "readOnly": True,
                            "background": True,
                        },
                    },
                ],
            },
            say("one started", "PARENT-L"),
            call("spawn_agent", {"task": "GRANDCHILD never"}, "CHILD-L1"),
            say("I could not nest.", "CHILD-L1"),
            say("noted", "PARENT-L"),
        ]
    )
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        assert (await lsp.chat(pod, "PARENT-L spawn two"))["outcome"] == "finished"
        second = tool_results(requests_of(scripted_model, "PARENT-L")[1])
        assert any("max_children = 1" in r for r in second)
        assert await eventually(lambda: len(requests_of(scripted_model, "CHILD-L1")) == 2, 20)
        nested = tool_results(requests_of(scripted_model, "CHILD-L1")[1])[-1]
        assert "max_depth" in nested and "depth 1" in nested
        assert requests_of(scripted_model, "CHILD-L2") == []
        assert requests_of(scripted_model, "GRANDCHILD") == []
    finally:
        await stop(lsp)


async def test_interrupting_the_parent_stops_its_children(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-I wait", "name": "bg", "readOnly": True, "background": True},
                "PARENT-I",
            ),
            {"match": "PARENT-I", "hang": True},
            {"match": "CHILD-I", "hang": True},
        ]
    )
    pod = await lsp.create_pod()
    chat = asyncio.ensure_future(
        lsp.client.protocol.send_request_async(
            "yoi/chat", {"podId": pod, "input": [{"kind": "text", "text": "PARENT-I go"}]}
        )
    )
    assert await eventually(lambda: scripted_model.remaining == 0, 20)
    listed = (await lsp.request("yoi/pod/list", {}))["pods"]
    child = next(p for p in listed if p.get("parentPodId") == pod)
    assert child["name"] == "bg" and child["state"] == "running"
    await lsp.request("yoi/pod/interrupt", {"podId": pod})
    assert (await chat)["outcome"] == "interrupted"
    assert await eventually(lambda: len(sub_events(lsp, pod)) == 2, 10)
    assert sub_events(lsp, pod)[-1]["status"] == "interrupted"
    assert lsp.events(child["podId"], "turnEnd")[-1]["outcome"] == "interrupted"
    assert all(
        p["podId"] != child["podId"] for p in (await lsp.request("yoi/pod/list", {}))["pods"]
    )


async def test_a_child_can_be_interrupted_on_its_own_and_the_parent_hears_of_it(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-J wait", "name": "bg", "readOnly": True, "background": True},
                "PARENT-J",
            ),
            say("started", "PARENT-J"),
            {"match": "CHILD-J", "hang": True},
            say("it was interrupted", "PARENT-J"),
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-J go"))["outcome"] == "finished"
    assert await eventually(lambda: len(requests_of(scripted_model, "CHILD-J")) == 1, 20)
    child = next(p for p in (await lsp.request("yoi/pod/list", {}))["pods"] if p.get("parentPodId"))
    await lsp.request("yoi/pod/interrupt", {"podId": child["podId"]})
    assert await eventually(lambda: scripted_model.remaining == 0, 20)
    note = str(requests_of(scripted_model, "PARENT-J")[-1]["messages"])
    assert "`bg` was interrupted" in note


async def test_a_childs_approval_names_it_and_allow_for_session_is_per_agent(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    lsp.state.approval_answers = [{"decision": "allowSession"}, {"decision": "deny"}]
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-P run it", "name": "research-agent", "scope": {"write": ["src"]}},
                "PARENT-P",
            ),
            call("run_command", {"command": "echo hi"}, "CHILD-P"),
            call("run_command", {"command": "echo hi"}, "CHILD-P"),
            say("ran it", "CHILD-P"),
            call("run_command", {"command": "echo hi"}, "PARENT-P"),
            say("done", "PARENT-P"),
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-P go"))["outcome"] == "finished"
    asked = lsp.state.approvals
    assert len(asked) == 2  # the child's second run was allowed for its session
    child_id = sub_events(lsp, pod)[0]["podId"]
    assert asked[0]["podId"] == child_id and asked[0]["parentPodId"] == pod
    assert asked[0]["reason"].startswith("research-agent wants to run `echo hi`")
    assert asked[1]["podId"] == pod and "parentPodId" not in asked[1]  # the parent asks itself


async def test_a_killed_server_restores_both_logs_and_the_parent_says_what_happened(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-K slow", "name": "slow", "readOnly": True},
                "PARENT-K",
                id="call_k",
            ),
            call("read_file", {"path": "src/app.py"}, "CHILD-K"),
            {"match": "CHILD-K", "hang": True},
        ]
    )
    first = await start(env, root)
    server = first.client._server
    assert server is not None
    pod = await first.create_pod()
    chat = asyncio.ensure_future(
        first.client.protocol.send_request_async(
            "yoi/chat", {"podId": pod, "input": [{"kind": "text", "text": "PARENT-K go"}]}
        )
    )
    assert await eventually(lambda: scripted_model.remaining == 0, 30)
    pods = (await first.request("yoi/pod/list", {}))["pods"]
    parent_session = next(p["sessionId"] for p in pods if p["podId"] == pod)
    child_session = next(p["sessionId"] for p in pods if p.get("parentPodId") == pod)
    os.kill(server.pid, signal.SIGKILL)
    chat.cancel()
    with contextlib.suppress(BaseException):
        await chat
    await first.client.stop()

    sessions = store(tmp_path)
    sessions.read(parent_session)  # both chains verify
    sessions.read(child_session)
    scripted_model.load([])
    second = await start(env, root)
    try:
        restored = await second.create_pod(resumeSessionId=parent_session)
        history: dict[str, Any] = await second.request("yoi/pod/history", {"podId": restored})
        result = history["items"][-1]
        assert result["kind"] == "toolResult" and result["id"] == "call_k"
        assert "`slow` was interrupted: yoi stopped while it was running" in result["summary"]
        (state,) = history["subAgents"]
        assert state["name"] == "slow" and state["status"] == "interrupted"
        assert state["sessionId"] == child_session and state["callId"] == "call_k"
        scripted_model.load([call("list_agents", {}, "PARENT-K"), say("ok", "PARENT-K")])
        assert (await second.chat(restored, "what became of it?"))["outcome"] == "finished"
        listing = tool_results(scripted_model.requests[-1])[-1]
        assert listing.startswith("slow [interrupted, read-only]")
        child = await second.create_pod(resumeSessionId=child_session)
        child_history = await second.request("yoi/pod/history", {"podId": child})
        assert child_history["lastRunInterrupted"] is True
    finally:
        await stop(second)
    sessions.read(parent_session)
    sessions.read(child_session)


async def test_send_to_agent_continues_its_session_and_read_agent_output_shows_it(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-S count", "name": "counter", "readOnly": True},
                "PARENT-S",
            ),
            say("one", "CHILD-S"),
            call("send_to_agent", {"id": "counter", "message": "and the next?"}, "PARENT-S"),
            say("sent", "PARENT-S"),
            say("two", "CHILD-S"),
            call("read_agent_output", {"id": "counter"}, "PARENT-S"),
            say("it said two", "PARENT-S"),
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-S go"))["outcome"] == "finished"
    assert await eventually(lambda: scripted_model.remaining == 0, 20)
    second = requests_of(scripted_model, "CHILD-S")[1]
    assert [m["content"] for m in second["messages"] if m["role"] == "assistant"] == ["one"]
    assert second["messages"][-1]["content"] == "and the next?"
    output = tool_results(requests_of(scripted_model, "PARENT-S")[-1])[-1]
    assert "`counter` is finished (read-only)" in output and "two" in output
    starts = [e for e in sub_events(lsp, pod) if e["status"] == "running"]
    assert len(starts) == 2 and starts[0]["sessionId"] == starts[1]["sessionId"]
    assert starts[0]["podId"] != starts[1]["podId"]  # a new pod, the same session


async def test_a_compacted_parent_still_knows_its_sub_agents_when_restored(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    manifest(tmp_path, "[compaction]\ncompact_retained_tokens = 10\n[memory]\nenabled = false\n")
    summary = {"tool_calls": [{"name": "write_summary", "arguments": {"text": "## Done"}}]}
    scripted_model.load(
        [
            call(
                "spawn_agent", {"task": "CHILD-Z look", "name": "z", "readOnly": True}, "PARENT-Z"
            ),
            say("z looked", "CHILD-Z"),
            say("done", "PARENT-Z", usage={"prompt_tokens": 4000, "completion_tokens": 9}),
            summary,
            *[{"text": "ok"}] * 3,
        ]
    )
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        first = (await lsp.chat(pod, "PARENT-Z go"))["sessionId"]
        compacted = (await lsp.request("yoi/pod/compact", {"podId": pod}))["sessionId"]
        assert compacted != first
        await lsp.request("yoi/pod/dispose", {"podId": pod})
        restored = await lsp.create_pod(resumeSessionId=compacted)
        history = await lsp.request("yoi/pod/history", {"podId": restored})
        (state,) = history["subAgents"]
        assert (state["name"], state["status"], state["answer"]) == ("z", "finished", "z looked")
    finally:
        await stop(lsp)


async def test_a_failing_child_is_a_tool_error_and_the_parent_goes_on(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-E fail", "name": "frail", "readOnly": True},
                "PARENT-E",
            ),
            {"match": "CHILD-E", "status": 400, "error": "this model does not exist"},
            say("the sub-agent failed, so I did it myself", "PARENT-E"),
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-E go"))["outcome"] == "finished"
    last = requests_of(scripted_model, "PARENT-E")[-1]
    tool = next(m for m in last["messages"] if m.get("role") == "tool")
    assert "The sub-agent `frail` failed" in tool["content"]
    assert "this model does not exist" in tool["content"]
    ended = sub_events(lsp, pod)[-1]
    assert ended["status"] == "error" and "this model does not exist" in ended["error"]
    results = lsp.events(pod, "toolResult")
    assert results[-1]["name"] == "spawn_agent" and results[-1]["ok"] is False


async def test_disposing_the_parent_stops_its_children_and_frees_their_folders(
    lsp: Session, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {
                    "task": "CHILD-D wait",
                    "name": "bg",
                    "background": True,
                    "scope": {"write": ["src"]},
                },
                "PARENT-D",
            ),
            say("started", "PARENT-D"),
            {"match": "CHILD-D", "hang": True},
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-D go"))["outcome"] == "finished"
    assert await eventually(lambda: scripted_model.remaining == 0, 20)
    registry = tmp_path / "home" / "yoi" / "pods.json"
    assert '"name": "bg"' in registry.read_text() and "/src" in registry.read_text()
    child = sub_events(lsp, pod)[0]["podId"]
    await lsp.request("yoi/pod/dispose", {"podId": pod})
    assert lsp.events(child, "turnEnd")[-1]["outcome"] == "interrupted"
    assert (await lsp.request("yoi/pod/list", {}))["pods"] == []
    assert '"name": "bg"' not in registry.read_text()
