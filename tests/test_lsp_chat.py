"""The language server end to end: pytest-lsp against the real ``yoi lsp``
process, the real litellm, and the scripted model over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lspkit import Session, change_document, open_document, start, stop
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from agent.store import RunCompleted, SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("def main():\n    return 1\n\n\nprint(main())\n")
    return ws.resolve()


async def test_initialize_advertises_yoi(env: dict[str, str], root: Path) -> None:
    session = await start(env, root)
    try:
        experimental = session.initialize.capabilities.experimental
        assert isinstance(experimental, dict)
        yoi = experimental["yoi"]
        assert yoi["protocolVersion"] == 1 and "chat" in yoi["features"]
    finally:
        await stop(session)


async def test_chat_streams_deltas_and_answers_at_the_end(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    # chunks 30 ms apart: deltas are coalesced within 16 ms, so each arrives on its own
    scripted_model.load([{"text": "Hello from the model.", "chunk_size": 5, "chunk_delay_ms": 30}])
    pod = await lsp.create_pod()
    result = await lsp.chat(pod, "hi")
    assert result["outcome"] == "finished"
    assert result["usage"]["inputTokens"] > 0
    deltas = lsp.events(pod, "textDelta")
    assert len(deltas) > 1 and "".join(d["text"] for d in deltas) == "Hello from the model."
    assert lsp.events(pod, "turnEnd")[-1]["outcome"] == "finished"
    seqs = [e["seq"] for e in lsp.state.events if e["podId"] == pod]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    history = await lsp.request("yoi/pod/history", {"podId": pod})
    assert [i["kind"] for i in history["items"]] == ["message", "message"]
    assert history["items"][0]["segments"] == [{"kind": "text", "text": "hi"}]


async def test_file_reference_sees_the_unsaved_buffer(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    uri = open_document(lsp.client, lsp.state, root / "app.py", (root / "app.py").read_text())
    change_document(lsp.client, lsp.state, uri, "def main():\n    return 42  # unsaved\n")
    scripted_model.load([{"text": "seen"}, {"text": "seen again"}])
    pod = await lsp.create_pod()
    await lsp.chat(pod, "look at ", {"kind": "file", "path": "app.py"})
    sent = scripted_model.requests[0]["messages"][-1]["content"]
    assert "return 42  # unsaved" in sent
    assert "return 1" not in sent
    ranged = {
        "kind": "file",
        "path": uri,
        "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}},
    }
    await lsp.chat(pod, "and this line ", ranged)
    sent = scripted_model.requests[1]["messages"][-1]["content"]
    assert "     2\t    return 42  # unsaved" in sent
    assert "def main" not in sent.split("and this line")[1]


async def test_read_file_and_grep_see_the_unsaved_buffer(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    uri = open_document(lsp.client, lsp.state, root / "app.py", "print('on disk?')\n")
    change_document(lsp.client, lsp.state, uri, "UNSAVED_MARKER = 1\n")
    scripted_model.load(
        [
            {
                "tool_calls": [
                    {"name": "read_file", "arguments": {"path": "app.py"}},
                    {"name": "grep", "arguments": {"pattern": "UNSAVED_MARKER"}},
                ]
            },
            {"text": "done"},
        ]
    )
    pod = await lsp.create_pod()
    await lsp.chat(pod, "read")
    tool_messages = [m for m in scripted_model.requests[1]["messages"] if m["role"] == "tool"]
    assert "UNSAVED_MARKER = 1" in tool_messages[0]["content"]
    assert "app.py:1:UNSAVED_MARKER = 1" in tool_messages[1]["content"]


async def test_cancel_request_interrupts_and_the_pod_goes_on(
    lsp: Session, env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"hang": True, "text": "partial"}, {"text": "second turn"}])
    pod = await lsp.create_pod()
    params = {"podId": pod, "input": [{"kind": "text", "text": "long story"}]}
    request = lsp.client.protocol.send_request("yoi/chat", params, msg_id="chat-1")
    await lsp.wait_event(pod, "textDelta")
    lsp.client.cancel_request(types.CancelParams(id="chat-1"))
    result = await asyncio.wait_for(asyncio.wrap_future(request), 5)
    assert result["outcome"] == "interrupted"
    again = await lsp.chat(pod, "continue")
    assert again["outcome"] == "finished"
    store = SessionStore(Path(env["YOI_HOME"]) / "sessions")
    entries = store.read(result["sessionId"]).entries
    ends = [e for e in entries if isinstance(e, RunCompleted)]
    assert [e.interrupted for e in ends] == [True, False]
    restored = store.restore(result["sessionId"])
    history = await lsp.request("yoi/pod/history", {"podId": pod})
    assert len(restored.history) == len(history["items"])


async def test_interrupt_method_stops_the_turn(lsp: Session, scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"hang": True, "text": "partial"}])
    pod = await lsp.create_pod()
    turn = asyncio.ensure_future(lsp.chat(pod, "go"))
    await lsp.wait_event(pod, "textDelta")
    assert await lsp.request("yoi/pod/interrupt", {"podId": pod}) is None
    assert (await asyncio.wait_for(turn, 5))["outcome"] == "interrupted"


async def test_two_pods_chat_concurrently_with_separate_histories(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            {"text": "one", "chunk_delay_ms": 20, "chunk_size": 1},
            {"text": "two", "chunk_delay_ms": 20, "chunk_size": 1},
        ]
    )
    a, b = await lsp.create_pod(name="a"), await lsp.create_pod(name="b")
    ra, rb = await asyncio.gather(lsp.chat(a, "first pod"), lsp.chat(b, "second pod"))
    assert ra["outcome"] == rb["outcome"] == "finished"
    assert ra["sessionId"] != rb["sessionId"]
    ha = await lsp.request("yoi/pod/history", {"podId": a})
    hb = await lsp.request("yoi/pod/history", {"podId": b})
    assert ha["items"][0]["text"] == "first pod" and hb["items"][0]["text"] == "second pod"
    assert len(ha["items"]) == len(hb["items"]) == 2
    pods = (await lsp.request("yoi/pod/list", {}))["pods"]
    assert {p["name"] for p in pods} == {"a", "b"}
    assert all(p["state"] == "idle" and p["turnCount"] == 1 for p in pods)


async def test_busy_pod_answers_request_failed(lsp: Session, scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"hang": True}])
    pod = await lsp.create_pod()
    turn = asyncio.ensure_future(lsp.chat(pod, "one"))
    await scripted_model.wait_for_requests_async(1, patience=10)
    with pytest.raises(JsonRpcException) as caught:
        await lsp.chat(pod, "two")
    assert caught.value.code == -32803 and caught.value.data == {"reason": "busy"}
    await lsp.request("yoi/pod/interrupt", {"podId": pod})
    await turn


async def test_resume_in_a_second_server_and_not_twice(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "first"}, {"text": "resumed"}])
    one = await start(env, root)
    pod = await one.create_pod()
    session_id = (await one.chat(pod, "remember me"))["sessionId"]
    two = await start(env, root)
    try:
        with pytest.raises(JsonRpcException) as caught:
            await two.request("yoi/pod/create", {"resumeSessionId": session_id})
        assert caught.value.code == -32803 and caught.value.data == {"reason": "sessionInUse"}
        await one.request("yoi/pod/dispose", {"podId": pod})
        created = await two.request("yoi/pod/create", {"resumeSessionId": session_id})
        assert created["restored"] and created["sessionId"] == session_id
        history = await two.request("yoi/pod/history", {"podId": created["podId"]})
        assert history["items"][0]["text"] == "remember me"
        result = await two.chat(created["podId"], "again")
        assert result["sessionId"] == session_id
        sessions = (await two.request("yoi/sessions/list", {}))["sessions"]
        assert sessions[0]["sessionId"] == session_id and sessions[0]["turnCount"] == 2
        assert sessions[0]["title"] == "remember me"
    finally:
        await stop(two)
        await stop(one)


async def test_no_workspace_folder_chat_works_but_files_are_refused(
    env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "/etc/hostname"}}]},
            {"text": "no files here"},
        ]
    )
    session = await start(env, None)
    try:
        pod = await session.create_pod()
        result = await session.chat(pod, "read something")
        assert result["outcome"] == "finished"
        (tool_result,) = session.events(pod, "toolResult")
        assert not tool_result["ok"] and "No workspace folder is open" in tool_result["summary"]
    finally:
        await stop(session)
