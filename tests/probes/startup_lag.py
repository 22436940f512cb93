"""Run the language server's start-up (what follows ``initialized``: the
runtime imported in a thread, the model process started and warmed up, the
workspace indexed) in this fresh interpreter, with a loop-lag probe, and print
the longest stall *of this process's making* in milliseconds.

A probe step that wakes up late counts only the part of its lateness during
which this process was running (its CPU time): when a busy machine does not
schedule the process at all, that is not a stall the server caused.

    python tests/probes/startup_lag.py WORKSPACE
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from lsprotocol import types

from server.app import create_server


async def main(root: Path) -> None:
    server = create_server()
    server.root = root
    server.protocol.client_capabilities = types.ClientCapabilities()
    server.protocol._send_data = lambda data: None  # type: ignore[method-assign]
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
    await server.ready()
    assert server.model_process is not None
    await server.model_process.wait_ready()
    await asyncio.sleep(0.5)  # the index and the knowledge watcher settle
    done.set()
    await task
    print(f"{worst * 1000:.1f}")
    await server.model_process.close()
    await server.stop_tasks()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
