"""A server killed (SIGKILL) in the middle of a restore, then the restore run
again from a new server on the resumed session: every file ends at the
checkpoint and the session log verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path

import pytest
from lspkit import start, stop

from agent.store import SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(180)

FILES = 2500


def original(n: int) -> bytes:
    return f"file {n}\n".encode() * 20


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "files").mkdir(parents=True)
    for n in range(FILES):
        (ws / "files" / f"f{n:05d}.txt").write_bytes(original(n))
    config = tmp_path / "config"
    config.mkdir()
    (config / "manifest.toml").write_text('[approvals]\nmode = "auto"\n')
    return ws.resolve()


def restored(root: Path) -> list[int]:
    found = []
    for n in range(FILES):
        path = root / "files" / f"f{n:05d}.txt"
        if path.exists() and path.read_bytes() == original(n):
            found.append(n)
    return found


def all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def kill_when_restoring(root: Path, pid: int, stop_polling: threading.Event) -> None:
    """Kill the server as soon as the first file is back (it goes first)."""
    first = root / "files" / "f00000.txt"
    size = len(original(0))
    while not stop_polling.is_set():
        if first.stat().st_size == size:
            os.kill(pid, signal.SIGKILL)
            return


async def test_a_restore_killed_midway_and_run_again_ends_consistent(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    command = 'for f in files/*.txt; do echo changed >> "$f"; done; rm files/f00007.txt'
    scripted_model.load(
        [
            {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]},
            {"text": "changed them all"},
        ]
    )
    lsp = await start(env, root)
    pod = await lsp.create_pod()
    chat = await lsp.chat(pod, "change every file")
    assert chat["outcome"] == "finished" and restored(root) == []
    server = lsp.client._server
    assert server is not None
    stop_polling = threading.Event()
    killer = threading.Thread(
        target=kill_when_restoring, args=(root, server.pid, stop_polling), daemon=True
    )
    killer.start()
    request = asyncio.ensure_future(
        lsp.request("yoi/checkpoints/restore", {"podId": pod, "turn": 1})
    )
    await asyncio.to_thread(killer.join, 60)
    stop_polling.set()
    request.cancel()
    await asyncio.gather(request, return_exceptions=True)
    await lsp.client.stop()
    midway = restored(root)
    assert 0 < len(midway) < FILES - 1, "the kill did not land in the middle of the restore"

    again = await start(env, root)
    try:
        resumed = await again.create_pod(resumeSessionId=chat["sessionId"])
        result = await again.request("yoi/checkpoints/restore", {"podId": resumed, "turn": 1})
        again_written = set(result["files"])
        assert not again_written & {f"files/f{n:05d}.txt" for n in midway}  # none twice
        assert restored(root) == list(range(FILES))
        assert all_files(root) == [f"files/f{n:05d}.txt" for n in range(FILES)]  # no leftover
        log = SessionStore(Path(env["YOI_HOME"]) / "sessions").read(result["sessionId"])
        states = [
            e.payload.get("state")
            for e in log.entries
            if getattr(e, "domain", "") == "checkpoints"
            and isinstance(e.payload, dict)
            and e.payload.get("kind") == "restore"
        ]
        assert states[-2:] == ["begun", "done"]
        listing = await again.request("yoi/checkpoints/list", {"podId": resumed})
        assert listing["turns"][0]["checkpoint"]
    finally:
        await stop(again)
