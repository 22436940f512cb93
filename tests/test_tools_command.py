"""run_command and the approval gate, with real processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from agent.approvals import ApprovalGate
from agent.errors import ExecutionFailed, InvalidArgument, ScopeDenied
from agent.ports import AllowAll, ApprovalDecision, ApprovalRequest, NullSink
from agent.scope import Scope
from agent.tools.base import ToolCallContext, ToolOutput
from agent.tools.command import RunCommand, session_key


class Answers:
    """An approval port that answers from a script and records the requests."""

    def __init__(self, *answers: ApprovalDecision | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = Path(os.path.realpath(tmp_path)) / "ws"
    (root / "src").mkdir(parents=True)
    return root


def tool(ws: Path, port: Any = None, mode: str = "ask", **kw: Any) -> RunCommand:
    gate = ApprovalGate(port or AllowAll(), "auto" if mode == "auto" else "ask", ws)
    return RunCommand(Scope.default(ws), gate, **kw)


async def run(t: RunCommand, **raw: Any) -> ToolOutput:
    return await t.run(t.parse(raw), ToolCallContext(call_id="call-7", events=NullSink()))


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def wait_dead(pid: int, within: float = 10.0) -> bool:
    """Whether ``pid`` is gone (or a zombie) within ``within`` seconds: a
    killed process on a busy machine (the whole suite in parallel) may take
    seconds to be scheduled and die; the commands under test sleep 30 s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        await asyncio.sleep(0.02)
    return False


def own_children() -> set[int]:
    """This process's child processes (Linux)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def read_if_there(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


async def wait_for_file(path: Path, within: float = 5.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if text := read_if_there(path):
            return text
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


# ---------------------------------------------------------------- approvals


async def test_denied_command_does_not_run(ws: Path) -> None:
    port = Answers("deny")
    t = tool(ws, port)
    with pytest.raises(ExecutionFailed) as info:
        await run(t, command="touch ran.txt")
    assert str(info.value) == "The user denied running `touch ran.txt`."
    assert not (ws / "ran.txt").exists()
    request = port.requests[0]
    assert request.tool == "run_command"
    assert request.tool_call_id == "call-7"
    assert request.reason == "Run `touch ran.txt` in the workspace root"
    assert request.session_key == "run_command:touch"
    assert request.arguments == {"command": "touch ran.txt"}
    assert request.cwd == ws


async def test_allowed_command_runs_and_allow_session_is_remembered(ws: Path) -> None:
    port = Answers("allow", "allowSession", "deny")
    t = tool(ws, port)
    out = await run(t, command="echo hi")
    assert out.summary == "exit 0 — hi"
    assert out.content == "hi"
    await run(t, command="echo once more")  # allowSession for run_command:echo
    out = await run(t, command="echo third time")  # not asked again
    assert out.summary == "exit 0 — third time"
    assert len(port.requests) == 2
    with pytest.raises(ExecutionFailed, match="denied"):
        await run(t, command="ls")
    assert len(port.requests) == 3


async def test_failing_port_and_odd_answers_mean_deny(ws: Path) -> None:
    port = Answers(RuntimeError("client went away"), "maybe")  # type: ignore[arg-type]
    t = tool(ws, port)
    with pytest.raises(ExecutionFailed, match="denied"):
        await run(t, command="touch a")
    with pytest.raises(ExecutionFailed, match="denied"):
        await run(t, command="touch a")
    assert not (ws / "a").exists()


async def test_auto_mode_never_asks(ws: Path) -> None:
    port = Answers()
    out = await run(tool(ws, port, mode="auto"), command="echo auto")
    assert out.summary == "exit 0 — auto"
    assert port.requests == []


def test_session_keys_cover_only_simple_commands() -> None:
    assert session_key("pytest -q tests") == "run_command:pytest"
    assert session_key("  git status") == "run_command:git"
    assert session_key("cd x && rm -rf y") == "run_command:cd x && rm -rf y"
    assert session_key("echo $(whoami)") == "run_command:echo $(whoami)"
    assert session_key("ls | sh") == "run_command:ls | sh"


@pytest.mark.parametrize(
    "command",
    [
        "python x.py",
        'python -c "import os"',
        "python3 -m pytest",
        "/usr/bin/python3.11 x.py",
        "sh -c 'rm -rf ~'",
        "bash script.sh",
        "node -e 1",
        "perl -e 1",
        "env FOO=1 make",
        "xargs rm",
        "find . -delete",
        "sudo ls",
        "timeout 5 ls",
        "nice ls",
        "npx create-app",
        "uvx ruff",
        ". ./env.sh",
        "source env.sh",
        "exec ls",
        "FOO=1 ls",
        "'python' x.py",
    ],
)
def test_runners_and_interpreters_are_keyed_on_the_whole_command(command: str) -> None:
    assert session_key(command) == f"run_command:{command}"


@pytest.mark.parametrize(
    ("command", "key"),
    [("git log -3", "git"), ("make test", "make"), ("ls -la", "ls"), ("pytest", "pytest")],
)
def test_ordinary_tools_are_keyed_on_their_name(command: str, key: str) -> None:
    assert session_key(command) == f"run_command:{key}"


async def test_always_allowing_a_script_does_not_allow_other_python_code(ws: Path) -> None:
    (ws / "x.py").write_text("print('script')\n")
    (ws / "evil.py").write_text("open('pwned', 'w')\n")
    port = Answers("allowSession", "deny")
    t = tool(ws, port)
    assert (await run(t, command="python3 x.py")).summary == "exit 0 — script"
    assert (await run(t, command="python3 x.py")).summary == "exit 0 — script"  # remembered
    with pytest.raises(ExecutionFailed, match="denied"):
        await run(t, command="python3 evil.py")
    assert len(port.requests) == 2
    assert not (ws / "pwned").exists()


# ---------------------------------------------------------------- environment


async def test_the_api_key_is_not_passed_to_commands(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOI_API_KEY", "sk-secret-from-env")
    monkeypatch.setenv("YOI_HARMLESS", "visible")
    out = await run(tool(ws, mode="auto"), command="env")
    assert out.content is not None
    assert "YOI_API_KEY" not in out.content
    assert "sk-secret-from-env" not in out.content
    assert "YOI_HARMLESS=visible" in out.content
    assert "GIT_TERMINAL_PROMPT=0" in out.content


async def test_a_custom_key_variable_is_hidden_too(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("YOI_API_KEY", "sk-other")
    t = tool(ws, mode="auto", hidden_env=("ANTHROPIC_API_KEY",))
    out = await run(t, command="env")
    assert out.content is not None
    assert "sk-ant-secret" not in out.content
    assert "YOI_API_KEY=sk-other" in out.content  # only what was named is hidden


async def test_builtin_tools_pass_hidden_env_to_run_command(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.disk_editor import DiskEditor
    from agent.tools.builtin import ToolEnv, builtin_tools
    from agent.tools.fs import ScopedFs, Tracker

    monkeypatch.setenv("MY_KEY", "sk-mine")
    gate = ApprovalGate(AllowAll(), "auto", ws)
    fs = ScopedFs(Scope.default(ws), None, Tracker())
    env = ToolEnv(fs=fs, editor=DiskEditor(), approvals=gate, hidden_env=("MY_KEY",))
    command = next(t for t in builtin_tools(env) if isinstance(t, RunCommand))
    out = await run(command, command="echo ${MY_KEY:-unset}")
    assert out.content == "unset"


# ---------------------------------------------------------------- running


async def test_exit_codes_stderr_cwd_and_closed_stdin(ws: Path) -> None:
    t = tool(ws)
    out = await run(t, command="echo to-stderr >&2; echo second; exit 3")
    assert out.summary == "exit 3 — to-stderr"
    assert out.content == "to-stderr\nsecond"
    out = await run(t, command="pwd", cwd="src")
    assert out.content == str(ws / "src")
    out = await run(t, command="cat")
    assert out.summary == "exit 0 — (no output)"
    assert out.content is None
    out = await run(t, command="kill -9 $$")
    assert out.summary.startswith("killed by signal SIGKILL")


async def test_cwd_must_be_an_in_scope_directory(ws: Path) -> None:
    t = tool(ws)
    with pytest.raises(ScopeDenied):
        await run(t, command="pwd", cwd="..")
    with pytest.raises(InvalidArgument, match="not an existing directory"):
        await run(t, command="pwd", cwd="missing")
    with pytest.raises(InvalidArgument, match="empty"):
        await run(t, command="   ")


async def test_output_keeps_head_and_tail(ws: Path) -> None:
    t = tool(ws, max_output_bytes=2000)
    out = await run(t, command="seq 1 20000")
    assert out.content is not None
    assert out.content.startswith("1\n2\n3\n")
    assert out.content.endswith("19999\n20000")
    assert "bytes of output omitted" in out.content
    assert len(out.content.encode()) < 2200
    assert out.summary == "exit 0 — 1"


async def test_timeout_kills_the_process_group(ws: Path) -> None:
    t = tool(ws)
    started = time.monotonic()
    out = await run(
        t, command="sleep 30 & echo $! > child.pid; echo started; wait", timeout_seconds=0.5
    )
    assert time.monotonic() - started < 5
    assert out.summary == "timed out after 0.5s; the process group was killed — started"
    assert out.content is not None
    assert "the command and its children were killed" in out.content
    assert await wait_dead(int((ws / "child.pid").read_text()))


async def test_cancellation_kills_the_process_group(ws: Path) -> None:
    t = tool(ws)
    task = asyncio.create_task(
        run(t, command="sleep 30 & echo $! > child.pid; sleep 30; echo never > after.txt")
    )
    pid = int(await wait_for_file(ws / "child.pid"))
    assert alive(pid)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_dead(pid)
    await asyncio.sleep(0.1)
    assert not (ws / "after.txt").exists()


async def test_cancellation_while_the_command_starts_kills_the_process_group(ws: Path) -> None:
    """Cancelled before asyncio has connected the command's pipes (the shell
    already runs and has started ``sleep 30 &``), the whole group is killed,
    not the shell alone. A busy machine hit this window in the full suite."""
    t = tool(ws)
    task = asyncio.create_task(
        run(t, command="sleep 30 & echo $! > child.pid; sleep 30; echo never > after.txt")
    )
    before = own_children()
    deadline = time.monotonic() + 10
    while own_children() == before:  # one loop step at a time, until the shell is forked
        assert time.monotonic() < deadline, "the command never started"
        await asyncio.sleep(0)
    while not read_if_there(ws / "child.pid").strip():  # the loop stays blocked meanwhile
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.01)  # noqa: ASYNC251 (blocking on purpose: the pipes must wait)
    pid = int(read_if_there(ws / "child.pid"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):  # not once `sleep 30 &` ends and lets go of the pipe
            await task
    assert await wait_dead(pid), read_if_there(Path(f"/proc/{pid}/stat"))
    assert not (ws / "after.txt").exists()


async def test_background_processes_holding_the_output_are_stopped(ws: Path) -> None:
    t = tool(ws)
    started = time.monotonic()
    out = await run(t, command="sleep 30 & echo $! > child.pid; echo done")
    assert time.monotonic() - started < 5
    assert out.summary == "exit 0 — done"
    assert out.content is not None
    assert "background processes" in out.content
    assert await wait_dead(int((ws / "child.pid").read_text()))


async def test_detached_background_processes_are_left_alone(ws: Path) -> None:
    t = tool(ws)
    out = await run(t, command="sleep 30 >/dev/null 2>&1 & echo $! > child.pid; echo ok")
    assert out.content == "ok"
    pid = int((ws / "child.pid").read_text())
    try:
        assert alive(pid)
    finally:
        os.kill(pid, 9)
