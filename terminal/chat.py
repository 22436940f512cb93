"""``yoi chat``: an interactive terminal chat with a pod in a directory.

Replies stream as they arrive; tool calls and results show as short lines;
commands and edits are confirmed on the terminal first (``--yes`` skips that).
Ctrl-C interrupts the running turn; at the prompt it quits (so does Ctrl-D or
``/exit``). ``--resume SESSION`` continues a session; ``-p PROMPT`` runs one turn
and exits, which is handy in scripts.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import paths
from agent.disk_editor import DiskEditor
from agent.errors import YoiError
from agent.factory import PodHost, PodSpec, open_pod
from agent.heap import keep_heap_headroom
from agent.llm.process import ModelProcess, RemoteLlmClient, model_process_env
from agent.llm.shared import enabled as shared_model_enabled
from agent.llm.types import LlmClient, ModelConfig, RetryListener
from agent.manifest import load_manifest
from agent.mcp.hub import McpHub
from agent.mentions import parse_mentions
from agent.pod import Pod, TurnResult
from terminal.agents import TerminalAgentHost
from terminal.mcp import start_servers, wait_for_servers
from terminal.ports import LineReader, Style, TerminalApprovals, TerminalSink, stdout_is_tty
from terminal.rewind import Rewinder

HELP = """Type a message and press Enter. Mention files with @path or @path:10-20.
Commands: /help, /session (show the session id), /undo (take the last turn back: files
and conversation), /rewind (list the turns), /rewind N (back to before turn N), /exit.
Ctrl-C interrupts a turn."""


@dataclass(frozen=True)
class ChatOptions:
    root: Path
    resume: str | None = None
    model: str | None = None
    api_base: str | None = None
    assume_yes: bool = False
    prompt: str | None = None


def _overrides(options: ChatOptions) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    model: dict[str, Any] = {}
    if options.model:
        model["name"] = options.model
    if options.api_base:
        model["api_base"] = options.api_base
    if model:
        overrides["model"] = model
    if options.assume_yes:
        overrides["approvals"] = {"mode": "auto"}
    return overrides


class ChatSession:
    def __init__(self, options: ChatOptions) -> None:
        self.options = options
        self.style = Style(stdout_is_tty())
        self.sink = TerminalSink(sys.stdout, sys.stderr, self.style)
        self.reader = LineReader(sys.stdin.fileno())
        self.quit = asyncio.Event()
        self.turn: asyncio.Task[TurnResult] | None = None
        self.pod: Pod | None = None
        self.model_process = ModelProcess(
            model=options.model or os.environ.get("YOI_MODEL"),
            env=model_process_env(),
            shared=shared_model_enabled(),
        )
        self.mcp = McpHub()  # the same MCP servers as the editors', started in run()
        self.rewinder = Rewinder(self.sink, self.reader, options.assume_yes)

    def on_sigint(self) -> None:
        if self.turn is not None and not self.turn.done() and self.pod is not None:
            self.sink._line(self.style.yellow("^C — interrupting the turn"))
            self.pod.interrupt()
        else:
            self.quit.set()

    async def open(self) -> Pod:
        options = self.options
        loaded = await asyncio.to_thread(load_manifest, options.root, overrides=_overrides(options))
        auto = loaded.manifest.approvals.mode == "auto"
        approvals = TerminalApprovals(self.reader, self.sink, assume_yes=auto)
        process = self.model_process

        def client(config: ModelConfig, on_retry: RetryListener) -> LlmClient:
            return RemoteLlmClient(config, process, on_retry)

        host = PodHost(
            events=self.sink,
            approvals=approvals,
            editor=DiskEditor(confirm=approvals.confirm_edit),
            client_factory=client,
            mcp=self.mcp,
            agents=TerminalAgentHost(self.sink, approvals),
        )
        spec = PodSpec(
            root=options.root,
            home=paths.yoi_home(),
            loaded=loaded,
            resume_session_id=options.resume,
        )
        return await open_pod(spec, host)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self.on_sigint)
        # litellm loads and warms up in the model process while the user types
        await self.model_process.start(warm_up=True)
        mcp = asyncio.ensure_future(
            start_servers(self.mcp, self.options.root, _overrides(self.options))
        )
        try:
            self.pod = pod = await self.open()
        except YoiError as exc:
            print(f"yoi: {exc}", file=sys.stderr)
            await self.model_process.close()
            await _stop_servers(self.mcp, mcp)
            return 2
        try:
            self._banner(pod)
            if self.options.prompt is not None:
                await wait_for_servers(self.mcp, mcp)
                result = await self._turn(pod, self.options.prompt)
                return 0 if result.outcome in ("finished", "paused") else 1
            return await self._repl(pod)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            await pod.close()
            await self.model_process.close()
            await _stop_servers(self.mcp, mcp)
            self.sink._line(self.style.dim(f"session {pod.session_id}"))

    def _banner(self, pod: Pod) -> None:
        resumed = f", resumed ({pod.turn_count} turns)" if self.options.resume else ""
        self.sink._line(
            self.style.dim(
                f"yoi · {pod.info.model or 'no model'} · {self.options.root} · "
                f"session {pod.session_id}{resumed}"
            )
        )
        if sys.stdin.isatty():
            self.sink._line(self.style.dim("/help for help · Ctrl-C interrupts · Ctrl-D quits"))

    async def _repl(self, pod: Pod) -> int:
        while True:
            line = await self._read_prompt()
            if line is None:
                return 0
            text = line.strip()
            if not text:
                continue
            if text in ("/exit", "/quit"):
                return 0
            if text == "/help":
                self.sink._line(HELP)
                continue
            if text == "/session":
                self.sink._line(pod.session_id)
                continue
            if await self.rewinder.command(pod, text):  # /undo, /rewind
                continue
            await self._turn(pod, text)

    async def _read_prompt(self) -> str | None:
        if sys.stdout.isatty():
            sys.stdout.write(self.style.bold("› "))
            sys.stdout.flush()
        read = asyncio.ensure_future(self.reader.readline())
        quit_wait = asyncio.ensure_future(self.quit.wait())
        done, _ = await asyncio.wait({read, quit_wait}, return_when=asyncio.FIRST_COMPLETED)
        for task in (read, quit_wait):
            if task not in done:
                task.cancel()
        if read in done:
            return read.result()
        return None

    async def _turn(self, pod: Pod, text: str) -> TurnResult:
        self.turn = asyncio.ensure_future(pod.chat(parse_mentions(text)))
        try:
            return await self.turn
        finally:
            self.turn = None
            self.sink.end_turn()


async def _stop_servers(hub: McpHub, starting: asyncio.Task[None]) -> None:
    if not starting.done():
        starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    await hub.stop()


def run_chat(options: ChatOptions) -> int:
    keep_heap_headroom()
    return asyncio.run(ChatSession(options).run())
