"""The litellm adapter: :class:`LiteLlmClient` implements :class:`LlmClient`.

litellm is imported on first use, in a worker thread (the import takes seconds),
with its price list read locally and its logging kept off stdout: the language
server's stdout is the protocol channel. Its loggers lose their own handlers and
propagate to the host's root logger (stderr) at WARNING and above.

A request is retried on rate limits, 5xx, timeouts and connection errors, but
only while nothing of its answer has been yielded: streamed text is never
duplicated. Cancelling the consuming task closes the HTTP response at once.
Consumers that stop early should close the stream (``contextlib.aclosing``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib
import json
import logging
import os
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from agent.errors import ModelNotConfigured
from agent.llm.convert import StreamAssembler, completion_arguments
from agent.llm.retry import (
    Failure,
    FailureKind,
    RetryPolicy,
    clean_detail,
    final_error,
    kind_for_status,
    parse_retry_after,
    retry_reason,
)
from agent.llm.types import (
    ClientLoading,
    ClientReady,
    Completed,
    LlmRequest,
    ModelConfig,
    ModelInfo,
    Response,
    RetryListener,
    RetryNotice,
    StreamEvent,
)

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "No model is configured. Set YOI_MODEL (e.g. anthropic/claude-sonnet-4-5) "
    "or [model] name in ~/.config/yoi/manifest.toml."
)
LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


@functools.cache
def import_litellm() -> Any:
    """Import and quieten litellm (blocking; call it off the event loop)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # Set before the import: litellm logs while importing, and its handler
    # writes records below WARNING to stdout.
    _quiet_loggers()
    litellm: Any = importlib.import_module("litellm")
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    litellm.telemetry = False
    _quiet_loggers()
    return litellm


def _quiet_loggers() -> None:
    for name in LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = True


def litellm_loaded() -> bool:
    """Whether :func:`import_litellm` has finished (no thread hop needed)."""
    return import_litellm.cache_info().currsize > 0


async def load_litellm() -> Any:
    """The litellm module, imported once in a worker thread (later calls
    return at once, without a thread hop)."""
    if litellm_loaded():
        return import_litellm()
    return await asyncio.to_thread(import_litellm)


class LiteLlmClient:
    """Streams chat completions through litellm, with retries."""

    def __init__(self, config: ModelConfig, on_retry: RetryListener | None = None) -> None:
        self._config = config
        self._on_retry = on_retry
        self._policy = RetryPolicy.from_config(config)

    @property
    def model_name(self) -> str:
        return self._config.model or "(no model)"

    async def model_info(self) -> ModelInfo:
        if not self._config.model:
            return ModelInfo()
        return lookup_model_info(await load_litellm(), self._config.model)

    async def stream(self, request: LlmRequest) -> AsyncIterator[StreamEvent]:
        if not self._config.model:
            raise ModelNotConfigured(NOT_CONFIGURED)
        arguments = completion_arguments(request, self._config)
        async with aclosing(self.stream_arguments(arguments)) as events:
            async for event in events:
                yield event

    async def stream_arguments(
        self, arguments: Mapping[str, Any]
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream one request given as ``litellm.acompletion`` keywords (see
        :func:`~agent.llm.convert.completion_arguments`), with retries."""
        model = self._config.model
        if not model:
            raise ModelNotConfigured(NOT_CONFIGURED)
        if not litellm_loaded():
            yield ClientLoading()
        litellm = await load_litellm()
        yield ClientReady()
        started = time.monotonic()
        attempt = 0
        current, fallbacks, fallback = dict(arguments), list(self._config.fallbacks), None
        while True:
            attempt += 1
            yielded = False
            try:
                async with aclosing(self._attempt(litellm, current, fallback)) as events:
                    async for event in events:
                        yielded = True
                        yield event
                return
            except Exception as exc:
                if isinstance(exc, _BadAnswer):
                    failure: Failure | None = exc.failure
                else:
                    failure = classify(exc, litellm, self._config.api_key)
                if failure is None:
                    raise
                if self._falls_back(failure, attempt, yielded=yielded, left=bool(fallbacks)):
                    fallback = fallbacks.pop(0)
                    log.info("%s failed (%s); trying %s", model, failure.kind, fallback)
                    current, model, attempt = _for_model(arguments, fallback), fallback, 0
                    continue
                if yielded or not self._policy.should_retry(failure, attempt):
                    raise final_error(
                        failure,
                        model=model,
                        attempts=attempt,
                        elapsed=time.monotonic() - started,
                        streaming=yielded,
                        api_base=self._config.api_base,
                        api_key_env=self._config.api_key_env,
                    ) from None
                delay = self._policy.delay(attempt, failure.retry_after, random.random())  # noqa: S311
                self._notify(attempt, delay, failure)
                await asyncio.sleep(delay)

    def _falls_back(self, failure: Failure, attempt: int, *, yielded: bool, left: bool) -> bool:
        """Whether to try the next fallback model now: nothing reached the
        user yet, one is left, and this failure is one that another model may
        not have (after this model's retries, or at once for a context too long)."""
        if yielded or not left or failure.kind not in FALLBACK_ON:
            return False
        return failure.kind == "context_window" or not self._policy.should_retry(failure, attempt)

    async def _attempt(
        self, litellm: Any, arguments: dict[str, Any], fallback: str | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        response = await litellm.acompletion(**arguments)
        assembler = StreamAssembler()
        try:
            async for chunk in response:
                for event in assembler.feed(chunk):
                    yield event
        finally:
            await _close(response)
        finish = _provider_finish(response, assembler.finish_reason)
        after_tools = _last_role(arguments) == "tool"
        failure = judge_answer(assembler, finish, _content_type(response), after_tools=after_tools)
        if failure is not None:
            raise _BadAnswer(failure)
        answer = assembler.finish()
        if fallback is not None:
            answer = dataclasses.replace(answer, fallback=fallback)
        yield Completed(priced(litellm, arguments.get("model"), answer))

    def _notify(self, attempt: int, delay: float, failure: Failure) -> None:
        log.info(
            "model request failed (%s); retry %d of %d in %.1f s",
            retry_reason(failure),
            attempt,
            self._policy.max_retries,
            delay,
        )
        if self._on_retry is None:
            return
        notice = RetryNotice(
            attempt=attempt,
            max_attempts=self._policy.max_attempts,
            delay_seconds=delay,
            reason=retry_reason(failure),
        )
        try:
            self._on_retry(notice)
        except Exception:
            log.exception("the retry listener failed")


def lookup_model_info(litellm: Any, model: str) -> ModelInfo:
    """litellm's local model map for ``model`` (unknown models: all ``None``)."""
    try:
        info = litellm.get_model_info(model)
    except Exception:
        return ModelInfo()

    def count(name: str) -> int | None:
        value = info.get(name)
        return value if isinstance(value, int) and value > 0 else None

    # a mapped model without the flag has no vision (litellm.supports_vision says so too)
    def price(name: str) -> float | None:
        value = info.get(name)
        return float(value) if isinstance(value, int | float) and value >= 0 else None

    return ModelInfo(
        max_input_tokens=count("max_input_tokens") or count("max_tokens"),
        max_output_tokens=count("max_output_tokens"),
        supports_vision=bool(info.get("supports_vision")),
        input_cost_per_token=price("input_cost_per_token"),
        output_cost_per_token=price("output_cost_per_token"),
    )


async def _close(response: Any) -> None:
    """Close the stream so the provider sees the disconnect (also when the
    consuming task is being cancelled)."""
    close = getattr(response, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except Exception:
        log.debug("closing the model stream failed", exc_info=True)


class _BadAnswer(Exception):
    """The provider answered (HTTP 200) but not with a whole, non-empty answer."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


def _provider_finish(response: Any, assembled: str | None) -> str | None:
    """The finish reason the provider itself sent (``None``: none came).

    litellm's stream wrapper makes up ``finish_reason="stop"`` (and an
    estimated usage) when a stream just ends, so its chunks cannot tell a
    finished answer from one cut off. The wrapper records what the provider
    sent in ``received_finish_reason`` (``intermittent_finish_reason`` for
    providers that send it early); without those attributes the ``assembled``
    reason (from the chunks) is trusted."""
    if not hasattr(response, "received_finish_reason"):
        return assembled
    for name in ("received_finish_reason", "intermittent_finish_reason"):
        reason = getattr(response, name, None)
        if isinstance(reason, str) and reason:
            return reason
    return None


def _content_type(response: Any) -> str | None:
    """The response's Content-Type, from the provider headers litellm keeps."""
    hidden = getattr(response, "_hidden_params", None)
    headers = hidden.get("additional_headers") if isinstance(hidden, Mapping) else None
    if not isinstance(headers, Mapping):
        return None
    for key in ("llm_provider-content-type", "content-type"):
        value = headers.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _last_role(arguments: Mapping[str, Any]) -> str | None:
    messages = arguments.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], Mapping):
        role = messages[-1].get("role")
        return role if isinstance(role, str) else None
    return None


def judge_answer(
    assembler: StreamAssembler,
    finish_reason: str | None,
    content_type: str | None,
    *,
    after_tools: bool = False,
) -> Failure | None:
    """What is wrong with a stream that ended without an error, if anything:
    no ``finish_reason`` from the provider (cut off, or no stream at all),
    or nothing in it (empty). An empty answer to tool results
    (``after_tools``) is the model ending its turn, as models do after a
    last tool call (a disposable worker's ``write_summary``, say)."""
    if finish_reason is None:
        kind = content_type.split(";")[0].strip().lower() if content_type else ""
        if not assembler.has_output and kind and kind != "text/event-stream":
            return Failure(kind="not_a_stream", status=200, detail=content_type or "")
        return Failure(kind="incomplete")
    if not assembler.has_answer and not after_tools:
        return Failure(kind="empty", detail=finish_reason)
    return None


def classify(exc: BaseException, litellm: Any, secret: str | None = None) -> Failure | None:
    """What kind of failure a provider or transport exception is; ``None`` for
    anything else (a bug, which must not pass for a provider refusal).

    litellm wraps transport failures in status errors (a refused connection
    arrives as a 500, a read timeout mid-stream as a 503), so the exception
    chain is searched for a timeout or connection error first."""
    import httpx
    import openai

    if not isinstance(exc, openai.OpenAIError | httpx.HTTPError | OSError):
        return None
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    detail = clean_detail(str(getattr(exc, "message", None) or exc), secret)
    chain = _chain(exc)
    timeouts = (litellm.Timeout, openai.APITimeoutError, httpx.TimeoutException, TimeoutError)
    dropped = (httpx.ReadError, httpx.RemoteProtocolError, ConnectionResetError, BrokenPipeError)
    connections = (openai.APIConnectionError, httpx.TransportError, ConnectionError)
    kind: FailureKind
    if any(isinstance(e, timeouts) for e in chain):
        kind, status = "timeout", None
    elif undecodable := [e for e in chain if isinstance(e, json.JSONDecodeError)]:
        # litellm wraps a stream event that is not JSON as a connection error
        kind, status = "malformed", None
        detail = f"an event that is not JSON: {clean_detail(str(undecodable[0]), secret)}"
    elif reported := [e for e in chain if type(e) is openai.APIError]:
        # the openai SDK raises a bare APIError for an error event in a stream
        kind, status = "stream_error", None
        detail = clean_detail(str(getattr(reported[0], "message", None) or reported[0]), secret)
    elif any(isinstance(e, dropped) for e in chain):
        kind, status = "dropped", None
    elif any(isinstance(e, connections) for e in chain):
        kind, status = "connection", None
    elif isinstance(exc, litellm.ContextWindowExceededError):
        kind = "context_window"
    elif isinstance(exc, litellm.RateLimitError):
        kind = "rate_limited"
    elif isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
        kind = "auth"
    elif isinstance(exc, litellm.NotFoundError):
        kind = "not_found"
    else:
        kind = kind_for_status(status)
    return Failure(kind=kind, status=status, detail=detail, retry_after=_retry_after(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: causes, contexts and litellm's
    ``original_exception``."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 20:
        current = pending.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        for linked in (
            current.__cause__,
            current.__context__,
            getattr(current, "original_exception", None),
        ):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return seen


def _retry_after(exc: BaseException) -> float | None:
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "headers", None),
    ):
        if isinstance(headers, Mapping) and headers:
            value = parse_retry_after({str(k): str(v) for k, v in headers.items()})
            if value is not None:
                return value
    return None


def priced(litellm: Any, model: object, response: Response) -> Response:
    """``response`` with its usage's cost in US dollars from litellm's local
    cost map (``None`` for a model the map does not know)."""
    usage = response.usage
    if usage is None or not isinstance(model, str):
        return response
    try:
        prompt, completion = litellm.cost_per_token(
            model=model,
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            cache_read_input_tokens=usage.cache_read_tokens,
            cache_creation_input_tokens=usage.cache_write_tokens,
        )
    except Exception:  # not in the map: litellm raises for unknown models
        return response
    cost = float(prompt) + float(completion)
    return dataclasses.replace(response, usage=dataclasses.replace(usage, cost_usd=cost))


# failures after which the next of ``[model] fallbacks`` is tried (once this
# model's retries are spent; at once for a context too long, which no retry fixes)
FALLBACK_ON = frozenset({"rate_limited", "unavailable", "context_window"})


def _for_model(arguments: Mapping[str, Any], model: str) -> dict[str, Any]:
    """``arguments`` sent to the fallback ``model`` instead. One of the main
    model's provider keeps its ``api_base`` and key (a proxy serves both);
    another provider's uses litellm's own environment variables."""
    out = dict(arguments, model=model)
    if _provider(model) != _provider(str(arguments.get("model") or "")):
        out.pop("api_base", None)
        out.pop("api_key", None)
    return out


def _provider(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else ""
