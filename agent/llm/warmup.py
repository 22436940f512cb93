"""Make litellm's first request as fast as its later ones, without the network.

Importing litellm takes seconds, and its first request takes about as long
again: the provider's SDK client, the HTTP stack, the streaming wrapper and
the tool-calling helpers all load on first use, and the SDK builds its
response models (pydantic schemas) the first time a streamed answer arrives.
:func:`warm_up` pays these costs ahead of time by sending requests that never
leave the machine:

- for providers that speak OpenAI's chat-completions wire, one to a loopback
  endpoint served here for that one request: it answers with a short
  streamed reply (text, a tool call, usage), so the whole request and
  response path loads;
- for the other providers whose ``api_base`` litellm honours, one to a
  loopback port that refuses the connection (the provider's client and
  transport load);
- one answered by litellm's own ``mock_response`` (litellm's streaming
  wrapper loads).

Providers whose requests need credentials fetched from the network first
(cloud SDKs) only get the last. Then the heap is settled (:func:`settle_heap`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from agent.llm.client import import_litellm

log = logging.getLogger(__name__)

FALLBACK_MODEL = "openai/gpt-4o-mini"
# Providers that send their requests to ``api_base`` and need nothing else.
LOOPBACK_PROVIDERS = frozenset(
    {
        "openai",
        "anthropic",
        "mistral",
        "groq",
        "deepseek",
        "openrouter",
        "xai",
        "ollama",
        "ollama_chat",
        "hosted_vllm",
        "together_ai",
        "fireworks_ai",
        "lm_studio",
        "perplexity",
        "cerebras",
        "custom_openai",
    }
)
# Of those, the ones whose streamed answers are OpenAI chat-completion chunks.
OPENAI_WIRE = LOOPBACK_PROVIDERS - {"anthropic", "ollama", "ollama_chat"}
_MESSAGES = [{"role": "user", "content": "warm-up"}]
_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "warm_up",
            "description": "Never called.",
            "parameters": {"type": "object", "properties": {}},
        },
    }
]


async def warm_up(model: str | None) -> float:
    """Import litellm (blocking: call it where blocking is fine) and exercise
    its request path for ``model``'s provider. Never raises; returns the
    seconds it took."""
    started = time.monotonic()
    litellm = import_litellm()
    model = model or FALLBACK_MODEL
    try:
        provider = litellm.get_llm_provider(model)[1]
    except Exception:
        provider, model = "openai", FALLBACK_MODEL
    if provider in OPENAI_WIRE:
        async with _answering_endpoint() as api_base:
            await _quietly(litellm, model, api_base=api_base, api_key="warm-up")
    elif provider in LOOPBACK_PROVIDERS:
        with _refusing_port() as api_base:
            await _quietly(litellm, model, api_base=api_base, api_key="warm-up")
    await _quietly(litellm, model, mock_response="ok", api_key="warm-up")
    from agent.llm.client import lookup_model_info

    lookup_model_info(litellm, model)  # a first lookup loads litellm's model tables
    settle_heap()
    return time.monotonic() - started


def settle_heap() -> None:
    """Collect what the import and the warm-up left behind, then move every
    surviving object (litellm, the provider SDKs: most of a million objects
    that live as long as the process) out of the collector's sight. Without
    this the first real request, which allocates enough to start a full
    collection, paid for walking all of them: 3 ms of its 9 here."""
    gc.collect()
    gc.freeze()


async def _quietly(litellm: Any, model: str, **extra: Any) -> None:
    try:
        response = await litellm.acompletion(
            model=model,
            messages=_MESSAGES,
            tools=_TOOLS,
            stream=True,
            stream_options={"include_usage": True},
            num_retries=0,
            max_retries=0,
            timeout=5,
            **extra,
        )
        async for _ in response:
            pass
    except Exception as exc:  # expected: the loopback port refuses
        log.debug("warm-up request: %s", type(exc).__name__)


def _chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {
        "id": "warm-up",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "warm-up",
        "choices": choices,
        **extra,
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


_CALL = {"index": 0, "id": "call_0", "type": "function"}
_ANSWER = b"".join(
    [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
        _chunk({"role": "assistant", "content": "ok"}),
        _chunk({"tool_calls": [{**_CALL, "function": {"name": "warm_up", "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
        _chunk({}, "tool_calls"),
        _chunk(None, usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
        b"data: [DONE]\n\n",
    ]
)


@contextlib.asynccontextmanager
async def _answering_endpoint() -> AsyncIterator[str]:
    """A loopback base URL that answers every request with :data:`_ANSWER`
    (one short streamed chat completion), closed on leaving."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            if length:
                await reader.readexactly(length)
            writer.write(_ANSWER)
            await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            log.debug("warm-up endpoint: %s", exc)
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        await server.wait_closed()


@contextlib.contextmanager
def _refusing_port() -> Iterator[str]:
    """A loopback base URL whose port is bound but not listening: connecting
    is refused at once, and no other program can take the port meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        sock.close()
