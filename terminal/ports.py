"""The terminal host's ports: how a pod streams, asks and edits in a terminal.

- :class:`TerminalSink` prints the reply as it streams, tool calls and results
  as short dim lines, alerts on stderr.
- :class:`TerminalApprovals` asks ``[y]es / [a]lways / [n]o`` questions on the
  terminal (answers come from the same line reader as the prompts, so piped
  input works too).
- :class:`LineReader` reads stdin lines on the event loop without a thread, so
  Ctrl-C at the prompt exits cleanly and Ctrl-C during a turn interrupts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import TextIO

from agent.disk_editor import unified_diff
from agent.events import (
    Alert,
    EditEvent,
    Event,
    Phase,
    ReasoningDelta,
    TextDelta,
    ToolCallEvent,
    ToolOutputEvent,
    ToolResultEvent,
    TurnEnd,
    UsageEvent,
)
from agent.ports import ApprovalDecision, ApprovalRequest, ProposedEdit


class Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)


class LineReader:
    """Lines from a file descriptor, read on the event loop."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""
        self._eof = False
        self._ready = asyncio.Event()
        self._registered = False

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._eof = True
            self._unregister()
        self._buffer += chunk
        self._ready.set()

    def _unregister(self) -> None:
        if self._registered:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._registered = False

    async def readline(self) -> str | None:
        """The next line without its newline, or ``None`` at end of input."""
        while b"\n" not in self._buffer and not self._eof:
            if not self._registered:
                asyncio.get_running_loop().add_reader(self._fd, self._on_readable)
                self._registered = True
            self._ready.clear()
            await self._ready.wait()
        self._unregister()
        if b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            return line.decode(errors="replace").rstrip("\r")
        if self._buffer:
            line, self._buffer = self._buffer, b""
            return line.decode(errors="replace")
        return None


class TerminalSink:
    def __init__(self, out: TextIO, err: TextIO, style: Style) -> None:
        self.out = out
        self.err = err
        self.style = style
        self._mid_line = False
        self._reasoning = False
        self.last_context_tokens = 0

    def _newline(self) -> None:
        if self._mid_line:
            self.out.write("\n")
            self._mid_line = False

    def _line(self, text: str) -> None:
        self._newline()
        self.out.write(text + "\n")
        self.out.flush()

    def emit(self, event: Event) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed terminal must not break a run
            self._emit(event)

    def _emit(self, event: Event) -> None:
        s = self.style
        match event:
            case TextDelta(text=text):
                if self._reasoning:
                    self._reasoning = False
                    self._newline()
                self.out.write(text)
                self._mid_line = not text.endswith("\n")
                self.out.flush()
            case ReasoningDelta(text=text):
                if not self._reasoning:
                    self._newline()
                    self.out.write(s.dim("thinking: "))
                    self._reasoning = True
                self.out.write(s.dim(text))
                self._mid_line = True
                self.out.flush()
            case ToolCallEvent(name=name, arguments=args):
                self._line(s.dim(f"→ {name} {_short_args(args)}"))
            case ToolOutputEvent(text=text):
                self._live(text)
            case ToolResultEvent(ok=ok, summary=summary):
                mark = s.green("✓") if ok else s.red("✗")
                self._line(f"  {mark} {s.dim(_one_line(summary))}")
            case EditEvent(status=status, uri=uri):
                if status != "proposed":
                    self._line(s.dim(f"  edit {status}: {uri.removeprefix('file://')}"))
            case UsageEvent(context_tokens=tokens):
                self.last_context_tokens = tokens
            case Phase(phase="loadingModel"):
                self._line(s.dim("loading the model client…"))
            case TurnEnd(outcome=outcome, error=error):
                self._newline()
                if outcome == "interrupted":
                    self._line(s.yellow("[interrupted]"))
                elif outcome == "limitReached":
                    self._line(s.yellow("[stopped: the turn reached max_turns requests]"))
                elif outcome == "paused":
                    self._line(s.yellow("[paused]"))
                elif outcome == "error":
                    self._line(s.red(f"[error] {error or 'the turn failed'}"))
            case Alert(level=level, source=source, message=message):
                self._newline()
                color = s.red if level == "error" else s.yellow if level == "warn" else s.dim
                self.err.write(color(f"[{level}] {source}: {message}") + "\n")
                self.err.flush()
            case _:
                pass

    def _live(self, text: str) -> None:
        """A running command's output, as it comes, dim and indented."""
        s = self.style
        if not self._mid_line:
            self.out.write(s.dim("  │ "))
        body = text.removesuffix("\n").replace("\n", "\n" + s.dim("  │ "))
        self.out.write(s.dim(body) + ("\n" if text.endswith("\n") else ""))
        self._mid_line = not text.endswith("\n")
        self.out.flush()

    def end_turn(self) -> None:
        self._newline()
        self.out.flush()


class TerminalApprovals:
    """Asks on the terminal. ``assume_yes`` answers every question with yes."""

    def __init__(self, reader: LineReader, sink: TerminalSink, assume_yes: bool) -> None:
        self.reader = reader
        self.sink = sink
        self.assume_yes = assume_yes
        self.accept_all_edits = assume_yes

    async def _ask(self, question: str, allow_always: bool, *, lasting: bool = False) -> str:
        choices = "[y]es / [a]lways this session / [n]o" if allow_always else "[y]es / [n]o"
        if lasting:
            choices = "[y]es / [a]lways this session / always in this [w]orkspace / [n]o"
        self.sink._line(self.sink.style.bold(f"{question} {choices}"))
        line = await self.reader.readline()
        answer = (line or "n").strip().lower()
        self.sink._line(self.sink.style.dim(f"  answer: {answer or 'n'}"))
        return answer[:1]

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        if self.assume_yes:
            return "allow"
        answer = await self._ask(f"Allow {request.tool}: {request.reason}?", True, lasting=True)
        if answer == "y":
            return "allow"
        if answer == "a":
            return "allowSession"
        if answer == "w":
            return "allowAlways"  # saved for this workspace (agent/approval_rules.py)
        return "deny"

    async def confirm_edit(self, edit: ProposedEdit) -> bool:
        """The terminal's review of an edit: show the diff, ask."""
        diff = unified_diff(edit)
        if self.accept_all_edits:
            self.sink._line(self.sink.style.dim(_indent(diff)))
            return True
        self.sink._line(_indent(diff))
        answer = await self._ask(f"Apply this change to {edit.path.name}?", True)
        if answer == "a":
            self.accept_all_edits = True
        return answer in ("y", "a")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.rstrip("\n").splitlines())


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_args(args: dict[str, object]) -> str:
    parts = []
    for key, value in args.items():
        shown = value if isinstance(value, int | float | bool) else repr(str(value))
        parts.append(f"{key}={shown}")
    return _one_line(" ".join(parts), 120)


def stdout_is_tty() -> bool:
    return sys.stdout.isatty() and os.environ.get("NO_COLOR") is None
