"""The model process (agent/llm/process.py and child.py): the real child
process, the real litellm in it, the scripted model on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest
from conftest import model_config

from agent.errors import AuthenticationFailed, ProviderUnavailable
from agent.items import user
from agent.llm.process import ModelProcess, RemoteLlmClient, model_process_env
from agent.llm.types import (
    ClientLoading,
    ClientReady,
    Completed,
    LlmRequest,
    RetryNotice,
    StreamEvent,
    TextChunk,
    ToolSpec,
)
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)

HELLO = LlmRequest(system="You are terse.", items=[user("hi")], tools=[])


@pytest.fixture
async def process() -> AsyncIterator[ModelProcess]:
    proc = ModelProcess(model="openai/scripted", env=model_process_env())
    yield proc
    await proc.close()


async def collect(client: RemoteLlmClient, request: LlmRequest = HELLO) -> list[StreamEvent]:
    return [event async for event in client.stream(request)]


async def test_a_request_waits_for_loading_then_streams(
    process: ModelProcess, scripted_model: ScriptedModel
) -> None:
    reply = "".join(f"{i % 10}" for i in range(500))
    scripted_model.load(
        [
            {
                "text": reply,
                "chunk_size": 1,
                "tool_calls": [{"name": "ls", "arguments": {"path": "."}, "id": "call_1"}],
            }
        ]
    )
    client = RemoteLlmClient(model_config(scripted_model.base_url), process)
    request = LlmRequest(
        system="s", items=[user("hi")], tools=[ToolSpec("ls", "list", {"type": "object"})]
    )
    events = await collect(client, request)
    assert events[:2] == [ClientLoading(), ClientReady()]
    texts = [e.text for e in events if isinstance(e, TextChunk)]
    assert "".join(texts) == reply
    assert len(texts) < 100  # coalesced in the process
    done = events[-1]
    assert isinstance(done, Completed)
    assert done.response.text == reply
    assert [(c.call_id, c.name, c.parsed_arguments()) for c in done.response.tool_calls] == [
        ("call_1", "ls", {"path": "."})
    ]
    assert done.response.usage is not None and done.response.usage.input_tokens > 0
    body = scripted_model.requests[0]
    assert body["tools"][0]["function"]["name"] == "ls"
    assert body["messages"][-1] == {"role": "user", "content": "hi"}
    # the next request goes straight out
    scripted_model.load([{"text": "again"}])
    again = await collect(client)
    assert again[0] == ClientReady() and isinstance(again[-1], Completed)
    await asyncio.wait_for(process.wait_ready(), 30)
    assert process.ready


async def test_errors_keep_their_class_and_retries_are_reported(
    process: ModelProcess, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"status": 500, "error": "boom"}, {"text": "ok"}])
    notices: list[RetryNotice] = []
    client = RemoteLlmClient(model_config(scripted_model.base_url), process, notices.append)
    events = await collect(client)
    assert isinstance(events[-1], Completed) and events[-1].response.text == "ok"
    assert len(notices) == 1 and notices[0].attempt == 1
    scripted_model.load([{"status": 401, "error": "bad key"}])
    with pytest.raises(AuthenticationFailed, match="YOI_API_KEY"):
        await collect(client)


async def test_cancelling_the_consumer_closes_the_providers_stream(
    process: ModelProcess, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"hang": True, "text": "thinking"}])
    client = RemoteLlmClient(model_config(scripted_model.base_url), process)
    first = asyncio.Event()

    async def consume() -> None:
        async for event in client.stream(HELLO):
            if isinstance(event, TextChunk):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await scripted_model.wait_for_disconnect_async(1, patience=5)


async def test_a_dead_process_fails_its_streams_clearly_and_restarts(
    process: ModelProcess, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"hang": True, "text": "thinking"}, {"text": "back"}])
    client = RemoteLlmClient(model_config(scripted_model.base_url), process)
    events: list[StreamEvent] = []

    async def consume() -> None:
        async for event in client.stream(HELLO):
            events.append(event)

    task = asyncio.create_task(consume())
    await scripted_model.wait_for_requests_async(1, patience=60)
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    with pytest.raises(ProviderUnavailable, match="model process stopped unexpectedly"):
        await asyncio.wait_for(task, 10)
    again = await collect(client)  # a new process starts
    assert ClientLoading() in again and isinstance(again[-1], Completed)
    assert again[-1].response.text == "back"
    assert process.starts == 2


async def test_a_process_that_cannot_start_is_an_error_not_a_hang(
    scripted_model: ScriptedModel,
) -> None:
    broken = ModelProcess(python="/bin/false", env=model_process_env())  # exits at once
    client = RemoteLlmClient(model_config(scripted_model.base_url), broken)
    with pytest.raises(ProviderUnavailable, match="exited while loading"):
        await asyncio.wait_for(collect(client), 10)
    await broken.close()


async def test_model_info_comes_from_litellms_local_map(process: ModelProcess) -> None:
    known = RemoteLlmClient(model_config("http://127.0.0.1:9/v1", model="openai/gpt-4o"), process)
    info = await known.model_info()
    assert info.max_input_tokens == 128000 and info.supports_vision is True
    unknown = RemoteLlmClient(model_config("http://127.0.0.1:9/v1"), process)
    assert (await unknown.model_info()).max_input_tokens is None
