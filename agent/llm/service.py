"""``python -m agent.llm.service SOCKET [MODEL] [--detach]``: the shared model service.

The model process of :mod:`agent.llm.child`, serving every host that
connects to ``SOCKET`` (a Unix socket in a folder only this user can enter;
see :mod:`agent.llm.shared`) instead of one host on its stdin. A host first
proves it holds the keys the service was started with (``auth``, a digest of
them: :func:`agent.llm.shared.token`); the service closes any other
connection unanswered. Then each connection speaks the same line protocol
(:mod:`agent.llm.wire`): the service says ``hello`` (its pid), then
``loaded`` once litellm is imported and ``ready`` once it is warmed up for
``MODEL``'s provider (at once, to a host that connects later), and streams
the requests the host sends.

- One service per socket: it holds ``SOCKET.lock`` while it lives; a second
  one started at the same moment exits at once.
- It binds its socket before importing litellm (in a thread), so hosts can
  connect and wait for ``loaded`` instead of polling.
- It exits when no host has been connected for ``YOI_MODEL_IDLE`` seconds
  (default 600), removing its socket.
- ``--detach``: fork first; the first process exits once the service listens
  (1 if it failed first), so the service is not the child of the host that
  started it (it outlives the host's session).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hmac
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.llm.child import READ_LIMIT, ModelServer, Outbox

log = logging.getLogger("agent.llm.service")

IDLE_CHECK = 1.0
AUTH_PATIENCE = 5.0


class Service:
    def __init__(self, socket_path: Path, model: str | None, idle: float, proof: str) -> None:
        self.socket_path = socket_path
        self.proof = proof  # agent.llm.shared.token of the keys it holds
        self.model = model
        self.idle = idle
        self.connections: set[Outbox] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.loaded_seconds: float | None = None
        self.ready_seconds: float | None = None
        self.last_seen = time.monotonic()
        self.started = time.monotonic()
        self.on_listening: Callable[[], None] = lambda: None

    async def run(self) -> None:
        server = await asyncio.start_unix_server(
            self._serve, path=str(self.socket_path), limit=READ_LIMIT
        )
        os.chmod(self.socket_path, 0o600)
        log.warning("shared model service %d listening on %s", os.getpid(), self.socket_path)
        self.on_listening()
        warming = asyncio.ensure_future(self._load())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stopper(sig, stop))
        loop.add_signal_handler(signal.SIGHUP, _stopper(signal.SIGHUP, None))
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), IDLE_CHECK)
                if not self.connections and time.monotonic() - self.last_seen > self.idle:
                    log.warning("no host for %.0f s: the shared model service exits", self.idle)
                    break
        finally:
            with contextlib.suppress(OSError):
                self.socket_path.unlink()
            server.close()
            warming.cancel()
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(warming, *self.tasks, return_exceptions=True)

    async def _load(self) -> None:
        from agent.llm.client import import_litellm

        await asyncio.to_thread(import_litellm)
        self.loaded_seconds = round(time.monotonic() - self.started, 3)
        self._tell({"op": "loaded", "seconds": self.loaded_seconds})
        from agent.llm.warmup import warm_up

        await warm_up(self.model)
        self.ready_seconds = round(time.monotonic() - self.started, 3)
        self._tell({"op": "ready", "seconds": self.ready_seconds})

    def _tell(self, message: dict[str, Any]) -> None:
        for outbox in self.connections:
            outbox.send(message)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if not await self._authenticated(reader):
            log.warning("refused a connection that did not prove it holds the keys")
            writer.close()
            return
        self.tasks.add(task)
        transport = writer.transport
        assert isinstance(transport, asyncio.WriteTransport)
        outbox = Outbox(transport)
        server = ModelServer(outbox)
        self.connections.add(outbox)
        try:
            outbox.send({"op": "hello", "pid": os.getpid()})
            if self.loaded_seconds is not None:
                outbox.send({"op": "loaded", "seconds": self.loaded_seconds})
            if self.ready_seconds is not None:
                outbox.send({"op": "ready", "seconds": self.ready_seconds})
            while True:
                try:
                    line = await reader.readline()
                except (ConnectionError, ValueError):
                    break
                if not line:
                    break
                message = _parse(line)
                if message is not None:
                    server.handle(message)
        finally:
            self.connections.discard(outbox)
            self.last_seen = time.monotonic()
            running = list(server.tasks.values())
            for stream in running:
                stream.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            outbox.flush()
            writer.close()
            self.tasks.discard(task)

    async def _authenticated(self, reader: asyncio.StreamReader) -> bool:
        try:
            async with asyncio.timeout(AUTH_PATIENCE):
                line = await reader.readline()
        except (ConnectionError, ValueError, TimeoutError):
            return False
        message = _parse(line)
        offered = message.get("token") if message is not None else None
        return (
            message is not None
            and message.get("op") == "auth"
            and isinstance(offered, str)
            and hmac.compare_digest(offered, self.proof)
        )


def _stopper(sig: signal.Signals, stop: asyncio.Event | None) -> Callable[[], None]:
    def on_signal() -> None:
        log.warning("%s%s", sig.name, ": the shared model service exits" if stop else " ignored")
        if stop is not None:
            stop.set()

    return on_signal


def _parse(line: bytes) -> dict[str, Any] | None:
    import json

    try:
        message = json.loads(line)
    except ValueError:
        log.warning("shared model service: ignoring a line that is not JSON")
        return None
    return message if isinstance(message, dict) else None


def _take_lock(socket_path: Path) -> int | None:
    """The service's lock (held while it lives); ``None`` if another has it."""
    fd = os.open(f"{socket_path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _detach() -> int:
    """Fork: the first process (the host's launcher) waits until the service
    listens (exit 0) or fails before that (exit 1, its error in the log), so
    a host never waits long for a service that will not come; the second
    goes on as the service. Returns the pipe to tell the launcher on."""
    read, write = os.pipe()
    if os.fork():
        os.close(write)
        told = os.read(read, 1)  # b"" when the service ended without telling
        os._exit(0 if told == b"1" else 1)
    os.close(read)
    return write


def _tell(listening: int | None) -> None:
    if listening is not None:
        with contextlib.suppress(OSError):
            os.write(listening, b"1")
            os.close(listening)


def main(argv: list[str]) -> int:
    from agent import secrets
    from agent.llm.shared import idle_seconds, token

    detach = "--detach" in argv
    args = [a for a in argv if a != "--detach"]
    if not args:
        print("usage: python -m agent.llm.service SOCKET [MODEL] [--detach]", file=sys.stderr)
        return 2
    socket_path = Path(args[0])
    model = args[1] if len(args) > 1 and args[1] else None
    listening = _detach() if detach else None
    keys = secrets.receive()  # through a pipe, as for child.py
    os.environ.update(keys)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.dup2(2, 1)  # a stray print lands in the log
    sys.stdout = sys.stderr
    level = os.environ.get("YOI_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        stream=sys.stderr,
        level=level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "WARNING",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    lock = _take_lock(socket_path)
    if lock is None:
        _tell(listening)  # another service serves this socket
        return 0
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()  # left by a service that was killed
    service = Service(socket_path, model, idle_seconds(), token(keys))
    service.on_listening = lambda: _tell(listening)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(service.run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
