"""Every provider fault, through a real pod and the real litellm, against the
fault-injecting scripted model on 127.0.0.1 (agent/testing: error, body and
reply steps with their ``end``).

Each test checks the turn's outcome and the message the user gets, that the
history is consistent (the live history is what the log restores to, no call
is left unanswered, what streamed before a fault is kept and marked as cut
off) and that the log's hash chain verifies (``yoi log``). One fault also
crosses the model process (``RemoteLlmClient``), as in the language server.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import TEST_API_KEY, model_config
from podkit import Workspace, make_workspace

from agent.errors import BadResponse, IncompleteResponse
from agent.events import TextDelta, ToolResultEvent, TurnEnd
from agent.items import Item, Message, ToolCall, ToolResult, unanswered_calls
from agent.llm.process import ModelProcess, RemoteLlmClient, model_process_env
from agent.llm.types import Completed, LlmRequest, StreamEvent, TextChunk
from agent.pod import Pod, TurnResult
from agent.segments import TextSegment
from agent.store import LlmUsage, RunErrored
from agent.testing import ScriptedModel
from agent.worker import CUT_OFF_MARK
from terminal.sessions import show_log

pytestmark = pytest.mark.timeout(60)

MODEL = "openai/scripted"
PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
    "<body><form action='/login'><input name='user'></form></body></html>\n"
)


def say(text: str) -> list[TextSegment]:
    return [TextSegment(kind="text", text=text)]


def user(text: str) -> Message:
    return Message(role="user", text=text, segments=say(text))


@pytest.fixture
def ws(tmp_path: Path, scripted_model: ScriptedModel) -> Workspace:
    return make_workspace(tmp_path, scripted_model)


def assert_consistent(ws: Workspace, pod: Pod) -> None:
    """The log's hash chain verifies, it restores to the live history, and
    that history is a valid next request (no call left unanswered)."""
    out = io.StringIO()
    assert show_log(pod.session_id, ws.home, out=out) == 0
    assert out.getvalue().endswith(" entries, hash chain verified.\n")
    state = ws.store().restore(pod.session_id)
    assert state.history == pod.history
    assert state.turn_count == pod.turn_count
    assert not unanswered_calls(pod.history)


def assert_failed(ws: Workspace, pod: Pod, result: TurnResult, message: str) -> None:
    """The turn ended in ``error`` with ``message``, told to the user in the
    turn's end and recorded in the log."""
    assert (result.outcome, result.error) == ("error", message)
    assert ws.recorder.of(TurnEnd)[-1] == TurnEnd(outcome="error", error=message)
    ends = [e for e in ws.store().read(pod.session_id).entries if isinstance(e, RunErrored)]
    assert ends[-1].error == message
    assert_consistent(ws, pod)


def usage_entries(ws: Workspace, pod: Pod) -> list[LlmUsage]:
    return [e for e in ws.store().read(pod.session_id).entries if isinstance(e, LlmUsage)]


async def assert_next_turn_goes_on(ws: Workspace, pod: Pod, history: list[Item]) -> None:
    """The pod goes on from ``history``: the next request carries it, as the
    model's messages, before the new one."""
    ws.model.load([{"text": "Carrying on."}])
    result = await pod.chat(say("go on"))
    assert (result.outcome, result.error) == ("finished", None)
    assert pod.history == [*history, user("go on"), Message(role="assistant", text="Carrying on.")]
    sent = [(m["role"], m["content"]) for m in ws.model.requests[0]["messages"][1:]]
    expected = [(i.role, i.text) for i in history if isinstance(i, Message)]
    assert sent == [*expected, ("user", "go on")]
    assert_consistent(ws, pod)


# ---------------------------------------------------------------- refusals


async def test_500_is_retried_and_named_when_it_persists(ws: Workspace) -> None:
    ws.model.load([{"status": 500, "error": "upstream exploded"}] * 2 + [{"text": "Recovered."}])
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert result.outcome == "finished"
    assert len(ws.model.requests) == 3
    assert [a for a in ws.recorder.alerts() if "unavailable" in a] == [
        "the provider is unavailable (500); retrying in 0.0 s (attempt 2 of 3).",
        "the provider is unavailable (500); retrying in 0.0 s (attempt 3 of 3).",
    ]
    ws.model.load([{"status": 500, "error": "upstream exploded"}] * 3)
    result = await pod.chat(say("again"))
    assert result.error is not None
    assert re.fullmatch(
        r"The model provider for openai/scripted is unavailable \(HTTP 500: upstream exploded\) "
        r"after 3 tries over \d\.\d s\. Try again later; if this persists, check the "
        r"provider's status\.",
        result.error,
    )
    assert_failed(ws, pod, result, result.error)
    assert pod.history == [
        user("hi"),
        Message(role="assistant", text="Recovered."),
        user("again"),
    ]


async def test_429_waits_as_long_as_retry_after_says(ws: Workspace) -> None:
    ws.model.load([{"status": 429, "error": "slow down", "retry_after": 0.04}, {"text": "ok"}])
    pod = await ws.pod()
    assert (await pod.chat(say("hi"))).outcome == "finished"
    assert "rate limited by the provider (429); retrying in 0.0 s" in ws.recorder.alerts()[0]
    first, second = ws.model.arrivals
    assert second - first >= 0.04  # the wait the provider asked for (under the 0.05 s cap)
    ws.model.load([{"status": 429, "retry_after": 0.01}] * 3)
    result = await pod.chat(say("again"))
    assert result.error is not None and result.error.startswith(
        "The model provider rate-limited every attempt (3 tries over "
    )
    assert_failed(ws, pod, result, result.error)


async def test_401_names_the_key_variable_and_never_the_key(ws: Workspace) -> None:
    ws.model.load([{"status": 401, "error": f"Incorrect API key provided: {TEST_API_KEY}"}] * 3)
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert_failed(
        ws,
        pod,
        result,
        "Authentication failed for model openai/scripted (HTTP 401): check YOI_API_KEY.",
    )
    assert len(ws.model.requests) == 1  # not retried
    assert pod.history == [user("hi")]
    assert TEST_API_KEY not in ws.store().path(pod.session_id).read_text()


async def test_400_context_length_says_to_compact(ws: Workspace) -> None:
    ws.model.load(
        [
            {
                "status": 400,
                "error": "This model's maximum context length is 8192 tokens. However, your "
                "messages resulted in 9001 tokens. Please reduce the length of the messages.",
            }
        ]
    )
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert_failed(
        ws,
        pod,
        result,
        "The conversation is too long for the context window of openai/scripted. "
        "Compact the session or start a new one.",
    )
    assert pod.history == [user("hi")]


# ---------------------------------------------------------------- broken streams


async def test_a_connection_cut_mid_stream_keeps_the_text_marked_cut_off(
    ws: Workspace,
) -> None:
    ws.model.load([{"text": "The answer is forty", "chunk_size": 5, "end": "cut"}])
    pod = await ws.pod()
    result = await pod.chat(say("what is the answer?"))
    assert result.error is not None
    assert result.error.startswith(
        "The answer from openai/scripted was cut off: the connection to the provider broke ("
    )
    assert result.error.endswith("). Ask again to retry.")
    assert_failed(ws, pod, result, result.error)
    assert ws.recorder.text() == "The answer is forty"
    kept = Message(role="assistant", text="The answer is forty" + CUT_OFF_MARK)
    assert pod.history == [user("what is the answer?"), kept]
    assert len(ws.model.requests) == 1  # text was shown: never retried
    await assert_next_turn_goes_on(ws, pod, [user("what is the answer?"), kept])


async def test_a_malformed_stream_is_named_as_such(ws: Workspace) -> None:
    ws.model.load([{"text": "Step one", "end": "malformed"}])
    pod = await ws.pod()
    result = await pod.chat(say("plan it"))
    assert_failed(
        ws,
        pod,
        result,
        "The answer from openai/scripted was cut off: the provider sent a malformed stream "
        "(an event that is not JSON: Unterminated string starting at: line 1 column 48 "
        "(char 47)). Ask again to retry.",
    )
    assert pod.history == [
        user("plan it"),
        Message(role="assistant", text="Step one" + CUT_OFF_MARK),
    ]


async def test_an_error_event_in_the_stream_is_the_providers_error(ws: Workspace) -> None:
    ws.model.load([{"text": "Partly", "end": "error", "stream_error": "Overloaded"}])
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert_failed(
        ws,
        pod,
        result,
        "The model provider reported an error while openai/scripted was answering: "
        "Overloaded. The answer is cut off where the error came. Ask again to retry.",
    )
    assert pod.history == [user("hi"), Message(role="assistant", text="Partly" + CUT_OFF_MARK)]


async def test_a_stall_ends_with_an_interrupt(ws: Workspace) -> None:
    ws.model.load([{"text": "Thinking it over", "end": "stall"}])
    pod = await ws.pod()
    turn = asyncio.create_task(pod.chat(say("think")))
    while ws.recorder.text() != "Thinking it over":
        await ws.recorder.wait_for(TextDelta)
        await asyncio.sleep(0.01)
    assert pod.interrupt()
    result = await asyncio.wait_for(turn, 5)
    assert (result.outcome, result.error) == ("interrupted", None)
    await ws.model.wait_for_disconnect_async(1, patience=5)  # the stream was closed
    assert pod.history == [user("think"), Message(role="assistant", text="Thinking it over")]
    assert_consistent(ws, pod)
    ws.model.load([{"text": "Done thinking."}])
    assert (await pod.chat(say("go on"))).outcome == "finished"
    notes = [m["content"] for m in ws.model.requests[0]["messages"] if m["role"] == "system"]
    assert any("interrupted" in note for note in notes[1:])
    assert_consistent(ws, pod)


async def test_truncated_tool_arguments_are_reported_to_the_model(ws: Workspace) -> None:
    truncated = '{"path": "notes.md", "content": "# Not'
    ws.model.load(
        [
            {
                "text": "Writing it.",
                "tool_calls": [{"name": "write_file", "arguments": truncated, "id": "call_w"}],
                "finish_reason": "length",
            },
            {"text": "My output was cut; I will write it in parts."},
        ]
    )
    pod = await ws.pod()
    result = await pod.chat(say("write notes"))
    assert (result.outcome, result.error) == ("finished", None)
    assert not (ws.root / "notes.md").exists()
    call, outcome = pod.history[2], pod.history[3]
    assert call == ToolCall(call_id="call_w", name="write_file", arguments=truncated)
    assert isinstance(outcome, ToolResult) and outcome.is_error
    assert "are not a valid JSON object" in outcome.summary
    assert not ws.recorder.of(ToolResultEvent)[0].ok
    tool_message = ws.model.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and "not a valid JSON object" in tool_message["content"]
    assert_consistent(ws, pod)


async def test_an_empty_completion_is_an_error_not_silence(ws: Workspace) -> None:
    ws.model.load([{"usage": {"prompt_tokens": 50, "completion_tokens": 0}}])
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert_failed(
        ws,
        pod,
        result,
        "openai/scripted ended its answer without any text or tool call (finish reason: "
        "stop). Ask again, or rephrase the request.",
    )
    assert pod.history == [user("hi")]
    assert ws.recorder.text() == ""
    await assert_next_turn_goes_on(ws, pod, [user("hi")])


async def test_a_5_mb_reply_arrives_whole(ws: Workspace) -> None:
    reply = "".join(f"line {n:07d} of a very long answer\n" for n in range(5 * 2**20 // 32))
    assert len(reply) >= 5 * 2**20
    ws.model.load([{"text": reply, "chunk_size": 2**16}])
    pod = await ws.pod()
    result = await pod.chat(say("everything"))
    assert (result.outcome, result.error) == ("finished", None)
    assert ws.recorder.text() == reply
    assert pod.history == [user("everything"), Message(role="assistant", text=reply)]
    assert ws.store().path(pod.session_id).stat().st_size > len(reply)
    assert_consistent(ws, pod)


# ---------------------------------------------------------------- answers that are not


async def test_an_html_page_with_200_is_an_error(ws: Workspace) -> None:
    ws.model.load([{"body": PAGE}, {"text": "unused"}])
    pod = await ws.pod()
    result = await pod.chat(say("hi"))
    assert_failed(
        ws,
        pod,
        result,
        f"The model provider for openai/scripted at {ws.model.base_url} answered with an "
        "HTML page (HTTP 200, text/html), not a chat-completion stream. Check the model's "
        "api_base: it may point at a web page or a proxy's sign-in page.",
    )
    assert len(ws.model.requests) == 1
    assert pod.history == [user("hi")]
    assert usage_entries(ws, pod) == []  # no made-up usage
    assert ws.recorder.text() == ""


async def test_a_stream_without_finish_reason_or_done_is_cut_off(ws: Workspace) -> None:
    ws.model.load([{"text": "The answer is forty", "chunk_size": 6, "end": "eof"}])
    pod = await ws.pod()
    result = await pod.chat(say("what is the answer?"))
    assert_failed(
        ws,
        pod,
        result,
        "The answer from openai/scripted was cut off: the stream ended before the model "
        "finished (no finish_reason came). Ask again to retry.",
    )
    assert ws.recorder.text() == "The answer is forty"
    kept = Message(role="assistant", text="The answer is forty" + CUT_OFF_MARK)
    assert pod.history == [user("what is the answer?"), kept]
    assert usage_entries(ws, pod) == []  # litellm's estimate is not the provider's count
    await assert_next_turn_goes_on(ws, pod, [user("what is the answer?"), kept])


# ---------------------------------------------------------------- the model process


@pytest.fixture
async def process() -> AsyncIterator[ModelProcess]:
    proc = ModelProcess(model=MODEL, env=model_process_env())
    yield proc
    await proc.close()


@pytest.mark.timeout(90)
async def test_faults_keep_their_class_and_words_across_the_model_process(
    process: ModelProcess, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [{"text": "The answer is forty", "end": "eof"}, {"body": PAGE}, {"text": "fine"}]
    )
    client = RemoteLlmClient(model_config(scripted_model.base_url), process)
    request = LlmRequest(system="s", items=[user("hi")], tools=[])
    events: list[StreamEvent] = []
    with pytest.raises(IncompleteResponse) as cut:
        async for event in client.stream(request):
            events.append(event)
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "The answer is forty"
    assert str(cut.value) == (
        "The answer from openai/scripted was cut off: the stream ended before the model "
        "finished (no finish_reason came). Ask again to retry."
    )
    with pytest.raises(BadResponse, match=r"answered with an HTML page \(HTTP 200, text/html\)"):
        _ = [event async for event in client.stream(request)]
    done = [e async for e in client.stream(request)][-1]  # the process goes on
    assert isinstance(done, Completed) and done.response.text == "fine"
