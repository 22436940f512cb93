"""``yoi/pod/context`` (what fills the window) and the prune projection,
through the real ``yoi lsp`` process and the real litellm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, start, stop
from lspkit import env as env  # noqa: PLC0414 (the fixture)
from lspkit import lsp as lsp  # noqa: PLC0414 (the fixture)
from mcpkit import write_user_manifest

from agent.store import ItemsEntry, SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)

BIG = "".join(f"line {n}: {'x' * 60}\n" for n in range(400))  # about 28 KB


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "big.txt").write_text(BIG)
    (ws / "AGENTS.md").write_text("Use tabs.\n")
    return ws.resolve()


def read(path: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


def tool_contents(body: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


async def test_the_parts_add_up_to_the_next_requests_measured_size(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    # no usage given: the scripted model measures prompts at 4 characters a token
    scripted_model.load([read("big.txt"), {"text": "It is long."}, {"text": "ok"}])
    pod = await lsp.create_pod()
    await lsp.chat(pod, "what is in big.txt?")
    view = await lsp.request("yoi/pod/context", {"podId": pod})
    assert view["measured"] is True
    labels = {(p["group"], p["label"]) for p in view["parts"]}
    assert ("system", "instructions (template)") in labels
    assert ("system", "Working boundaries") in labels
    assert ("system", "Project instructions (AGENTS.md)") in labels
    assert ("tools", "read_file") in labels and ("tools", "edit_file") in labels
    assert ("history", "tool results: read_file") in labels
    assert ("history", "user messages") in labels
    total = sum(p["tokens"] for p in view["parts"])
    assert abs(total - view["contextTokens"]) <= len(view["parts"])  # rounding only
    biggest = max(view["parts"], key=lambda p: p["tokens"])
    assert biggest["label"] == "tool results: read_file"  # the file dominates, as it should

    await lsp.chat(pod, "?")  # one character more than the inspected context
    measured = lsp.events(pod, "usage")[-1]["inputTokens"]
    assert abs(total - measured) <= 0.05 * measured, (total, measured)


async def test_old_tool_output_is_pruned_from_the_request_not_from_the_log(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(env, "[compaction]\nprune_protected_turns = 1\nprune_min_savings = 1000\n")
    scripted_model.load(
        [read("big.txt"), {"text": "Read it."}, {"text": "Second."}, {"text": "Third."}]
    )
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        await lsp.chat(pod, "read big.txt")
        # turn 2: the read is in the previous turn, the only one protected is this one
        view = await lsp.request("yoi/pod/context", {"podId": pod})
        assert view["pruned"]["results"] == 0  # one turn so far: nothing older to prune
        await lsp.chat(pod, "second")
        second = scripted_model.requests[2]
        assert "line 100" not in "".join(tool_contents(second))
        note = tool_contents(second)[0]
        assert "left out of this request" in note and "read_file" in note
        assert "read the file again" in note  # the model is told how to get it back

        view = await lsp.request("yoi/pod/context", {"podId": pod})
        assert view["pruned"]["results"] == 1 and view["pruned"]["tokens"] > 1000
        unpruned = lsp.events(pod, "usage")[1]["inputTokens"]  # turn 1's request with the file
        assert view["contextTokens"] < unpruned - 1000  # the pruned size is what counts

        session = (await lsp.request("yoi/pod/list", {}))["pods"][0]["sessionId"]
        logged = SessionStore(Path(env["YOI_HOME"]) / "sessions").read(session).entries
        results = [
            i.content
            for e in logged
            if isinstance(e, ItemsEntry)
            for i in e.items
            if i.kind == "tool_result"
        ]
        assert any(r and "line 100" in r for r in results)  # the log keeps every byte
        history = await lsp.request("yoi/pod/history", {"podId": pod})
        shown = [i for i in history["items"] if i["kind"] == "toolResult"]
        assert "line 100" in (shown[0].get("content") or "")
    finally:
        await stop(lsp)


async def test_below_the_minimum_saving_nothing_is_pruned(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(
        env, "[compaction]\nprune_protected_turns = 1\nprune_min_savings = 1000000\n"
    )
    scripted_model.load([read("big.txt"), {"text": "Read it."}, {"text": "Second."}])
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        await lsp.chat(pod, "read big.txt")
        await lsp.chat(pod, "second")
        assert "line 100" in "".join(tool_contents(scripted_model.requests[2]))
        view = await lsp.request("yoi/pod/context", {"podId": pod})
        assert view["pruned"]["results"] == 0 and view["pruned"]["wouldSave"] > 1000
    finally:
        await stop(lsp)
