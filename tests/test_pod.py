"""A real pod against the scripted model through the real litellm."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from podkit import Workspace, make_workspace

from agent.events import (
    Alert,
    EditEvent,
    ReasoningDelta,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    TurnEnd,
    TurnStart,
    UsageEvent,
)
from agent.items import Message, Reasoning, ToolCall, ToolResult
from agent.segments import FileSegment, TextSegment
from agent.store import ItemsEntry, RunCompleted, RunErrored, UserInput
from agent.testing import ScriptedModel


def say(text: str) -> list[TextSegment]:
    return [TextSegment(kind="text", text=text)]


@pytest.fixture
def ws(tmp_path: Path, scripted_model: ScriptedModel) -> Workspace:
    return make_workspace(tmp_path, scripted_model)


async def test_streamed_answer(ws: Workspace) -> None:
    ws.model.load([{"text": "Hello there, friend.", "chunk_size": 4, "reasoning": "hmm"}])
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert result.outcome == "finished"
    rec = ws.recorder
    deltas = rec.of(TextDelta)
    assert len(deltas) > 1
    assert rec.text() == "Hello there, friend."
    assert "".join(e.text for e in rec.of(ReasoningDelta)) == "hmm"
    assert isinstance(rec.events[0], TurnStart)
    assert rec.of(TurnEnd)[-1].outcome == "finished"
    assert rec.of(UsageEvent) and rec.of(UsageEvent)[0].context_tokens > 0
    assert result.usage.input_tokens > 0
    history = pod.history
    assert history[0] == Message(role="user", text="hi", segments=say("hi"))
    assert isinstance(history[1], Reasoning)
    assert history[-1] == Message(role="assistant", text="Hello there, friend.")
    # the system prompt was rendered once and sent as the system message
    body = ws.model.requests[0]
    assert body["messages"][0]["role"] == "system"
    assert "Working boundaries" in body["messages"][0]["content"]
    await pod.close()


async def test_multi_step_tool_loop_edits_the_file(ws: Workspace) -> None:
    (ws.root / "greet.py").write_text('print("helo")\n')
    ws.model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "greet.py"}}]},
            {
                "text": "Fixing the typo.",
                "tool_calls": [
                    {
                        "name": "edit_file",
                        "arguments": {
                            "path": "greet.py",
                            "old_string": "helo",
                            "new_string": "hello",
                        },
                    }
                ],
            },
            {"text": "Done."},
        ]
    )
    pod = await ws.pod()
    result = await pod.chat(say("fix the typo in greet.py"))
    assert result.outcome == "finished", result.error
    assert (ws.root / "greet.py").read_text() == 'print("hello")\n'
    names = [e.name for e in ws.recorder.of(ToolCallEvent)]
    assert names == ["read_file", "edit_file"]
    assert all(e.ok for e in ws.recorder.of(ToolResultEvent))
    statuses = [e.status for e in ws.recorder.of(EditEvent)]
    assert statuses == ["proposed", "applied"]
    # the second request carried the file contents back to the model
    second = ws.model.requests[1]["messages"]
    tool_msgs = [m for m in second if m["role"] == "tool"]
    assert 'print("helo")' in tool_msgs[0]["content"]
    assert len(ws.model.requests) == 3
    await pod.close()


async def test_malformed_arguments_go_back_to_the_model(ws: Workspace) -> None:
    (ws.root / "a.txt").write_text("alpha\n")
    ws.model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": '{"path": "a.txt"'}]},
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]},
            {"text": "It says alpha."},
        ]
    )
    pod = await ws.pod()
    result = await pod.chat(say("read a.txt"))
    assert result.outcome == "finished"
    results = ws.recorder.of(ToolResultEvent)
    assert [r.ok for r in results] == [False, True]
    assert "not a valid JSON object" in results[0].summary
    second = ws.model.requests[1]["messages"]
    assert any(m["role"] == "tool" and "not a valid JSON" in m["content"] for m in second)
    await pod.close()


async def test_unknown_tool_and_tool_error_do_not_end_the_run(ws: Workspace) -> None:
    ws.model.load(
        [
            {
                "tool_calls": [
                    {"name": "teleport", "arguments": {}},
                    {"name": "read_file", "arguments": {"path": "../../etc/passwd"}},
                ]
            },
            {"text": "ok"},
        ]
    )
    pod = await ws.pod()
    result = await pod.chat(say("go"))
    assert result.outcome == "finished"
    summaries = [r.summary for r in ws.recorder.of(ToolResultEvent)]
    assert "no tool named 'teleport'" in summaries[0]
    assert "outside the workspace scope" in summaries[1]
    await pod.close()


async def test_rate_limit_then_success(ws: Workspace) -> None:
    ws.model.load([{"status": 429, "error": "slow down"}, {"text": "made it"}])
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert result.outcome == "finished"
    assert ws.recorder.text() == "made it"
    assert any("retrying" in m for m in ws.recorder.alerts())
    await pod.close()


async def test_server_errors_until_give_up(ws: Workspace) -> None:
    ws.model.load([{"status": 500, "error": "boom"}] * 3)
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert result.outcome == "error"
    assert result.error is not None and "3" in result.error
    assert len(ws.model.requests) == 3  # max_retries=2 → three attempts
    log = ws.store().read(pod.session_id).entries
    assert isinstance(log[-1], RunErrored)
    # the pod is usable again and the history is consistent
    ws.model.load([{"text": "back"}])
    again = await pod.chat(say("again"))
    assert again.outcome == "finished"
    await pod.close()


async def test_interrupt_mid_stream(ws: Workspace) -> None:
    ws.model.load([{"hang": True, "text": "partial "}])
    pod = await ws.pod()
    task = asyncio.create_task(pod.chat(say("tell me a story")))
    await ws.recorder.wait_for(TextDelta)
    assert pod.interrupt()
    result = await asyncio.wait_for(task, 2)
    assert result.outcome == "interrupted"
    await ws.model.wait_for_disconnect_async()
    log = ws.store().read(pod.session_id).entries
    end = log[-1]
    assert isinstance(end, RunCompleted) and end.interrupted
    assert pod.history[-1] == Message(role="assistant", text="partial ")
    # usable again; the model is told the last turn was interrupted
    ws.model.load([{"text": "sorry"}])
    assert (await pod.chat(say("continue"))).outcome == "finished"
    sent = ws.model.requests[-1]["messages"]
    assert any(m["role"] == "system" and "interrupted" in m["content"] for m in sent[1:])
    await pod.close()


async def test_interrupt_during_a_tool_closes_the_call(ws: Workspace) -> None:
    ws.model.load([{"tool_calls": [{"name": "run_command", "arguments": {"command": "sleep 30"}}]}])
    pod = await ws.pod(approvals={"mode": "auto"})
    task = asyncio.create_task(pod.chat(say("wait")))
    await ws.recorder.wait_for(ToolCallEvent)
    await asyncio.sleep(0.2)
    pod.interrupt()
    result = await asyncio.wait_for(task, 3)
    assert result.outcome == "interrupted"
    last = pod.history[-1]
    assert isinstance(last, ToolResult) and last.is_error
    restored = ws.store().restore(pod.session_id)
    assert restored.history == pod.history
    await pod.close()


async def test_max_turns_limits_requests_per_run(ws: Workspace) -> None:
    (ws.root / "a.txt").write_text("x\n")
    call = {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]}
    ws.model.load([call, call, call])
    pod = await ws.pod(worker={"max_turns": 2})
    result = await pod.chat(say("loop"))
    assert result.outcome == "limitReached"
    assert len(ws.model.requests) == 2
    # history is valid: every call answered
    calls = [i for i in pod.history if isinstance(i, ToolCall)]
    results = [i for i in pod.history if isinstance(i, ToolResult)]
    assert len(calls) == len(results) == 2
    await pod.close()


async def test_restore_equals_live_after_turns(ws: Workspace) -> None:
    (ws.root / "a.txt").write_text("x\n")
    ws.model.load(
        [
            {"text": "one"},
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]},
            {"text": "two"},
            {"text": "three"},
        ]
    )
    pod = await ws.pod()
    for prompt in ("a", "b", "c"):
        assert (await pod.chat(say(prompt))).outcome == "finished"
    live = pod.history
    live_usage = list(pod.usage_records)
    session_id = pod.session_id
    system_prompt = pod.worker.system_prompt
    await pod.close()

    restored = await ws.pod(resume=session_id)
    assert restored.session_id == session_id
    assert restored.history == live
    assert restored.worker.system_prompt == system_prompt
    assert restored.usage_records == live_usage
    assert restored.turn_count == 3
    assert [s[0].text for s in restored.user_segments] == ["a", "b", "c"]  # type: ignore[union-attr]
    # appends to the same log, system prompt replayed verbatim
    ws.model.load([{"text": "four"}])
    assert (await restored.chat(say("d"))).outcome == "finished"
    assert ws.model.requests[-1]["messages"][0]["content"] == system_prompt
    assert restored.session_id == session_id
    await restored.close()


async def test_a_session_cannot_be_open_twice(ws: Workspace) -> None:
    ws.model.load([{"text": "hi"}])
    pod = await ws.pod()
    await pod.chat(say("hi"))
    from agent.errors import SessionInUse

    with pytest.raises(SessionInUse, match="already open"):
        await ws.pod(resume=pod.session_id)
    await pod.close()
    again = await ws.pod(resume=pod.session_id)  # released on close
    await again.close()


async def test_file_segment_and_out_of_scope_placeholder(ws: Workspace, tmp_path: Path) -> None:
    (ws.root / "notes.md").write_text("line one\nline two\nline three\n")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    ws.model.load([{"text": "seen"}])
    pod = await ws.pod()
    segments = [
        TextSegment(kind="text", text="look at "),
        FileSegment.model_validate(
            {
                "kind": "file",
                "path": "notes.md",
                "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}},
            }
        ),
        TextSegment(kind="text", text=" and "),
        FileSegment(kind="file", path=str(tmp_path / "secret.txt")),
    ]
    result = await pod.chat(segments)
    assert result.outcome == "finished"
    user_text = ws.model.requests[0]["messages"][1]["content"]
    assert "look at @notes.md:2-2 and @" in user_text
    assert "     2\tline two" in user_text
    assert "line one" not in user_text and "line three" not in user_text
    assert "TOP SECRET" not in user_text
    assert "not attached" in user_text
    assert any("was not attached" in a for a in ws.recorder.alerts())
    logged = [e for e in ws.store().read(pod.session_id).entries if isinstance(e, UserInput)]
    assert logged[0].segments == segments and logged[0].text == user_text
    await pod.close()


async def test_notification_goes_into_the_next_request_only(ws: Workspace) -> None:
    ws.model.load([{"text": "noted"}])
    pod = await ws.pod()
    pod.notify("the build finished")
    await pod.chat(say("hi"))
    sent = ws.model.requests[0]["messages"]
    assert any("the build finished" in str(m["content"]) for m in sent)
    assert all("the build finished" not in str(i) for i in pod.history)
    entries = ws.store().read(pod.session_id).entries
    assert all("the build finished" not in e.model_dump_json() for e in entries)
    await pod.close()


async def test_command_hook_can_skip_a_tool(ws: Workspace) -> None:
    hook = "cat > /dev/null; echo 'no shell today' >&2; exit 2"
    ws.model.load([{"tool_calls": [{"name": "list_dir", "arguments": {}}]}, {"text": "fine"}])
    # hooks from a workspace manifest run only in a workspace the user trusts
    (ws.config / "manifest.toml").write_text(f"[trust]\nworkspaces = ['{ws.root}']\n")
    (ws.root / ".yoi").mkdir()
    (ws.root / ".yoi" / "manifest.toml").write_text(
        f'[[hooks]]\npoint = "pre_tool_call"\ncommand = "{hook}"\ntools = ["list_dir"]\n'
    )
    pod = await ws.pod()
    result = await pod.chat(say("list"))
    assert result.outcome == "finished"
    skipped = ws.recorder.of(ToolResultEvent)[0]
    assert not skipped.ok and "no shell today" in skipped.summary
    await pod.close()


async def test_prompt_submit_hook_cancels(ws: Workspace) -> None:
    from agent import hooks as h

    pod = await ws.pod()

    async def veto(info: h.PromptSubmitInfo) -> h.Decision:
        return h.Cancel("not on Fridays") if "deploy" in info.text else h.CONTINUE

    pod.worker.hooks.add(h.HookPoint.PROMPT_SUBMIT, veto)
    result = await pod.chat(say("deploy it"))
    assert result.outcome == "error" and result.error and "not on Fridays" in result.error
    assert ws.model.requests == []
    await pod.close()


async def test_busy_pod_refuses_a_second_turn(ws: Workspace) -> None:
    from agent.errors import PodBusy

    ws.model.load([{"hang": True}])
    pod = await ws.pod()
    task = asyncio.create_task(pod.chat(say("one")))
    await ws.model.wait_for_requests_async(1)
    with pytest.raises(PodBusy):
        await pod.chat(say("two"))
    pod.interrupt()
    assert (await task).outcome == "interrupted"
    await pod.close()


async def test_items_are_logged_as_they_happen(ws: Workspace) -> None:
    """A crash mid-turn loses at most the request in flight."""
    (ws.root / "a.txt").write_text("x\n")
    ws.model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]},
            {"hang": True},
        ]
    )
    pod = await ws.pod()
    task = asyncio.create_task(pod.chat(say("read")))
    await ws.model.wait_for_requests_async(2)
    entries = ws.store().read(pod.session_id).entries
    logged = [i for e in entries if isinstance(e, ItemsEntry) for i in e.items]
    assert any(isinstance(i, ToolResult) for i in logged)  # before the turn ended
    pod.interrupt()
    await task
    await pod.close()


async def test_alert_for_unreadable_agents_md(ws: Workspace) -> None:
    (ws.root / "AGENTS.md").write_bytes(b"\xff\xfe bad")
    ws.model.load([{"text": "hi"}])
    pod = await ws.pod()
    await pod.chat(say("hi"))
    assert any(a.source == "agents_md" for a in ws.recorder.of(Alert))
    await pod.close()
