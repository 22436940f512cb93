"""Edits through the editor (workspace/applyEdit) and approvals (yoi/approval)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lspkit import (
    Session,
    capabilities,
    change_document,
    eventually,
    open_document,
    start,
    stop,
)
from lsprotocol import types

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)

ORIGINAL = "def main():\n    return 1\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text(ORIGINAL)
    return ws.resolve()


READ = {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]}
EDIT = {
    "tool_calls": [
        {
            "name": "edit_file",
            "arguments": {"path": "app.py", "old_string": "return 1", "new_string": "return 2"},
        }
    ]
}


def tool_messages(model: ScriptedModel, request: int) -> list[str]:
    return [m["content"] for m in model.requests[request]["messages"] if m["role"] == "tool"]


async def test_accepted_edit_is_pinned_annotated_and_applied(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    uri = open_document(lsp.client, lsp.state, root / "app.py", ORIGINAL)
    change_document(lsp.client, lsp.state, uri, ORIGINAL + "# unsaved\n")
    scripted_model.load([READ, EDIT, {"text": "done"}])
    lsp.state.edit_answers.append(True)
    pod = await lsp.create_pod()
    result = await lsp.chat(pod, "change it")
    assert result["outcome"] == "finished"
    (params,) = lsp.state.edits
    (change,) = params.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == 2
    annotation = (params.edit.change_annotations or {})["yoi"]
    assert annotation.needs_confirmation is True
    assert "edit_file" in annotation.label and "app.py" in annotation.label
    assert all(getattr(e, "annotation_id", None) == "yoi" for e in change.edits)
    assert lsp.state.docs[uri][1] == "def main():\n    return 2\n# unsaved\n"
    assert (root / "app.py").read_text() == ORIGINAL  # the editor owns saving
    statuses = [e["status"] for e in lsp.events(pod, "edit")]
    assert statuses == ["proposed", "applied"]
    assert "Edited app.py" in tool_messages(scripted_model, 2)[-1]


async def test_rejected_edit_is_reported_to_the_model(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    open_document(lsp.client, lsp.state, root / "app.py", ORIGINAL)
    scripted_model.load([READ, EDIT, {"text": "ok, leaving it"}])
    lsp.state.edit_answers.append(False)
    pod = await lsp.create_pod()
    await lsp.chat(pod, "change it")
    assert [e["status"] for e in lsp.events(pod, "edit")] == ["proposed", "rejected"]
    assert "rejected" in tool_messages(scripted_model, 2)[-1]
    assert (root / "app.py").read_text() == ORIGINAL


async def test_buffer_changed_since_read_is_stale_and_nothing_is_sent(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    uri = open_document(lsp.client, lsp.state, root / "app.py", ORIGINAL)
    # the edit arrives slowly, so the user can type after the read, before the edit
    slow_edit = {**EDIT, "text": "Editing now.", "chunk_size": 2, "chunk_delay_ms": 60}
    scripted_model.load([READ, slow_edit, {"text": "I will re-read"}])
    pod = await lsp.create_pod()
    turn = asyncio.ensure_future(lsp.chat(pod, "change it"))
    await lsp.wait_event(pod, "toolResult")
    change_document(lsp.client, lsp.state, uri, ORIGINAL.replace("1", "100"))
    await turn
    assert lsp.state.edits == []  # no stale edit reached the editor
    assert [e["status"] for e in lsp.events(pod, "edit")] == ["stale"]
    message = tool_messages(scripted_model, 2)[-1]
    assert "changed since you last read it" in message


async def test_new_file_uses_create_file(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    write = {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "pkg/new.py", "content": "X = 1\n"}}
        ]
    }
    scripted_model.load([write, {"text": "created"}])
    lsp.state.edit_answers.append(True)
    pod = await lsp.create_pod()
    await lsp.chat(pod, "create it")
    (params,) = lsp.state.edits
    changes = params.edit.document_changes or []
    assert isinstance(changes[0], types.CreateFile)
    assert changes[0].uri == (root / "pkg" / "new.py").as_uri()
    assert isinstance(changes[1], types.TextDocumentEdit)
    assert changes[1].edits[0].new_text == "X = 1\n"


async def test_client_without_apply_edit_is_refused_by_default(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    session = await start(env, root, caps=capabilities(apply_edit=False))
    try:
        scripted_model.load([READ, EDIT, {"text": "cannot"}])
        pod = await session.create_pod()
        await session.chat(pod, "change it")
        assert [e["status"] for e in session.events(pod, "edit")] == ["proposed", "failed"]
        assert "cannot apply edits" in tool_messages(scripted_model, 2)[-1]
        assert (root / "app.py").read_text() == ORIGINAL
    finally:
        await stop(session)


RUN = {"tool_calls": [{"name": "run_command", "arguments": {"command": "echo hi-from-shell"}}]}


async def test_run_command_allowed_then_remembered(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([RUN, {"text": "ran"}, RUN, {"text": "ran again"}])
    lsp.state.approval_answers.append({"decision": "allowSession"})
    pod = await lsp.create_pod()
    await lsp.chat(pod, "run it")
    await lsp.chat(pod, "run it again")
    assert len(lsp.state.approvals) == 1  # the second call was covered by allowSession
    asked = lsp.state.approvals[0]
    assert asked["podId"] == pod and asked["tool"] == "run_command"
    assert asked["arguments"] == {"command": "echo hi-from-shell"}
    assert "echo hi-from-shell" in asked["reason"]
    assert "hi-from-shell" in tool_messages(scripted_model, 1)[-1]
    assert "hi-from-shell" in tool_messages(scripted_model, 3)[-1]


async def test_run_command_denied(lsp: Session, scripted_model: ScriptedModel) -> None:
    scripted_model.load([RUN, {"text": "ok"}])
    lsp.state.approval_answers.append({"decision": "deny"})
    pod = await lsp.create_pod()
    await lsp.chat(pod, "run it")
    (result,) = lsp.events(pod, "toolResult")
    assert not result["ok"] and "denied" in result["summary"]


async def test_run_command_without_approval_capability_is_denied(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    session = await start(env, root, caps=capabilities(approvals=False))
    try:
        scripted_model.load([RUN, {"text": "ok"}])
        pod = await session.create_pod()
        await session.chat(pod, "run it")
        assert session.state.approvals == []  # never asked
        (result,) = session.events(pod, "toolResult")
        assert not result["ok"]
        # the model is told the truth: nobody was asked, nothing ran, and how to allow it
        told = scripted_model.requests[1]["messages"][-1]["content"]
        assert "cannot ask for approval" in told and "was not run" in told
        assert "denied" not in told
        manifest = str(Path(env["YOI_CONFIG_DIR"]) / "manifest.toml")
        assert manifest in told  # the real config path, not ~/.config
        alerts = [a["message"] for a in session.events(pod, "alert")]
        assert any("cannot ask for approval" in a for a in alerts)
        # warnings reach the editor's log too (window/logMessage), and a stock
        # client shows the standard window/showMessage
        logged = [m.message for m in session.client.log_messages]
        assert any("cannot ask for approval" in m for m in logged)
        shown = [m.message for m in session.client.messages]
        assert any("cannot ask for approval" in m and manifest in m for m in shown)
    finally:
        await stop(session)


async def test_approvals_auto_from_initialization_options(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    session = await start(
        env, root, caps=capabilities(approvals=False), options={"approvals": "auto"}
    )
    try:
        scripted_model.load([RUN, {"text": "ok"}])
        pod = await session.create_pod()
        await session.chat(pod, "run it")
        (result,) = session.events(pod, "toolResult")
        assert result["ok"] and session.state.approvals == []
    finally:
        await stop(session)


async def test_a_partly_applied_edit_tells_the_model_to_read_again(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    (root / "five.py").write_text("a\nb\nc\nd\ne\n")
    read = {"tool_calls": [{"name": "read_file", "arguments": {"path": "five.py"}}]}
    both = {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "five.py", "content": "A\nb\nc\nd\nE\n"}}
        ]
    }
    uri = open_document(lsp.client, lsp.state, root / "five.py", "a\nb\nc\nd\ne\n")
    scripted_model.load([read, both, {"text": "I will look again"}])
    lsp.state.edit_answers.append(True)
    lsp.state.apply_only = 1  # the user keeps the first change and unchecks the second
    pod = await lsp.create_pod()
    await lsp.chat(pod, "change it")
    (params,) = lsp.state.edits
    (change,) = params.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit) and len(change.edits) == 2  # two hunks
    assert lsp.state.docs[uri][1] == "A\nb\nc\nd\ne\n"
    message = tool_messages(scripted_model, 2)[-1]
    assert "only part of the change" in message and "Read it again" in message


async def test_interrupting_during_review_withdraws_the_edit(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    open_document(lsp.client, lsp.state, root / "app.py", ORIGINAL)
    scripted_model.load([READ, EDIT])
    lsp.state.hold_edits = asyncio.Event()  # the review dialog stays open
    lsp.state.edit_answers.append(True)
    pod = await lsp.create_pod()
    turn = asyncio.ensure_future(lsp.chat(pod, "change it"))
    await lsp.wait_event(pod, "edit")  # proposed
    assert await eventually(lambda: len(lsp.state.edits) == 1)
    await lsp.request("yoi/pod/interrupt", {"podId": pod})
    assert (await asyncio.wait_for(turn, 5))["outcome"] == "interrupted"
    assert await eventually(lambda: lsp.state.edits_cancelled == 1)  # $/cancelRequest arrived
    statuses = [(e["status"], e.get("message")) for e in lsp.events(pod, "edit")]
    assert statuses == [("proposed", None), ("failed", "interrupted before the editor answered")]
    assert (root / "app.py").read_text() == ORIGINAL


async def test_a_closed_crlf_file_can_be_edited(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    (root / "win.py").write_bytes(b"def main():\r\n    return 1\r\n")
    read = {"tool_calls": [{"name": "read_file", "arguments": {"path": "win.py"}}]}
    edit = {
        "tool_calls": [
            {
                "name": "edit_file",
                "arguments": {"path": "win.py", "old_string": "return 1", "new_string": "return 2"},
            }
        ]
    }
    scripted_model.load([read, edit, {"text": "done"}])
    lsp.state.edit_answers.append(True)
    pod = await lsp.create_pod()
    await lsp.chat(pod, "change it")
    assert [e["status"] for e in lsp.events(pod, "edit")] == ["proposed", "applied"]
    assert (root / "win.py").read_bytes() == b"def main():\r\n    return 2\r\n"


async def test_a_stock_client_that_syncs_late_gets_plain_edits_that_stay_consistent(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    """A client with none of yoi's extras (no approvals, no change annotations)
    that sends didChange only a while after applying an edit, as eglot does:
    the second edit right after the first is not stale, a read sees the edit,
    and nobody waits for the late didChange."""
    session = await start(env, root, caps=capabilities(approvals=False, annotations=False))
    try:
        session.state.sync_later = 1.5
        uri = open_document(session.client, session.state, root / "app.py", ORIGINAL)
        second = {
            "tool_calls": [
                {
                    "name": "edit_file",
                    "arguments": {
                        "path": "app.py",
                        "old_string": "return 2",
                        "new_string": "return 3",
                    },
                }
            ]
        }
        scripted_model.load([READ, EDIT, second, READ, {"text": "done"}])
        session.state.edit_answers += [True, True]
        pod = await session.create_pod()
        result = await session.chat(pod, "change it twice")
        assert result["outcome"] == "finished"
        statuses = [e["status"] for e in session.events(pod, "edit")]
        assert statuses == ["proposed", "applied", "proposed", "applied"]
        # plain edits: no change annotations for a client that lacks them
        for params in session.state.edits:
            assert not params.edit.change_annotations
            (change,) = params.edit.document_changes or []
            assert isinstance(change, types.TextDocumentEdit)
            assert all(getattr(e, "annotation_id", None) is None for e in change.edits)
        # the read after both edits saw them, before the client synced
        read_back = tool_messages(scripted_model, 4)[-1]
        assert "return 3" in read_back and "return 1" not in read_back
        assert session.state.docs[uri] == (3, "def main():\n    return 3\n")
    finally:
        await stop(session)
