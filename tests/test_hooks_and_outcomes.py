"""Hooks at the six points, the interceptor, and the run outcomes they lead to."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import model_config
from podkit import Recorder, Workspace, make_workspace

from agent import hooks as h
from agent.events import Alert, ToolResultEvent
from agent.items import Item, Message, ToolCall, ToolResult, unanswered_calls
from agent.llm.client import LiteLlmClient
from agent.segments import TextSegment
from agent.testing import ScriptedModel
from agent.tools.base import ToolSet
from agent.worker import Proceed, Stop, Worker


def say(text: str) -> list[TextSegment]:
    return [TextSegment(kind="text", text=text)]


@pytest.fixture
def ws(tmp_path: Path, scripted_model: ScriptedModel) -> Workspace:
    (tmp_path / "ws").mkdir()
    w = make_workspace(tmp_path / "ws", scripted_model)
    (w.root / "a.txt").write_text("alpha\n")
    return w


READ = {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]}


async def test_pause_before_a_tool_then_resume(ws: Workspace) -> None:
    ws.model.load([READ, {"text": "it says alpha"}])
    pod = await ws.pod()
    paused_once: list[str] = []

    async def pause_first(info: h.PreToolCallInfo) -> h.Decision:
        if not paused_once:
            paused_once.append(info.call_id)
            return h.Pause()
        return h.CONTINUE

    pod.worker.hooks.add(h.HookPoint.PRE_TOOL_CALL, pause_first)
    assert (await pod.chat(say("read a.txt"))).outcome == "paused"
    assert [c.name for c in unanswered_calls(pod.history)] == ["read_file"]
    result = await pod.resume()
    assert result.outcome == "finished"
    assert not unanswered_calls(pod.history)
    assert isinstance(pod.history[-2], ToolResult) and not pod.history[-2].is_error
    assert ws.store().restore(pod.session_id).history == pod.history
    await pod.close()


async def test_new_input_after_a_pause_closes_the_pending_call(ws: Workspace) -> None:
    ws.model.load([READ, {"text": "ok, something else"}])
    pod = await ws.pod()

    async def pause(info: h.PreToolCallInfo) -> h.Decision:
        return h.Pause()

    pod.worker.hooks.add(h.HookPoint.PRE_TOOL_CALL, pause)
    assert (await pod.chat(say("read a.txt"))).outcome == "paused"
    assert (await pod.chat(say("never mind"))).outcome == "finished"
    kinds = [type(i).__name__ for i in pod.history]
    assert kinds == ["Message", "ToolCall", "ToolResult", "Message", "Message"]
    closure = pod.history[2]
    assert isinstance(closure, ToolResult) and closure.is_error
    # what was sent is a valid conversation: the call has its result before the new message
    sent = ws.model.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "user"]
    assert ws.store().restore(pod.session_id).history == pod.history
    await pod.close()


async def test_turn_end_hook_continues_with_a_message(ws: Workspace) -> None:
    ws.model.load([{"text": "draft"}, {"text": "final"}])
    pod = await ws.pod()
    asked: list[str] = []

    async def nudge(info: h.TurnEndInfo) -> h.Decision:
        if asked:
            return h.CONTINUE
        asked.append(info.final_text_preview)
        return h.ContinueWith(("Please double-check.",))

    pod.worker.hooks.add(h.HookPoint.TURN_END, nudge)
    assert (await pod.chat(say("write it"))).outcome == "finished"
    assert asked == ["draft"]
    texts = [i.text for i in pod.history if isinstance(i, Message)]
    assert texts == ["write it", "draft", "Please double-check.", "final"]
    assert ws.store().restore(pod.session_id).history == pod.history
    await pod.close()


async def test_post_tool_hook_aborts_and_abort_hook_hears_why(ws: Workspace) -> None:
    ws.model.load([READ])
    pod = await ws.pod()
    reasons: list[str] = []

    async def stop(info: h.PostToolCallInfo) -> h.Decision:
        return h.Cancel("saw enough")

    async def on_abort(info: h.AbortInfo) -> h.Decision:
        reasons.append(info.reason)
        return h.CONTINUE

    pod.worker.hooks.add(h.HookPoint.POST_TOOL_CALL, stop)
    pod.worker.hooks.add(h.HookPoint.ABORT, on_abort)
    result = await pod.chat(say("read"))
    assert result.outcome == "error" and result.error and "saw enough" in result.error
    assert reasons and "saw enough" in reasons[0]
    assert isinstance(pod.history[-1], ToolResult)  # the result was kept
    await pod.close()


async def test_a_failing_hook_is_reported_and_ignored(ws: Workspace) -> None:
    ws.model.load([{"text": "fine"}])
    pod = await ws.pod()

    async def broken(info: h.PreRequestInfo) -> h.Decision:
        raise RuntimeError("oops")

    pod.worker.hooks.add(h.HookPoint.PRE_REQUEST, broken)
    assert (await pod.chat(say("hi"))).outcome == "finished"
    assert any(a.source == "hooks" and "oops" in a.message for a in ws.recorder.of(Alert))
    with pytest.raises(RuntimeError, match="before the pod's first run"):
        pod.worker.hooks.add(h.HookPoint.PRE_REQUEST, broken)
    await pod.close()


async def test_tool_output_is_capped_per_tool(ws: Workspace) -> None:
    (ws.root / "big.txt").write_text("".join(f"line {n}\n" for n in range(2000)))
    ws.model.load(
        [{"tool_calls": [{"name": "read_file", "arguments": {"path": "big.txt"}}]}, {"text": "ok"}]
    )
    pod = await ws.pod(worker={"tool_output": {"per_tool": {"read_file": 1000}}})
    assert (await pod.chat(say("read big"))).outcome == "finished"
    result = next(i for i in pod.history if isinstance(i, ToolResult))
    assert result.content is not None
    assert len(result.content.encode()) <= 1000
    assert "[truncated:" in result.content and "refine your query" in result.content
    assert any("read_file was cut" in a for a in ws.recorder.alerts())
    sent = ws.model.requests[1]["messages"]
    assert any(m["role"] == "tool" and "[truncated:" in m["content"] for m in sent)
    await pod.close()


async def test_interceptor_can_cancel_a_request(scripted_model: ScriptedModel) -> None:
    class Gate:
        async def before_request(self, history: list[Item]) -> Proceed | Stop:
            if any(isinstance(i, ToolCall) for i in history):
                return Stop("budget exhausted")
            return Proceed()

    scripted_model.load([{"tool_calls": [{"name": "nothing", "arguments": {}}]}])
    recorder = Recorder()
    worker = Worker(
        client=LiteLlmClient(model_config(scripted_model.base_url)),
        tools=ToolSet(),
        events=recorder,
        interceptor=Gate(),
    )
    report = await worker.run(Message(role="user", text="go"))
    assert report.outcome == "error" and report.error == "budget exhausted"
    assert report.requests == 1 and len(scripted_model.requests) == 1
    assert [e.ok for e in recorder.of(ToolResultEvent)] == [False]
