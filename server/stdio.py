"""The server's stdin/stdout, read and written without blocking the event loop.

pygls' own stdio transport reads each header line and each body through a
thread-pool hop and writes each message with a blocking write and a flush.
Here stdin is an asyncio pipe reader, and stdout a :class:`PipeWriter`: every
message written during one event-loop iteration goes out in one ``write``
call, on a non-blocking file descriptor (a client that reads slowly makes the
buffer grow; it never stalls the loop). Messages are read, checked and
dispatched by :class:`server.rpc.MessageLoop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
import threading
from typing import TYPE_CHECKING, BinaryIO

from pygls.io_ import StdinAsyncReader

from server.rpc import MessageLoop

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)

READ_LIMIT = 1 << 30  # one LSP message may carry a large document


class PipeWriter:
    """pygls' writer interface over a non-blocking file descriptor."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self._fd = fd
        self._loop = loop
        self._buffer = bytearray()
        self._scheduled = False
        self._waiting = False  # for the descriptor to become writable
        self.broken = False
        os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        if self.broken:
            return
        self._buffer += data
        if not self._scheduled and not self._waiting:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        while self._buffer:
            try:
                written = os.write(self._fd, self._buffer)
            except BlockingIOError:
                break
            except OSError as exc:  # the client went away
                log.warning("cannot write to the client: %s", exc)
                self.broken = True
                self._buffer.clear()
                return
            del self._buffer[:written]
        if self._buffer and not self._waiting:
            self._waiting = True
            self._loop.add_writer(self._fd, self._writable)
        elif not self._buffer and self._waiting:
            self._waiting = False
            self._loop.remove_writer(self._fd)

    def _writable(self) -> None:
        self._flush()

    def drain_now(self) -> None:
        """Write everything still buffered, blocking (before the process exits)."""
        if self._waiting:
            self._loop.remove_writer(self._fd)
            self._waiting = False
        if not self._buffer or self.broken:
            return
        with contextlib.suppress(OSError):
            os.set_blocking(self._fd, True)
            while self._buffer:
                written = os.write(self._fd, self._buffer)
                del self._buffer[:written]

    def close(self) -> None:
        self.drain_now()
        with contextlib.suppress(OSError):
            os.close(self._fd)


# How long a thread may hold the GIL while another waits for it. CPython's
# default (5 ms) lets a background import keep the event loop waiting that
# long, several times over when more threads take turns.
SWITCH_INTERVAL = 0.001


def favour_the_event_loop() -> None:
    """Set the process up so that background threads (the runtime's import,
    the workspace index, the MCP SDK's import) do not stall the event loop:
    the GIL changes hands every millisecond, and on Python 3.11 a child
    process is watched through a pidfd instead of a thread started (and waited
    for) on the loop for each child (3.12 does that by default)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    if sys.version_info < (3, 12) and hasattr(os, "pidfd_open"):
        try:
            os.close(os.pidfd_open(os.getpid()))
        except OSError:  # a kernel without pidfds (before 5.3), or a sandbox
            return
        watcher = asyncio.PidfdChildWatcher()
        with contextlib.suppress(RuntimeError):  # no loop yet: asyncio.run attaches it
            watcher.attach_loop(asyncio.get_running_loop())
        asyncio.set_child_watcher(watcher)


def serve(server: YoiServer, stdin: BinaryIO, protocol_fd: int) -> None:
    """Run the server on ``stdin`` and the protocol descriptor until the client
    closes stdin or asks the server to exit."""
    server._stop_event = stop = threading.Event()
    favour_the_event_loop()
    try:
        asyncio.run(_serve(server, stdin, protocol_fd, stop))
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]


async def _serve(
    server: YoiServer, stdin: BinaryIO, protocol_fd: int, stop: threading.Event
) -> None:
    loop = asyncio.get_running_loop()
    writer = PipeWriter(protocol_fd, loop)
    server.output = writer
    server.protocol.set_writer(writer)
    reader: asyncio.StreamReader | StdinAsyncReader
    mode = os.fstat(stdin.fileno()).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):  # what editors give: epoll can watch it
        pipe = asyncio.StreamReader(limit=READ_LIMIT)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(pipe), stdin)
        reader = pipe
    else:  # a file, a terminal, /dev/null: read through pygls' threads
        reader = StdinAsyncReader(stdin, server.thread_pool)
    try:
        await MessageLoop(server, reader).run(stop)  # type: ignore[arg-type]
    finally:
        writer.drain_now()
    # The client closed stdin without exit (it quit or crashed). Give running
    # turns a moment to end as interrupted and the model process to stop, then
    # leave: every session entry is already on disk, and a turn still waiting
    # for an editor that is gone would otherwise keep the process alive.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(_abandon(server), 5.0)
    os._exit(0 if server.shut_down else 1)


async def _abandon(server: YoiServer) -> None:
    if server.runtime_started and server._pods is not None:
        await server.pods.dispose_all()
    await server.stop_model()
