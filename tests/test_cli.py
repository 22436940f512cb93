"""The terminal host end to end: the real ``yoi`` process, the real litellm,
the scripted model on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agent.store import RunCompleted, SessionStore, UserInput
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)


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
    (root / "greet.py").write_text('print("helo")\n')
    return root


def yoi(
    *args: str, env: dict[str, str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=45,
        check=False,
    )


EDIT_SCRIPT = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "greet.py"}}]},
    {
        "tool_calls": [
            {
                "name": "edit_file",
                "arguments": {"path": "greet.py", "old_string": "helo", "new_string": "hello"},
            }
        ]
    },
    {"text": "All done."},
]


def sessions(env: dict[str, str]) -> SessionStore:
    return SessionStore(Path(env["YOI_HOME"]) / "sessions")


def test_chat_applies_an_approved_edit(
    cli_env: dict[str, str], workspace: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(EDIT_SCRIPT)
    run = yoi("chat", "-p", "fix greet.py", env=cli_env, cwd=workspace, stdin="y\n")
    assert run.returncode == 0, run.stderr
    assert (workspace / "greet.py").read_text() == 'print("hello")\n'
    assert '+print("hello")' in run.stdout  # the diff was shown for review
    assert "All done." in run.stdout


def test_chat_rejected_edit_leaves_the_file(
    cli_env: dict[str, str], workspace: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(EDIT_SCRIPT)
    run = yoi("chat", "-p", "fix greet.py", env=cli_env, cwd=workspace, stdin="n\n")
    assert run.returncode == 0, run.stderr
    assert (workspace / "greet.py").read_text() == 'print("helo")\n'
    third = scripted_model.requests[2]["messages"]
    assert any(m["role"] == "tool" and "rejected" in m["content"] for m in third)


def test_sessions_and_resume(
    cli_env: dict[str, str], workspace: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "first answer"}, {"text": "second answer"}])
    run = yoi("chat", env=cli_env, cwd=workspace, stdin="first question\nsecond question\n")
    assert run.returncode == 0, run.stderr
    assert "first answer" in run.stdout and "second answer" in run.stdout
    listed = json.loads(yoi("sessions", "--json", env=cli_env, cwd=workspace).stdout)
    assert len(listed) == 1
    assert listed[0]["title"] == "first question" and listed[0]["turnCount"] == 2
    session_id = listed[0]["sessionId"]

    scripted_model.load([{"text": "third answer"}])
    again = yoi("chat", "--resume", session_id, env=cli_env, cwd=workspace, stdin="third\n")
    assert again.returncode == 0, again.stderr
    sent = scripted_model.requests[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        "first question",
        "second question",
        "third",
    ]
    log = yoi("log", session_id, env=cli_env, cwd=workspace)
    assert "hash chain verified" in log.stdout


def test_resume_unknown_session_is_a_clear_error(cli_env: dict[str, str], workspace: Path) -> None:
    run = yoi("chat", "--resume", "0000-nope", env=cli_env, cwd=workspace)
    assert run.returncode == 2
    assert "yoi:" in run.stderr and "0000-nope" in run.stderr


def test_no_model_configured_says_what_to_do(cli_env: dict[str, str], workspace: Path) -> None:
    env = {k: v for k, v in cli_env.items() if k not in ("YOI_MODEL", "YOI_API_BASE")}
    run = yoi("chat", "-p", "hi", env=env, cwd=workspace)
    assert run.returncode == 1
    assert "YOI_MODEL" in run.stdout + run.stderr


async def _read_until(stream: asyncio.StreamReader, needle: str, seen: list[str]) -> None:
    while not any(needle in line for line in seen):
        line = await stream.readline()
        if not line:
            raise AssertionError(f"EOF before {needle!r}; output: {''.join(seen)}")
        seen.append(line.decode())


async def test_ctrl_c_interrupts_the_turn_not_the_program(
    cli_env: dict[str, str], workspace: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"hang": True, "text": "thinking about "}, {"text": "second reply"}])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "chat",
        env=cli_env,
        cwd=workspace,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin and proc.stdout
    seen: list[str] = []
    proc.stdin.write(b"tell me a long story\n")
    await proc.stdin.drain()
    await scripted_model.wait_for_requests_async(1, patience=20)
    await asyncio.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(_read_until(proc.stdout, "[interrupted]", seen), 10)
    assert proc.returncode is None  # still running
    proc.stdin.write(b"go on\n")
    await proc.stdin.drain()
    await asyncio.wait_for(_read_until(proc.stdout, "second reply", seen), 10)
    proc.stdin.close()
    assert await asyncio.wait_for(proc.wait(), 10) == 0
    entries = [
        e
        for s in sessions(cli_env).list_sessions()
        for e in sessions(cli_env).read(s.session_id).entries
    ]
    ends = [e for e in entries if isinstance(e, RunCompleted)]
    assert [e.interrupted for e in ends] == [True, False]


async def test_a_killed_process_loses_nothing(
    cli_env: dict[str, str], workspace: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "greet.py"}}]},
            {"hang": True},
        ]
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "chat",
        "-p",
        "read greet.py",
        env=cli_env,
        cwd=workspace,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await scripted_model.wait_for_requests_async(2, patience=20)
    proc.kill()
    await proc.wait()
    store = sessions(cli_env)
    (info,) = store.list_sessions()
    state = store.restore(info.session_id)  # the chain verifies
    assert state.last_run_interrupted
    assert any("did not finish" in w for w in state.warnings)
    assert any(isinstance(e, UserInput) for e in store.read(info.session_id).entries)
    kinds = [i.kind for i in state.history]
    assert kinds == ["message", "tool_call", "tool_result"]

    # the registry entry of the dead process does not block resuming
    scripted_model.load([{"text": "resumed fine"}])
    run = yoi("chat", "--resume", info.session_id, "-p", "again", env=cli_env, cwd=workspace)
    assert run.returncode == 0, run.stderr
    assert "resumed fine" in run.stdout
    assert "did not finish" in run.stderr


def test_chat_always_allows_a_command_in_this_workspace(
    cli_env: dict[str, str], workspace: Path, scripted_model: ScriptedModel
) -> None:
    run_it = {"tool_calls": [{"name": "run_command", "arguments": {"command": "echo hi"}}]}
    scripted_model.load([run_it, {"text": "ran"}])
    first = yoi("chat", "-p", "run it", env=cli_env, cwd=workspace, stdin="w\n")
    assert first.returncode == 0, first.stderr
    assert "always in this [w]orkspace" in first.stdout
    assert "denied" not in scripted_model.requests[1]["messages"][-1]["content"]

    scripted_model.load([run_it, {"text": "ran again"}])
    again = yoi("chat", "-p", "run it again", env=cli_env, cwd=workspace, stdin="")
    assert again.returncode == 0, again.stderr
    assert "Allow run_command" not in again.stdout  # not asked: the rule holds
    assert "hi" in scripted_model.requests[1]["messages"][-1]["content"]
