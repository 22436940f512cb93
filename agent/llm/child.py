"""``python -m agent.llm.child [MODEL [warm|cold]]``: the model process.

It imports litellm and says ``loaded``, warms litellm up for ``MODEL``'s
provider (:mod:`agent.llm.warmup`) and says ``ready`` (``cold``: started
for a request that is already waiting, it skips the warm-up, which would
only compete with that request); meanwhile, from
``loaded`` on, it streams the requests its host sends on stdin, each
with :class:`~agent.llm.client.LiteLlmClient` (retries and error
classification included), answering on stdout in the line protocol of
:mod:`agent.llm.wire`.

Streamed deltas are coalesced: what arrives within one event-loop tick, or at
most :data:`WINDOW` seconds, goes out as one line, so a reply of thousands of
tiny chunks crosses the pipe as tens of lines; the text stays byte-identical.

stdout carries only the protocol: the process keeps a private copy of it and
points file descriptor 1 at stderr, so a stray print from a library lands in
the host's log. It exits when its stdin closes (its host went away).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import sys
import time
from typing import Any

from agent.llm import wire
from agent.llm.types import Completed, ModelInfo, ReasoningChunk, RetryNotice, TextChunk

log = logging.getLogger("agent.llm.child")

WINDOW = 0.016  # the longest a streamed delta waits to be sent
READ_LIMIT = 1 << 30  # one request line may carry a long conversation


class Outbox:
    """Writes protocol lines, coalescing consecutive deltas of one stream."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._pending: tuple[int, str, list[str]] | None = None  # id, kind, parts
        self._scheduled = False
        self._last_flush = 0.0

    def send(self, message: dict[str, Any]) -> None:
        self.flush()
        self._transport.write(wire.encode(message))

    def delta(self, stream_id: int, kind: str, text: str) -> None:
        pending = self._pending
        if pending is not None and (pending[0], pending[1]) == (stream_id, kind):
            pending[2].append(text)
        else:
            self.flush()
            self._pending = (stream_id, kind, [text])
        if time.monotonic() - self._last_flush >= WINDOW:
            # a stream that never yields to the loop still goes out in time
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        stream_id, kind, parts = pending
        self._transport.write(wire.encode({"id": stream_id, kind: "".join(parts)}))
        self._last_flush = time.monotonic()


_INFO: dict[str, ModelInfo] = {}  # litellm's model map does not change while it runs


class ModelServer:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def handle(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        stream_id = message.get("id")
        if not isinstance(stream_id, int):
            log.warning("model process: ignoring a message without an id: %r", op)
            return
        if op == "stream":
            task = asyncio.ensure_future(self._stream(stream_id, message))
            self.tasks[stream_id] = task
            task.add_done_callback(functools.partial(self._forget, stream_id))
        elif op == "info":
            model = str(message.get("model") or "")
            known = _INFO.get(model)
            if known is not None:
                self.outbox.send({"id": stream_id, "info": wire.info_to_json(known)})
                return
            # in a thread: a first lookup may take tens of ms (litellm's tables)
            task = asyncio.ensure_future(self._info(stream_id, model))
            self.tasks[stream_id] = task
            task.add_done_callback(functools.partial(self._forget, stream_id))
        elif op == "cancel":
            running = self.tasks.get(stream_id)
            if running is not None:
                running.cancel()

    async def _info(self, query_id: int, model: str) -> None:
        from agent.llm.client import import_litellm, lookup_model_info

        info = await asyncio.to_thread(lookup_model_info, import_litellm(), model)
        _INFO[model] = info
        self.outbox.send({"id": query_id, "info": wire.info_to_json(info)})

    def _forget(self, stream_id: int, task: asyncio.Task[None]) -> None:
        self.tasks.pop(stream_id, None)

    async def _stream(self, stream_id: int, message: dict[str, Any]) -> None:
        from agent.llm.client import LiteLlmClient

        outbox = self.outbox

        def on_retry(notice: RetryNotice) -> None:
            outbox.send({"id": stream_id, "retry": wire.retry_to_json(notice)})

        try:
            config = wire.config_from_json(message["config"])
            client = LiteLlmClient(config, on_retry=on_retry)
            events = client.stream_arguments(message["arguments"])
            async with contextlib.aclosing(events):
                async for event in events:
                    match event:
                        case TextChunk(text=text):
                            outbox.delta(stream_id, "text", text)
                        case ReasoningChunk(text=text):
                            outbox.delta(stream_id, "reasoning", text)
                        case Completed(response=response):
                            outbox.send({"id": stream_id, "done": wire.response_to_json(response)})
        except asyncio.CancelledError:
            return  # the host cancelled: it expects nothing more
        except Exception as exc:
            if not _is_llm_error(exc):
                log.exception("model process: the request failed")
            outbox.send({"id": stream_id, "error": wire.error_to_json(exc)})


def _is_llm_error(exc: BaseException) -> bool:
    from agent.errors import LlmError

    return isinstance(exc, LlmError)


async def serve(model: str | None, protocol_fd: int, warm: bool = True) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, _ = await loop.connect_write_pipe(
        asyncio.Protocol, os.fdopen(protocol_fd, "wb", buffering=0)
    )
    outbox = Outbox(transport)
    server = ModelServer(outbox)

    from agent.llm.client import import_litellm
    from agent.llm.warmup import warm_up

    started = time.monotonic()
    import_litellm()  # nothing to serve until it is imported
    outbox.send({"op": "loaded", "seconds": round(time.monotonic() - started, 3)})
    warming = asyncio.ensure_future(warm_up(model) if warm else asyncio.sleep(0, 0.0))

    def warmed(task: asyncio.Task[float]) -> None:
        if not task.cancelled():
            outbox.send({"op": "ready", "seconds": round(time.monotonic() - started, 3)})

    warming.add_done_callback(warmed)
    while True:
        line = await reader.readline()
        if not line:
            break
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("model process: ignoring a line that is not JSON")
            continue
        if isinstance(message, dict):
            server.handle(message)
    for task in [warming, *server.tasks.values()]:
        task.cancel()
    await asyncio.gather(warming, *server.tasks.values(), return_exceptions=True)
    outbox.flush()


def _die_with_host() -> None:
    """Linux: end this process when its host dies (``PR_SET_PDEATHSIG``), even
    while it is busy importing and cannot notice its stdin closing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    host = os.environ.pop("YOI_HOST_PID", "")
    if host.isdigit() and os.getppid() != int(host):  # the host died before that took effect
        sys.exit(0)


def main() -> int:
    from agent import secrets

    _die_with_host()
    # provider keys arrive through a pipe; in os.environ (where litellm looks)
    # they stay out of /proc/<pid>/environ, which shows the start-up environment
    os.environ.update(secrets.receive())
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("YOI_LOG_LEVEL", "WARNING").upper()
        if os.environ.get("YOI_LOG_LEVEL", "").upper() in ("DEBUG", "INFO", "WARNING", "ERROR")
        else "WARNING",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    model = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
    warm = len(sys.argv) < 3 or sys.argv[2] != "cold"
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(model, protocol_fd, warm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
