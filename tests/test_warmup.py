"""The model process's warm-up (agent/llm/warmup.py) answers its own request
with a streamed reply that the real litellm accepts: otherwise the warm-up
would fail quietly and the first real reply would pay for loading the
response path (about 5 ms of pydantic schema building per process here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import asyncio, json
from agent.llm.client import import_litellm
from agent.llm.warmup import _MESSAGES, _TOOLS, _answering_endpoint

async def main():
    litellm = import_litellm()
    async with _answering_endpoint() as api_base:
        response = await litellm.acompletion(
            model="openai/warm", api_base=api_base, api_key="k", messages=_MESSAGES,
            tools=_TOOLS, stream=True, stream_options={"include_usage": True},
            num_retries=0, max_retries=0, timeout=5,
        )
        text, calls, usage = "", [], None
        async for chunk in response:
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or []:
                    calls.append([call.function.name, call.function.arguments])
            usage = getattr(chunk, "usage", None) or usage
    print(json.dumps({"text": text, "calls": calls, "tokens": usage.total_tokens}))

asyncio.run(main())
"""


def test_the_warm_up_endpoint_answers_a_real_litellm_stream() -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["text"] == "ok"
    assert answer["calls"][0][0] == "warm_up"
    assert "".join(arguments or "" for _, arguments in answer["calls"]) == "{}"
    assert answer["tokens"] == 2
