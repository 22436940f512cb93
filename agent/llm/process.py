"""The model process: litellm in a process of its own, ready before it is needed.

A host that must stay responsive (the language server) starts a
:class:`ModelProcess` right after start-up. The process imports litellm and
warms it up (:mod:`agent.llm.warmup`) on the machine's other core, so the
host never pays for that import: its event loop is never stalled by it, and
its memory stays small. Every pod of the host then streams through a
:class:`RemoteLlmClient`, which speaks the line protocol of :mod:`agent.llm.wire`.

- A request that arrives before the process is ready waits for it; the
  client yields :class:`~agent.llm.types.ClientLoading` first, so the user is
  told what the wait is.
- Cancelling the consuming task cancels the request in the process, which
  closes the provider's stream.
- If the process dies, the streams in flight fail with a clear message and
  the next request starts a new process.
- Closing the host's end of the pipe ends the process (also when the host is
  killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from agent import secrets
from agent.errors import LlmError, ModelNotConfigured, ProviderUnavailable
from agent.llm import wire
from agent.llm.convert import completion_arguments
from agent.llm.types import (
    ClientLoading,
    ClientReady,
    Completed,
    LlmRequest,
    ModelConfig,
    ModelInfo,
    ReasoningChunk,
    RetryListener,
    StreamEvent,
    TextChunk,
)

log = logging.getLogger(__name__)

READ_LIMIT = 1 << 26
NOT_CONFIGURED = (
    "No model is configured. Set YOI_MODEL (e.g. anthropic/claude-sonnet-4-5) "
    "or [model] name in ~/.config/yoi/manifest.toml."
)


class _Exited:
    """Put on a stream's queue when the process went away."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


_Message = dict[str, Any] | _Exited


class ModelProcess:
    """One model process, shared by every pod of a host; restarted on demand."""

    def __init__(
        self,
        *,
        model: str | None = None,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        shared: bool = False,
    ) -> None:
        self.model = model
        self.env = dict(env) if env is not None else None
        self.python = python
        self.shared = shared  # connect to the user's shared service (agent/llm/shared.py)
        self._proc: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None  # to the process or the service
        self._service_pid: int | None = None
        self._log_hint = ""  # the shared service's log
        self._reader: asyncio.Task[None] | None = None
        self._loaded = asyncio.Event()  # litellm imported: requests may go
        self._ready = asyncio.Event()  # and warmed up
        self._starting: asyncio.Lock = asyncio.Lock()
        self._streams: dict[int, asyncio.Queue[_Message]] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self.loaded_seconds: float | None = None
        self.ready_seconds: float | None = None
        self.starts = 0

    @property
    def loaded(self) -> bool:
        """litellm is imported in the process: a request goes at once."""
        return self._loaded.is_set() and self.running

    @property
    def ready(self) -> bool:
        """Loaded and warmed up: a request is as fast as it will ever be."""
        return self._ready.is_set() and self.running

    @property
    def running(self) -> bool:
        if self._writer is None or self._writer.is_closing():
            return False
        if self._proc is not None:
            return self._proc.returncode is None
        return self._reader is not None and not self._reader.done()

    @property
    def pid(self) -> int | None:
        if self._proc is not None:
            return self._proc.pid
        return self._service_pid

    async def start(self, *, warm_up: bool = False) -> None:
        """Start the process if it is not running (returns before it is ready).
        ``warm_up``: it is started ahead of the first request, so it exercises
        litellm's request path meanwhile; a process started for a request that
        is waiting skips that (the request itself warms it up, sooner)."""
        async with self._starting:
            if self._closed:
                raise ProviderUnavailable("The model process was shut down.")
            if self.running:
                return
            self._loaded.clear()
            self._ready.clear()
            if self.shared:
                try:
                    await self._connect_service(warm_up)
                    return
                except (OSError, PermissionError) as exc:
                    log.warning("no shared model service (%s): starting a private one", exc)
                    self.shared = False
            await self._spawn(warm_up)

    async def _spawn(self, warm_up: bool) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env["YOI_HOST_PID"] = str(os.getpid())  # see child.py: it dies with its host
        handed = secrets.handover(secrets.vault()) if secrets.vault() else None
        if handed is not None:  # the keys go through a pipe, not the environment
            env[secrets.FD_VAR] = str(handed)
        try:
            self._proc = proc = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "agent.llm.child",
                self.model or "",
                "warm" if warm_up else "cold",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=None,  # the host's log
                env=env,
                limit=READ_LIMIT,
                pass_fds=(handed,) if handed is not None else (),
            )
        finally:
            if handed is not None:
                os.close(handed)
        assert proc.stdin is not None and proc.stdout is not None
        self._writer = proc.stdin
        self.starts += 1
        self._reader = asyncio.ensure_future(self._read(proc.stdout, proc))
        log.info("model process %d started", proc.pid)

    async def _connect_service(self, warm_up: bool) -> None:
        from agent.llm import shared

        env = dict(os.environ if self.env is None else self.env)
        vault = secrets.vault()
        where = await asyncio.to_thread(shared.address, env, vault, self.python)
        handed = secrets.handover(vault) if vault else None
        if handed is not None:
            env[secrets.FD_VAR] = str(handed)
        command = [self.python, "-m", "agent.llm.service", str(where.socket), self.model or ""]
        try:
            connection = await shared.connect(
                where,
                proof=shared.token(vault),
                start=[*command, "--detach"],
                env=env,
                pass_fds=(handed,) if handed is not None else (),
                limit=READ_LIMIT,
            )
        finally:
            if handed is not None:
                os.close(handed)
        self._proc = None
        self._writer = connection.writer
        self._service_pid = connection.pid
        self._log_hint = str(where.log)
        if connection.started:
            self.starts += 1
        self._reader = asyncio.ensure_future(self._read(connection.reader, None))
        log.info("connected to the shared model service at %s", where.socket)

    async def wait_loaded(self) -> None:
        """Start the process if needed and wait until it can take requests."""
        await self._wait(self._loaded)

    async def wait_ready(self) -> None:
        """Start the process if needed and wait until it is warm."""
        await self._wait(self._ready)

    async def _wait(self, stage: asyncio.Event) -> None:
        await self.start()
        reader = self._reader
        assert reader is not None
        waiter = asyncio.ensure_future(stage.wait())
        try:
            await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not (stage.is_set() and self.running):
            if self._proc is None:
                raise ProviderUnavailable(
                    "The shared model service closed the connection while loading (its log: "
                    f"{self._log_hint}). Ask again to retry."
                )
            code = self._proc.returncode
            raise ProviderUnavailable(
                f"The model process exited while loading (exit code {code}); "
                "the language server's log says why. Ask again to retry."
            )

    async def close(self, grace: float = 0.5) -> None:
        """End the process: close its stdin (it cancels its requests and
        exits), and kill it if it lingers (it may be busy importing)."""
        self._closed = True
        proc = self._proc
        if proc is None:
            if self._writer is not None:  # the shared service lives on
                self._writer.close()
            if self._reader is not None:
                await asyncio.gather(self._reader, return_exceptions=True)
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # ------------------------------------------------------------ streams

    async def stream(
        self,
        config: ModelConfig,
        arguments: Mapping[str, Any],
        on_retry: RetryListener | None = None,
        *,
        large: bool = False,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Run one request in the process (which must be loaded: call
        :meth:`wait_loaded` first). Yields the stream's events. A ``large``
        request (one with images: megabytes of base64) is encoded in a
        thread, so the event loop never stalls on it."""
        writer = self._writer
        if writer is None or not self.running:
            raise ProviderUnavailable("The model process is not running; ask again to restart it.")
        stream_id = next(self._ids)
        queue: asyncio.Queue[_Message] = asyncio.Queue()
        self._streams[stream_id] = queue
        finished = False
        try:
            message = {
                "op": "stream",
                "id": stream_id,
                "config": wire.config_to_json(config),
                "arguments": dict(arguments),
            }
            line = (
                await asyncio.to_thread(wire.encode_large, message)
                if large
                else wire.encode(message)
            )
            writer.write(line)
            await writer.drain()
            while True:
                item = await queue.get()
                if isinstance(item, _Exited):
                    finished = True
                    raise ProviderUnavailable(item.reason)
                if "text" in item:
                    yield TextChunk(item["text"])
                elif "reasoning" in item:
                    yield ReasoningChunk(item["reasoning"])
                elif "retry" in item:
                    if on_retry is not None:
                        on_retry(wire.retry_from_json(item["retry"]))
                elif "done" in item:
                    finished = True
                    yield Completed(wire.response_from_json(item["done"]))
                    return
                elif "error" in item:
                    finished = True
                    raise wire.error_from_json(item["error"])
        finally:
            self._streams.pop(stream_id, None)
            if not finished:
                self._cancel(stream_id)

    async def model_info(self, model: str) -> ModelInfo:
        """litellm's model map for ``model``, asked of the process (which
        must be loaded); unknown when the process goes away."""
        writer = self._writer
        if writer is None or not self.running:
            return ModelInfo()
        query_id = next(self._ids)
        queue: asyncio.Queue[_Message] = asyncio.Queue()
        self._streams[query_id] = queue
        try:
            writer.write(wire.encode({"op": "info", "id": query_id, "model": model}))
            await writer.drain()
            item = await queue.get()
        except (ConnectionError, RuntimeError):
            return ModelInfo()
        finally:
            self._streams.pop(query_id, None)
        if isinstance(item, _Exited) or not isinstance(item.get("info"), dict):
            return ModelInfo()
        return wire.info_from_json(item["info"])

    def _cancel(self, stream_id: int) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            writer.write(wire.encode({"op": "cancel", "id": stream_id}))

    async def _read(
        self, lines: asyncio.StreamReader, proc: asyncio.subprocess.Process | None
    ) -> None:
        try:
            while True:
                try:
                    line = await lines.readline()
                except (ConnectionError, ValueError):
                    break
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    log.warning("model process: a line that is not JSON: %r", line[:200])
                    continue
                if not isinstance(message, dict):
                    continue
                op = message.get("op")
                if op == "loaded":
                    self.loaded_seconds = message.get("seconds")
                    self._loaded.set()
                    log.info("model process loaded litellm in %s s", self.loaded_seconds)
                    continue
                if op == "ready":
                    self.ready_seconds = message.get("seconds")
                    self._ready.set()
                    log.info("model process warmed up after %s s", self.ready_seconds)
                    continue
                queue = self._streams.get(message.get("id", -1))
                if queue is not None:
                    queue.put_nowait(message)
        finally:
            self._loaded.clear()
            self._ready.clear()
            if proc is not None:
                code = await proc.wait()
                if not self._closed:
                    log.warning("the model process exited (code %s)", code)
                reason = (
                    f"The model process stopped unexpectedly (exit code {code}); "
                    "ask again to restart it."
                )
            else:
                if self._writer is not None:
                    self._writer.close()
                if not self._closed:
                    log.warning("the connection to the shared model service closed")
                reason = (
                    "The shared model service stopped unexpectedly (its log: "
                    f"{self._log_hint}); ask again to restart it."
                )
            for queue in self._streams.values():
                queue.put_nowait(_Exited(reason))


class RemoteLlmClient:
    """An :class:`~agent.llm.types.LlmClient` that streams through a
    :class:`ModelProcess`."""

    def __init__(
        self,
        config: ModelConfig,
        process: ModelProcess,
        on_retry: RetryListener | None = None,
    ) -> None:
        self._config = config
        self._process = process
        self._on_retry = on_retry

    @property
    def model_name(self) -> str:
        return self._config.model or "(no model)"

    async def model_info(self) -> ModelInfo:
        if not self._config.model:
            return ModelInfo()
        try:
            await self._process.wait_loaded()
        except (LlmError, OSError):
            return ModelInfo()
        return await self._process.model_info(self._config.model)

    async def stream(self, request: LlmRequest) -> AsyncIterator[StreamEvent]:
        if not self._config.model:
            raise ModelNotConfigured(NOT_CONFIGURED)
        arguments = completion_arguments(request, self._config)
        process = self._process
        if not process.loaded:
            yield ClientLoading()
            try:
                await process.wait_loaded()
            except LlmError:
                raise
            except OSError as exc:
                raise ProviderUnavailable(f"Could not start the model process: {exc}") from None
        yield ClientReady()
        events = process.stream(self._config, arguments, self._on_retry, large=bool(request.images))
        async with contextlib.aclosing(events):
            async for event in events:
                yield event


def model_process_env() -> dict[str, str]:
    """The model process's environment: the host's, with litellm's price list
    read locally. Provider keys the host holds (agent/secrets.py) are handed
    over through a pipe when the process starts, never through this."""
    env = secrets.split(os.environ)[0]
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return env
