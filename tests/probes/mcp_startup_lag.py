"""Like startup_lag.py, with MCP servers configured (the user manifest under
``YOI_CONFIG_DIR``): the start-up lasts until the runtime is loaded, the model
process is warm and every MCP server is ready. Prints the ready servers'
names, then the longest stall of this process's making in milliseconds.

    python tests/probes/mcp_startup_lag.py WORKSPACE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lag import server_for, worst_stall


async def main(root: Path) -> None:
    server = server_for(root)

    async def start_up() -> None:
        await server.ready()
        assert server.model_process is not None and server.pods.mcp is not None
        async with asyncio.timeout(60):
            await server.model_process.wait_ready()
            await server.pods.mcp.wait_ready()

    worst = await worst_stall(start_up)
    hub, model = server.pods.mcp, server.model_process
    assert hub is not None and model is not None
    print(" ".join(sorted(name for name, c in hub.connections.items() if c.status == "ready")))
    print(f"{worst:.1f}")
    await hub.stop()
    await model.close()
    await server.stop_tasks()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
