"""Persist before you show: nothing reaches the host before the log holds it,
and results of parallel tool calls are logged as each one finishes."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from lspkit import Session, start
from podkit import Recorder, Workspace, make_workspace

from agent.events import Event, ToolResultEvent
from agent.items import ToolResult
from agent.segments import TextSegment
from agent.store import ItemsEntry, SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(120)


def logged_results(ws: Workspace, session_id: str) -> list[ToolResult]:
    entries = ws.store().read(session_id).records
    return [
        item
        for record in entries
        if isinstance(record.entry, ItemsEntry)
        for item in record.entry.items
        if isinstance(item, ToolResult)
    ]


class CheckingRecorder(Recorder):
    """Checks, as each toolResult event arrives, that the log already holds it."""

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.session_id = ""
        self.unlogged: list[str] = []

    def emit(self, event: Event) -> None:
        if isinstance(event, ToolResultEvent) and self.session_id:
            ids = {r.call_id for r in logged_results(self.ws, self.session_id)}
            if event.id not in ids:
                self.unlogged.append(event.id)
        super().emit(event)


async def test_parallel_results_are_logged_and_announced_as_each_finishes(
    tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    ws = make_workspace(tmp_path, scripted_model)
    (ws.root / "fast.txt").write_text("fast\n")
    scripted_model.load(
        [
            {
                "tool_calls": [
                    {"name": "run_command", "arguments": {"command": "sleep 3; echo slow"}},
                    {"name": "read_file", "arguments": {"path": "fast.txt"}},
                ]
            },
            {"text": "both done"},
        ]
    )
    recorder = CheckingRecorder(ws)
    pod = await ws.pod(recorder=recorder, approvals={"mode": "auto"})
    recorder.session_id = pod.session_id
    turn = asyncio.create_task(pod.chat([TextSegment(kind="text", text="go")]))
    first = await recorder.wait_for(ToolResultEvent, patience=30)
    assert first.name == "read_file"  # the fast one, while the command still runs
    assert not turn.done()
    assert [r.name for r in logged_results(ws, pod.session_id)] == ["read_file"]
    result = await asyncio.wait_for(turn, 60)
    assert result.outcome == "finished"
    assert recorder.unlogged == []  # every toolResult event followed its log entry
    names = [r.name for r in logged_results(ws, pod.session_id)]
    assert sorted(names) == ["read_file", "run_command"]
    await pod.close()


async def test_a_result_the_client_saw_survives_a_kill(
    env: dict[str, str], tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("remember this\n")
    scripted_model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}]},
            {"hang": True},  # the model takes its time: the server is killed meanwhile
        ]
    )
    session: Session = await start(env, root)
    pod = await session.create_pod()
    chat = asyncio.ensure_future(session.chat(pod, "read it"))
    seen = await session.wait_event(pod, "toolResult", patience=60)
    assert seen["ok"] and "remember this" in seen["content"]
    server = session.client._server
    assert server is not None
    os.kill(server.pid, signal.SIGKILL)  # right after the client saw the result
    chat.cancel()
    await asyncio.gather(chat, return_exceptions=True)
    await session.client.stop()
    session_id = (await asyncio.to_thread(_only_session, Path(env["YOI_HOME"]))).session_id
    state = SessionStore(Path(env["YOI_HOME"]) / "sessions").restore(session_id)
    results = [i for i in state.history if isinstance(i, ToolResult)]
    assert results and results[0].call_id == seen["id"]
    assert "remember this" in (results[0].content or "")


def _only_session(home: Path) -> object:
    (info,) = SessionStore(home / "sessions").list_sessions()
    return info
