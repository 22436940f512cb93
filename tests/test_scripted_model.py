"""The scripted model server, spoken to over plain HTTP (no litellm)."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from agent.testing import BodyStep, ErrorStep, HangStep, ReplyStep, ScriptedModel, parse_script

pytestmark = pytest.mark.timeout(20)


def _connect(model: ScriptedModel) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", model.port, timeout=5)


def _post(model: ScriptedModel, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
    conn = _connect(model)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _get(model: ScriptedModel, path: str) -> tuple[int, Any]:
    conn = _connect(model)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _chat(model: ScriptedModel, **body: Any) -> tuple[int, dict[str, str], bytes]:
    payload = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], **body}
    return _post(model, "/v1/chat/completions", payload)


def _events(raw: bytes) -> list[Any]:
    lines = [line for line in raw.decode().split("\n\n") if line.strip()]
    assert all(line.startswith("data: ") for line in lines)
    return [line[len("data: ") :] for line in lines]


def _chunks(raw: bytes) -> list[dict[str, Any]]:
    events = _events(raw)
    assert events[-1] == "[DONE]"
    return [json.loads(event) for event in events[:-1]]


def _deltas(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [choice["delta"] for chunk in chunks for choice in chunk["choices"]]


def test_script_steps_are_validated_by_shape() -> None:
    steps = parse_script(
        [{"text": "hi"}, {"status": 429, "error": "slow", "retry_after": 1}, {"hang": True}]
    )
    assert [type(step) for step in steps] == [ReplyStep, ErrorStep, HangStep]
    assert parse_script({"steps": [{"text": "x"}]}) == [ReplyStep(text="x")]
    with pytest.raises(ValidationError):
        parse_script([{"text": "hi", "colour": "red"}])
    with pytest.raises(ValidationError):
        parse_script([{"status": 200}])


def test_models_endpoint_lists_the_scripted_model(scripted_model: ScriptedModel) -> None:
    status, body = _get(scripted_model, "/v1/models")
    assert status == 200
    assert [entry["id"] for entry in body["data"]] == ["scripted"]


def test_streams_reasoning_text_and_fragmented_tool_calls(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [
            {
                "reasoning": "let me think",
                "text": "Hello, world",
                "tool_calls": [{"name": "read_file", "arguments": {"path": "src/app.py"}}],
                "chunk_size": 5,
                "usage": {"prompt_tokens": 40, "completion_tokens": 9, "cached_tokens": 32},
            }
        ]
    )
    status, headers, raw = _chat(
        scripted_model, stream=True, stream_options={"include_usage": True}
    )
    assert status == 200
    assert headers["Content-Type"] == "text/event-stream"
    chunks = _chunks(raw)
    deltas = _deltas(chunks)
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "let me think"
    assert "".join(d.get("content") or "" for d in deltas) == "Hello, world"
    assert len([d for d in deltas if "content" in d and d["content"]]) == 3  # 5 chars a chunk
    fragments = [call for d in deltas for call in d.get("tool_calls", [])]
    assert fragments[0]["id"] == "call_1_0"
    assert fragments[0]["function"]["name"] == "read_file"
    argument_pieces = [f["function"]["arguments"] for f in fragments[1:]]
    assert len(argument_pieces) >= 3
    assert json.loads("".join(argument_pieces)) == {"path": "src/app.py"}
    finish = [
        c["finish_reason"] for chunk in chunks for c in chunk["choices"] if c["finish_reason"]
    ]
    assert finish == ["tool_calls"]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 40,
        "completion_tokens": 9,
        "total_tokens": 49,
        "prompt_tokens_details": {"cached_tokens": 32},
    }


def test_usage_chunk_only_when_asked_and_estimated_when_omitted(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"text": "short"}, {"text": "short"}])
    _, _, raw = _chat(scripted_model, stream=True)
    assert all("usage" not in chunk for chunk in _chunks(raw))
    big = [{"role": "user", "content": "x" * 4000}]
    _, _, raw = _chat(
        scripted_model, stream=True, stream_options={"include_usage": True}, messages=big
    )
    usage = _chunks(raw)[-1]["usage"]
    assert 1000 <= usage["prompt_tokens"] <= 1100
    assert usage["completion_tokens"] >= 1


def test_raw_string_arguments_and_missing_ids_are_sent_verbatim(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"tool_calls": [{"name": "edit", "arguments": '{"path": ', "id": ""}]}])
    _, _, raw = _chat(scripted_model, stream=True)
    fragments = [call for d in _deltas(_chunks(raw)) for call in d.get("tool_calls", [])]
    assert "id" not in fragments[0]
    assert "".join(f["function"]["arguments"] for f in fragments) == '{"path": '


def test_non_streaming_reply(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [{"text": "done", "reasoning": "r", "tool_calls": [{"name": "t", "arguments": {}}]}]
    )
    status, _, raw = _chat(scripted_model)
    body = json.loads(raw)
    assert status == 200
    message = body["choices"][0]["message"]
    assert message["content"] == "done"
    assert message["reasoning_content"] == "r"
    assert message["tool_calls"][0]["function"] == {"name": "t", "arguments": "{}"}
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["usage"]["prompt_tokens"] >= 1


def test_error_step_sends_status_message_and_retry_after(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"status": 429, "error": "slow down", "retry_after": 2}])
    status, headers, raw = _chat(scripted_model)
    assert status == 429
    assert headers["Retry-After"] == "2"
    assert json.loads(raw)["error"]["message"] == "slow down"


def test_exhausted_script_answers_400_saying_so(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "only one"}])
    assert _chat(scripted_model)[0] == 200
    status, _, raw = _chat(scripted_model)
    assert status == 400
    message = json.loads(raw)["error"]["message"]
    assert "no step left for request #2" in message
    assert scripted_model.remaining == 0


def test_requests_are_recorded_and_scripts_reload_over_http(
    scripted_model: ScriptedModel,
) -> None:
    status, _, raw = _post(scripted_model, "/_script", [{"text": "a"}, {"text": "b"}])
    assert (status, json.loads(raw)) == (200, {"loaded": 2})
    _chat(scripted_model, temperature=0.5)
    assert scripted_model.remaining == 1
    status, recorded = _get(scripted_model, "/_script/requests")
    assert status == 200
    assert recorded[0]["temperature"] == 0.5
    assert scripted_model.requests == recorded
    assert scripted_model.wait_for_requests(1) == recorded

    status, _, raw = _post(scripted_model, "/_script", {"steps": [{"status": 7}]})
    assert status == 400
    assert b"Invalid script" in raw
    scripted_model.load([{"text": "fresh"}])
    assert scripted_model.requests == []
    assert scripted_model.remaining == 1


def test_wait_for_requests_times_out_clearly(scripted_model: ScriptedModel) -> None:
    with pytest.raises(TimeoutError, match="received 0 requests"):
        scripted_model.wait_for_requests(1, timeout=0.05)


def test_hang_sends_one_chunk_then_notices_the_client_leaving(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"hang": True, "text": "partial"}])
    sock = socket.create_connection(("127.0.0.1", scripted_model.port), timeout=5)
    body = json.dumps({"messages": [], "stream": True}).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b"partial" not in received:
        received += sock.recv(4096)
    assert received.startswith(b"HTTP/1.0 200")
    sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        sock.recv(4096)  # stalled: nothing more arrives
    sock.close()
    scripted_model.wait_for_disconnect(1, timeout=2)
    assert scripted_model.disconnects == 1


def test_stop_ends_a_hanging_response() -> None:
    model = ScriptedModel([{"hang": True}])
    model.start()
    conn = _connect(model)
    conn.request("POST", "/v1/chat/completions", json.dumps({"stream": True}))
    response = conn.getresponse()
    assert response.status == 200
    started = time.monotonic()
    model.stop()
    assert time.monotonic() - started < 2
    response.read()  # the server closed the stream: read returns instead of hanging
    conn.close()


def test_runs_as_a_process_and_prints_ready(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "from a process"}]))
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.testing", "--script", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:")
        url = urlsplit(line.split()[1])
        assert url.path == "/v1"
        conn = http.client.HTTPConnection("127.0.0.1", url.port, timeout=5)
        conn.request("POST", "/v1/chat/completions", json.dumps({"messages": []}))
        body = json.loads(conn.getresponse().read())
        conn.close()
        assert body["choices"][0]["message"]["content"] == "from a process"
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


def test_bad_script_file_exits_with_a_message(tmp_path: Path) -> None:
    script = tmp_path / "bad.json"
    script.write_text("[{")
    result = subprocess.run(
        [sys.executable, "-m", "agent.testing", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 2
    assert "Cannot load the script" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------- faults


@contextlib.contextmanager
def _stream_response(model: ScriptedModel) -> Iterator[http.client.HTTPResponse]:
    conn = _connect(model)
    try:
        body = {"model": "scripted", "messages": [], "stream": True}
        conn.request("POST", "/v1/chat/completions", json.dumps(body))
        response = conn.getresponse()
        try:
            yield response
        finally:
            response.close()
    finally:
        conn.close()


def test_fault_steps_are_validated_by_shape() -> None:
    steps = parse_script(
        [{"body": "<html></html>"}, {"body": "{}", "status": 502, "content_type": "x/y"}]
    )
    assert steps == [
        BodyStep(body="<html></html>"),
        BodyStep(body="{}", status=502, content_type="x/y"),
    ]
    assert parse_script([{"text": "a", "end": "cut"}]) == [ReplyStep(text="a", end="cut")]
    with pytest.raises(ValidationError):
        parse_script([{"text": "a", "end": "explode"}])


def test_a_body_step_sends_its_body_as_it_is(scripted_model: ScriptedModel) -> None:
    page = "<!doctype html><html><body><h1>Sign in</h1></body></html>"
    scripted_model.load([{"body": page}, {"body": "upstream down", "status": 502}])
    status, headers, raw = _chat(scripted_model, stream=True)
    assert (status, raw.decode()) == (200, page)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    status, _, raw = _chat(scripted_model)
    assert (status, raw) == (502, b"upstream down")


def test_eof_ends_the_body_without_finish_reason_or_done(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "The answer is forty", "end": "eof", "chunk_size": 7}])
    with _stream_response(scripted_model) as response:
        assert response.version == 11 and response.getheader("Transfer-Encoding") == "chunked"
        events = _events(response.read())  # a complete chunked body
    assert "[DONE]" not in events
    chunks = [json.loads(event) for event in events]
    assert "".join(d.get("content") or "" for d in _deltas(chunks)) == "The answer is forty"
    assert all(c["finish_reason"] is None for chunk in chunks for c in chunk["choices"])
    assert all("usage" not in chunk for chunk in chunks)
    scripted_model.load([{"text": "whole", "end": "cut"}])
    _, _, raw = _chat(scripted_model)  # not streamed: the whole answer
    assert json.loads(raw)["choices"][0]["message"]["content"] == "whole"


@pytest.mark.parametrize("end", ["cut", "reset"])
def test_cut_and_reset_break_the_body(scripted_model: ScriptedModel, end: str) -> None:
    scripted_model.load([{"text": "The answer is forty", "end": end, "chunk_size": 100}])
    with (
        _stream_response(scripted_model) as response,
        pytest.raises((http.client.IncompleteRead, ConnectionResetError)) as caught,
    ):
        assert response.status == 200
        response.read()
    if end == "cut":
        assert isinstance(caught.value, http.client.IncompleteRead)
        assert b"The answer is " in caught.value.partial


def test_reset_sends_a_tcp_reset(scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "short", "end": "reset"}])
    sock = socket.create_connection(("127.0.0.1", scripted_model.port), timeout=5)
    body = json.dumps({"messages": [], "stream": True}).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    with pytest.raises(ConnectionResetError):  # never a clean end (recv returning b"")
        while chunk := sock.recv(4096):
            received += chunk
    sock.close()
    assert b"short" in received and not received.endswith(b"0\r\n\r\n")


def test_malformed_and_error_ends(scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [
            {"text": "partial", "end": "malformed"},
            {"text": "partial", "end": "error", "stream_error": "Overloaded"},
        ]
    )
    with _stream_response(scripted_model) as response:
        events = _events(response.read())
    assert events[-1] == "[DONE]"
    with pytest.raises(ValueError):
        json.loads(events[-2])
    with _stream_response(scripted_model) as response:
        events = _events(response.read())
    assert json.loads(events[-1]) == {
        "error": {"message": "Overloaded", "type": "server_error", "code": None}
    }


def test_stall_keeps_the_stream_open_until_the_client_leaves(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load([{"text": "waiting", "end": "stall"}])
    sock = socket.create_connection(("127.0.0.1", scripted_model.port), timeout=5)
    body = json.dumps({"messages": [], "stream": True}).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b"waiting" not in received:
        received += sock.recv(4096)
    sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        sock.recv(4096)
    sock.close()
    scripted_model.wait_for_disconnect(1, timeout=2)
