"""Live command output: run_command streams its output as toolOutput events
while it runs, and yoi/tool/cancel stops that one command (the model gets the
output so far and "stopped by the user"; the turn goes on)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lspkit import Session, eventually

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)

SLOW = "for i in $(seq 1 300); do echo line $i; sleep 0.1; done"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


def live_text(lsp: Session, pod: str, call_id: str) -> str:
    return "".join(e["text"] for e in lsp.events(pod, "toolOutput") if e["id"] == call_id)


async def test_output_streams_while_the_command_runs_and_the_user_can_stop_it(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            {"tool_calls": [{"name": "run_command", "arguments": {"command": SLOW}}]},
            {"text": "it was stopped"},
        ]
    )
    lsp.state.approval_answers.append({"decision": "allow"})
    pod = await lsp.create_pod()
    chat = asyncio.create_task(lsp.chat(pod, "run the slow thing"))
    call = await lsp.wait_event(pod, "toolCall")
    assert await eventually(lambda: "line 3\n" in live_text(lsp, pod, call["id"]))
    assert not lsp.events(pod, "toolResult")  # still running
    answer = await lsp.request("yoi/tool/cancel", {"podId": pod, "callId": call["id"]})
    assert answer == {"stopped": True}
    result = await asyncio.wait_for(chat, 20)
    assert result["outcome"] == "finished"  # the turn went on
    (tool_result,) = lsp.events(pod, "toolResult")
    assert tool_result["summary"].startswith("stopped by the user")
    # the model got the output so far, and why it ends there
    (sent,) = [m["content"] for m in scripted_model.requests[1]["messages"] if m["role"] == "tool"]
    assert "stopped by the user" in sent
    assert "line 1\nline 2\nline 3\n" in sent and "line 300" not in sent
    assert live_text(lsp, pod, call["id"]) in sent  # nothing shown that the model did not get
    kinds = [e["event"]["type"] for e in lsp.state.events if e["podId"] == pod]
    assert kinds.index("toolOutput") < kinds.index("toolResult")
    assert "toolOutput" not in kinds[kinds.index("toolResult") :]


async def test_streamed_output_is_coalesced(lsp: Session, scripted_model: ScriptedModel) -> None:
    """2,000 lines printed at once arrive as a few notifications, text intact."""
    command = "seq 1 2000"
    scripted_model.load(
        [
            {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]},
            {"text": "ok"},
        ]
    )
    lsp.state.approval_answers.append({"decision": "allow"})
    pod = await lsp.create_pod()
    await lsp.chat(pod, "count")
    outputs = lsp.events(pod, "toolOutput")
    assert "".join(e["text"] for e in outputs) == "".join(f"{i}\n" for i in range(1, 2001))
    assert len(outputs) < 20


async def test_cancelling_a_call_that_is_not_running_says_so(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    pod = await lsp.create_pod()
    answer = await lsp.request("yoi/tool/cancel", {"podId": pod, "callId": "call_nope"})
    assert answer == {"stopped": False}
