"""A pod under stress: failed log writes, cancelled turns, interrupts at odd
moments, another writer, hostile AGENTS.md. After each, the live pod equals
what its log restores to."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from podkit import Workspace, make_workspace

from agent import hooks as h
from agent.events import Alert, TextDelta, ToolCallEvent
from agent.items import ToolResult, unanswered_calls
from agent.pod import Pod
from agent.segments import TextSegment
from agent.store import Extension, RunCompleted, UserInput
from agent.testing import ScriptedModel


def say(text: str) -> list[TextSegment]:
    return [TextSegment(kind="text", text=text)]


@pytest.fixture
def ws(tmp_path: Path, scripted_model: ScriptedModel) -> Workspace:
    return make_workspace(tmp_path, scripted_model)


def assert_restores_to_live(ws: Workspace, pod: Pod) -> None:
    state = ws.store().restore(pod.session_id)
    assert state.history == pod.history
    assert state.usage == pod.usage_records
    assert state.user_segments == pod.user_segments
    assert state.turn_count == pod.turn_count
    assert state.last_run_interrupted == pod.last_run_interrupted
    assert not unanswered_calls(state.history) or state.history == pod.history


def command(text: str) -> dict[str, object]:
    return {"tool_calls": [{"name": "run_command", "arguments": {"command": text}}]}


async def test_a_failed_log_write_never_leaves_the_log_behind_the_history(
    ws: Workspace,
) -> None:
    ws.model.load([command("sleep 0.5"), {"text": "never reached"}])
    pod = await ws.pod(approvals={"mode": "auto"})
    task = asyncio.create_task(pod.chat(say("wait")))
    await ws.recorder.wait_for(ToolCallEvent)
    log_file = ws.store().path(pod.session_id)
    aside = log_file.with_suffix(".aside")
    log_file.rename(aside)
    log_file.mkdir()  # every later append fails with an OSError
    result = await asyncio.wait_for(task, 5)
    assert result.outcome == "error"
    assert result.error and "Cannot write the session log" in result.error
    log_file.rmdir()
    aside.rename(log_file)
    # the live history holds nothing the log lacks: the call is unanswered in both
    state = ws.store().restore(pod.session_id)
    assert state.history == pod.history
    assert [c.name for c in unanswered_calls(pod.history)] == ["run_command"]
    # the next turn closes the call before the new message, and the log agrees
    ws.model.load([{"text": "recovered"}])
    assert (await pod.chat(say("again"))).outcome == "finished"
    assert not unanswered_calls(pod.history)
    assert ws.store().restore(pod.session_id).history == pod.history
    await pod.close()


async def test_a_cancelling_prompt_hook_logs_nothing(ws: Workspace) -> None:
    pod = await ws.pod()

    async def veto(info: h.PromptSubmitInfo) -> h.Decision:
        return h.Cancel("not now")

    pod.worker.hooks.add(h.HookPoint.PROMPT_SUBMIT, veto)
    result = await pod.chat(say("deploy"))
    assert result.outcome == "error"
    assert pod.history == []
    entries = ws.store().read(pod.session_id).entries
    assert not any(isinstance(e, UserInput) for e in entries)
    assert_restores_to_live(ws, pod)
    await pod.close()


async def test_cancelling_the_turn_task_kills_tools_and_records_the_end(
    ws: Workspace, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    ws.model.load([command(f"sleep 1; touch {marker}")])
    pod = await ws.pod(approvals={"mode": "auto"})
    task = asyncio.create_task(pod.chat(say("go")))
    await ws.recorder.wait_for(ToolCallEvent)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(1.3)
    assert not marker.exists()  # the command's process group was killed
    entries = ws.store().read(pod.session_id).entries
    assert isinstance(entries[-1], RunCompleted) and entries[-1].interrupted
    assert pod.last_run_interrupted
    state = ws.store().restore(pod.session_id)
    assert state.history == pod.history and state.last_run_interrupted
    assert isinstance(pod.history[-1], ToolResult)
    await pod.close()


async def test_interrupt_while_the_turn_is_being_prepared(ws: Workspace) -> None:
    pod = await ws.pod()
    started = asyncio.Event()

    async def slow(info: h.PromptSubmitInfo) -> h.Decision:
        started.set()
        await asyncio.sleep(0.3)
        return h.CONTINUE

    pod.worker.hooks.add(h.HookPoint.PROMPT_SUBMIT, slow)
    task = asyncio.create_task(pod.chat(say("hello")))
    await started.wait()
    assert pod.interrupt()
    result = await asyncio.wait_for(task, 5)
    assert result.outcome == "interrupted"
    assert ws.model.requests == []  # no request was sent after the interrupt
    assert_restores_to_live(ws, pod)
    await pod.close()


async def test_interrupt_during_a_slow_hook_is_prompt(ws: Workspace) -> None:
    ws.model.load([{"text": "unused"}])
    pod = await ws.pod()
    entered = asyncio.Event()

    async def slow(info: h.PreRequestInfo) -> h.Decision:
        entered.set()
        await asyncio.sleep(30)
        return h.CONTINUE

    pod.worker.hooks.add(h.HookPoint.PRE_REQUEST, slow)
    task = asyncio.create_task(pod.chat(say("hello")))
    await entered.wait()
    began = time.monotonic()
    pod.interrupt()
    result = await asyncio.wait_for(task, 5)
    assert result.outcome == "interrupted"
    assert time.monotonic() - began < 1.0
    assert_restores_to_live(ws, pod)
    await pod.close()


async def test_another_writer_makes_the_pod_fork_with_its_whole_state(ws: Workspace) -> None:
    (ws.root / "a.txt").write_text("x\n")
    ws.model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]},
            {"text": "one"},
            {"text": "two"},
        ]
    )
    pod = await ws.pod()
    await pod.chat(say("first"))
    original = pod.session_id
    head = ws.store().read(original).head
    assert head is not None
    ws.store().append(original, head, [Extension(domain="intruder", payload=1)])
    await pod.chat(say("second"))
    assert pod.session_id != original
    assert any("forked" in a.message for a in ws.recorder.of(Alert))
    state = ws.store().restore(pod.session_id)
    assert state.parent is not None and state.parent.session_id == original
    assert_restores_to_live(ws, pod)
    assert len(state.usage) == 3  # usage from before the fork came along
    # the registry follows the fork: the new session is held, the old one is free
    from agent.errors import SessionInUse

    with pytest.raises(SessionInUse):
        await ws.pod(resume=pod.session_id)
    other = await ws.pod(resume=original)
    await other.close()
    await pod.close()


async def test_agents_md_linking_outside_the_workspace_is_not_read(
    ws: Workspace, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("TOP SECRET INSTRUCTIONS")
    os.symlink(secret, ws.root / "AGENTS.md")
    ws.model.load([{"text": "ok"}])
    pod = await ws.pod()
    await pod.chat(say("hi"))
    system_prompt = ws.model.requests[0]["messages"][0]["content"]
    assert "TOP SECRET" not in system_prompt
    assert any(a.source == "agents_md" and "outside" in a.message for a in ws.recorder.of(Alert))
    await pod.close()


async def test_agents_md_fifo_does_not_hang(ws: Workspace) -> None:
    os.mkfifo(ws.root / "AGENTS.md")
    ws.model.load([{"text": "ok"}])
    pod = await ws.pod()
    result = await asyncio.wait_for(pod.chat(say("hi")), 10)
    assert result.outcome == "finished"
    assert any(a.source == "agents_md" for a in ws.recorder.of(Alert))
    await pod.close()


async def test_interrupt_during_a_mid_run_compaction(ws: Workspace) -> None:
    (ws.root / "a.txt").write_text("x\n")
    ws.model.load(
        [
            {
                "tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}],
                "usage": {"prompt_tokens": 6000, "completion_tokens": 5},
            },
            {"hang": True},  # the compact worker never answers
        ]
    )
    pod = await ws.pod(
        compaction={"compact_request_threshold": 5000, "compact_retained_tokens": 50},
        memory={"enabled": False},  # the script plays the compaction only
    )
    task = asyncio.create_task(pod.chat(say("read")))
    await ws.model.wait_for_requests_async(2)
    assert pod.state == "compacting"
    assert pod.interrupt()
    result = await asyncio.wait_for(task, 5)
    assert result.outcome == "interrupted"
    assert pod.state == "idle"
    assert_restores_to_live(ws, pod)  # still the old session, nothing half-switched
    # still over the threshold: the next turn compacts (summary, then the one nudge)
    summary = {"tool_calls": [{"name": "write_summary", "arguments": {"text": "## Done"}}]}
    ws.model.load([summary, {"text": "ok"}, {"text": "no files needed"}, {"text": "fine"}])
    assert (await pod.chat(say("go on"))).outcome == "finished"
    await pod.close()


async def test_dispose_while_running_waits_and_frees_the_session(ws: Workspace) -> None:
    ws.model.load([{"hang": True, "text": "partial"}])
    pod = await ws.pod()
    task = asyncio.create_task(pod.chat(say("go")))
    await ws.recorder.wait_for(TextDelta)
    await pod.close()  # interrupts and waits for the turn to end
    assert task.done() and task.result().outcome == "interrupted"
    again = await ws.pod(resume=pod.session_id)  # released only after the turn ended
    assert again.session_id == pod.session_id
    await again.close()


async def test_a_request_after_compacting_clears_the_thrash_guard(ws: Workspace) -> None:
    summary = {"tool_calls": [{"name": "write_summary", "arguments": {"text": "## Done"}}]}
    ws.model.load([{"text": "first", "usage": {"prompt_tokens": 3000, "completion_tokens": 5}}])
    pod = await ws.pod(
        compaction={"compact_request_threshold": 5000, "compact_retained_tokens": 1},
        memory={"enabled": False},  # the script plays the compaction only
    )
    await pod.chat(say("one"))
    ws.model.load([summary, {"text": "ok"}])
    await pod.compact()
    (ws.root / "a.txt").write_text("x\n")
    ws.model.load(
        [
            {
                "tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}],
                "usage": {"prompt_tokens": 6000, "completion_tokens": 5},
            },
            summary,
            {"text": "ok"},
            {"text": "no files needed"},  # the one nudge (a file was touched)
            {"text": "done", "usage": {"prompt_tokens": 900, "completion_tokens": 5}},
        ]
    )
    result = await pod.chat(say("two"))
    assert result.outcome == "finished", result.error  # compacted again, not thrash
    await pod.close()


async def test_memory_folders_outside_the_workspace_turn_memory_off(ws: Workspace) -> None:
    pod = await ws.pod(memory={"knowledge_dir": "../elsewhere"})
    assert pod.memory is None
    assert any("outside the workspace" in a for a in ws.recorder.alerts())
    assert "knowledge_read" not in pod.worker.tools.names()
    await pod.close()
