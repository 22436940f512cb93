"""The loop-lag probe the start-up probes share: run a language server's
start-up in this interpreter and measure the longest stall *of this
process's making*.

A probe step that wakes up late counts only the part of its lateness during
which this process was running (its CPU time): when a busy machine does not
schedule the process at all, that is not a stall the server caused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from lsprotocol import types

from server.app import YoiServer, create_server
from server.stdio import favour_the_event_loop


def server_for(root: Path) -> YoiServer:
    """A server for ``root`` that talks to no client, in a process set up as
    ``yoi lsp`` sets its own up."""
    favour_the_event_loop()
    server = create_server()
    server.root = root
    server.protocol.client_capabilities = types.ClientCapabilities()
    server.protocol._send_data = lambda data: None  # type: ignore[method-assign]
    return server


async def worst_stall(start_up: Callable[[], Awaitable[None]]) -> float:
    """Run ``start_up()`` under the probe, let things settle for 0.5 s (the
    index, the watchers), and return the longest stall in milliseconds."""
    worst = 0.0
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal worst
        while not done.is_set():
            wall, cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(0.001)
            late = time.perf_counter() - wall - 0.001
            worst = max(worst, min(late, time.process_time() - cpu))

    task = asyncio.ensure_future(probe())
    await asyncio.sleep(0.05)
    await start_up()
    await asyncio.sleep(0.5)
    done.set()
    await task
    return worst * 1000
