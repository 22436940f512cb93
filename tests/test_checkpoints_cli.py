"""``/undo`` and ``/rewind`` in ``yoi chat``: the real ``yoi`` process, the
real litellm, the scripted model on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.items import Message
from agent.store import SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def cli_env(tmp_path: Path, scripted_model: ScriptedModel) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "YOI_HOME": str(tmp_path / "home"),
        "YOI_CONFIG_DIR": str(tmp_path / "config"),
        "YOI_MODEL": "openai/scripted",
        "YOI_API_BASE": scripted_model.base_url,
        "YOI_API_KEY": "test-key",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "YOI_SHARED_MODEL": "0",
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("original\n")
    return root


def chat(env: dict[str, str], cwd: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "chat", "--yes"],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=75,
        check=False,
    )


def run(command: str) -> dict[str, object]:
    return {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]}


def test_undo_and_rewind_take_files_and_conversation_back(
    cli_env: dict[str, str], workspace: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            run("echo one >> notes.txt && echo new > a.txt"),
            {"text": "did one"},
            run("rm notes.txt && echo b > b.txt"),
            {"text": "did two"},
            run("echo three > c.txt"),
            {"text": "did three"},
            {"text": "after the rewind"},
        ]
    )
    stdin = "first\nsecond\nthird\n/rewind\n/undo\n/rewind 2\n/rewind 9\nagain\n"
    done = chat(cli_env, workspace, stdin)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "  1  " in out and "first" in out and "third" in out  # the /rewind listing
    assert "Back to before turn 3" in out and "Back to before turn 2" in out
    assert "`turn` 9 is not a turn" in out
    assert (workspace / "notes.txt").read_text() == "original\none\n"
    assert (workspace / "a.txt").exists()
    assert not (workspace / "b.txt").exists() and not (workspace / "c.txt").exists()
    sent = scripted_model.requests[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["first", "again"]
    store = SessionStore(Path(cli_env["YOI_HOME"]) / "sessions")
    sessions = store.list_sessions()
    assert len({s.session_id for s in sessions}) >= 1
    for info in sessions:
        store.read(info.session_id)  # every log verifies
    last = store.restore(sessions[0].session_id)
    users = [i.text for i in last.history if isinstance(i, Message) and i.role == "user"]
    assert users == ["first", "again"]
