"""Sub-agents end to end: the real ``yoi lsp`` process, the real litellm and
the scripted model, whose steps say whose request they answer (``match``:
the parent's prompt or the sub-agent's task)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, eventually

from agent.store import SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "docs").mkdir()
    (ws / "src" / "app.py").write_text("print('app')\n")
    (ws / "README.md").write_text("# readme\n")
    return ws.resolve()


def manifest(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "manifest.toml").write_text(text)


def call(name: str, arguments: dict[str, Any], match: str, id: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"tool_calls": [{"name": name, "arguments": arguments}], "match": match}
    if id is not None:
        step["tool_calls"][0]["id"] = id
    return step


def say(text: str, match: str, **extra: Any) -> dict[str, Any]:
    return {"text": text, "match": match, **extra}


def tool_results(body: dict[str, Any]) -> list[str]:
    return [str(m.get("content")) for m in body["messages"] if m.get("role") == "tool"]


def requests_of(model: ScriptedModel, marker: str) -> list[dict[str, Any]]:
    from agent.testing.script import first_user_text

    return [r for r in model.requests if marker in first_user_text(r)]


def sub_events(lsp: Session, parent: str) -> list[dict[str, Any]]:
    return lsp.events(parent, "subAgent")


def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "home" / "yoi" / "sessions")


async def test_foreground_child_answers_and_the_parent_continues(
    lsp: Session, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-A find the answer", "name": "research-agent"},
                "PARENT-1",
                id="call_spawn",
            ),
            say("The answer is 42.", "CHILD-A"),
            say("The sub-agent found 42.", "PARENT-1"),
        ]
    )
    pod = await lsp.create_pod()
    result = await lsp.chat(pod, "PARENT-1 ask a sub-agent")
    assert result["outcome"] == "finished"
    last = requests_of(scripted_model, "PARENT-1")[-1]
    assert any("The answer is 42." in r for r in tool_results(last))
    child_request = requests_of(scripted_model, "CHILD-A")[0]
    assert "research-agent" in child_request["messages"][-1]["content"]
    # the child's own events carry its pod id and the parent's
    started, ended = sub_events(lsp, pod)
    child = started["podId"]
    assert started["status"] == "running" and started["name"] == "research-agent"
    assert started["callId"] == "call_spawn"
    assert ended["status"] == "finished" and ended["answer"] == "The answer is 42."
    child_events = [e for e in lsp.state.events if e["podId"] == child]
    assert child_events and all(e["parentPodId"] == pod for e in child_events)
    assert [e["event"]["outcome"] for e in child_events if e["event"]["type"] == "turnEnd"] == [
        "finished"
    ]
    # the child's log is linked to the parent's session and the spawning call
    listed = await lsp.request("yoi/pod/list", {})
    parent_session = next(p["sessionId"] for p in listed["pods"] if p["podId"] == pod)
    assert all(p["podId"] != child for p in listed["pods"])  # gone once its run ended
    start_entry = store(tmp_path).read(started["sessionId"]).records[0].entry
    assert start_entry.kind == "session_start"
    assert start_entry.spawned_by is not None
    assert start_entry.spawned_by.session_id == parent_session
    assert start_entry.spawned_by.call_id == "call_spawn"
    assert start_entry.spawned_by.name == "research-agent"
    listed_sessions = (await lsp.request("yoi/sessions/list", {}))["sessions"]
    child_info = next(i for i in listed_sessions if i["sessionId"] == started["sessionId"])
    assert child_info["spawnedBySessionId"] == parent_session
    parent_info = next(i for i in listed_sessions if i["sessionId"] == parent_session)
    assert "spawnedBySessionId" not in parent_info


async def test_two_background_children_run_in_parallel_and_the_parent_hears_of_both(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            {
                "match": "PARENT-2",
                "tool_calls": [
                    {
                        "name": "spawn_agent",
                        "arguments": {
                            "task": "CHILD-B one",
                            "name": "b",
                            "readOnly": True,
                            "background": True,
                        },
                    },
                    {
                        "name": "spawn_agent",
                        "arguments": {
                            "task": "CHILD-C two",
                            "name": "c",
                            "readOnly": True,
                            "background": True,
                        },
                    },
                ],
            },
            say("Both started.", "PARENT-2"),
            # each child answers slowly, so both run at once
            say("B says hello.", "CHILD-B", chunk_size=1, chunk_delay_ms=40),
            say("C says hello.", "CHILD-C", chunk_size=1, chunk_delay_ms=40),
            say("Noted.", "PARENT-2"),
            say("Noted again.", "PARENT-2"),
        ]
    )
    pod = await lsp.create_pod()
    result = await lsp.chat(pod, "PARENT-2 start two")
    assert result["outcome"] == "finished"
    ends = lambda: [e for e in sub_events(lsp, pod) if e["status"] != "running"]  # noqa: E731
    assert await eventually(lambda: len(ends()) == 2, 20)
    assert {e["name"]: e["answer"] for e in ends()} == {"b": "B says hello.", "c": "C says hello."}
    # the children overlapped: both were running before either ended
    statuses = [(e["name"], e["status"]) for e in sub_events(lsp, pod)]
    assert {s for s in statuses[:2]} == {("b", "running"), ("c", "running")}
    assert len(requests_of(scripted_model, "CHILD-B")) == 1
    assert len(requests_of(scripted_model, "CHILD-C")) == 1
    # the parent got both answers as notes, in turns it started by itself
    assert await eventually(lambda: scripted_model.remaining == 0, 20)
    notes = " ".join(str(r["messages"]) for r in requests_of(scripted_model, "PARENT-2")[2:])
    assert "B says hello." in notes and "C says hello." in notes


async def test_scope_inside_succeeds_outside_refused_and_parent_waits_for_the_subtree(
    lsp: Session, scripted_model: ScriptedModel, root: Path, tmp_path: Path
) -> None:
    lsp.state.edit_answers = [True, True, True]
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {
                    "task": "CHILD-W write docs",
                    "name": "writer",
                    "scope": {"write": ["docs"]},
                    "background": True,
                },
                "PARENT-3",
            ),
            call("write_file", {"path": "docs/guide.md", "content": "# guide\n"}, "CHILD-W"),
            call("write_file", {"path": "src/evil.py", "content": "x = 1\n"}, "CHILD-W"),
            # the parent tries the child's folder while the child runs
            call("write_file", {"path": "docs/parent.md", "content": "mine\n"}, "PARENT-3"),
            say("Waiting for writer.", "PARENT-3"),
            {"match": "CHILD-W", "hang": True},
        ]
    )
    pod = await lsp.create_pod()
    # the child's first two requests run before the parent's second: the hang keeps it running
    result = await lsp.chat(pod, "PARENT-3 delegate docs")
    assert result["outcome"] == "finished"
    assert await eventually(lambda: len(requests_of(scripted_model, "CHILD-W")) >= 3, 20)
    assert (root / "docs" / "guide.md").read_text() == "# guide\n"
    assert not (root / "src" / "evil.py").exists()
    child_results = tool_results(requests_of(scripted_model, "CHILD-W")[2])
    assert "src/evil.py" in child_results[-1] and "read-only" in child_results[-1]
    parent_results = tool_results(requests_of(scripted_model, "PARENT-3")[-1])
    assert any("delegated to the sub-agent writer" in r for r in parent_results)
    assert not (root / "docs" / "parent.md").exists()
    # once the child is stopped, the folder is the parent's again
    scripted_model.load(
        [
            call("stop_agent", {"id": "writer"}, "PARENT-3"),
            call("write_file", {"path": "docs/parent.md", "content": "mine\n"}, "PARENT-3"),
            say("Done.", "PARENT-3"),
        ]
    )
    pod2_result = await lsp.chat(pod, "PARENT-4 now write")
    assert pod2_result["outcome"] == "finished"
    assert (root / "docs" / "parent.md").read_text() == "mine\n"


async def test_a_child_spawns_within_its_own_scope(
    lsp: Session, scripted_model: ScriptedModel, root: Path, tmp_path: Path
) -> None:
    lsp.state.edit_answers = [True]
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-M organise docs", "name": "mid", "scope": {"write": ["docs"]}},
                "PARENT-N",
            ),
            call("spawn_agent", {"task": "LEAF too wide", "scope": {"write": ["src"]}}, "CHILD-M"),
            call(
                "spawn_agent",
                {"task": "LEAF write the api page", "name": "leaf", "scope": {"write": ["docs"]}},
                "CHILD-M",
            ),
            call("write_file", {"path": "docs/api.md", "content": "# api\n"}, "LEAF write"),
            say("Wrote docs/api.md.", "LEAF write"),
            say("leaf wrote it", "CHILD-M"),
            say("all done", "PARENT-N"),
        ]
    )
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "PARENT-N go"))["outcome"] == "finished"
    assert (root / "docs" / "api.md").read_text() == "# api\n"
    wide = tool_results(requests_of(scripted_model, "CHILD-M")[1])[-1]
    assert "src" in wide and "read-only" in wide  # a child cannot hand out more than it has
    (mid_start, mid_end) = sub_events(lsp, pod)
    mid = mid_start["podId"]
    (leaf_start, leaf_end) = sub_events(lsp, mid)
    assert leaf_end["answer"] == "Wrote docs/api.md." and mid_end["answer"] == "leaf wrote it"
    leaf_events = [e for e in lsp.state.events if e["podId"] == leaf_start["podId"]]
    assert leaf_events and all(e["parentPodId"] == mid for e in leaf_events)
    link = store(tmp_path).read(leaf_start["sessionId"]).records[0].entry
    assert link.kind == "session_start" and link.spawned_by is not None
    assert link.spawned_by.session_id == mid_start["sessionId"]
