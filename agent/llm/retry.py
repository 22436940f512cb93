"""When to retry a failed model request, how long to wait, and what to say.

Pure: no I/O and no litellm. :mod:`agent.llm.client` classifies a provider
exception into a :class:`Failure`, asks :class:`RetryPolicy` for the wait, and
raises :func:`final_error` once the retries are spent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from agent.errors import (
    AuthenticationFailed,
    BadRequest,
    BadResponse,
    EmptyResponse,
    IncompleteResponse,
    LlmError,
    ProviderUnavailable,
    RateLimited,
)
from agent.llm.types import ModelConfig

FailureKind = Literal[
    "rate_limited",  # 429
    "unavailable",  # 5xx
    "timeout",
    "connection",  # could not connect
    "dropped",  # the connection broke while the answer was arriving
    "auth",  # 401 / 403
    "not_found",  # 404: usually an unknown model
    "context_window",
    "bad_request",  # any other refusal
    # the request was accepted (HTTP 200) but the answer is not a good one:
    "stream_error",  # the provider sent an error event inside the stream
    "incomplete",  # the stream ended without finish_reason (and [DONE])
    "malformed",  # a stream event that is not JSON
    "not_a_stream",  # no stream at all: an HTML page, a JSON or text body
    "empty",  # finished with no text and no tool call
]
RETRYABLE: frozenset[FailureKind] = frozenset(
    {
        "rate_limited",
        "unavailable",
        "timeout",
        "connection",
        "dropped",
        "stream_error",
        "incomplete",
    }
)


@dataclass(frozen=True)
class Failure:
    """One failed attempt, as far as retrying is concerned. ``detail`` is the
    provider's message with secrets removed."""

    kind: FailureKind
    status: int | None = None
    detail: str = ""
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


def kind_for_status(status: int | None) -> FailureKind:
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status in (408, 504):
        return "timeout"
    if status is not None and status >= 500:
        return "unavailable"
    return "bad_request"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring ``Retry-After``."""

    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0

    @classmethod
    def from_config(cls, config: ModelConfig) -> RetryPolicy:
        return cls(
            max_retries=max(0, config.max_retries),
            base_delay=max(0.0, config.retry_base_delay),
            max_delay=max(0.0, config.retry_max_delay),
        )

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def should_retry(self, failure: Failure, attempt: int) -> bool:
        """Whether to try again after ``attempt`` (1-based) failed."""
        return failure.retryable and attempt <= self.max_retries

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """Seconds to wait after ``attempt`` (1-based) failed. ``jitter`` is a
        number in [0, 1): the wait is between half and all of the exponential
        step. A provider's ``Retry-After`` wins, capped by ``max_delay``."""
        if retry_after is not None:
            return min(self.max_delay, max(0.0, retry_after))
        step: float = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        return step / 2 + step / 2 * min(max(jitter, 0.0), 1.0)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP
    date); ``None`` when absent or unreadable."""
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_reason(failure: Failure) -> str:
    """A short human reason, for the notice shown before a retry."""
    status = f" ({failure.status})" if failure.status else ""
    match failure.kind:
        case "rate_limited":
            return f"rate limited by the provider{status}"
        case "unavailable":
            return f"the provider is unavailable{status}"
        case "timeout":
            return "the request timed out"
        case "connection":
            return "could not connect to the provider"
        case "dropped":
            return "the connection to the provider broke"
        case "stream_error":
            return "the provider reported an error in the stream"
        case "incomplete":
            return "the stream ended before the answer was complete"
        case _:
            return f"the provider refused the request{status}"


# OpenAI / Anthropic ("sk-…") and Google ("AIza…") key shapes.
_KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{30,})")
_HTML = re.compile(r"<(?:!doctype html|html)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*|\w+(?:Error|Exception)\s*(?:-|:)\s*)+")


def clean_detail(message: str, secret: str | None = None, limit: int = 300) -> str:
    """The provider's message without litellm's class-name prefixes, without
    the API key, without the tags of an HTML error page, on one line and at
    most ``limit`` characters."""
    if _HTML.search(message):
        message = _TAG.sub(" ", message)
    text = " ".join(message.split())
    text = _PREFIXES.sub("", text)
    if secret:
        text = text.replace(secret, "[redacted]")
    text = _KEY_SHAPES.sub("[redacted]", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tries(attempts: int, elapsed: float) -> str:
    noun = "try" if attempts == 1 else "tries"
    seconds = f"{elapsed:.1f}" if elapsed < 10 else f"{elapsed:.0f}"
    return f"{attempts} {noun} over {seconds} s"


def final_error(
    failure: Failure,
    *,
    model: str,
    attempts: int,
    elapsed: float,
    streaming: bool = False,
    api_base: str | None = None,
    api_key_env: str = "YOI_API_KEY",
) -> LlmError:
    """The error that ends the run, phrased so the user knows what to do.
    ``streaming`` says part of the answer was already shown (so it was not
    retried, and what arrived is cut off); ``api_key_env`` names the
    variable the API key is read from."""
    if streaming:
        cut = _cut_off(failure, model)
        if cut is not None:
            return cut
    status = failure.status
    detail = f": {failure.detail}" if failure.detail else ""
    tries = _tries(attempts, elapsed)
    where = f" at {api_base}" if api_base else ""
    match failure.kind:
        case "rate_limited":
            return RateLimited(
                f"The model provider rate-limited every attempt ({tries}). "
                "Wait a minute or lower the request rate.",
                status=status,
            )
        case "unavailable":
            return ProviderUnavailable(
                f"The model provider for {model} is unavailable (HTTP {status}{detail}) "
                f"after {tries}. Try again later; if this persists, check the provider's status.",
                status=status,
            )
        case "timeout":
            return ProviderUnavailable(
                f"The model provider for {model} did not answer in time ({tries}). "
                "Try again later, or raise the model timeout.",
                status=status,
            )
        case "connection":
            return ProviderUnavailable(
                f"Could not connect to the model provider for {model}{where} ({tries}). "
                "Check the network and the model's api_base.",
                status=status,
            )
        case "dropped":
            return ProviderUnavailable(
                f"The connection to the model provider for {model}{where} broke while the "
                f"answer was arriving ({tries}){detail}. Try again later; if this persists, "
                "check the network or the proxy in between.",
                status=status,
            )
        case "stream_error":
            return ProviderUnavailable(
                f"The model provider reported an error instead of an answer from {model} "
                f"({tries}){detail}. Try again later.",
                status=status,
            )
        case "incomplete":
            return IncompleteResponse(
                f"The stream from {model} ended before any answer arrived (no finish_reason "
                f"came; {tries}). Try again later; if this persists, check the provider.",
                status=status,
            )
        case "malformed":
            return BadResponse(
                f"The model provider for {model}{where} sent a malformed stream{detail}. "
                "Check that the model's api_base is an OpenAI-compatible endpoint.",
                status=status,
            )
        case "not_a_stream":
            return BadResponse(
                f"The model provider for {model}{where} answered with {_body_kind(failure)}, "
                "not a chat-completion stream. Check the model's api_base: it may point at "
                "a web page or a proxy's sign-in page.",
                status=status,
            )
        case "empty":
            return EmptyResponse(_empty_answer(failure, model), status=status)
        case "auth":
            return AuthenticationFailed(
                f"Authentication failed for model {model} (HTTP {status or 401}): "
                f"check {api_key_env}.",
                status=status,
            )
        case "not_found":
            return BadRequest(
                f"The model provider does not know model {model}{detail}. Check the model name.",
                status=status,
            )
        case "context_window":
            return BadRequest(
                f"The conversation is too long for the context window of {model}. "
                "Compact the session or start a new one.",
                status=status,
            )
        case _:
            code = f" (HTTP {status})" if status else ""
            return BadRequest(
                f"The model provider refused the request to {model}{code}{detail}",
                status=status,
            )


def _cut_off(failure: Failure, model: str) -> LlmError | None:
    """The error for an answer that broke off after part of it was shown;
    ``None`` for failures that are not about the stream breaking."""
    detail = f" ({failure.detail})" if failure.detail else ""
    status = failure.status
    match failure.kind:
        case "connection" | "dropped":
            why = f"the connection to the provider broke{detail}"
        case "timeout":
            why = "the provider stopped sending (the request timed out)"
        case "unavailable" | "rate_limited":
            why = f"the provider failed mid-stream (HTTP {status}){detail}"
        case "incomplete":
            why = "the stream ended before the model finished (no finish_reason came)"
        case "malformed":
            why = f"the provider sent a malformed stream{detail}"
        case "stream_error":
            return ProviderUnavailable(
                f"The model provider reported an error while {model} was answering"
                f"{': ' + failure.detail if failure.detail else ''}. The answer is cut off "
                "where the error came. Ask again to retry.",
                status=status,
            )
        case _:
            return None
    return IncompleteResponse(
        f"The answer from {model} was cut off: {why}. Ask again to retry.", status=status
    )


def _body_kind(failure: Failure) -> str:
    """What a ``not_a_stream`` answer was, from its content type (the detail)."""
    content_type = failure.detail.split(";")[0].strip().lower()
    code = f"HTTP {failure.status}" if failure.status else "HTTP 200"
    if content_type == "text/html":
        return f"an HTML page ({code}, text/html)"
    if content_type:
        return f"a body of type {content_type} ({code})"
    return f"a body that holds no stream events ({code})"


_EMPTY_HINTS = {
    "length": "the output limit was reached before any text; raise max_tokens",
    "content_filter": "the provider's content filter withheld the answer",
}


def _empty_answer(failure: Failure, model: str) -> str:
    reason = failure.detail or "stop"
    hint = _EMPTY_HINTS.get(reason)
    why = f"finish reason: {reason}; {hint}" if hint else f"finish reason: {reason}"
    return (
        f"{model} ended its answer without any text or tool call ({why}). "
        "Ask again, or rephrase the request."
    )
