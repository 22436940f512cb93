"""``run_command``: a shell command in the workspace, after approval.

The command runs under ``/bin/sh -c`` in its own process group with stdin
closed and stdout and stderr merged. A timeout, a cancelled run, the user
stopping the call, or background processes that keep the output open after
the command exits all end with the whole process group killed, so nothing
outlives the call by accident.

Its output streams as ``toolOutput`` events while it runs (live progress, not
logged); the result keeps the head and tail of it, capped.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import re
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from agent.approvals import ApprovalGate
from agent.errors import ExecutionFailed, InvalidArgument
from agent.events import ToolOutputEvent
from agent.process import DEFAULT_HIDDEN_ENV, child_env, kill_group
from agent.scope import Scope
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput
from agent.tools.fs import ScopedFs, decode
from agent.tools.unsaved import unsaved_edits, unsaved_note

TERM_GRACE_SECONDS = 2.0
DRAIN_GRACE_SECONDS = 0.5
READ_CHUNK = 65536
_COMPOUND = re.compile(r"[;&|<>`\n(){}]|\$\(")
# Commands whose arguments are code or another command: "always allow" for
# one of these covers only the exact command text.
RUNNERS: frozenset[str] = frozenset(
    {
        # shells
        "sh", "bash", "zsh", "dash", "fish", "ksh", "mksh", "csh", "tcsh", "xonsh", "pwsh",
        "busybox",
        # interpreters
        "python", "python3", "pypy", "pypy3", "node", "deno", "bun", "perl", "ruby", "php",
        "lua", "tclsh", "Rscript", "osascript", "awk", "gawk", "mawk",
        # command runners
        "env", "xargs", "find", "sudo", "doas", "su", "nohup", "timeout", "nice", "ionice",
        "stdbuf", "time", "watch", "eval", "exec", "command", "builtin", "source", ".",
        "npx", "pnpx", "uvx", "pipx", "uv",
    }
)  # fmt: skip
_VERSIONED_RUNNER = re.compile(r"(?:python|pypy|perl|ruby|php|node|lua)[0-9][0-9.]*")


@dataclass(frozen=True)
class ShellResult:
    """What a finished command left: its exit code (negative: killed by that
    signal; ``None`` if it could not be reaped), its output (capped), and how
    it ended."""

    exit_code: int | None
    output: str
    omitted_bytes: int
    timed_out: bool = False
    strays_killed: bool = False
    stopped: bool = False  # by the user


class _Capture:
    """Keeps the head and the tail of a stream, and counts what it drops."""

    def __init__(self, limit: int) -> None:
        self.head_limit = max(0, limit // 2)
        self.tail_limit = max(0, limit - self.head_limit)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            excess = len(self.tail) - self.tail_limit
            if excess > 0:
                del self.tail[:excess]

    def text(self) -> tuple[str, int]:
        omitted = self.total - len(self.head) - len(self.tail)
        if omitted == 0:
            return decode(bytes(self.head + self.tail)), 0
        head, tail = bytes(self.head), bytes(self.tail)
        cut = head.rfind(b"\n")
        if cut >= len(head) // 2:
            omitted += len(head) - cut - 1
            head = head[: cut + 1]
        cut = tail.find(b"\n")
        if 0 <= cut < len(tail) // 2:
            omitted += cut + 1
            tail = tail[cut + 1 :]
        marker = f"\n[… {omitted} bytes of output omitted …]\n"
        return decode(head).rstrip("\n") + marker + decode(tail), omitted


async def _pump(
    stream: asyncio.StreamReader,
    capture: _Capture,
    on_output: Callable[[bytes], None] | None = None,
) -> None:
    while chunk := await stream.read(READ_CHUNK):
        capture.feed(chunk)
        if on_output is not None:
            on_output(chunk)


async def _supervise(
    proc: asyncio.subprocess.Process,
    reader: asyncio.Task[None],
    time_limit: float,
    stop: asyncio.Event | None = None,
) -> Literal["done", "timeout", "strays", "stopped"]:
    """Wait for the command and its output; say how it ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + time_limit
    waiter = asyncio.ensure_future(proc.wait())
    stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
    exited_at: float | None = None
    try:
        while not (reader.done() and waiter.done()):
            now = loop.time()
            if stopper is not None and stopper.done():
                return "stopped"
            if now >= deadline:
                return "timeout"
            if proc.returncode is not None and not reader.done():
                exited_at = now if exited_at is None else exited_at
                if now - exited_at >= DRAIN_GRACE_SECONDS:
                    return "strays"
            pending = {t for t in (reader, waiter, stopper) if t is not None and not t.done()}
            await asyncio.wait(pending, timeout=min(0.1, deadline - now))
        return "done"
    finally:
        for task in (waiter, stopper):
            if task is not None and not task.done():
                task.cancel()


async def _finish_reader(reader: asyncio.Task[None]) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(reader, DRAIN_GRACE_SECONDS * 2)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), TERM_GRACE_SECONDS)


async def run_shell(
    command: str,
    cwd: Path,
    *,
    time_limit: float,
    max_output_bytes: int,
    hidden_env: Iterable[str] = DEFAULT_HIDDEN_ENV,
    on_output: Callable[[bytes], None] | None = None,
    stop: asyncio.Event | None = None,
) -> ShellResult:
    """Run ``command`` with ``/bin/sh -c`` in ``cwd``, without the environment
    variables named in ``hidden_env``; see the module docs. ``on_output``
    gets each chunk of output as it arrives; setting ``stop`` ends the
    command like a timeout does."""
    env = child_env(hidden_env)
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    )
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # The command runs before asyncio has connected its pipes; cancelled
        # then, asyncio would kill the shell alone and leave what it started
        # (``cmd &``) running. Let the start finish, and kill the group.
        with contextlib.suppress(Exception):
            started = await spawn
            kill_group(started.pid, signal.SIGKILL)
            await _reap(started)
        raise
    assert proc.stdout is not None
    capture = _Capture(max_output_bytes)
    reader = asyncio.create_task(_pump(proc.stdout, capture, on_output))
    try:
        ending = await _supervise(proc, reader, time_limit, stop)
        if ending in ("timeout", "stopped"):
            kill_group(proc.pid, signal.SIGTERM)
            await _reap(proc)
            kill_group(proc.pid, signal.SIGKILL)
        elif ending == "strays":
            kill_group(proc.pid, signal.SIGKILL)
        await _finish_reader(reader)
        await _reap(proc)
    except asyncio.CancelledError:
        kill_group(proc.pid, signal.SIGKILL)
        reader.cancel()
        await _reap(proc)
        raise
    finally:
        if not reader.done():
            reader.cancel()
    output, omitted = capture.text()
    return ShellResult(
        exit_code=proc.returncode,
        output=output,
        omitted_bytes=omitted,
        timed_out=ending == "timeout",
        strays_killed=ending == "strays",
        stopped=ending == "stopped",
    )


def session_key(command: str) -> str:
    """What an "allow for this session" answer covers.

    The command's first word for a simple command (``git``, ``pytest``,
    ``make``). The whole text for a compound one (``;``, ``&&``, pipes,
    redirections, substitutions), so allowing ``cd`` never allows
    ``cd x && rm -rf y``; and for one whose first word runs arbitrary code
    given as arguments (shells, interpreters, ``env``, ``xargs``, ``sudo``,
    ``npx`` ...; see :data:`RUNNERS`) or is a variable assignment, so allowing
    ``python x.py`` never allows ``python -c "..."``."""
    text = command.strip()
    first = text.split()[0]
    if _COMPOUND.search(text) or _runs_anything(first):
        return f"run_command:{text}"
    return f"run_command:{first}"


def _runs_anything(word: str) -> bool:
    if "=" in word or any(c in word for c in "'\"\\$*?["):
        return True  # an assignment, or a name the shell rewrites
    name = word.rsplit("/", 1)[-1]
    return name in RUNNERS or _VERSIONED_RUNNER.fullmatch(name) is not None


class RunCommandArgs(ToolArgs):
    command: str = Field(
        description="The shell command, run with `/bin/sh -c`. stdin is closed, so it must "
        "not wait for input; stdout and stderr are merged."
    )
    cwd: str | None = Field(
        default=None,
        description="Working directory, relative to the workspace root (default: the root).",
    )
    timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="Kill the command (and everything it started) after this many seconds.",
    )


class RunCommand(Tool[RunCommandArgs]):
    name: ClassVar[str] = "run_command"
    description: ClassVar[str] = (
        "Run a shell command in the workspace (tests, builds, git status, linters). The user "
        "may be asked to approve it first. Returns the exit code and the output; a non-zero "
        "exit is reported, not raised. Long output keeps its beginning and end. Do not use "
        "it to read or edit files: use the file tools."
    )
    args_model: ClassVar[type[ToolArgs]] = RunCommandArgs
    stoppable: ClassVar[bool] = True

    def __init__(
        self,
        scope: Scope,
        approvals: ApprovalGate,
        *,
        timeout: float = 120.0,
        max_output_bytes: int = 30_000,
        hidden_env: Iterable[str] = DEFAULT_HIDDEN_ENV,
        fs: ScopedFs | None = None,
    ) -> None:
        """``hidden_env`` names environment variables the command must not
        see (the model's API key). ``fs``: the agent's file access, to tell
        when files it edited are not saved (the command reads the disk)."""
        self.fs = fs
        self.scope = scope
        self.approvals = approvals
        self.timeout = timeout
        self.max_output_bytes = max_output_bytes
        self.hidden_env = tuple(hidden_env)

    def approval_key(self, args: RunCommandArgs) -> str:
        return session_key(args.command) if args.command.strip() else self.name

    async def run(self, args: RunCommandArgs, call: ToolCallContext) -> ToolOutput:
        command = args.command.strip()
        if not command:
            raise InvalidArgument("command is empty; pass the shell command to run.")
        cwd = self.scope.check_read(args.cwd or ".")
        shown = self.scope.display(cwd)
        if not await asyncio.to_thread(cwd.is_dir):
            raise InvalidArgument(f"cwd {shown} is not an existing directory.")
        reason = f"Run `{command}` in {'the workspace root' if shown == '.' else shown}"
        unsaved = await unsaved_edits(self.fs) if self.fs is not None else []
        if unsaved:
            reason += f" ({unsaved_note(unsaved, ran=False)})"
        allowed = await self.approvals.check(
            call_id=call.call_id,
            tool=self.name,
            arguments=args.model_dump(exclude_none=True),
            reason=reason,
            session_key=self.approval_key(args),
        )
        if not allowed:
            raise ExecutionFailed(f"The user denied running `{command}`.")
        if call.stop.is_set():
            raise ExecutionFailed(f"The user stopped `{command}` before it ran.")
        timeout = args.timeout_seconds or self.timeout
        if unsaved and self.fs is not None:  # the user may have saved while asked
            unsaved = await unsaved_edits(self.fs)
        try:
            result = await run_shell(
                command,
                cwd,
                time_limit=timeout,
                max_output_bytes=self.max_output_bytes,
                hidden_env=self.hidden_env,
                on_output=_live(call),
                stop=call.stop,
            )
        except OSError as exc:
            raise ExecutionFailed(f"Cannot run `{command}`: {exc.strerror or exc}.") from None
        return _output(result, timeout, unsaved)


def _output(result: ShellResult, timeout: float, unsaved: Sequence[str] = ()) -> ToolOutput:
    text = result.output.rstrip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "(no output)")
    if len(first) > 120:
        first = first[:119] + "…"
    notes: list[str] = []
    if result.stopped:
        status = "stopped by the user"
        notes.append("[stopped by the user: the command and its children were killed]")
    elif result.timed_out:
        status = f"timed out after {timeout:g}s; the process group was killed"
        notes.append(f"[timed out after {timeout:g}s: the command and its children were killed]")
    elif result.exit_code is None:
        status = "exit status unknown"
    elif result.exit_code < 0:
        try:
            name = signal.Signals(-result.exit_code).name
        except ValueError:
            name = str(-result.exit_code)
        status = f"killed by signal {name}"
    else:
        status = f"exit {result.exit_code}"
    if result.strays_killed:
        notes.append(
            "[background processes that kept the output open were killed when the command "
            "exited; redirect their output to run them in the background]"
        )
    head = unsaved_note(list(unsaved), ran=True) if unsaved else ""
    content = "\n".join(part for part in (head, text, *notes) if part)
    return ToolOutput(summary=f"{status} — {first}", content=content or None)


def _live(call: ToolCallContext) -> Callable[[bytes], None]:
    """Output chunks → ``toolOutput`` events (UTF-8 decoded across chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def emit(chunk: bytes) -> None:
        if text := decoder.decode(chunk):
            call.events.emit(ToolOutputEvent(id=call.call_id, text=text))

    return emit
