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
    LlmError,
    ProviderUnavailable,
    RateLimited,
)
from agent.llm.types import ModelConfig

FailureKind = Literal[
    "rate_limited",  # 429
    "unavailable",  # 5xx
    "timeout",
    "connection",
    "auth",  # 401 / 403
    "not_found",  # 404: usually an unknown model
    "context_window",
    "bad_request",  # any other refusal
]
RETRYABLE: frozenset[FailureKind] = frozenset(
    {"rate_limited", "unavailable", "timeout", "connection"}
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
        case _:
            return f"the provider refused the request{status}"


# OpenAI / Anthropic ("sk-…") and Google ("AIza…") key shapes.
_KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{30,})")
_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*|\w+(?:Error|Exception)\s*(?:-|:)\s*)+")


def clean_detail(message: str, secret: str | None = None, limit: int = 300) -> str:
    """The provider's message without litellm's class-name prefixes, without
    the API key, on one line and at most ``limit`` characters."""
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
    ``api_key_env`` names the variable the API key is read from."""
    status = failure.status
    detail = f": {failure.detail}" if failure.detail else ""
    tries = _tries(attempts, elapsed)
    if streaming and failure.retryable:
        return ProviderUnavailable(
            f"The answer from {model} broke off mid-stream ({retry_reason(failure)}{detail}). "
            "Ask again to retry.",
            status=status,
        )
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
            where = f" at {api_base}" if api_base else ""
            return ProviderUnavailable(
                f"Could not connect to the model provider for {model}{where} ({tries}). "
                "Check the network and the model's api_base.",
                status=status,
            )
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
