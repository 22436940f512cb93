"""Child processes: the environment they get (no API key) and ending their group."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from agent.hooks import CommandHook, HookPoint, PreToolCallInfo, PromptSubmitInfo, Skip
from agent.process import child_env, kill_group


def test_child_env_hides_the_named_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOI_API_KEY", "sk-default")
    monkeypatch.setenv("OTHER_KEY", "sk-other")
    monkeypatch.setenv("PLAIN", "kept")
    env = child_env()
    assert "YOI_API_KEY" not in env
    assert (env["OTHER_KEY"], env["PLAIN"]) == ("sk-other", "kept")
    assert (env["PAGER"], env["GIT_PAGER"], env["GIT_TERMINAL_PROMPT"]) == ("cat", "cat", "0")
    env = child_env(["OTHER_KEY"], extra={"EXTRA": "1"})
    assert "OTHER_KEY" not in env
    assert env["YOI_API_KEY"] == "sk-default"
    assert env["EXTRA"] == "1"
    assert os.environ["YOI_API_KEY"] == "sk-default"  # the process keeps its own


def test_kill_group_ends_the_whole_group_and_ignores_a_gone_one() -> None:
    proc = subprocess.Popen(["/bin/sh", "-c", "sleep 30 & sleep 30; wait"], start_new_session=True)
    kill_group(proc.pid)
    assert proc.wait(timeout=5) == -signal.SIGKILL
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the background child outlived kill_group")
    kill_group(proc.pid)  # already gone: no error


def hook(tmp_path: Path, command: str, **kw: Any) -> CommandHook:
    return CommandHook(point=HookPoint.PRE_TOOL_CALL, command=command, cwd=str(tmp_path), **kw)


async def _env_seen_by(tmp_path: Path, hook_: CommandHook) -> dict[str, str]:
    """Run a hook that dumps its environment to ``env.json``; what it saw."""
    await hook_(PreToolCallInfo(call_id="c1", tool="run_command", arguments={}))
    return dict(json.loads((tmp_path / "env.json").read_text()))


async def test_command_hooks_do_not_see_the_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOI_API_KEY", "sk-secret")
    monkeypatch.setenv("CUSTOM_KEY", "sk-custom")
    dump = "cat > /dev/null; python3 -c 'import json, os; print(json.dumps(dict(os.environ)))'"
    command = f"{dump} > env.json"
    seen = await _env_seen_by(tmp_path, hook(tmp_path, command))
    assert "YOI_API_KEY" not in seen
    assert seen["CUSTOM_KEY"] == "sk-custom"
    assert seen["YOI_HOOK_POINT"] == "pre_tool_call"
    seen = await _env_seen_by(tmp_path, hook(tmp_path, command, hidden_env=("CUSTOM_KEY",)))
    assert "CUSTOM_KEY" not in seen
    assert seen["YOI_API_KEY"] == "sk-secret"


async def test_a_timed_out_hook_is_killed_with_its_children(tmp_path: Path) -> None:
    problems: list[str] = []
    slow = hook(
        tmp_path,
        "cat > /dev/null; sleep 30 & echo $! > child.pid; wait",
        timeout_seconds=0.3,
        on_problem=problems.append,
    )
    decision = await slow(PromptSubmitInfo(text="hi", turn_index=0))
    assert not isinstance(decision, Skip)
    assert problems and "took longer than 0.3 s" in problems[0]
    child = int((tmp_path / "child.pid").read_text())
    for _ in range(100):
        if _gone(child):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the hook's child outlived the timeout")


def _gone(pid: int) -> bool:
    """No such process, or it exited and waits to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
