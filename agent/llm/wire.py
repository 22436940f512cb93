"""The messages between a host and its model process (:mod:`agent.llm.process`
and :mod:`agent.llm.child`): one JSON object per line, in both directions.

Host → model process::

    {"op": "stream", "id": 7, "config": {...ModelConfig...}, "arguments": {...}}
    {"op": "cancel", "id": 7}
    {"op": "info", "id": 8, "model": "anthropic/claude-sonnet-4-5"}

Model process → host::

    {"op": "loaded", "seconds": 2.6}         once, when litellm is imported: requests go
    {"op": "ready", "seconds": 3.4}          once, when litellm is also warmed up
    {"id": 7, "text": "Hel"}                  streamed text (coalesced)
    {"id": 7, "reasoning": "…"}               streamed reasoning (coalesced)
    {"id": 7, "retry": {...RetryNotice...}}   a failed attempt is being retried
    {"id": 7, "done": {...Response...}}       the end of a stream
    {"id": 7, "error": {"type": "RateLimited", "message": "…", "status": 429}}
    {"id": 8, "info": {...ModelInfo...}}     litellm's model map for a model

``arguments`` are the keywords of ``litellm.acompletion``, built by the host
(:func:`~agent.llm.convert.completion_arguments`); the API key travels in
them and in ``config``, never in the model process's environment or argv.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from typing import Any

from agent import errors
from agent.items import ToolCall
from agent.llm.types import ModelConfig, ModelInfo, Response, RetryNotice, Usage

_DATA_URL_HEAD = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,")


def _spliceable(url: str) -> bool:
    """A data URL that is the same text in JSON (no quote, backslash or
    control character): checked with C-speed scans, not a regex over MBs."""
    return (
        _DATA_URL_HEAD.match(url) is not None
        and url.isascii()
        and '"' not in url
        and "\\" not in url
    )


_LLM_ERRORS: dict[str, type[errors.LlmError]] = {
    cls.__name__: cls
    for cls in (
        errors.LlmError,
        errors.ModelNotConfigured,
        errors.RateLimited,
        errors.ProviderUnavailable,
        errors.AuthenticationFailed,
        errors.BadRequest,
        errors.IncompleteResponse,
        errors.BadResponse,
        errors.EmptyResponse,
    )
}


def encode(message: dict[str, Any]) -> bytes:
    """One line of the protocol (compact JSON, non-ASCII kept as UTF-8)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def encode_large(message: dict[str, Any]) -> bytes:
    """:func:`encode` for a request with images: each data URL (megabytes of
    base64) is spliced into the line as bytes instead of going through the
    JSON encoder, which holds the GIL for ~25 ms per 5 MB image. Only URLs
    that need no escaping (``data:<type>;base64,`` and base64) are spliced."""
    nonce = secrets.token_hex(8)
    urls: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, list):
            return [swap(v) for v in value]
        if not isinstance(value, dict):
            return value
        image = value.get("image_url")
        url = image.get("url") if isinstance(image, dict) else None
        if isinstance(image, dict) and isinstance(url, str) and _spliceable(url):
            urls.append(url)
            return {**value, "image_url": {**image, "url": f"yoi-image-{nonce}-{len(urls) - 1}"}}
        return {k: swap(v) for k, v in value.items()}

    line = encode(swap(message))
    for index, url in enumerate(urls):
        token = f'"yoi-image-{nonce}-{index}"'.encode()
        line = line.replace(token, b'"' + url.encode("ascii") + b'"', 1)
    return line


def config_to_json(config: ModelConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_json(data: dict[str, Any]) -> ModelConfig:
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    known = {k: v for k, v in data.items() if k in fields}
    if "fallbacks" in known:
        known["fallbacks"] = tuple(known["fallbacks"] or ())
    return ModelConfig(**known)


def response_to_json(response: Response) -> dict[str, Any]:
    return {
        "text": response.text,
        "toolCalls": [
            {"id": c.call_id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls
        ],
        "usage": dataclasses.asdict(response.usage) if response.usage else None,
        "finishReason": response.finish_reason,
        "reasoning": response.reasoning,
        "reasoningSignature": response.reasoning_signature,
        "fallback": response.fallback,
    }


def response_from_json(data: dict[str, Any]) -> Response:
    usage = data.get("usage")
    return Response(
        text=data.get("text") or "",
        tool_calls=[
            ToolCall(call_id=c["id"], name=c["name"], arguments=c["arguments"])
            for c in data.get("toolCalls") or ()
        ],
        usage=Usage(**usage) if isinstance(usage, dict) else None,
        finish_reason=data.get("finishReason"),
        reasoning=data.get("reasoning") or "",
        reasoning_signature=data.get("reasoningSignature"),
        fallback=data.get("fallback"),
    )


def info_to_json(info: ModelInfo) -> dict[str, Any]:
    return dataclasses.asdict(info)


def info_from_json(data: dict[str, Any]) -> ModelInfo:
    fields = {f.name for f in dataclasses.fields(ModelInfo)}
    return ModelInfo(**{k: v for k, v in data.items() if k in fields})


def retry_to_json(notice: RetryNotice) -> dict[str, Any]:
    return dataclasses.asdict(notice)


def retry_from_json(data: dict[str, Any]) -> RetryNotice:
    return RetryNotice(**data)


def error_to_json(exc: BaseException) -> dict[str, Any]:
    """An :class:`~agent.errors.LlmError` keeps its class, message and status;
    anything else (a bug in the model process) is reported as what it is."""
    if isinstance(exc, errors.LlmError):
        return {"type": type(exc).__name__, "message": str(exc), "status": exc.status}
    return {
        "type": "internal",
        "message": f"internal error in the model process: {type(exc).__name__}: {exc}",
    }


def error_from_json(data: dict[str, Any]) -> errors.LlmError:
    cls = _LLM_ERRORS.get(str(data.get("type")), errors.LlmError)
    status = data.get("status")
    return cls(str(data.get("message") or "The model request failed."), status=status)
