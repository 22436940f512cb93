"""The shared model service (agent/llm/shared.py, service.py): one warm
litellm for every yoi host of the user, outliving the editor session that
started it. Real processes, real litellm, the scripted model on 127.0.0.1;
each test has a runtime folder of its own and ends the services it started."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import model_config
from lspkit import start, stop

from agent.errors import ProviderUnavailable
from agent.items import user
from agent.llm import shared
from agent.llm.process import ModelProcess, RemoteLlmClient, model_process_env
from agent.llm.types import ClientLoading, ClientReady, Completed, LlmRequest, StreamEvent
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(120)

HELLO = LlmRequest(system="You are terse.", items=[user("hi")], tools=[])


@pytest.fixture
def runtime() -> Iterator[Path]:
    """A runtime folder with a short path (a socket's path has ~100 bytes at
    most); every service still running in it is killed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="yoi-rt-", dir="/tmp"))
    folder.chmod(0o700)
    yield folder
    for pid in service_pids(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for log in folder.glob("*.log"):
        print(f"--- {log.name}\n{log.read_text()}")  # shown when the test failed
    shutil.rmtree(folder)


def service_pids(folder: Path) -> list[int]:
    """The services serving a socket in ``folder`` (found by command line)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"agent.llm.service" in command and any(str(folder).encode() in a for a in command):
            found.append(int(proc.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[1])


def sockets(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.sock"))


def open_up(folder: Path) -> None:
    folder.chmod(0o755)


def host_env(runtime: Path, **more: str) -> dict[str, str]:
    return {**model_process_env(), "YOI_RUNTIME_DIR": str(runtime), **more}


@pytest.fixture
async def hosts(runtime: Path) -> AsyncIterator[list[ModelProcess]]:
    made: list[ModelProcess] = []
    yield made
    for host in made:
        await host.close()


def new_host(hosts: list[ModelProcess], env: dict[str, str]) -> ModelProcess:
    host = ModelProcess(model="openai/scripted", env=env, shared=True)
    hosts.append(host)
    return host


async def ask(host: ModelProcess, model: ScriptedModel, text: str) -> list[StreamEvent]:
    model.load([{"text": text}])
    client = RemoteLlmClient(model_config(model.base_url), host)
    return [event async for event in client.stream(HELLO)]


def answer(events: list[StreamEvent]) -> str:
    done = events[-1]
    assert isinstance(done, Completed)
    return done.response.text


async def test_two_hosts_share_one_warm_service_that_outlives_them(
    runtime: Path, hosts: list[ModelProcess], scripted_model: ScriptedModel
) -> None:
    env = host_env(runtime, YOI_MODEL_IDLE="2")
    first = new_host(hosts, env)
    await first.start(warm_up=True)
    await first.wait_ready()
    assert first.starts == 1 and first.pid is not None
    assert answer(await ask(first, scripted_model, "one")) == "one"
    service = first.pid
    assert service_pids(runtime) == [service]
    assert parent_of(service) != os.getpid()  # detached: not this process's child

    # a second host (another editor) finds it warm: no start, no loading
    second = new_host(hosts, env)
    await second.start()
    await second.wait_ready()
    assert second.starts == 0 and second.pid == service
    events = await ask(second, scripted_model, "two")
    assert events[0] == ClientReady() and ClientLoading() not in events
    assert answer(events) == "two"

    # the first editor closes: the service serves the second
    await first.close()
    assert answer(await ask(second, scripted_model, "three")) == "three"
    assert alive(service)

    # the last one closes: the service exits after YOI_MODEL_IDLE seconds
    await second.close()
    for _ in range(100):
        if not alive(service):
            break
        await asyncio.sleep(0.1)
    assert not alive(service)
    assert sockets(runtime) == []


async def test_different_provider_settings_get_different_services(
    runtime: Path, hosts: list[ModelProcess]
) -> None:
    a = await asyncio.to_thread(shared.address, host_env(runtime), {})
    b = await asyncio.to_thread(shared.address, host_env(runtime, HTTPS_PROXY="http://p:1"), {})
    c = await asyncio.to_thread(shared.address, host_env(runtime), {"OPENAI_API_KEY": "sk-a1b2c3"})
    d = await asyncio.to_thread(shared.address, host_env(runtime, TERM="dumb"), {})
    assert len({a.socket, b.socket, c.socket}) == 3
    assert d == a  # what does not reach a provider does not matter
    assert "a1b2c3" not in str(c.socket) + str(c.log)


async def test_a_killed_service_fails_the_stream_clearly_and_the_next_request_starts_one(
    runtime: Path, hosts: list[ModelProcess], scripted_model: ScriptedModel
) -> None:
    host = new_host(hosts, host_env(runtime))
    await host.start(warm_up=True)
    await host.wait_loaded()
    first = host.pid
    assert first is not None
    scripted_model.load([{"text": "slow " * 50, "chunk_size": 1, "chunk_delay_ms": 50}])
    client = RemoteLlmClient(model_config(scripted_model.base_url), host)
    with pytest.raises(ProviderUnavailable, match="shared model service stopped"):
        async for event in client.stream(HELLO):
            if isinstance(event, ClientReady):
                os.kill(first, signal.SIGKILL)
    assert answer(await ask(host, scripted_model, "back")) == "back"
    assert host.pid not in (None, first) and host.starts == 2


async def test_a_runtime_folder_others_can_enter_is_not_used(
    runtime: Path, hosts: list[ModelProcess], scripted_model: ScriptedModel
) -> None:
    open_up(runtime)
    host = new_host(hosts, host_env(runtime))
    assert answer(await ask(host, scripted_model, "private")) == "private"
    assert not host.shared and service_pids(runtime) == []  # a private process instead


async def test_a_runtime_folder_too_deep_for_a_socket_falls_back_at_once(
    runtime: Path, hosts: list[ModelProcess], scripted_model: ScriptedModel
) -> None:
    deep = runtime / ("d" * 60) / ("e" * 60)
    host = new_host(hosts, host_env(deep))
    assert answer(await ask(host, scripted_model, "private")) == "private"
    assert not host.shared and service_pids(runtime) == []


async def test_a_second_editor_session_chats_without_loading_the_model(
    runtime: Path, env: dict[str, str], tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    """Through the real language server: the first session (killed, as an
    editor that crashed) starts the service; the next one's first chat goes
    straight to the model, without a loadingModel status."""
    root = tmp_path / "ws"
    root.mkdir()
    shared_env = {
        **env,
        "YOI_SHARED_MODEL": "1",
        "YOI_PREWARM": "1",
        "YOI_RUNTIME_DIR": str(runtime),
    }
    scripted_model.load([{"text": "first"}, {"text": "second"}])
    first = await start(shared_env, root)
    pod = await first.create_pod()
    assert (await first.chat(pod, "hi"))["outcome"] == "finished"
    services = service_pids(runtime)
    assert len(services) == 1
    server = first.client._server
    assert server is not None
    server.kill()  # kill -9 of the language server: the service lives on
    await asyncio.sleep(0.5)
    assert alive(services[0])

    # a process of the user without the keys (a command the agent runs) gets
    # nothing from it: no greeting, no request reaches the model
    (socket,) = sockets(runtime)
    for first_line in (
        b'{"op": "stream", "id": 1, "config": {}, "arguments": {}}\n',
        b'{"op": "auth", "token": "' + shared.token({}).encode() + b'"}\n',
    ):
        reader, writer = await asyncio.open_unix_connection(str(socket))
        writer.write(first_line)
        async with asyncio.timeout(10):
            assert await reader.read() == b""  # closed unanswered
        writer.close()
    assert len(scripted_model.requests) == 1

    second = await start(shared_env, root)
    try:
        pod = await second.create_pod()
        result = await second.chat(pod, "again")
        assert result["outcome"] == "finished"
        phases = [e.get("phase") for e in second.events(pod, "phase")]
        assert "waitingForModel" in phases and "loadingModel" not in phases
        assert second.events(pod, "textDelta")[-1]["text"].endswith("second")
        assert service_pids(runtime) == services
    finally:
        await stop(second)
