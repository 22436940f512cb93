"""What yoi adds to a chat turn, measured against the model call itself.

Against one scripted model on 127.0.0.1 (a 40-chunk streamed reply), in one run:
- baseline: the litellm client streaming the reply in-process;
- pod: ``Pod.chat`` in-process (input flattening, session log writes with
  fsync, events, usage accounting);
- lsp: ``yoi/chat`` through the real ``yoi lsp --stdio`` process (JSON-RPC,
  one ``yoi/event`` notification per delta), measured at the client.

Prints the median milliseconds per turn and the overhead over the baseline.
"""

from __future__ import annotations

import asyncio
import os
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

from agent.disk_editor import DiskEditor
from agent.factory import PodHost, PodSpec, open_pod
from agent.items import user
from agent.llm.client import LiteLlmClient
from agent.llm.types import Completed, LlmRequest, ModelConfig
from agent.manifest import load_manifest
from agent.ports import AllowAll, NullSink
from agent.segments import TextSegment
from agent.testing import ScriptedModel
from server.app import converter

TURNS = 30
REPLY = {"text": "word " * 40, "chunk_size": 5}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def baseline(config: ModelConfig) -> list[float]:
    client = LiteLlmClient(config)
    times = []
    for _ in range(TURNS):
        began = time.perf_counter()
        request = LlmRequest(system="You are terse.", items=[user("hi")], tools=[])
        async for event in client.stream(request):
            if isinstance(event, Completed):
                break
        times.append(time.perf_counter() - began)
    return times


async def pod_turns(root: Path, home: Path, config_dir: Path, env: dict[str, str]) -> list[float]:
    loaded = load_manifest(root, env=env, config_dir=config_dir)
    spec = PodSpec(root=root, home=home, loaded=loaded, env=env, config_dir=config_dir)
    pod = await open_pod(
        spec, PodHost(events=NullSink(), approvals=AllowAll(), editor=DiskEditor())
    )
    times = []
    for _ in range(TURNS):
        began = time.perf_counter()
        await pod.chat([TextSegment(kind="text", text="hi")])
        times.append(time.perf_counter() - began)
    await pod.close()
    return times


async def lsp_turns(root: Path, env: dict[str, str]) -> list[float]:
    def factory() -> LanguageClient:
        client = LanguageClient(converter_factory=converter)

        @client.feature("yoi/event")
        def on_event(params: Any) -> None:
            return None

        return client

    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "server.cli", "lsp", "--stdio"],
        server_env=env,
        client_factory=factory,
    )
    client = await config.start()
    await client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
    )
    pod = (await client.protocol.send_request_async("yoi/pod/create", {}))["podId"]
    times = []
    for _ in range(TURNS):
        began = time.perf_counter()
        params = {"podId": pod, "input": [{"kind": "text", "text": "hi"}]}
        await client.protocol.send_request_async("yoi/chat", params)
        times.append(time.perf_counter() - began)
    await client.shutdown_session()
    await client.stop()
    return times


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ScriptedModel() as model:
        root = Path(tmp) / "ws"
        root.mkdir()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": tmp,
            "YOI_HOME": f"{tmp}/home",
            "YOI_CONFIG_DIR": f"{tmp}/config",
            "YOI_MODEL": "openai/scripted",
            "YOI_API_BASE": model.base_url,
            "YOI_API_KEY": "bench",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        config = ModelConfig(model="openai/scripted", api_base=model.base_url, api_key="bench")
        model.load([REPLY] * (TURNS + 1))
        await baseline(config)  # warm-up: imports litellm
        model.load([REPLY] * TURNS)
        base = await baseline(config)
        model.load([REPLY] * TURNS)
        pod = await pod_turns(root, Path(tmp) / "home", Path(tmp) / "config", env)
        model.load([REPLY] * TURNS)
        lsp = await lsp_turns(root, env)
    b = median_ms(base)
    print(f"{TURNS} turns each, reply of 40 streamed chunks, median per turn:")
    print(f"baseline (litellm stream):   {b:7.2f} ms")
    for name, samples in (("pod (in-process)", pod), ("lsp (yoi/chat round trip)", lsp)):
        m = median_ms(samples)
        print(f"{name + ':':28} {m:7.2f} ms  (+{m - b:.2f} ms, {m / b:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
