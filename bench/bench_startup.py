"""From the first keystroke: start-up, the first chat and a warm turn.

Measures, in one run, against baselines measured in the same run:

- ``initialize`` answered by a cold ``yoi lsp --stdio`` process, against a bare
  pygls server that answers ``initialize`` (the floor of this stack);
- the server's resident memory once idle after ``initialize``, against the
  bare server's; again once the runtime is loaded (after the first ``yoi/*``
  request); and the model process's beside it;
- the first ``yoi/chat``, sent 3 s (and 12 s) after ``initialized``: the time
  from sending it until the scripted model endpoint receives the request;
  also with ``YOI_PREWARM=0`` (the model client loads on that chat), which is
  what every first chat cost before the model process warmed up in advance;
  with a private model process (``YOI_SHARED_MODEL=0``: every editor session
  loads litellm anew) and with the shared model service (agent/llm/shared.py),
  in the first editor session (no service running yet: it starts one) and in
  a later one (the service an earlier session started is warm), also sent
  right after ``initialized``;
- a warm turn: ``yoi/chat`` sent → request received, against bare
  ``litellm.acompletion`` sending the very same requests (system prompt,
  tools, history, as recorded by the endpoint) from this process; and bare
  litellm sending the first of them after 3 s of idleness, which a first chat
  sent 3 s after ``initialized`` meets too (on this machine a request after
  an idle pause takes several times as long as one right after another).

Times are medians; the endpoint stamps each request with ``time.perf_counter``
in this process, so both ends read one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from agent.llm.client import import_litellm
from agent.testing import ScriptedModel
from server.app import converter

COLD_RUNS = 7
FIRST_CHAT_RUNS = 3
WARM_TURNS = 30
BARE_SERVER = """
from pygls.lsp.server import LanguageServer
LanguageServer("bare", "0").start_io()
"""
YOI_SERVER = [sys.executable, "-m", "server.cli", "lsp", "--stdio"]


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


async def read_message(stream: asyncio.StreamReader) -> dict[str, Any]:
    length = 0
    while True:
        line = await stream.readline()
        if not line.strip():
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    message: dict[str, Any] = json.loads(await stream.readexactly(length))
    return message


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


async def cold_initialize(command: list[str], env: dict[str, str], root: Path) -> dict[str, Any]:
    """Spawn, answer initialize; idle a while and read the memory; for yoi,
    load the runtime (a yoi/* request) and read it again."""
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    params = {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}}
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}))
    while (await read_message(proc.stdout)).get("id") != 1:
        pass
    answered = time.perf_counter() - began
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    await asyncio.sleep(6.0)  # idle: the model process warm
    rss = rss_kb(proc.pid)
    model_rss = sum(rss_kb(c) for c in children(proc.pid))
    runtime_rss = rss
    if command == YOI_SERVER:
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "yoi/pod/list"}))
        while (await read_message(proc.stdout)).get("id") != 2:
            pass
        await asyncio.sleep(1.0)
        runtime_rss = rss_kb(proc.pid)
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
    while (await read_message(proc.stdout)).get("id") != 3:
        pass
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
    proc.stdin.close()
    await proc.wait()
    return {"initialize": answered, "rss": rss, "model_rss": model_rss, "runtime_rss": runtime_rss}


async def start_client(env: dict[str, str], root: Path) -> LanguageClient:
    def factory() -> LanguageClient:
        client = LanguageClient(converter_factory=converter)

        @client.feature("yoi/event")
        def on_event(params: Any) -> None:
            return None

        return client

    config = ClientServerConfig(server_command=YOI_SERVER, server_env=env, client_factory=factory)
    client = await config.start()
    await client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
    )
    return client


async def first_chat(
    env: dict[str, str], root: Path, model: ScriptedModel, delay: float, warm_turns: int = 0
) -> tuple[float, list[float]]:
    """Seconds from sending the first chat (``delay`` s after initialized)
    until the endpoint has it; then the same for ``warm_turns`` more turns."""
    model.load([{"text": "ok"}] * (1 + warm_turns))
    client = await start_client(env, root)
    initialized = time.perf_counter()
    pod = (await client.protocol.send_request_async("yoi/pod/create", {}))["podId"]
    await asyncio.sleep(max(0.0, initialized + delay - time.perf_counter()))
    latencies = []
    for turn in range(1 + warm_turns):
        sent = time.perf_counter()
        params = {"podId": pod, "input": [{"kind": "text", "text": "hi"}]}
        await client.protocol.send_request_async("yoi/chat", params)
        latencies.append(model.arrivals[turn] - sent)
    await client.shutdown_session()
    await client.stop()
    return latencies[0], latencies[1:]


async def bare_litellm(
    model: ScriptedModel, bodies: list[dict[str, Any]], gap: float = 0.0
) -> list[float]:
    """Send each of ``bodies`` with bare ``litellm.acompletion``, ``gap``
    seconds after the previous one: send → request at the endpoint."""
    litellm = import_litellm()
    model.load([{"text": "ok"}] * len(bodies))
    latencies = []
    for turn, body in enumerate(bodies):
        await asyncio.sleep(gap)
        sent = time.perf_counter()
        response = await litellm.acompletion(
            model="openai/scripted",
            api_base=model.base_url,
            api_key="bench",
            messages=body["messages"],
            tools=body.get("tools"),
            stream=True,
            stream_options={"include_usage": True},
        )
        async for _ in response:
            pass
        latencies.append(model.arrivals[turn] - sent)
    return latencies


async def bare_litellm_turns(model: ScriptedModel, bodies: list[dict[str, Any]]) -> list[float]:
    """The same requests yoi sent (system prompt, tools, history), sent again
    back to back with bare ``litellm.acompletion``."""
    return (await bare_litellm(model, [bodies[0]] * 3 + bodies))[3:]  # the first 3 warm it


async def bare_after_idle(model: ScriptedModel, body: dict[str, Any], gap: float) -> list[float]:
    """``body`` sent five times, each after ``gap`` seconds of idleness (as a
    first chat meets the machine)."""
    return await bare_litellm(model, [body] * 5, gap)


def kill_services(runtime: Path) -> None:
    """End the shared model services serving a socket in ``runtime``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"agent.llm.service" in command and str(runtime).encode() in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)
    time.sleep(0.2)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ScriptedModel() as model:
        root = Path(tmp) / "ws"
        root.mkdir()
        (root / "app.py").write_text("print('hi')\n")
        bare_script = Path(tmp) / "bare_server.py"
        bare_script.write_text(BARE_SERVER)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": tmp,
            "YOI_HOME": f"{tmp}/home",
            "YOI_CONFIG_DIR": f"{tmp}/config",
            "YOI_MODEL": "openai/scripted",
            "YOI_API_BASE": model.base_url,
            "YOI_API_KEY": "bench",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "YOI_SHARED_MODEL": "0",
        }
        # a short socket path; mkdtemp makes it 0700
        runtime = Path(tempfile.mkdtemp(prefix="yoi-bench-", dir="/tmp"))
        shared = {**env, "YOI_SHARED_MODEL": "1", "YOI_RUNTIME_DIR": str(runtime)}

        bare, yoi = [], []
        for _ in range(COLD_RUNS):  # alternate, so both see the same machine
            bare.append(await cold_initialize([sys.executable, str(bare_script)], env, root))
            yoi.append(await cold_initialize(YOI_SERVER, env, root))
        b_init = statistics.median(r["initialize"] for r in bare)
        y_init = statistics.median(r["initialize"] for r in yoi)
        b_rss = statistics.median(r["rss"] for r in bare)
        y_rss = statistics.median(r["rss"] for r in yoi)
        m_rss = statistics.median(r["model_rss"] for r in yoi)
        r_rss = statistics.median(r["runtime_rss"] for r in yoi)
        print(f"cold start, median of {COLD_RUNS} processes each:")
        print(f"  initialize answered, bare pygls server: {ms(b_init)}")
        print(f"  initialize answered, yoi:               {ms(y_init)}  ({y_init / b_init:.2f}x)")
        print(f"  idle RSS, bare pygls server:            {b_rss / 1024:8.1f} MB")
        print(
            f"  idle RSS, yoi server:                   {y_rss / 1024:8.1f} MB  "
            f"({y_rss / b_rss:.2f}x)"
        )
        print(
            f"  yoi server once the runtime is loaded:  {r_rss / 1024:8.1f} MB  "
            f"({r_rss / b_rss:.2f}x; after its first yoi/* request)"
        )
        print(f"  idle RSS, yoi's model process:          {m_rss / 1024:8.1f} MB  (separate)")

        print(f"first yoi/chat → request at the endpoint, median of {FIRST_CHAT_RUNS} servers:")
        for label, delay, extra in (
            ("private process, 3 s after initialized", 3.0, {}),
            ("private process, 12 s after", 12.0, {}),
            ("private, YOI_PREWARM=0 (before)", 3.0, {"YOI_PREWARM": "0"}),
        ):
            runs = FIRST_CHAT_RUNS if delay < 10 else 1
            firsts = [
                (await first_chat({**env, **extra}, root, model, delay))[0] for _ in range(runs)
            ]
            print(f"  {label + ':':48} {ms(statistics.median(firsts))}")
        try:
            firsts = []
            for _ in range(FIRST_CHAT_RUNS):
                await asyncio.to_thread(kill_services, runtime)
                firsts.append((await first_chat(shared, root, model, 3.0))[0])
            label = "shared service, first session, 3 s after:"
            print(f"  {label:48} {ms(statistics.median(firsts))}  (it starts the service)")
            for label, delay in (
                ("shared service, a later session, 3 s after:", 3.0),
                ("shared service, a later session, at once:", 0.0),
            ):
                runs = [(await first_chat(shared, root, model, delay))[0] for _ in range(5)]
                print(f"  {label:48} {ms(statistics.median(runs))}  (median of 5 sessions)")
        finally:
            await asyncio.to_thread(kill_services, runtime)

        _, warm = await first_chat(env, root, model, 3.0, warm_turns=WARM_TURNS)
        bodies = model.requests[1:]  # the warm turns' requests, as yoi sent them
        base = await bare_litellm_turns(model, bodies)
        w, b = statistics.median(warm), statistics.median(base)
        print(f"warm turn → request at the endpoint, median of {WARM_TURNS}:")
        print(f"  bare litellm.acompletion:   {ms(b)}  (the same requests: prompt, tools, history)")
        print(f"  yoi/chat:                   {ms(w)}  (+{(w - b) * 1000:.1f} ms)")
        idle = await bare_after_idle(model, bodies[0], 3.0)
        print("the same first request, bare litellm.acompletion 3 s after its previous one")
        print(f"  (the idleness a first chat meets), median of 5: {ms(statistics.median(idle))}")


if __name__ == "__main__":
    asyncio.run(main())
