"""``yoi/pod/create`` with compaction and memory on by default.

Compaction is sized by the model's window, which the model process knows; a
pod must not wait for it while being created. This measures, in one server
and one run, ``yoi/pod/create`` (then ``yoi/pod/dispose``) round trips with
the defaults (compaction and memory on) against the same with both turned
off in the workspace manifest (what every pod did before they were on by
default), alternating so both see the same machine. It also checks that no
pod creation started the model process (``YOI_PREWARM=0``: nothing else
would), i.e. that nobody asked for the window.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lspkit import Session, server_env, start, stop

from agent.testing import ScriptedModel

ROUNDS = 40
OFF = "[compaction]\nenabled = false\n[memory]\nenabled = false\n"


def model_processes(pid: int) -> int:
    """How many of ``pid``'s children run the model process."""
    found = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            found += b"agent.llm.child" in cmdline
    return found


def server_pid(session: Session) -> int:
    process = session.client._server  # pytest-lsp keeps the process here
    assert process is not None
    return int(process.pid)


async def create_and_dispose(session: Session) -> float:
    began = time.perf_counter()
    pod = await session.create_pod()
    elapsed = time.perf_counter() - began
    await session.request("yoi/pod/dispose", {"podId": pod})
    return elapsed


async def main() -> None:
    with ScriptedModel() as model, tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "ws"
        (root / ".yoi").mkdir(parents=True)
        (root / ".yoi" / "knowledge").mkdir()
        manifest = root / ".yoi" / "manifest.toml"
        env = server_env(base / "home", base / "config", model.base_url)
        session = await start(env, root)
        try:
            await create_and_dispose(session)  # the runtime is loaded
            on: list[float] = []
            off: list[float] = []
            for _ in range(ROUNDS):
                manifest.write_text("")
                on.append(await create_and_dispose(session))
                manifest.write_text(OFF)
                off.append(await create_and_dispose(session))
            spawned = model_processes(server_pid(session))
        finally:
            await stop(session)
    on_ms, off_ms = statistics.median(on) * 1000, statistics.median(off) * 1000
    print(f"{ROUNDS} rounds, median yoi/pod/create round trip:")
    print(f"compaction and memory on (default):  {on_ms:7.2f} ms")
    print(f"both off (baseline):                 {off_ms:7.2f} ms")
    print(f"ratio: {on_ms / off_ms:.2f}x")
    print(
        f"model processes started by creating pods: {spawned} (asking the window would start one)"
    )


if __name__ == "__main__":
    asyncio.run(main())
