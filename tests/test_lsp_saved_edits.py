"""Edits that commands see: an accepted edit to a document without unsaved
changes is saved by the client (``yoi/document/save``), so a command run right
after sees it; a buffer that held the user's unsaved changes is never saved,
and the command's approval prompt and result say what it did not see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lspkit import Session, capabilities, change_document, open_document, start, stop

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)

GREET = 'print("hi")\n'
NOTE = "note: greet.py has unsaved changes in the editor; the command saw the saved version"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "greet.py").write_text(GREET)
    return ws.resolve()


@pytest.fixture
async def editor(env: dict[str, str], root: Path) -> AsyncIterator[Session]:
    """yoi's own clients: they answer yoi/document/save."""
    session = await start(env, root, caps=capabilities(save_documents=True))
    yield session
    await stop(session)


@pytest.fixture
async def stock(env: dict[str, str], root: Path) -> AsyncIterator[Session]:
    """A stock client (approvals, but no yoi/document/save)."""
    session = await start(env, root)
    yield session
    await stop(session)


SCRIPT = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "greet.py"}}]},
    {
        "tool_calls": [
            {
                "name": "edit_file",
                "arguments": {"path": "greet.py", "old_string": '"hi"', "new_string": '"hello"'},
            }
        ]
    },
    {"tool_calls": [{"name": "run_command", "arguments": {"command": "python3 greet.py"}}]},
    {"text": "done"},
]


def command_result(model: ScriptedModel) -> str:
    """What the model got back from run_command (the last request's last tool message)."""
    return [m["content"] for m in model.requests[3]["messages"] if m["role"] == "tool"][-1]


async def run(session: Session, model: ScriptedModel) -> str:
    model.load(SCRIPT)
    session.state.edit_answers.append(True)
    session.state.approval_answers.append({"decision": "allow"})
    pod = await session.create_pod()
    result = await session.chat(pod, "say hello")
    assert result["outcome"] == "finished"
    return pod


async def test_an_accepted_edit_to_a_clean_buffer_is_saved_and_the_command_sees_it(
    editor: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    uri = open_document(editor.client, editor.state, root / "greet.py", GREET)
    await run(editor, scripted_model)
    assert editor.state.saves == [uri]
    assert (root / "greet.py").read_text() == 'print("hello")\n'
    output = command_result(scripted_model)
    assert "hello" in output and "note:" not in output
    assert "note:" not in editor.state.approvals[0]["reason"]


async def test_a_buffer_with_unsaved_user_changes_is_not_saved_and_the_command_says_so(
    editor: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    uri = open_document(editor.client, editor.state, root / "greet.py", GREET)
    change_document(editor.client, editor.state, uri, GREET + "# my own unsaved work\n")
    await run(editor, scripted_model)
    assert editor.state.saves == []
    assert (root / "greet.py").read_text() == GREET  # never saved behind the user's back
    assert editor.state.docs[uri][1] == 'print("hello")\n# my own unsaved work\n'
    output = command_result(scripted_model)
    assert NOTE in output
    assert "exit 0 — hi" in output  # the command ran the saved file
    (asked,) = editor.state.approvals
    will_see = "note: greet.py has unsaved changes in the editor; the command will see the saved"
    assert will_see in asked["reason"]


async def test_a_client_that_cannot_save_is_not_asked_and_the_command_says_so(
    stock: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    uri = open_document(stock.client, stock.state, root / "greet.py", GREET)
    await run(stock, scripted_model)
    assert stock.state.saves == []
    assert (root / "greet.py").read_text() == GREET
    assert stock.state.docs[uri][1] == 'print("hello")\n'
    assert NOTE in command_result(scripted_model)


async def test_an_edit_to_a_closed_file_needs_no_note(
    editor: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    """The fake editor writes a closed file it edits; nothing is left unsaved."""
    await run(editor, scripted_model)
    assert (root / "greet.py").read_text() == 'print("hello")\n'
    output = command_result(scripted_model)
    assert "hello" in output and "note:" not in output
