"""Provider keys out of reach: the language server and its model process keep
them out of their environments, so a command the agent runs cannot read them
through /proc, and they never reach the log, the events or the model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lspkit import start, stop

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(120)

KEY = "sk-yoi-SECRET-0123456789"
OPENAI_KEY = "sk-openai-SECRET-9876543210"


def environ_of(pid: int) -> str:
    return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


async def test_a_command_cannot_read_the_key_through_proc(
    env: dict[str, str], tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    spy = (
        "tr '\\0' '\\n' < /proc/$PPID/environ; "
        "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ; done 2>/dev/null | grep -i key"
    )
    scripted_model.load(
        [
            {"tool_calls": [{"name": "run_command", "arguments": {"command": spy}}]},
            {"text": "nothing to see"},
        ]
    )
    secret_env = {**env, "YOI_API_KEY": KEY, "OPENAI_API_KEY": OPENAI_KEY, "YOI_PREWARM": "1"}
    session = await start(secret_env, root, options={"approvals": "auto"})
    try:
        pod = await session.create_pod()
        result = await session.chat(pod, "look around")
        assert result["outcome"] == "finished"
        (tool,) = session.events(pod, "toolResult")
        assert tool["ok"], tool
        output = tool.get("content") or ""
        assert "PATH=" in output  # the command did read the server's environment
        server = session.client._server
        assert server is not None
        processes = [server.pid, *children_of(server.pid)]
        assert len(processes) >= 2  # the server and its model process
        for pid in processes:
            assert KEY not in environ_of(pid) and OPENAI_KEY not in environ_of(pid)
        everything = [output, str(session.state.events), str(scripted_model.requests)]
        sessions = Path(env["YOI_HOME"]) / "sessions"
        everything += [p.read_text(errors="replace") for p in sessions.rglob("*") if p.is_file()]
        for text in everything:
            assert KEY not in text and OPENAI_KEY not in text
    finally:
        await stop(session)


def test_secret_names_can_be_extended_and_split() -> None:
    from agent import secrets

    env = {"PATH": "/bin", "YOI_API_KEY": "k", "MY_TOKEN": "t", "YOI_SECRET_ENV": "MY_TOKEN"}
    clean, found = secrets.split(env)
    assert found == {"YOI_API_KEY": "k", "MY_TOKEN": "t"}
    assert clean == {"PATH": "/bin", "YOI_SECRET_ENV": "MY_TOKEN"}
    assert "YOI_API_KEY" not in os.environ or os.environ["YOI_API_KEY"] != "k"
