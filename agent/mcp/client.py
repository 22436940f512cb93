"""One MCP server, reached through the official SDK's ``ClientSession`` over
stdio or streamable HTTP, and kept alive.

:class:`McpConnection` runs one background task: connect, ``initialize``,
list the server's tools, prompts and resources, then wait until the
connection is lost (the process exited, the HTTP server stopped answering) or
a restart is asked for; then connect again after a delay that doubles from
1 s up to a minute (back to 1 s after a connection that held). Every change
of status is reported through ``on_change``.

A stdio server runs under :mod:`agent.mcp.launch` on Linux: in a process
group of its own (the SDK ends the group when the connection closes) that
also ends when the host dies. Its stderr goes to this process's log, line by
line, under the server's name.

Calls never wait for a server that is not ready: they fail at once with a
message saying why (:class:`McpUnavailable`); a call that takes longer than
the server's ``timeout`` fails with a message saying so, and the connection
stays up for the next call.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio._backends._asyncio  # anyio would load its backend on first use: on the event loop
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from agent.errors import ExecutionFailed
from agent.mcp.config import ServerConfig

log = logging.getLogger(__name__)
# The SDK and its HTTP client log URLs (which may carry a token) and requests at
# INFO and DEBUG: never below INFO for the SDK, WARNING for the HTTP client.
for _name, _level in (
    ("mcp", logging.INFO),
    ("httpx2", logging.WARNING),
    ("httpcore2", logging.WARNING),
):
    logging.getLogger(_name).setLevel(_level)

Status = Literal["starting", "ready", "error", "stopped"]
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
STABLE_SECONDS = 30.0  # a connection that held this long resets the backoff
LAUNCHER = Path(__file__).with_name("launch.py")
CLIENT_INFO = types.Implementation(name="yoi", version="0")


class McpUnavailable(ExecutionFailed):
    """The server is not connected (starting, failed, restarting)."""


@dataclass(frozen=True)
class ToolInfo:
    name: str
    title: str | None
    description: str | None
    input_schema: dict[str, Any]
    read_only: bool
    destructive: bool


@dataclass(frozen=True)
class PromptInfo:
    name: str
    description: str | None
    arguments: tuple[tuple[str, bool], ...]  # (name, required)


@dataclass(frozen=True)
class ResourceInfo:
    uri: str
    name: str
    description: str | None
    mime_type: str | None


class McpConnection:
    def __init__(self, config: ServerConfig, on_change: Callable[[McpConnection], None]) -> None:
        self.config = config
        self.on_change = on_change
        self.status: Status = "starting"
        self.last_error: str | None = None
        self.tools: tuple[ToolInfo, ...] = ()
        self.prompts: tuple[PromptInfo, ...] = ()
        self.resources: tuple[ResourceInfo, ...] = ()
        self.connects = 0
        self.server_name: str | None = None
        self._session: ClientSession | None = None
        self._lost = asyncio.Event()
        self._relist = asyncio.Event()  # the server's lists changed (list_changed)
        self._wake = asyncio.Event()
        self._stopping = False
        self._restarting = False
        self._task: asyncio.Task[None] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=5)
        self._readers: set[asyncio.Task[None]] = set()

    @property
    def name(self) -> str:
        return self.config.name

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
            self._task.set_name(f"mcp server {self.name}")

    async def stop(self) -> None:
        """Close the connection (the SDK ends a stdio server's process group)."""
        self._stopping = True
        self._lost.set()
        self._wake.set()
        if self._task is not None:
            if self.status != "ready":  # still connecting: no need to wait for that
                self._task.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 8)
            except TimeoutError:
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for reader in list(self._readers):
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self._set("stopped")

    def _stop_requested(self) -> bool:
        return self._stopping

    def restart(self) -> None:
        """Reconnect now (also cuts a pending backoff short)."""
        self._restarting = True
        self._lost.set()
        self._wake.set()

    # ------------------------------------------------------------ calls

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        session = self._ready_session()
        timeout = self.config.timeout
        try:
            async with asyncio.timeout(timeout + 1):
                return await session.call_tool(tool, arguments, read_timeout_seconds=timeout)
        except TimeoutError:
            raise ExecutionFailed(self._timeout_message(f"the tool {tool}")) from None
        except MCPError as exc:
            if exc.code == types.REQUEST_TIMEOUT:
                raise ExecutionFailed(self._timeout_message(f"the tool {tool}")) from None
            self._maybe_lost(exc)
            raise ExecutionFailed(
                f"The MCP server {self.name} refused {tool}: {exc.message}"
            ) from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError) as exc:
            self._lost.set()
            raise McpUnavailable(self._lost_message(exc)) from None

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        session = self._ready_session()
        try:
            async with asyncio.timeout(self.config.timeout):
                return await session.read_resource(uri)
        except TimeoutError:
            raise ExecutionFailed(self._timeout_message(f"reading {uri}")) from None
        except MCPError as exc:
            self._maybe_lost(exc)
            raise ExecutionFailed(
                f"The MCP server {self.name} cannot read {uri}: {exc.message}"
            ) from None

    async def get_prompt(self, prompt: str, arguments: dict[str, str]) -> types.GetPromptResult:
        session = self._ready_session()
        try:
            async with asyncio.timeout(self.config.timeout):
                return await session.get_prompt(prompt, arguments)
        except TimeoutError:
            raise ExecutionFailed(self._timeout_message(f"the prompt {prompt}")) from None
        except MCPError as exc:
            self._maybe_lost(exc)
            raise ExecutionFailed(
                f"The MCP server {self.name} refused the prompt {prompt}: {exc.message}"
            ) from None

    def _ready_session(self) -> ClientSession:
        if self._session is None or self.status != "ready":
            why = f" ({self.last_error})" if self.last_error else ""
            raise McpUnavailable(
                f"The MCP server {self.name} is not connected: it is {self.status}{why}. "
                "yoi reconnects by itself; try again shortly or use another way."
            )
        return self._session

    def _timeout_message(self, what: str) -> str:
        return (
            f"The MCP server {self.name} did not answer {what} within {self.config.timeout:g} s "
            "(its `timeout`); the call was abandoned."
        )

    def _lost_message(self, exc: BaseException) -> str:
        return self.config.mask(
            f"The connection to the MCP server {self.name} was lost ({_describe(exc)}); "
            "reconnecting."
        )

    def _refused(self, what: str, exc: MCPError) -> str:
        return self.config.mask(f"The MCP server {self.name} refused {what}: {exc.message}")

    def _maybe_lost(self, exc: MCPError) -> None:
        if exc.code == types.CONNECTION_CLOSED:
            self._lost.set()

    # ------------------------------------------------------------ lifecycle

    def _set(self, status: Status, error: str | None = None) -> None:
        error = self.config.mask(error) if error is not None else None
        changed = status != self.status or error != self.last_error
        self.status = status
        if error is not None or status == "ready":
            self.last_error = error
        if changed:
            self.on_change(self)

    async def _run(self) -> None:
        delay = BACKOFF_START
        loop = asyncio.get_running_loop()
        while not self._stop_requested():
            self._lost.clear()
            self._wake.clear()
            self._relist.clear()
            self._restarting = False  # a restart asked for now ends this connection
            self._set("starting")
            began = loop.time()
            try:
                await self._connect_once()
                reason = "the connection closed"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = _describe(exc)
            finally:
                self._session = None
            if self._stop_requested():
                break
            if self._restarting:  # asked for: connect again at once
                self._restarting = False
                delay = BACKOFF_START
                log.info("MCP server %s: restarting", self.name)
                continue
            if tail := self._stderr_tail:
                reason = f"{reason}; its last words: {tail[-1]}"
            reason = self.config.mask(reason)
            if loop.time() - began > STABLE_SECONDS:
                delay = BACKOFF_START
            # the first failure in a row is a warning; the retries that follow only say so at INFO
            level = logging.WARNING if delay == BACKOFF_START else logging.INFO
            log.log(level, "MCP server %s: %s; reconnecting in %.0f s", self.name, reason, delay)
            self._set("error", reason)
            if not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _connect_once(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            read, write = await stack.enter_async_context(self._transport())
            watched_send, watched = anyio.create_memory_object_stream[Any](0)
            group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(group.cancel_scope.cancel)
            group.start_soon(self._pump, read, watched_send)
            session = await stack.enter_async_context(
                ClientSession(
                    watched,
                    write,
                    client_info=CLIENT_INFO,
                    message_handler=self._on_message,
                    logging_callback=self._on_log,
                )
            )
            async with asyncio.timeout(self.config.timeout):
                result = await session.initialize()
                self.server_name = result.server_info.name if result.server_info else None
                await self._discover(session, result.capabilities)
            self._session = session
            self.connects += 1
            self._stderr_tail.clear()
            self._set("ready")
            log.info(
                "MCP server %s ready (%s): %d tools",
                self.name,
                self.config.describe(),
                len(self.tools),
            )
            await self._serve(session, result.capabilities)

    async def _serve(self, session: ClientSession, capabilities: Any) -> None:
        """Until the connection is lost: list again when the server says its
        tools, prompts or resources changed (new tools reach every pod)."""
        while not self._lost.is_set():
            lost = asyncio.ensure_future(self._lost.wait())
            relist = asyncio.ensure_future(self._relist.wait())
            try:
                await asyncio.wait({lost, relist}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                lost.cancel()
                relist.cancel()
            if self._relist.is_set() and not self._lost.is_set():
                self._relist.clear()
                try:
                    async with asyncio.timeout(self.config.timeout):
                        await self._discover(session, capabilities)
                except (TimeoutError, MCPError) as exc:
                    log.warning(
                        "MCP server %s: listing again failed: %s", self.name, _describe(exc)
                    )
                    continue
                log.info("MCP server %s: its lists changed; %d tools", self.name, len(self.tools))
                self.on_change(self)

    async def _on_message(self, message: Any) -> None:
        if isinstance(
            message,
            types.ToolListChangedNotification
            | types.PromptListChangedNotification
            | types.ResourceListChangedNotification,
        ):
            self._relist.set()

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        log.info("mcp %s [%s]: %s", self.name, params.level, self.config.mask(str(params.data)))

    async def _pump(self, source: Any, sink: Any) -> None:
        """Forward the transport's messages to the session; when the transport
        ends (the process exited), the connection is lost."""
        try:
            async with sink:
                async for message in source:
                    await sink.send(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
            pass
        finally:
            self._lost.set()

    async def _discover(self, session: ClientSession, capabilities: Any) -> None:
        tools: list[ToolInfo] = []
        cursor: str | None = None
        while True:
            page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor))
            tools += [_tool_info(t) for t in page.tools if self.config.allows(t.name)]
            cursor = page.next_cursor
            if not cursor:
                break
        self.tools = tuple(tools)
        if getattr(capabilities, "prompts", None) is not None:
            listed = await session.list_prompts()
            self.prompts = tuple(
                PromptInfo(
                    p.name,
                    p.description,
                    tuple((a.name, bool(a.required)) for a in p.arguments or ()),
                )
                for p in listed.prompts
            )
        if getattr(capabilities, "resources", None) is not None:
            found = await session.list_resources()
            self.resources = tuple(
                ResourceInfo(r.uri, r.name, r.description, r.mime_type) for r in found.resources
            )

    def _transport(self) -> contextlib.AbstractAsyncContextManager[Any]:
        config = self.config
        if config.transport == "http":
            client = create_mcp_http_client(headers=dict(config.headers) or None)
            return streamable_http_client(config.url, http_client=client)
        command, args = config.command, list(config.args)
        env = dict(config.env)
        if sys.platform.startswith("linux"):
            args = ["-I", "-S", str(LAUNCHER), command, *args]
            command = sys.executable
            env["YOI_HOST_PID"] = str(os.getpid())
        params = StdioServerParameters(command=command, args=args, env=env, cwd=config.cwd)
        return _with_stderr(params, self)

    def _stderr_line(self, line: str) -> None:
        line = self.config.mask(line)
        self._stderr_tail.append(line)
        log.info("mcp %s: %s", self.name, line)


@contextlib.asynccontextmanager
async def _with_stderr(params: StdioServerParameters, conn: McpConnection) -> Any:
    """``stdio_client`` with the server's stderr read into the log."""
    read_fd, write_fd = os.pipe()
    errlog = os.fdopen(write_fd, "w")
    reader = asyncio.ensure_future(_read_lines(read_fd, conn._stderr_line))
    conn._readers.add(reader)
    reader.add_done_callback(conn._readers.discard)
    try:
        async with stdio_client(params, errlog=errlog) as streams:
            errlog.close()  # the server holds the write end now
            yield streams
    finally:
        if not errlog.closed:
            errlog.close()


async def _read_lines(fd: int, emit: Callable[[str], None]) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    pipe = os.fdopen(fd, "rb")
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        while line := await reader.readline():
            text = line.decode("utf-8", errors="replace").rstrip()
            if text:
                emit(text[:2000])
    finally:
        transport.close()


def _tool_info(tool: types.Tool) -> ToolInfo:
    notes = tool.annotations
    read_only = bool(notes and notes.read_only_hint)
    destructive = not read_only and (notes is None or notes.destructive_hint is not False)
    return ToolInfo(
        name=tool.name,
        title=tool.title or (notes.title if notes else None),
        description=tool.description,
        input_schema=dict(tool.input_schema or {}),
        read_only=read_only,
        destructive=destructive,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    if isinstance(exc, TimeoutError):
        return "it did not finish starting in time"
    if isinstance(exc, MCPError):
        return exc.message
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
