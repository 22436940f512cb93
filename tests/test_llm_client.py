"""The litellm client, driven through the real litellm against the scripted model."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
import time
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from conftest import TEST_API_KEY, model_config

from agent.errors import (
    AuthenticationFailed,
    BadRequest,
    BadResponse,
    EmptyResponse,
    IncompleteResponse,
    ModelNotConfigured,
    ProviderUnavailable,
    RateLimited,
)
from agent.items import Item, Message, Reasoning, ToolCall, ToolResult, assistant, system, user
from agent.llm import wire
from agent.llm.client import LiteLlmClient, load_litellm
from agent.llm.convert import WireOptions, to_messages, wire_options
from agent.llm.retry import (
    Failure,
    RetryPolicy,
    clean_detail,
    final_error,
    parse_retry_after,
)
from agent.llm.types import (
    ClientReady,
    Completed,
    LlmRequest,
    ModelConfig,
    ReasoningChunk,
    RequestSettings,
    Response,
    RetryNotice,
    StreamEvent,
    TextChunk,
    ToolSpec,
    Usage,
)
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(30)

HELLO = LlmRequest(system="You are terse.", items=[user("hi")], tools=[])


async def _collect(client: LiteLlmClient, request: LlmRequest = HELLO) -> list[StreamEvent]:
    return [event async for event in client.stream(request)]


def _response(events: list[StreamEvent]) -> Response:
    completed = [event for event in events if isinstance(event, Completed)]
    assert len(completed) == 1
    assert events[-1] is completed[0]
    return completed[0].response


# ---------------------------------------------------------------- streaming


async def test_text_deltas_arrive_in_order(scripted_model: ScriptedModel) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    scripted_model.load([{"text": text, "chunk_size": 4}])
    events = await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    chunks = [event.text for event in events if isinstance(event, TextChunk)]
    assert len(chunks) == 11
    assert "".join(chunks) == text
    response = _response(events)
    assert response.text == text
    assert response.tool_calls == []
    assert response.finish_reason == "stop"


async def test_reasoning_deltas_stream_before_text(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [{"reasoning": "First, look at the file.", "text": "Done.", "chunk_size": 6}]
    )
    events = await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    kinds = [type(event) for event in events]
    reasoning = [event.text for event in events if isinstance(event, ReasoningChunk)]
    assert len(reasoning) == 4
    assert "".join(reasoning) == "First, look at the file."
    assert kinds.index(TextChunk) > max(i for i, k in enumerate(kinds) if k is ReasoningChunk)
    response = _response(events)
    assert response.reasoning == "First, look at the file."
    assert response.text == "Done."


async def test_a_fragmented_tool_call_is_assembled(scripted_model: ScriptedModel) -> None:
    arguments = {"path": "src/main.py", "start_line": 10, "end_line": 40}
    scripted_model.load(
        [{"tool_calls": [{"name": "read_file", "arguments": arguments, "id": "call_a"}]}]
    )
    response = _response(await _collect(LiteLlmClient(model_config(scripted_model.base_url))))
    assert response.finish_reason == "tool_calls"
    [call] = response.tool_calls
    assert (call.call_id, call.name) == ("call_a", "read_file")
    assert call.parsed_arguments() == arguments


async def test_two_parallel_tool_calls(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [
            {
                "text": "Reading both.",
                "tool_calls": [
                    {"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_1"},
                    {"name": "grep", "arguments": {"pattern": "def main"}, "id": "call_2"},
                ],
            }
        ]
    )
    response = _response(await _collect(LiteLlmClient(model_config(scripted_model.base_url))))
    assert response.text == "Reading both."
    assert [(c.call_id, c.name, c.parsed_arguments()) for c in response.tool_calls] == [
        ("call_1", "read_file", {"path": "a.py"}),
        ("call_2", "grep", {"pattern": "def main"}),
    ]


async def test_malformed_arguments_are_kept_raw_and_missing_ids_generated(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load(
        [{"tool_calls": [{"name": "edit", "arguments": '{"path": "a.py", ', "id": ""}]}]
    )
    response = _response(await _collect(LiteLlmClient(model_config(scripted_model.base_url))))
    [call] = response.tool_calls
    assert call.arguments == '{"path": "a.py", '
    assert call.parsed_arguments() is None
    assert call.call_id.startswith("call_")
    assert len(call.call_id) > len("call_")


async def test_usage_is_whole_prompt_with_cache_breakdown(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [
            {
                "text": "ok",
                "usage": {
                    "prompt_tokens": 1200,
                    "completion_tokens": 17,
                    "cached_tokens": 1000,
                    "cache_write_tokens": 150,
                },
            }
        ]
    )
    response = _response(await _collect(LiteLlmClient(model_config(scripted_model.base_url))))
    assert response.usage == Usage(
        input_tokens=1200, output_tokens=17, cache_read_tokens=1000, cache_write_tokens=150
    )


# ---------------------------------------------------------------- the request


async def test_request_body_carries_every_item_kind_tools_and_settings(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"text": "ok"}])
    items: list[Item] = [
        system("[Compacted context summary] We were fixing the parser."),
        user("Fix the bug in a.py"),
        Reasoning(text="unsigned thoughts stay local"),
        assistant("Let me look."),
        ToolCall(call_id="call_1", name="read_file", arguments='{"path": "a.py"}'),
        ToolCall(call_id="call_2", name="grep", arguments="{not json"),
        ToolResult(call_id="call_1", name="read_file", summary="3 lines", content="a\nb\nc"),
        ToolResult(call_id="call_2", name="grep", summary="invalid arguments", is_error=True),
        system("The user interrupted the previous answer."),
        user("Go on"),
    ]
    tools = [
        ToolSpec("zeta", "last by name", {"type": "object", "properties": {}}),
        ToolSpec("alpha", "first by name", {"type": "object", "properties": {"x": {}}}),
    ]
    settings = RequestSettings(
        max_tokens=512, temperature=0.2, top_p=0.9, top_k=40, stop=("END",), reasoning_effort="low"
    )
    request = LlmRequest(system="You are yoi.", items=items, tools=tools, settings=settings)
    await _collect(LiteLlmClient(model_config(scripted_model.base_url)), request)
    [body] = scripted_model.requests
    assert body["model"] == "scripted"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "You are yoi."},
        {"role": "system", "content": "[Compacted context summary] We were fixing the parser."},
        {"role": "user", "content": "Fix the bug in a.py"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "grep", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "3 lines\na\nb\nc"},
        {"role": "tool", "tool_call_id": "call_2", "content": "invalid arguments"},
        {"role": "system", "content": "The user interrupted the previous answer."},
        {"role": "user", "content": "Go on"},
    ]
    assert [tool["function"]["name"] for tool in body["tools"]] == ["zeta", "alpha"]
    assert body["tools"][1] == {
        "type": "function",
        "function": {
            "name": "alpha",
            "description": "first by name",
            "parameters": {"type": "object", "properties": {"x": {}}},
        },
    }
    assert body["max_tokens"] == 512
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert body["top_k"] == 40
    assert body["stop"] == ["END"]
    assert body["reasoning_effort"] == "low"


async def test_unset_settings_are_not_sent(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "ok"}])
    await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    [body] = scripted_model.requests
    for key in ("max_tokens", "temperature", "top_p", "top_k", "stop", "reasoning_effort", "tools"):
        assert key not in body


def test_anthropic_wire_moves_notes_to_user_and_sends_signed_reasoning() -> None:
    options = wire_options("anthropic/claude-sonnet-4-5")
    assert options == WireOptions(notes_as_user=True, signed_reasoning=True, cache_breakpoints=True)
    assert wire_options("openai/gpt-4.1") == WireOptions()
    items: list[Item] = [
        system("summary"),
        user("q"),
        Reasoning(text="thinking", signature="sig-1"),
        ToolCall(call_id="c1", name="ls", arguments=""),
        ToolResult(call_id="c1", summary="2 files"),
        user("next"),
    ]
    messages = to_messages("sys", items, options, cache_anchor=0)
    assert [m["role"] for m in messages] == ["system", "user", "user", "assistant", "tool", "user"]
    assistant_message = messages[3]
    assert assistant_message["thinking_blocks"] == [
        {"type": "thinking", "thinking": "thinking", "signature": "sig-1"}
    ]
    assert assistant_message["content"] is None
    assert assistant_message["tool_calls"][0]["function"]["arguments"] == "{}"
    ephemeral = {"type": "ephemeral"}
    # Breakpoints: the anchor (summary), the tool result before the last user message, the end.
    assert messages[1]["content"] == [
        {"type": "text", "text": "summary", "cache_control": ephemeral}
    ]
    assert messages[4]["content"] == [
        {"type": "text", "text": "2 files", "cache_control": ephemeral}
    ]
    assert messages[5]["content"][0]["cache_control"] == ephemeral
    assert isinstance(messages[2]["content"], str)
    plain = to_messages("sys", items, WireOptions())
    assert all("thinking_blocks" not in m for m in plain)
    assert plain[1] == {"role": "system", "content": "summary"}


async def test_litellm_turns_the_anthropic_wire_into_a_valid_anthropic_request() -> None:
    litellm = await load_litellm()
    config = litellm.AnthropicConfig()
    items: list[Item] = [
        user("q"),
        Reasoning(text="thinking", signature="sig-1"),
        assistant("ok"),
        ToolCall(call_id="c1", name="ls", arguments="{}"),
        ToolResult(call_id="c1", summary="2 files"),
        system("note"),
        user("next"),
    ]
    messages = to_messages("sys", items, wire_options("anthropic/claude-sonnet-4-5"))
    body = config.transform_request(
        model="claude-sonnet-4-5",
        messages=messages,
        optional_params={"max_tokens": 100},
        litellm_params={},
        headers={},
    )
    assert body["system"] == [{"type": "text", "text": "sys"}]  # the note stays in place
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert [block["type"] for block in body["messages"][1]["content"]] == [
        "thinking",
        "text",
        "tool_use",
    ]
    assert body["messages"][1]["content"][0]["signature"] == "sig-1"
    last = body["messages"][2]["content"]
    assert [block["type"] for block in last] == ["tool_result", "text", "text"]
    assert last[1]["text"] == "note"
    assert last[2]["cache_control"] == {"type": "ephemeral"}


def test_consecutive_assistant_texts_stay_separate_messages() -> None:
    items: list[Item] = [
        user("q"),
        assistant("one"),
        assistant("two"),
        Message(role="user", text=""),
    ]
    messages = to_messages("", items)
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "q"),
        ("assistant", "one"),
        ("assistant", "two"),
        ("user", ""),
    ]


# ---------------------------------------------------------------- failures


async def test_rate_limit_then_success_retries_once(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [{"status": 429, "error": "slow down", "retry_after": 0.02}, {"text": "ok"}]
    )
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(scripted_model.base_url), on_retry=notices.append)
    response = _response(await _collect(client))
    assert response.text == "ok"
    assert len(scripted_model.requests) == 2
    assert notices == [
        RetryNotice(
            attempt=1,
            max_attempts=3,
            delay_seconds=0.02,  # Retry-After, under the 0.05 s cap
            reason="rate limited by the provider (429)",
        )
    ]


async def test_rate_limited_every_time_raises_rate_limited(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"status": 429, "retry_after": 60}] * 2)
    notices: list[RetryNotice] = []
    config = model_config(scripted_model.base_url, max_retries=1)
    client = LiteLlmClient(config, on_retry=notices.append)
    with pytest.raises(RateLimited, match=r"rate-limited every attempt \(2 tries") as caught:
        await _collect(client)
    assert caught.value.retryable
    assert [n.delay_seconds for n in notices] == [0.05]  # Retry-After capped by max delay


async def test_server_errors_until_give_up(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"status": 500, "error": "upstream exploded"}] * 5)
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(scripted_model.base_url), on_retry=notices.append)
    with pytest.raises(ProviderUnavailable) as caught:
        await _collect(client)
    assert len(scripted_model.requests) == 3  # max_retries + 1
    assert [n.attempt for n in notices] == [1, 2]
    assert "unavailable (HTTP 500: upstream exploded) after 3 tries" in str(caught.value)
    assert caught.value.status == 500


async def test_authentication_failure_is_not_retried(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [{"status": 401, "error": f"Incorrect API key provided: {TEST_API_KEY}"}] * 3
    )
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(scripted_model.base_url), on_retry=notices.append)
    with pytest.raises(AuthenticationFailed) as caught:
        await _collect(client)
    assert len(scripted_model.requests) == 1
    assert notices == []
    assert str(caught.value) == (
        "Authentication failed for model openai/scripted (HTTP 401): check YOI_API_KEY."
    )


async def test_authentication_failure_names_the_configured_key_variable(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"status": 401, "error": "Incorrect API key provided"}])
    config = model_config(scripted_model.base_url, api_key_env="ANTHROPIC_API_KEY")
    with pytest.raises(AuthenticationFailed) as caught:
        await _collect(LiteLlmClient(config))
    assert str(caught.value) == (
        "Authentication failed for model openai/scripted (HTTP 401): check ANTHROPIC_API_KEY."
    )
    assert "YOI_API_KEY" not in str(caught.value)


async def test_exhausted_script_is_a_bad_request_naming_the_cause(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([])
    with pytest.raises(BadRequest, match="no step left for request #1") as caught:
        await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    assert TEST_API_KEY not in str(caught.value)
    assert len(scripted_model.requests) == 1


async def test_read_timeout_before_any_output_is_retried(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"hang": True}, {"text": "second try"}])
    notices: list[RetryNotice] = []
    config = model_config(scripted_model.base_url, timeout_seconds=0.3)
    response = _response(await _collect(LiteLlmClient(config, on_retry=notices.append)))
    assert response.text == "second try"
    assert [n.reason for n in notices] == ["the request timed out"]


async def test_failure_after_streaming_started_raises_at_once(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"hang": True, "text": "partial answer"}, {"text": "never asked"}])
    notices: list[RetryNotice] = []
    config = model_config(scripted_model.base_url, timeout_seconds=0.3)
    events: list[StreamEvent] = []
    with pytest.raises(IncompleteResponse, match="was cut off: the provider stopped sending"):
        async for event in LiteLlmClient(config, on_retry=notices.append).stream(HELLO):
            events.append(event)
    assert events == [ClientReady(), TextChunk("partial answer")]
    assert notices == []
    assert len(scripted_model.requests) == 1


async def test_connection_refused_names_the_address() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(base, max_retries=1), on_retry=notices.append)
    with pytest.raises(ProviderUnavailable, match=f"Could not connect .* at {base}"):
        await _collect(client)
    assert [n.reason for n in notices] == ["could not connect to the provider"]


async def test_an_answer_without_finish_reason_is_cut_off_not_finished(
    scripted_model: ScriptedModel,
) -> None:
    # litellm makes up finish_reason="stop" when a stream just ends: the
    # client asks what the provider sent
    scripted_model.load([{"text": "The answer is forty", "end": "eof"}, {"text": "unused"}])
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(scripted_model.base_url), on_retry=notices.append)
    events: list[StreamEvent] = []
    with pytest.raises(IncompleteResponse) as caught:
        async for event in client.stream(HELLO):
            events.append(event)
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "The answer is forty"
    assert str(caught.value) == (
        "The answer from openai/scripted was cut off: the stream ended before the model "
        "finished (no finish_reason came). Ask again to retry."
    )
    assert (notices, len(scripted_model.requests)) == ([], 1)  # never retried once shown


async def test_a_stream_that_ends_before_any_text_is_retried(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"end": "eof"}, {"text": "second try"}])
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(scripted_model.base_url), on_retry=notices.append)
    assert _response(await _collect(client)).text == "second try"
    assert [n.reason for n in notices] == ["the stream ended before the answer was complete"]


@pytest.mark.parametrize("end", ["cut", "reset"])
async def test_a_connection_cut_mid_answer_is_named(
    scripted_model: ScriptedModel, end: str
) -> None:
    scripted_model.load([{"text": "Half of it", "end": end}])
    with pytest.raises(IncompleteResponse) as caught:
        await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    message = str(caught.value)
    assert message.startswith(
        "The answer from openai/scripted was cut off: the connection to the provider broke ("
    )
    assert "connect to" not in message
    assert caught.value.retryable and len(scripted_model.requests) == 1


async def test_a_connection_cut_before_any_text_is_retried_then_named(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"end": "reset"}] * 3)
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(scripted_model.base_url), on_retry=notices.append)
    with pytest.raises(ProviderUnavailable, match="broke while the answer was arriving"):
        await _collect(client)
    assert [n.reason for n in notices] == ["the connection to the provider broke"] * 2


async def test_a_malformed_stream_is_named_and_not_retried(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"end": "malformed"}, {"text": "unused"}])
    with pytest.raises(BadResponse) as caught:
        await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    assert f"for openai/scripted at {scripted_model.base_url} sent a malformed stream: " in str(
        caught.value
    )
    assert "an event that is not JSON: Unterminated string" in str(caught.value)
    assert len(scripted_model.requests) == 1


async def test_a_malformed_event_mid_answer_cuts_it_off(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "So far", "end": "malformed"}])
    with pytest.raises(IncompleteResponse, match="cut off: the provider sent a malformed stream"):
        await _collect(LiteLlmClient(model_config(scripted_model.base_url)))


async def test_an_in_stream_error_is_the_providers_error(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [
            {"end": "error", "stream_error": "Overloaded"},  # before any text: retried
            {"text": "The answer", "end": "error", "stream_error": "Overloaded"},
        ]
    )
    notices: list[RetryNotice] = []
    client = LiteLlmClient(model_config(scripted_model.base_url), on_retry=notices.append)
    with pytest.raises(ProviderUnavailable) as caught:
        await _collect(client)
    assert str(caught.value) == (
        "The model provider reported an error while openai/scripted was answering: "
        "Overloaded. The answer is cut off where the error came. Ask again to retry."
    )
    assert [n.reason for n in notices] == ["the provider reported an error in the stream"]


async def test_an_html_page_with_200_is_not_an_answer(scripted_model: ScriptedModel) -> None:
    page = "<!doctype html>\n<html><head><title>Sign in</title></head><body>...</body></html>"
    scripted_model.load([{"body": page}, {"text": "unused"}])
    with pytest.raises(BadResponse) as caught:
        await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    assert str(caught.value) == (
        f"The model provider for openai/scripted at {scripted_model.base_url} answered with "
        "an HTML page (HTTP 200, text/html), not a chat-completion stream. Check the "
        "model's api_base: it may point at a web page or a proxy's sign-in page."
    )
    assert len(scripted_model.requests) == 1


async def test_an_html_error_page_is_read_as_text(scripted_model: ScriptedModel) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    scripted_model.load([{"body": page, "status": 502}])
    config = model_config(scripted_model.base_url, max_retries=0)
    with pytest.raises(ProviderUnavailable, match=r"\(HTTP 502: 502 Bad Gateway nginx\)"):
        await _collect(LiteLlmClient(config))


@pytest.mark.parametrize(
    ("step", "why"),
    [
        ({}, "(finish reason: stop)"),
        ({"reasoning": "Nothing to say."}, "(finish reason: stop)"),
        (
            {"finish_reason": "length"},
            "(finish reason: length; the output limit was reached before any text; "
            "raise max_tokens)",
        ),
    ],
)
async def test_an_empty_completion_is_not_an_answer(
    scripted_model: ScriptedModel, step: dict[str, object], why: str
) -> None:
    scripted_model.load([step, {"text": "unused"}])
    with pytest.raises(EmptyResponse) as caught:
        await _collect(LiteLlmClient(model_config(scripted_model.base_url)))
    assert str(caught.value) == (
        f"openai/scripted ended its answer without any text or tool call {why}. "
        "Ask again, or rephrase the request."
    )
    assert len(scripted_model.requests) == 1


async def test_an_empty_answer_to_tool_results_ends_the_turn(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{}])
    items: list[Item] = [
        user("summarise"),
        ToolCall(call_id="c1", name="write_summary", arguments='{"text": "s"}'),
        ToolResult(call_id="c1", summary="summary written"),
    ]
    request = LlmRequest(system="s", items=items, tools=[])
    response = _response(
        await _collect(LiteLlmClient(model_config(scripted_model.base_url)), request)
    )
    assert (response.text, response.tool_calls, response.finish_reason) == ("", [], "stop")


def test_new_errors_cross_the_model_process_pipe() -> None:
    for cls in (IncompleteResponse, BadResponse, EmptyResponse):
        line = wire.encode({"id": 1, "error": wire.error_to_json(cls("said", status=200))})
        back = wire.error_from_json(json.loads(line)["error"])
        assert (type(back), str(back), back.status) == (cls, "said", 200)


async def test_no_model_configured() -> None:
    client = LiteLlmClient(ModelConfig(model=None))
    with pytest.raises(ModelNotConfigured, match="Set YOI_MODEL"):
        await _collect(client)


# ---------------------------------------------------------------- cancellation


async def test_cancelling_mid_stream_returns_promptly_and_closes_the_connection(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"hang": True, "text": "thinking about it"}])
    first = asyncio.Event()
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async for event in LiteLlmClient(model_config(scripted_model.base_url)).stream(HELLO):
            seen.append(event)
            if isinstance(event, TextChunk):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1
    assert seen == [ClientReady(), TextChunk("thinking about it")]
    await scripted_model.wait_for_disconnect_async(1, patience=2)


async def test_closing_the_stream_early_closes_the_connection(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"hang": True, "text": "enough"}])
    stream = LiteLlmClient(model_config(scripted_model.base_url)).stream(HELLO)
    async with aclosing(stream):
        assert await anext(stream) == ClientReady()  # the request goes out
        assert await anext(stream) == TextChunk("enough")
    await scripted_model.wait_for_disconnect_async(1, patience=2)


async def test_cancelling_during_backoff_returns_promptly(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"status": 503, "retry_after": 30}, {"text": "too late"}])
    waiting = asyncio.Event()
    config = model_config(scripted_model.base_url, retry_max_delay=30)
    client = LiteLlmClient(config, on_retry=lambda notice: waiting.set())
    task = asyncio.create_task(_collect(client))
    await asyncio.wait_for(waiting.wait(), 10)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1
    assert len(scripted_model.requests) == 1


# ---------------------------------------------------------------- stdout


def test_litellm_stays_off_stdout(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [
            {"status": 500},
            {"text": "fine", "tool_calls": [{"name": "ls", "arguments": {}}]},
            {"status": 400, "error": "nope"},
        ]
    )
    program = textwrap.dedent(
        f"""
        import asyncio, logging
        from agent.items import user
        from agent.llm.client import LiteLlmClient, load_litellm
        from agent.llm.types import LlmRequest, ModelConfig, ToolSpec

        logging.basicConfig(level=logging.DEBUG)  # the host logs to stderr

        async def main():
            await load_litellm()
            config = ModelConfig(model="openai/scripted", api_base={scripted_model.base_url!r},
                                 api_key="k", max_retries=1, retry_base_delay=0.01)
            request = LlmRequest(system="s", items=[user("hi")],
                                 tools=[ToolSpec("ls", "list", {{"type": "object"}})])
            client = LiteLlmClient(config)
            text = [e async for e in client.stream(request)]
            assert text, "no events"
            try:
                [e async for e in client.stream(request)]
            except Exception as exc:
                assert "nope" in str(exc), exc

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert len(scripted_model.requests) == 3


# ---------------------------------------------------------------- retry policy (pure)


def test_backoff_grows_exponentially_with_jitter_and_caps() -> None:
    policy = RetryPolicy(max_retries=4, base_delay=1.0, max_delay=5.0)
    assert [policy.delay(n, None, 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.5]
    assert [policy.delay(n, None, 0.999999) for n in (1, 2, 3, 4)] == pytest.approx(
        [1.0, 2.0, 4.0, 5.0], abs=1e-4
    )
    assert policy.delay(1, 3.0, 0.5) == 3.0
    assert policy.delay(1, 120.0, 0.5) == 5.0


def test_should_retry_only_transient_failures_within_budget() -> None:
    policy = RetryPolicy(max_retries=2)
    transient = Failure(kind="unavailable", status=502)
    assert policy.should_retry(transient, 1)
    assert policy.should_retry(transient, 2)
    assert not policy.should_retry(transient, 3)
    assert not policy.should_retry(Failure(kind="auth", status=401), 1)
    assert not policy.should_retry(Failure(kind="bad_request", status=400), 1)


def test_retry_after_parsing() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = format_datetime(now + timedelta(seconds=20), usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == 20.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


def test_error_details_never_carry_the_key() -> None:
    message = (
        "litellm.AuthenticationError: AuthenticationError: OpenAIException - bad key sk-abc123"
    )
    assert clean_detail(message, secret="sk-abc123") == "bad key [redacted]"
    assert "sk-proj" not in clean_detail("key sk-proj-AAAAAAAAAAAAAAAAAAAA rejected")
    assert len(clean_detail("x" * 1000)) == 300


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (Failure("rate_limited", 429), "rate-limited every attempt (5 tries over 12 s)"),
        (Failure("timeout"), "did not answer in time (5 tries over 12 s)"),
        (Failure("context_window", 400), "too long for the context window of m/x"),
        (Failure("not_found", 404, "no such model"), "does not know model m/x: no such model"),
        (Failure("bad_request", 422, "bad field"), "refused the request to m/x (HTTP 422): bad"),
    ],
)
def test_final_errors_are_sentences_a_user_can_act_on(failure: Failure, expected: str) -> None:
    error = final_error(failure, model="m/x", attempts=5, elapsed=12.2)
    assert expected in str(error)
