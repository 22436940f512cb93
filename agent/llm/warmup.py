"""Make litellm's first request as fast as its later ones, without the network.

Importing litellm takes seconds, and its first request takes about as long
again: the provider's SDK client, the HTTP stack, the streaming wrapper and
the tool-calling helpers all load on first use. :func:`warm_up` pays both
costs ahead of time by sending two requests that never leave the machine:

- one to a loopback port that refuses the connection, for providers whose
  ``api_base`` litellm honours (the provider's client and transport load);
- one answered by litellm's own ``mock_response`` (the streaming response
  path loads).

Providers whose requests need credentials fetched from the network first
(cloud SDKs) only get the second.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterator
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
    if provider in LOOPBACK_PROVIDERS:
        with _refusing_port() as api_base:
            await _quietly(litellm, model, api_base=api_base, api_key="warm-up")
    await _quietly(litellm, model, mock_response="ok", api_key="warm-up")
    from agent.llm.client import lookup_model_info

    lookup_model_info(litellm, model)  # a first lookup loads litellm's model tables
    return time.monotonic() - started


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
