"""Start-up through the real server: the model client warms up in its own
process, a chat sent before it is ready waits and says so, and streamed text
is coalesced into few notifications."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from lspkit import Session, eventually, start, stop

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "app.py").write_text("print('hi')\n")
    return folder


HEAVY = (
    "litellm",
    "pydantic",
    "agent.factory",
    "agent.pod",
    "agent.workspace_index",
    "server.pods",
    "server.payloads",
    "watchfiles",
    "jinja2",
)


def test_initialize_needs_only_pygls_and_the_method_names() -> None:
    """What runs before ``initialize`` is answered imports none of the runtime."""
    code = (
        "import sys\n"
        "from server.app import create_server\n"
        "create_server()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "[]"


def test_the_server_runtime_never_imports_litellm() -> None:
    """litellm lives in the model process only."""
    code = (
        "import sys\n"
        "import server.startup, server.handlers, agent.llm.process\n"
        "print('litellm' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "False"


async def test_a_chat_during_the_warm_up_waits_and_the_client_is_told(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "ready now"}])
    session = await start({**env, "YOI_PREWARM": "1"}, root)
    try:
        pod = await session.create_pod()  # right away: the model process is still loading
        result = await session.chat(pod, "hello")
        assert result["outcome"] == "finished"
        phases = [e["phase"] for e in session.events(pod, "phase")]
        assert phases[:2] == ["loadingModel", "waitingForModel"]
        assert "".join(e["text"] for e in session.events(pod, "textDelta")) == "ready now"
        progress = session.client.progress_reports

        def loading_reported() -> bool:
            for reports in progress.values():
                if any(getattr(r, "message", None) == "Loading the model client…" for r in reports):
                    return any(getattr(r, "kind", None) == "end" for r in reports)
            return False

        assert await eventually(loading_reported)
    finally:
        await stop(session)


async def test_a_warm_server_sends_the_first_request_without_loading(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    """Once the model process is ready, a chat goes straight to the model."""
    scripted_model.load([{"text": "one"}, {"text": "two"}])
    session = await start({**env, "YOI_PREWARM": "1"}, root)
    try:
        pod = await session.create_pod()
        await session.chat(pod, "first")  # waits for the warm-up if needed
        session.state.events.clear()
        await session.chat(pod, "second")
        assert [e["phase"] for e in session.events(pod, "phase")] == ["waitingForModel"]
    finally:
        await stop(session)


async def test_a_fast_stream_arrives_as_few_notifications_with_the_same_text(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    text = "".join(f"{i % 10}" for i in range(2000)) + " — done ✓"
    scripted_model.load([{"text": text, "chunk_size": 1}])
    pod = await lsp.create_pod()
    result = await lsp.chat(pod, "stream")
    assert result["outcome"] == "finished"
    deltas = lsp.events(pod, "textDelta")
    assert "".join(d["text"] for d in deltas) == text
    assert len(deltas) < 200  # thousands of chunks, tens to a few hundred notifications
    history = await lsp.request("yoi/pod/history", {"podId": pod})
    assert history["items"][-1]["text"] == text


@pytest.mark.quiet
def test_the_start_up_never_stalls_the_event_loop(tmp_path: Path) -> None:
    """Loading the runtime, starting the model process and indexing the
    workspace stall the event loop for at most 20 ms (stalls of the server's
    own making: time the machine did not run it at all is not counted)."""
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    for i in range(300):
        (root / "pkg" / f"mod_{i}.py").write_text(f"X = {i}\n")
    probe = Path(__file__).parent / "probes" / "startup_lag.py"
    run = subprocess.run(
        [sys.executable, str(probe), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "YOI_PREWARM": "1", "YOI_HOME": str(tmp_path / "home")},
    )
    worst = float(run.stdout.strip().splitlines()[-1])
    assert worst < 20, f"the event loop stalled {worst:.1f} ms (stderr: {run.stderr[-2000:]})"


async def test_the_model_process_dies_with_the_server(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    """kill -9 of the language server, even while its model process is still
    importing litellm, leaves no model process behind."""
    session = await start({**env, "YOI_PREWARM": "1"}, root)
    server = session.client._server
    assert server is not None

    def model_pids() -> list[int]:
        found: list[int] = []
        for task in Path(f"/proc/{server.pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
        return found

    assert await eventually(lambda: bool(model_pids()))
    (child,) = model_pids()
    os.kill(server.pid, signal.SIGKILL)
    await session.client.stop()
    # at once: it is still importing litellm (seconds), so it did not just notice
    # its stdin closing
    assert await eventually(lambda: not Path(f"/proc/{child}").exists(), patience=2)
