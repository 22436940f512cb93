"""The scripted model's script: step types and the OpenAI-style payloads they
become. See :mod:`agent.testing.scripted_model` for the step format."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

MODEL_ID = "scripted"


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # answers only a request whose first user message contains this text
    match: str | None = None


class ScriptedToolCall(_Step):
    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str | None = None

    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, separators=(",", ":"))


class ScriptedUsage(_Step):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    cached_tokens: int | None = Field(default=None, ge=0)
    cache_write_tokens: int | None = Field(default=None, ge=0)


StreamEnd = Literal["done", "eof", "cut", "reset", "stall", "malformed", "error"]


class ReplyStep(_Step):
    """An answer: reasoning, text and tool calls, streamed in chunks, and how
    the stream ends (``end``: see :mod:`agent.testing.scripted_model`)."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    usage: ScriptedUsage | None = None
    chunk_size: int = Field(default=8, ge=1)
    chunk_delay_ms: int = Field(default=0, ge=0)
    finish_reason: str | None = None
    end: StreamEnd = "done"
    stream_error: str = "The server had an error while processing your request."


class ErrorStep(_Step):
    """An HTTP failure with an OpenAI-style error body."""

    status: int = Field(ge=400, le=599)
    error: str = "scripted failure"
    retry_after: float | None = Field(default=None, ge=0)


class BodyStep(_Step):
    """A whole response sent as it is, instead of a chat completion (an HTML
    page, a JSON object of another shape, plain text)."""

    body: str
    status: int = Field(default=200, ge=100, le=599)
    content_type: str = "text/html; charset=utf-8"


class HangStep(_Step):
    """Headers and one chunk, then nothing until the client goes away."""

    hang: Literal[True]
    text: str = ""


def _step_kind(value: Any) -> str:
    keys = value.keys() if isinstance(value, Mapping) else vars(value).keys()
    if "hang" in keys:
        return "hang"
    if "body" in keys:
        return "body"
    if "status" in keys:
        return "error"
    return "reply"


Step = Annotated[
    Annotated[ReplyStep, Tag("reply")]
    | Annotated[ErrorStep, Tag("error")]
    | Annotated[BodyStep, Tag("body")]
    | Annotated[HangStep, Tag("hang")],
    Discriminator(_step_kind),
]
ScriptAdapter: TypeAdapter[list[Step]] = TypeAdapter(list[Step])


def parse_script(data: Any) -> list[Step]:
    """Validate a script: a list of steps, or ``{"steps": [...]}``."""
    if isinstance(data, Mapping) and "steps" in data:
        data = data["steps"]
    return ScriptAdapter.validate_python(data)


# ---------------------------------------------------------------- payloads


def pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def call_id_of(call: ScriptedToolCall, number: int, index: int) -> str | None:
    if call.id is None:
        return f"call_{number}_{index}"
    return call.id or None


def reply_deltas(step: ReplyStep, number: int) -> Iterator[dict[str, Any]]:
    yield {"role": "assistant", "content": ""}
    for piece in pieces(step.reasoning, step.chunk_size):
        yield {"reasoning_content": piece}
    for piece in pieces(step.text, step.chunk_size):
        yield {"content": piece}
    for index, call in enumerate(step.tool_calls):
        head: dict[str, Any] = {
            "index": index,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        call_id = call_id_of(call, number, index)
        if call_id is not None:
            head["id"] = call_id
        yield {"tool_calls": [head]}
        arguments = call.arguments_text()
        # At least three fragments when possible, so assembly is exercised.
        size = max(1, min(step.chunk_size, math.ceil(len(arguments) / 3)))
        for piece in pieces(arguments, size):
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def finish_reason_of(step: ReplyStep) -> str:
    if step.finish_reason is not None:
        return step.finish_reason
    return "tool_calls" if step.tool_calls else "stop"


def sse_chunk(
    number: int,
    delta: dict[str, Any] | None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
    payload = envelope(number, "chat.completion.chunk", [] if delta is None else [choice])
    return payload if usage is None else {**payload, "usage": usage}


def envelope(number: int, kind: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{number}",
        "object": kind,
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": choices,
    }


def estimate_prompt_tokens(body: Mapping[str, Any]) -> int:
    """A rough prompt size: four characters of messages and tools per token."""
    size = len(json.dumps(body.get("messages", []))) + len(json.dumps(body.get("tools", [])))
    return max(1, size // 4)


def usage_payload(step: ReplyStep, body: Mapping[str, Any]) -> dict[str, Any]:
    if step.usage is None:
        answer = step.text + step.reasoning + "".join(c.arguments_text() for c in step.tool_calls)
        prompt, completion = estimate_prompt_tokens(body), max(1, len(answer) // 4)
        cached, written = None, None
    else:
        prompt, completion = step.usage.prompt_tokens, step.usage.completion_tokens
        cached, written = step.usage.cached_tokens, step.usage.cache_write_tokens
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if written is not None:
        usage["cache_creation_input_tokens"] = written
    return usage


def completion_payload(step: ReplyStep, body: Mapping[str, Any], number: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
    if step.reasoning:
        message["reasoning_content"] = step.reasoning
    if step.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id_of(call, number, index) or "",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text()},
            }
            for index, call in enumerate(step.tool_calls)
        ]
    choice = {"index": 0, "message": message, "finish_reason": finish_reason_of(step)}
    return {**envelope(number, "chat.completion", [choice]), "usage": usage_payload(step, body)}


def image_urls(body: Mapping[str, Any]) -> list[str]:
    """The URLs of every ``image_url`` content part of a chat request body, in
    message order (what a test asserts an image reached the model by)."""
    urls: list[str] = []
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, Mapping) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, Mapping) and part.get("type") == "image_url":
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, Mapping) else image
                if isinstance(url, str):
                    urls.append(url)
    return urls


def first_user_text(body: Mapping[str, Any]) -> str:
    """The text of a chat request's first user message (its parts joined)."""
    for message in body.get("messages") or ():
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            parts = content if isinstance(content, list) else ()
            return "".join(str(p.get("text", "")) for p in parts if isinstance(p, Mapping))
    return ""
