"""Conversion between the worker's types and litellm's OpenAI-style chat wire.

Outgoing: :func:`to_messages` turns the system prompt and history items into
chat messages, :func:`to_tools` turns tool specs into function tools, and
:func:`completion_arguments` builds every keyword of ``litellm.acompletion``.
Incoming: :class:`StreamAssembler` turns streamed chunks into text and
reasoning deltas and, at the end, one :class:`Response`.

Nothing here imports litellm: chunks are read by attribute, so the functions
are pure and cheap to test.

Provider differences (decided from the model string, see :func:`wire_options`):

- Anthropic and Gemini models get history ``system`` items (pod notes) as
  ``user`` messages. litellm hoists every system message of an Anthropic request
  into the top-level ``system`` parameter, which would move notes out of place
  and break the cached prompt prefix.
- Anthropic models get signed reasoning back as ``thinking_blocks`` on the
  assistant message that followed it (litellm's convention); unsigned reasoning
  is never sent to any provider.
- Anthropic models get ``cache_control`` breakpoints on up to three items: the
  cache anchor, the item before the most recent user message, and the last item.

Images (:mod:`agent.images`) go as ``image_url`` content parts with data URLs:
a user message's images after its text; the images tool results returned
(``read_file`` of an image) in one user message after the run of tool
messages, since tool messages carry text only on most providers. An image
whose data URL is not in the request is left out with a line saying so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.ids import short_id
from agent.images import ImageRef, describe
from agent.items import Item, Message, Reasoning, ToolCall, ToolResult
from agent.llm.types import (
    LlmRequest,
    ModelConfig,
    ReasoningChunk,
    Response,
    StreamEvent,
    TextChunk,
    ToolSpec,
    Usage,
)
from agent.segments import images_of

EPHEMERAL = {"type": "ephemeral"}


@dataclass(frozen=True)
class WireOptions:
    """How a provider family wants the conversation laid out."""

    notes_as_user: bool = False
    signed_reasoning: bool = False
    cache_breakpoints: bool = False


def wire_options(model: str) -> WireOptions:
    name = model.lower()
    if name.startswith("anthropic/") or "claude" in name:
        return WireOptions(notes_as_user=True, signed_reasoning=True, cache_breakpoints=True)
    if "gemini" in name:
        return WireOptions(notes_as_user=True)
    return WireOptions()


# ---------------------------------------------------------------- requests


def wire_arguments(call: ToolCall) -> str:
    """The call's arguments as sent back to the provider: the model's own text
    when it is a JSON object, else ``{}`` (providers reject malformed input;
    the worker already told the model what was wrong)."""
    if call.arguments.strip() and call.parsed_arguments() is not None:
        return call.arguments
    return "{}"


@dataclass
class _Assistant:
    """One assistant turn on the wire: signed thinking, text, tool calls."""

    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    thinking: list[dict[str, Any]] = field(default_factory=list)
    items: list[int] = field(default_factory=list)  # history positions it carries

    def has_output(self) -> bool:
        return bool(self.text or self.calls)

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.calls:
            message["tool_calls"] = self.calls
        if self.thinking:
            message["thinking_blocks"] = self.thinking
        return message


class _Wire:
    """Builds the message list, remembering which message carries each item."""

    def __init__(self, system: str, count: int) -> None:
        self.messages: list[dict[str, Any]] = []
        self.placed = [-1] * count  # message index of each item; -1: not sent
        self._turn: _Assistant | None = None
        self.tool_images: list[dict[str, Any]] = []  # parts waiting for the tool run's end
        if system:
            self.messages.append({"role": "system", "content": system})

    def turn(self, fresh: bool = False) -> _Assistant:
        """The open assistant turn; with ``fresh``, a new one if the open one
        already has output."""
        if self._turn is not None and fresh and self._turn.has_output():
            self.close_turn()
        if self._turn is None:
            self._turn = _Assistant()
        return self._turn

    def close_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None and turn.has_output():
            for position in turn.items:
                self.placed[position] = len(self.messages)
            self.messages.append(turn.message())

    def add(self, position: int, message: dict[str, Any]) -> None:
        self.close_turn()
        if message["role"] != "tool":
            self.flush_images()
        self.placed[position] = len(self.messages)
        self.messages.append(message)

    def flush_images(self) -> None:
        """The images of the tool results just sent, as one user message."""
        if self.tool_images:
            self.messages.append({"role": "user", "content": self.tool_images})
            self.tool_images = []


def to_messages(
    system: str,
    items: Sequence[Item],
    options: WireOptions = WireOptions(),
    cache_anchor: int | None = None,
    images: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Chat messages for the system prompt and ``items``.

    An assistant text and the tool calls that follow it become one assistant
    message; each tool result becomes a ``tool`` message with
    :meth:`ToolResult.wire_text`."""
    wire = _Wire(system, len(items))
    urls = images or {}
    for position, item in enumerate(items):
        if isinstance(item, Reasoning):
            if options.signed_reasoning and item.signature:
                block = {"type": "thinking", "thinking": item.text, "signature": item.signature}
                wire.turn(fresh=True).thinking.append(block)
        elif isinstance(item, Message) and item.role == "assistant":
            turn = wire.turn(fresh=True)
            turn.text = item.text
            turn.items.append(position)
        elif isinstance(item, ToolCall):
            turn = wire.turn()
            function = {"name": item.name, "arguments": wire_arguments(item)}
            turn.calls.append({"id": item.call_id, "type": "function", "function": function})
            turn.items.append(position)
        else:
            wire.add(position, _single(item, options, urls))
            if isinstance(item, ToolResult) and item.images:
                wire.tool_images += _tool_image_parts(item, urls)
    wire.close_turn()
    wire.flush_images()
    messages = wire.messages
    if options.cache_breakpoints:
        for index in sorted({wire.placed[i] for i in _breakpoints(items, cache_anchor)} - {-1}):
            messages[index] = _with_cache_control(messages[index])
    return messages


def _single(
    item: Message | ToolResult, options: WireOptions, urls: Mapping[str, str]
) -> dict[str, Any]:
    if isinstance(item, ToolResult):
        return {"role": "tool", "tool_call_id": item.call_id, "content": item.wire_text()}
    role = "user" if item.role == "system" and options.notes_as_user else item.role
    refs = images_of(item.segments) if item.segments else []
    if not refs:
        return {"role": role, "content": item.text}
    text, parts = item.text, []
    for ref in refs:
        url = urls.get(ref.sha256)
        if url is None:
            text += f"\n[image not sent: {describe(ref)}]"
        else:
            parts.append(_image_part(url))
    return {"role": role, "content": [{"type": "text", "text": text}, *parts]}


def _image_part(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_image_parts(result: ToolResult, urls: Mapping[str, str]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for ref in result.images or ():
        url = urls.get(ref.sha256)
        if url is not None:
            parts.append(_image_text(result, ref))
            parts.append(_image_part(url))
    return parts


def _image_text(result: ToolResult, ref: ImageRef) -> dict[str, Any]:
    return {"type": "text", "text": f"The image {result.name} returned: {describe(ref)}"}


def _breakpoints(items: Sequence[Item], anchor: int | None) -> set[int]:
    points: set[int] = set()
    if not items:
        return points
    if anchor is not None and 0 <= anchor < len(items):
        points.add(anchor)
    users = [i for i, item in enumerate(items) if isinstance(item, Message) and item.role == "user"]
    if users and users[-1] > 0:
        points.add(users[-1] - 1)
    points.add(len(items) - 1)
    return points


def _with_cache_control(message: dict[str, Any]) -> dict[str, Any]:
    marked = dict(message)
    content = marked.get("content")
    if isinstance(content, str) and content:
        marked["content"] = [{"type": "text", "text": content, "cache_control": EPHEMERAL}]
    elif isinstance(content, list) and content:
        marked["content"] = [*content[:-1], {**content[-1], "cache_control": EPHEMERAL}]
    elif marked.get("tool_calls"):
        calls = list(marked["tool_calls"])
        calls[-1] = {**calls[-1], "cache_control": EPHEMERAL}
        marked["tool_calls"] = calls
    return marked


def to_tools(specs: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Function tools in the order given (the tool set sorts them by name)."""
    return [
        {
            "type": "function",
            "function": {
                "name": spec.name,
                "description": spec.description,
                "parameters": spec.parameters,
            },
        }
        for spec in specs
    ]


def completion_arguments(request: LlmRequest, config: ModelConfig) -> dict[str, Any]:
    """Every keyword for ``litellm.acompletion`` (streaming, no litellm retries)."""
    model = config.model or ""
    settings = request.settings
    arguments: dict[str, Any] = {
        "model": model,
        "messages": to_messages(
            request.system,
            request.items,
            wire_options(model),
            request.cache_anchor,
            request.images,
        ),
        "stream": True,
        "stream_options": {"include_usage": True},
        "timeout": config.timeout_seconds,
        "num_retries": 0,
        "max_retries": 0,
    }
    if request.tools:
        arguments["tools"] = to_tools(request.tools)
    optional: dict[str, Any] = {
        "api_base": config.api_base,
        "api_key": config.api_key,
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "top_k": settings.top_k,
        "stop": list(settings.stop) or None,
        "reasoning_effort": settings.reasoning_effort,
    }
    arguments.update({key: value for key, value in optional.items() if value is not None})
    return arguments


# ---------------------------------------------------------------- responses


@dataclass
class _PartialCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def finish(self) -> ToolCall:
        text = "".join(self.arguments)
        return ToolCall(
            call_id=self.call_id or short_id("call_"),
            name=self.name,
            arguments=text if text.strip() else "{}",
        )


class StreamAssembler:
    """Reads litellm stream chunks; yields deltas; assembles the response.

    Tool calls are assembled by their ``index``; a fragment that carries a new
    id at a known index starts a new call (some providers reuse index 0)."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._signature: str | None = None
        self._calls: dict[int, _PartialCall] = {}
        self._order: list[_PartialCall] = []
        self._usage: Usage | None = None
        self._finish_reason: str | None = None

    def feed(self, chunk: Any) -> Iterator[StreamEvent]:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = normalise_usage(usage)
        for choice in getattr(chunk, "choices", None) or ():
            if getattr(choice, "finish_reason", None):
                self._finish_reason = choice.finish_reason
            delta = getattr(choice, "delta", None)
            if delta is None:
                continue
            reasoning = getattr(delta, "reasoning_content", None)
            if reasoning:
                self._reasoning.append(reasoning)
                yield ReasoningChunk(reasoning)
            for block in getattr(delta, "thinking_blocks", None) or ():
                signature = _field(block, "signature")
                if isinstance(signature, str) and signature:
                    self._signature = signature
            content = getattr(delta, "content", None)
            if content:
                self._text.append(content)
                yield TextChunk(content)
            for fragment in getattr(delta, "tool_calls", None) or ():
                self._add_fragment(fragment)

    def _add_fragment(self, fragment: Any) -> None:
        index = _field(fragment, "index")
        if not isinstance(index, int):
            index = len(self._order)
        call_id = _field(fragment, "id") or ""
        function = _field(fragment, "function")
        name = _field(function, "name") or ""
        arguments = _field(function, "arguments") or ""
        current = self._calls.get(index)
        if current is None or (call_id and current.call_id and call_id != current.call_id):
            current = _PartialCall()
            self._calls[index] = current
            self._order.append(current)
        if call_id and not current.call_id:
            current.call_id = call_id
        if name and not current.name:
            current.name = name
        if isinstance(arguments, dict):
            arguments = json.dumps(arguments)
        if arguments:
            current.arguments.append(arguments)

    @property
    def finish_reason(self) -> str | None:
        """The last finish reason a chunk carried (litellm adds one when a
        stream just ends: see :func:`agent.llm.client.judge_answer`)."""
        return self._finish_reason

    @property
    def has_output(self) -> bool:
        """Whether anything of an answer arrived: text, reasoning or a call."""
        return bool(self._text or self._reasoning or self._order)

    @property
    def has_answer(self) -> bool:
        """Whether the answer holds text or a tool call (reasoning alone is
        not an answer)."""
        return bool(self._text) or any(call.name or call.arguments for call in self._order)

    def finish(self) -> Response:
        return Response(
            text="".join(self._text),
            tool_calls=[call.finish() for call in self._order if call.name or call.arguments],
            usage=self._usage,
            finish_reason=self._finish_reason,
            reasoning="".join(self._reasoning),
            reasoning_signature=self._signature,
        )


def _field(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def normalise_usage(usage: Any) -> Usage:
    """Usage with ``input_tokens`` as the whole prompt.

    litellm reports ``prompt_tokens`` as the whole prompt for every provider:
    for Anthropic, ``AnthropicConfig.calculate_usage`` adds
    ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` to
    ``input_tokens``; OpenAI's ``prompt_tokens`` already counts cached tokens.
    Cache reads come from ``prompt_tokens_details.cached_tokens`` (or
    ``cache_read_input_tokens``), cache writes from
    ``cache_creation_input_tokens``."""
    details = _field(usage, "prompt_tokens_details")
    cache_read = _count(_field(details, "cached_tokens")) or _count(
        _field(usage, "cache_read_input_tokens")
    )
    cache_write = _count(_field(usage, "cache_creation_input_tokens")) or _count(
        _field(details, "cache_creation_tokens")
    )
    return Usage(
        input_tokens=_count(_field(usage, "prompt_tokens")),
        output_tokens=_count(_field(usage, "completion_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )
