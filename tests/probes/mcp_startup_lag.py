"""Like startup_lag.py, with MCP servers configured (the user manifest under
``YOI_CONFIG_DIR``): run the language server's start-up in this interpreter
with a loop-lag probe until the runtime is loaded, the model process is warm
and every MCP server is ready; print the longest stall of this process's
making in milliseconds.

    python tests/probes/mcp_startup_lag.py WORKSPACE
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
    hub = server.pods.mcp
    assert hub is not None
    async with asyncio.timeout(60):
        await server.model_process.wait_ready()
        await hub.wait_ready()
    ready = sorted(name for name, c in hub.connections.items() if c.status == "ready")
    await asyncio.sleep(0.5)
    done.set()
    await task
    print(" ".join(ready))
    print(f"{worst * 1000:.1f}")
    await hub.stop()
    await server.model_process.close()
    await server.stop_tasks()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
