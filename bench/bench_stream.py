"""A long streamed reply: what yoi adds on top of litellm streaming it.

The scripted model streams a reply of 2,000 one-character chunks. In one run,
alternating so both see the same machine:

- baseline: bare ``litellm.acompletion(stream=True)`` in this process,
  consuming the same stream (the floor: litellm's own per-chunk cost);
- yoi: ``yoi/chat`` through the real ``yoi lsp --stdio`` process, from
  sending the request to receiving its answer (the model process, the pod, the
  session log, coalesced ``yoi/event`` notifications).

Prints the median times, the ratio, and how many ``textDelta`` notifications
the client received for the 2,000 chunks.
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

from agent.llm.client import import_litellm
from agent.testing import ScriptedModel
from server.app import converter

CHUNKS = 2000
RUNS = 9
REPLY = {"text": "".join(chr(ord("a") + i % 26) for i in range(CHUNKS)), "chunk_size": 1}


async def bare_once(model: ScriptedModel) -> float:
    litellm = import_litellm()
    began = time.perf_counter()
    response = await litellm.acompletion(
        model="openai/scripted",
        api_base=model.base_url,
        api_key="bench",
        messages=[{"role": "user", "content": "stream"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = []
    async for chunk in response:
        for choice in chunk.choices:
            if choice.delta.content:
                text.append(choice.delta.content)
    assert "".join(text) == REPLY["text"]
    return time.perf_counter() - began


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
        deltas: list[str] = []

        def factory() -> LanguageClient:
            client = LanguageClient(converter_factory=converter)

            @client.feature("yoi/event")
            def on_event(params: Any) -> None:
                if params["event"]["type"] == "textDelta":
                    deltas.append(params["event"]["text"])

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
        model.load([REPLY] * (2 * RUNS + 4))
        for _ in range(2):  # warm both paths
            await bare_once(model)
            await client.protocol.send_request_async(
                "yoi/chat", {"podId": pod, "input": [{"kind": "text", "text": "stream"}]}
            )
        bare, yoi, notifications = [], [], []
        for _ in range(RUNS):
            bare.append(await bare_once(model))
            deltas.clear()
            began = time.perf_counter()
            await client.protocol.send_request_async(
                "yoi/chat", {"podId": pod, "input": [{"kind": "text", "text": "stream"}]}
            )
            yoi.append(time.perf_counter() - began)
            assert "".join(deltas) == REPLY["text"]
            notifications.append(len(deltas))
        await client.shutdown_session()
        await client.stop()
    b, y = statistics.median(bare), statistics.median(yoi)
    print(f"a reply of {CHUNKS:,} streamed chunks, median of {RUNS} runs each:")
    print(f"  bare litellm stream:         {b * 1000:8.1f} ms")
    print(f"  yoi/chat request → answer:   {y * 1000:8.1f} ms  ({y / b:.2f}x)")
    print(f"  textDelta notifications:     {statistics.median(notifications):8.0f}")


if __name__ == "__main__":
    asyncio.run(main())
