"""Run the language server's start-up (what follows ``initialized``: the
runtime imported in a thread, the model process started and warmed up, the
workspace indexed) in this fresh interpreter, with a loop-lag probe
(:mod:`lag`), and print the longest stall of this process's making in
milliseconds.

    python tests/probes/startup_lag.py WORKSPACE
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
        assert server.model_process is not None
        await server.model_process.wait_ready()

    worst = await worst_stall(start_up)
    print(f"{worst:.1f}")
    assert server.model_process is not None
    await server.model_process.close()
    await server.stop_tasks()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
