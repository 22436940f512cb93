"""``yoi/pod/configure``: model, mode, reasoning effort and profiles, switched
between turns through the real ``yoi lsp`` process and the real litellm, and
kept across a restore."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, start, stop
from lspkit import env as env  # noqa: PLC0414 (the fixture)
from lspkit import lsp as lsp  # noqa: PLC0414 (the fixture)
from pygls.exceptions import JsonRpcException

from agent.manifest import load_manifest
from agent.store import ConfigChanged, SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)

WRITERS = {"edit_file", "write_file", "run_command"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("print('hi')\n")
    return ws.resolve()


def tool_names(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


def tool_results(body: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def system_notes(body: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in body["messages"][1:] if m["role"] == "system"]


def write_user_manifest(config: Path, text: str) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / "manifest.toml").write_text(text)


async def configure(lsp: Session, pod: str, **change: Any) -> dict[str, Any]:
    result: dict[str, Any] = await lsp.request("yoi/pod/configure", {"podId": pod, **change})
    return result


async def test_a_new_model_is_used_by_the_next_request_and_after_a_restore(
    lsp: Session, env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "one"}, {"text": "two"}, {"text": "three"}])
    pod = await lsp.create_pod()
    await lsp.chat(pod, "first")
    assert scripted_model.requests[0]["model"] == "scripted"

    changed = await configure(lsp, pod, model="openai/other-model", reasoningEffort="low")
    assert changed == {
        "podId": pod,
        "model": "openai/other-model",
        "mode": "agent",
        "reasoningEffort": "low",
        "profile": None,
    }
    event = await lsp.wait_event(pod, "config")
    assert (event["model"], event["reasoningEffort"]) == ("openai/other-model", "low")
    await lsp.chat(pod, "second")
    body = scripted_model.requests[1]
    assert body["model"] == "other-model"
    assert body["reasoning_effort"] == "low"
    # history and system prompt are kept verbatim
    assert body["messages"][0] == scripted_model.requests[0]["messages"][0]
    assert [m["content"] for m in body["messages"][1:3]] == ["first", "one"]

    listed = (await lsp.request("yoi/pod/list", {}))["pods"][0]
    assert (listed["model"], listed["mode"], listed["reasoningEffort"]) == (
        "openai/other-model",
        "agent",
        "low",
    )
    session = listed["sessionId"]
    entries = SessionStore(Path(env["YOI_HOME"]) / "sessions").read(session).entries
    changes = [e for e in entries if isinstance(e, ConfigChanged)]
    assert len(changes) == 1 and changes[0].config["configured"]["model"] == "openai/other-model"

    await lsp.request("yoi/pod/dispose", {"podId": pod})
    restored = await lsp.request("yoi/pod/create", {"resumeSessionId": session})
    assert (restored["model"], restored["reasoningEffort"]) == ("openai/other-model", "low")
    await lsp.chat(restored["podId"], "third")
    assert scripted_model.requests[2]["model"] == "other-model"


async def test_plan_mode_offers_only_reading_tools_and_refuses_a_forced_edit(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    edit = {"path": "app.py", "old_string": "hi", "new_string": "bye"}
    scripted_model.load(
        [
            {"tool_calls": [{"name": "edit_file", "arguments": edit}]},
            {"tool_calls": [{"name": "run_command", "arguments": {"command": "touch x"}}]},
            {"text": "1. Change app.py."},
            {"text": "Done."},
        ]
    )
    pod = await lsp.create_pod()
    assert (await configure(lsp, pod, mode="plan"))["mode"] == "plan"
    await lsp.chat(pod, "plan a change")
    first, _, third = scripted_model.requests[:3]
    offered = tool_names(first)
    assert "read_file" in offered and "grep" in offered
    assert not offered & WRITERS
    assert any("[Plan mode]" in note for note in system_notes(first))  # the model is told
    refusals = tool_results(third)
    assert "edit_file is not available in plan mode" in refusals[0]
    assert "run_command is not available in plan mode" in refusals[1]
    assert (root / "app.py").read_text() == "print('hi')\n"
    assert not (root / "x").exists()

    # "execute the plan": back to agent mode, every tool again, and the model is told
    await configure(lsp, pod, mode="agent")
    await lsp.chat(pod, "execute the plan")
    last = scripted_model.requests[3]
    assert tool_names(last) >= WRITERS
    assert any("[Agent mode]" in note for note in system_notes(last))


async def test_ask_mode_sends_no_tools_and_survives_a_restore(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
            {"text": "From memory: it prints hi."},
            {"text": "still asking"},
        ]
    )
    pod = await lsp.create_pod(mode="ask")
    await lsp.chat(pod, "what does app.py do?")
    first, second = scripted_model.requests[:2]
    assert not first.get("tools")
    assert "no tools are available in ask mode" in tool_results(second)[0]

    session = (await lsp.request("yoi/pod/list", {}))["pods"][0]["sessionId"]
    await lsp.request("yoi/pod/dispose", {"podId": pod})
    restored = await lsp.request("yoi/pod/create", {"resumeSessionId": session})
    assert restored["mode"] == "ask"
    await lsp.chat(restored["podId"], "and now?")
    assert not scripted_model.requests[2].get("tools")


async def test_configure_during_a_turn_is_refused_as_busy(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"hang": True}])
    pod = await lsp.create_pod()
    turn = asyncio.ensure_future(lsp.chat(pod, "hang"))
    await scripted_model.wait_for_requests_async(1, 30.0)  # the model process loads first
    with pytest.raises(JsonRpcException) as caught:
        await configure(lsp, pod, mode="plan")
    assert "already running" in str(caught.value)
    assert caught.value.data == {"reason": "busy"}  # type: ignore[attr-defined]
    await lsp.request("yoi/pod/interrupt", {"podId": pod})
    await turn


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"mode": "yolo"}, "mode"),
        ({"profile": "nope"}, "profile"),
        ({"model": ""}, "model"),
    ],
)
async def test_a_bad_change_answers_invalid_params(
    lsp: Session, change: dict[str, Any], word: str
) -> None:
    pod = await lsp.create_pod()
    with pytest.raises(JsonRpcException) as caught:
        await configure(lsp, pod, **change)
    assert caught.value.code == -32602  # type: ignore[attr-defined]
    assert word in str(caught.value)


PROFILES = """
[profiles.reviewer]
description = "reads and comments"
model = "openai/review-model"
mode = "plan"
reasoning_effort = "high"
tools = ["read_file", "grep"]

[profiles.quick]
model = "openai/quick-model"
"""


async def test_profiles_apply_at_creation_from_the_editor_and_by_configure(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(Path(env["YOI_CONFIG_DIR"]), PROFILES)
    scripted_model.load([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    lsp = await start(env, root, options={"profile": "reviewer"})
    try:
        pod = await lsp.create_pod()  # the editor's default profile
        listed = (await lsp.request("yoi/pod/list", {}))["pods"][0]
        assert (listed["profile"], listed["mode"], listed["model"]) == (
            "reviewer",
            "plan",
            "openai/review-model",
        )
        await lsp.chat(pod, "review")
        body = scripted_model.requests[0]
        assert body["model"] == "review-model" and body["reasoning_effort"] == "high"
        assert tool_names(body) == {"read_file", "grep"}

        quick = await lsp.create_pod(profile="quick")  # the request's profile wins
        await lsp.chat(quick, "quick one")
        assert scripted_model.requests[1]["model"] == "quick-model"
        assert tool_names(scripted_model.requests[1]) >= WRITERS

        switched = await configure(lsp, quick, profile="reviewer")
        assert (switched["profile"], switched["mode"]) == ("reviewer", "plan")
        await lsp.chat(quick, "now review")
        assert tool_names(scripted_model.requests[2]) == {"read_file", "grep"}

        with pytest.raises(JsonRpcException) as caught:
            await lsp.create_pod(profile="missing")
        assert "reviewer" in str(caught.value)  # the known profiles are named

        listed = (await lsp.request("yoi/profiles/list", {}))["profiles"]
        assert [p["name"] for p in listed] == ["quick", "reviewer"]
        assert listed[1]["description"] == "reads and comments"
        assert (listed[1]["mode"], listed[1]["tools"]) == ("plan", ["read_file", "grep"])

        # no profile: its tool list goes, the mode it chose stays until changed
        cleared = await configure(lsp, quick, profile="")
        assert (cleared["profile"], cleared["mode"]) == (None, "plan")
        scripted_model.load([{"text": "d"}])
        await lsp.chat(quick, "look around")
        offered = tool_names(scripted_model.requests[0])
        assert {"read_file", "grep", "glob", "list_dir"} <= offered
        assert not offered & WRITERS
    finally:
        await stop(lsp)


def test_an_untrusted_workspace_profile_cannot_turn_approvals_off(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".yoi").mkdir(parents=True)
    (ws / ".yoi" / "manifest.toml").write_text(
        '[profiles.yolo]\nmode = "agent"\napprovals = "auto"\n'
    )
    loaded = load_manifest(ws, config_dir=tmp_path / "config", env={})
    assert loaded.manifest.profiles["yolo"].approvals is None
    assert any("profiles.yolo.approvals" in str(p) for p in loaded.problems)
