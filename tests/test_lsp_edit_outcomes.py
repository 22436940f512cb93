"""How each proposed edit ended — applied, partly applied, rejected — is kept
with the tool's result in the session log: it reaches the client in the
``toolResult`` event and in ``yoi/pod/history``, also after the session is
resumed by another pod."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, open_document

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)

APP = "def main():\n    return 1\n"
FIVE = "a\nb\nc\nd\ne\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text(APP)
    (ws / "five.py").write_text(FIVE)
    return ws.resolve()


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


SCRIPT = [
    {"tool_calls": [call("read_file", path="app.py"), call("read_file", path="five.py")]},
    {"tool_calls": [call("edit_file", path="app.py", old_string="1", new_string="2")]},
    {"tool_calls": [call("write_file", path="five.py", content="A\nb\nc\nd\nE\n")]},
    {"tool_calls": [call("edit_file", path="app.py", old_string="2", new_string="3")]},
    {"text": "done"},
]


async def test_edit_outcomes_are_kept_in_the_history(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    app = open_document(lsp.client, lsp.state, root / "app.py", APP)
    five = open_document(lsp.client, lsp.state, root / "five.py", FIVE)
    scripted_model.load(SCRIPT)
    lsp.state.edit_answers += [True, True, False]
    lsp.state.apply_only = 1  # the two-hunk write keeps only its first change
    pod = await lsp.create_pod()
    result = await lsp.chat(pod, "change both")
    assert result["outcome"] == "finished"
    assert lsp.state.docs[five][1] == "A\nb\nc\nd\ne\n"

    expected = [
        [{"uri": app, "status": "applied"}],
        [{"uri": five, "status": "partial", "message": "only some of the changes were kept"}],
        [{"uri": app, "status": "rejected", "message": "rejected in test"}],
    ]
    # live: each edit tool's result event says how its edit ended
    live = [e for e in lsp.events(pod, "toolResult") if e["name"] != "read_file"]
    assert [e["edits"] for e in live] == expected
    assert [e["ok"] for e in live] == [True, False, False]
    assert all("edits" not in e for e in lsp.events(pod, "toolResult") if e["name"] == "read_file")

    # the history holds the same, and so does a resumed session
    history = (await lsp.request("yoi/pod/history", {"podId": pod}))["items"]
    edited = [i for i in history if i["kind"] == "toolResult" and i["name"] != "read_file"]
    assert [i["edits"] for i in edited] == expected
    await lsp.request("yoi/pod/dispose", {"podId": pod})
    created = await lsp.request("yoi/pod/create", {"resumeSessionId": result["sessionId"]})
    again = (await lsp.request("yoi/pod/history", {"podId": created["podId"]}))["items"]
    assert again == history
