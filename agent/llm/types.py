"""The worker's view of a language model: requests, stream events, usage.

Nothing here imports litellm; :mod:`agent.llm.client` adapts litellm to the
:class:`LlmClient` protocol, and tests or disposable workers may use any other
implementation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.items import Item, ToolCall


@dataclass(frozen=True)
class ModelConfig:
    """Where and how to reach the model. ``model`` is a litellm model string
    such as ``anthropic/claude-sonnet-4-5`` or ``openai/gpt-4.1``;
    ``api_key_env`` names the variable the key came from (for messages)."""

    model: str | None
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_seconds: float = 600.0
    max_retries: int = 4
    retry_base_delay: float = 1.0
    retry_max_delay: float = 30.0
    api_key_env: str = "YOI_API_KEY"
    # models to try, in order, when this one fails (rate limits, server errors, a
    # context too long): litellm's Router (agent/llm/client.py)
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestSettings:
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()
    reasoning_effort: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class LlmRequest:
    system: str
    items: list[Item]
    tools: list[ToolSpec]
    settings: RequestSettings = RequestSettings()
    # Index of the item after which a prompt-cache breakpoint helps (compaction
    # sets it to the summary); providers with automatic caching ignore it.
    cache_anchor: int | None = None
    # Data URLs of the images the items refer to, by SHA-256 (agent.image_store);
    # an image missing here is sent as a line saying it was left out.
    images: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """Token usage of one request. ``input_tokens`` is the size of the whole
    prompt (cache reads and writes included); the cache fields break it down."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None  # litellm's cost map (or the manifest's prices); None: unknown


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ReasoningChunk:
    text: str


@dataclass(frozen=True)
class Response:
    """The assembled answer of one request."""

    text: str
    tool_calls: list[ToolCall]
    usage: Usage | None
    finish_reason: str | None = None
    reasoning: str = ""
    reasoning_signature: str | None = None
    fallback: str | None = None  # the fallback model that answered, when the main one failed


@dataclass(frozen=True)
class Completed:
    response: Response


@dataclass(frozen=True)
class ClientLoading:
    """The client is still loading (the first request after start-up): the
    request waits for it. Followed by :class:`ClientReady` once it can go."""


@dataclass(frozen=True)
class ClientReady:
    """The request is on its way to the model (yielded once per stream,
    before any text)."""


StreamEvent = TextChunk | ReasoningChunk | Completed | ClientLoading | ClientReady


@dataclass(frozen=True)
class ModelInfo:
    """What litellm's local model map says about a model; ``None`` where it
    does not know (a model it has not mapped, a local server)."""

    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    supports_vision: bool | None = None
    input_cost_per_token: float | None = None  # US dollars
    output_cost_per_token: float | None = None


@dataclass(frozen=True)
class RetryNotice:
    """Told to the host before the client waits to retry a failed request."""

    attempt: int  # the attempt that failed, 1-based
    max_attempts: int
    delay_seconds: float
    reason: str


RetryListener = Callable[[RetryNotice], None]


class LlmClient(Protocol):
    def stream(self, request: LlmRequest) -> AsyncIterator[StreamEvent]:
        """Stream one request. Yields :class:`ClientReady` when the request
        goes out (preceded by :class:`ClientLoading` if the client must load
        first), then text and reasoning as they arrive, and ends with exactly
        one :class:`Completed`. Raises :class:`agent.errors.LlmError`.
        Cancelling the consuming task stops the stream at once."""
        ...

    @property
    def model_name(self) -> str: ...

    async def model_info(self) -> ModelInfo:
        """The model's context window and abilities, as far as known (never
        raises; may wait for the client to load)."""
        ...
