"""An OpenAI-compatible chat server that plays a script, for tests and the demo.

The server answers ``POST /v1/chat/completions`` with the next step of its
script (one step per request, in order) and records every request body. It
speaks real HTTP on 127.0.0.1, so the real litellm talks to it exactly as it
would talk to a provider.

A script is a JSON list of steps. Each step is one of:

``reply`` — an answer::

    {"text": "Hello", "reasoning": "thinking...",
     "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_1"}],
     "usage": {"prompt_tokens": 120, "completion_tokens": 7,
               "cached_tokens": 100, "cache_write_tokens": 0},
     "chunk_size": 8, "chunk_delay_ms": 0, "finish_reason": "stop"}

  Every field is optional. Reasoning streams as ``delta.reasoning_content``,
  then text, then the tool calls, arguments in several fragments. ``arguments``
  is an object or a raw string sent verbatim (malformed JSON included). A call
  without ``id`` gets ``call_<request>_<n>``; ``"id": ""`` sends none. Without
  ``usage``, prompt tokens are estimated from the request size (4 characters a
  token). ``finish_reason`` defaults to ``tool_calls`` or ``stop``.

  ``end`` says how a streamed answer ends (a request without ``stream`` gets
  the whole answer whatever it says):

  - ``"done"`` (default): a chunk with ``finish_reason``, the usage chunk if
    the request asked for it (``stream_options.include_usage``), ``[DONE]``;
  - ``"eof"``: the body ends properly, but without ``finish_reason``, usage
    or ``[DONE]``: a provider that stopped early;
  - ``"cut"``: the connection closes in the middle of the body (no final
    chunk of the chunked encoding): a dropped connection;
  - ``"reset"``: the connection is reset (TCP RST) in the middle of the body;
  - ``"stall"``: nothing more is sent until the client hangs up or the
    server stops;
  - ``"malformed"``: an event that is not JSON, then ``[DONE]``;
  - ``"error"``: an in-stream error event, ``{"error": {"message":
    <stream_error>, "type": "server_error"}}``, then the body ends.

  Every end but ``"done"`` sends the stream with HTTP/1.1 chunked encoding
  (``Connection: close``), so a cut is a broken body, as with a real
  provider; ``"done"`` answers in HTTP/1.0, the body ending with the
  connection. For example, an answer cut off after "The answer is forty"::

    {"text": "The answer is forty", "end": "eof"}

``error`` — an HTTP failure::

    {"status": 429, "error": "slow down", "retry_after": 2}

``body`` — a response sent as it is, whatever the request (``status``
defaults to 200, ``content_type`` to ``text/html; charset=utf-8``)::

    {"body": "<html><body>Sign in</body></html>", "status": 200}

``hang`` — send the headers and one chunk (``text``, default empty), then stall
until the client disconnects or the server stops (the same as a reply with
``"end": "stall"``, in HTTP/1.0)::

    {"hang": true, "text": "partial"}

Any step may have ``match``: it then answers only a request whose first user
message contains that text (a conversation's identity: a test's prompt, a
sub-agent's task), so conversations that run at the same time each get their
own steps, in order; a step without ``match`` answers any request. A request
gets the first step not played yet that answers it.

An exhausted script answers 400 saying so. Also: ``GET /v1/models``,
``GET /_script/requests`` (the recorded bodies), and ``POST /_script`` with a
list of steps (or ``{"steps": [...]}``), which loads a new script and forgets
the recorded requests. As a process: ``python -m agent.testing --script FILE
[--port N]`` prints ``READY http://127.0.0.1:<port>/v1`` and serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agent.testing.script import (
    MODEL_ID,
    BodyStep,
    ErrorStep,
    HangStep,
    ReplyStep,
    Step,
    completion_payload,
    finish_reason_of,
    first_user_text,
    image_urls,
    parse_script,
    reply_deltas,
    sse_chunk,
    usage_payload,
)


class _State:
    """The script, its position and what was received. Shared by handler
    threads; every access holds the condition's lock."""

    def __init__(self, steps: list[Step]) -> None:
        self.cond = threading.Condition()
        self.steps = steps
        self.position = 0
        self.used: set[int] = set()  # steps played out of order (``match``)
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.perf_counter() at each request
        self.disconnects = 0
        self.stopping = threading.Event()

    def load(self, steps: list[Step]) -> None:
        with self.cond:
            self.steps = steps
            self.position = 0
            self.used = set()
            self.requests = []
            self.arrivals = []
            self.disconnects = 0
            self.cond.notify_all()

    def take(self, body: dict[str, Any], arrived: float) -> tuple[int, Step | None]:
        """Record a request and return its number (1-based) and step."""
        with self.cond:
            self.requests.append(body)
            self.arrivals.append(arrived)
            number = len(self.requests)
            index = self._pick(body)
            step = self.steps[index] if index is not None else None
            if index is not None:
                self.used.add(index)
                while self.position in self.used:
                    self.position += 1
            self.cond.notify_all()
            return number, step

    def _pick(self, body: dict[str, Any]) -> int | None:
        """The first step not played yet that answers this request (its
        ``match``, if any, is in the request's first user message)."""
        first = first_user_text(body)
        for index in range(self.position, len(self.steps)):
            if index in self.used:
                continue
            match = self.steps[index].match
            if match is None or match in first:
                return index
        return None

    def note_disconnect(self) -> None:
        with self.cond:
            self.disconnects += 1
            self.cond.notify_all()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, state: _State) -> None:
        self.state = state
        self.resetting: set[socket.socket] = set()  # connections to close with a RST
        super().__init__(("127.0.0.1", port), _Handler)

    def shutdown_request(self, request: Any) -> None:
        if request in self.resetting:
            self.resetting.discard(request)
            self.close_request(request)  # no shutdown(SHUT_WR): that would send a FIN
            return
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    _chunked = False  # whether _write frames its data as HTTP/1.1 chunks

    def log_message(self, format: str, *args: Any) -> None:
        return None

    # ------------------------------------------------------------ routing

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "yoi"}
            self._json(200, {"object": "list", "data": [model]})
        elif self.path.rstrip("/") == "/_script/requests":
            with self.server.state.cond:
                recorded = list(self.server.state.requests)
            self._json(200, recorded)
        else:
            self._error(404, f"No route for GET {self.path}.")

    def do_POST(self) -> None:
        arrived = time.perf_counter()
        try:
            body = self._read_json()
        except ValueError as exc:
            self._error(400, f"The request body is not JSON: {exc}")
            return
        route = self.path.rstrip("/")
        if route == "/_script":
            try:
                steps = parse_script(body)
            except ValueError as exc:
                self._error(400, f"Invalid script: {exc}")
                return
            self.server.state.load(steps)
            self._json(200, {"loaded": len(steps)})
        elif route == "/v1/chat/completions":
            if not isinstance(body, dict):
                self._error(400, "The request body must be a JSON object.")
                return
            self._chat(body, arrived)
        else:
            self._error(404, f"No route for POST {self.path}.")

    # ------------------------------------------------------------ chat

    def _chat(self, body: dict[str, Any], arrived: float) -> None:
        state = self.server.state
        number, step = state.take(body, arrived)
        stream = bool(body.get("stream"))
        try:
            if step is None:
                with state.cond:
                    total = len(state.steps)
                self._error(
                    400,
                    f"The scripted model has no step left for request #{number} "
                    f"(the script had {total} steps).",
                )
            elif isinstance(step, ErrorStep):
                self._error(step.status, step.error, step.retry_after)
            elif isinstance(step, BodyStep):
                self._send(step.status, step.content_type, step.body.encode())
            elif isinstance(step, HangStep):
                self._hang(step, stream, number)
            elif stream:
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._stream_reply(step, body, number, include_usage)
            else:
                self._json(200, completion_payload(step, body, number))
        except (BrokenPipeError, ConnectionResetError):
            state.note_disconnect()

    def _stream_reply(
        self, step: ReplyStep, body: dict[str, Any], number: int, include_usage: bool
    ) -> None:
        self._start("text/event-stream", chunked=step.end != "done")
        delay = step.chunk_delay_ms / 1000
        for index, delta in enumerate(reply_deltas(step, number)):
            if index and delay:
                time.sleep(delay)
            self._sse(sse_chunk(number, delta))
        if step.end != "done":
            self._end_badly(step)
            return
        self._sse(sse_chunk(number, {}, finish_reason=finish_reason_of(step)))
        if include_usage:
            self._sse(sse_chunk(number, None, usage=usage_payload(step, body)))
        self._write(b"data: [DONE]\n\n")

    def _end_badly(self, step: ReplyStep) -> None:
        """End a chunked stream as ``step.end`` says (anything but ``done``)."""
        match step.end:
            case "cut":
                return  # the server closes the connection without the last chunk
            case "reset":
                self._reset()
                return
            case "stall":
                self._stall()
                return
            case "malformed":
                self._write(b'data: {"choices": [{"index": 0, "delta": {"content": "unfini\n\n')
                self._write(b"data: [DONE]\n\n")
            case "error":
                error = {"message": step.stream_error, "type": "server_error", "code": None}
                self._sse({"error": error})
        self.wfile.write(b"0\r\n\r\n")  # the last chunk: the body ends properly
        self.wfile.flush()

    def _hang(self, step: HangStep, stream: bool, number: int) -> None:
        self._start("text/event-stream" if stream else "application/json")
        if stream:
            self._sse(sse_chunk(number, {"role": "assistant", "content": step.text}))
        self._stall()

    def _stall(self) -> None:
        """Send nothing until the client hangs up (then raise) or the server
        stops (then return)."""
        while not self.server.state.stopping.is_set():
            if _peer_closed(self.connection):
                raise ConnectionResetError

    def _reset(self) -> None:
        """Have the connection reset: with a zero linger time, closing the
        socket sends a TCP RST (the server skips its usual FIN first)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.server.resetting.add(self.connection)

    # ------------------------------------------------------------ I/O

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"null")

    def _start(self, content_type: str, *, chunked: bool = False) -> None:
        """Send a 200 and headers for a body of unknown length: in HTTP/1.0,
        ended by closing the connection, or chunked in HTTP/1.1."""
        self._chunked = chunked
        if chunked:
            self.protocol_version = "HTTP/1.1"  # this response only
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def _sse(self, payload: dict[str, Any]) -> None:
        self._write(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write(self, data: bytes) -> None:
        if self._chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def _send(
        self,
        status: int,
        content_type: str,
        data: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._write(data)

    def _json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, "application/json", json.dumps(payload).encode(), headers)

    def _error(self, status: int, message: str, retry_after: float | None = None) -> None:
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        kinds = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}
        kind = kinds.get(status, "api_error")
        payload = {"error": {"message": message, "type": kind, "code": str(status)}}
        self._json(status, payload, headers)


def _peer_closed(conn: socket.socket) -> bool:
    readable, _, _ = select.select([conn], [], [], 0.05)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


# ---------------------------------------------------------------- public API


class ScriptedModel:
    """A scripted OpenAI-compatible server running in a background thread.

    >>> with ScriptedModel([{"text": "hi"}]) as model:   # doctest: +SKIP
    ...     base_url = model.base_url   # http://127.0.0.1:<port>/v1
    """

    def __init__(self, steps: Sequence[Step | Mapping[str, Any]] = (), *, port: int = 0) -> None:
        self._state = _State(parse_script(list(steps)))
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Start serving and return the base URL (ending in ``/v1``)."""
        if self._server is None:
            self._state.stopping.clear()
            self._server = _Server(self._port, self._state)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="scripted-model",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving; hanging responses end at once."""
        server, self._server = self._server, None
        if server is None:
            return
        self._state.stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedModel:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The scripted model is not running; call start() first.")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def load(self, steps: Sequence[Step | Mapping[str, Any]]) -> None:
        """Replace the script, restart at its first step and forget the
        recorded requests."""
        self._state.load(parse_script(list(steps)))

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every chat request body received since the script was loaded."""
        with self._state.cond:
            return list(self._state.requests)

    @property
    def image_urls(self) -> list[list[str]]:
        """The image URLs each recorded request carried (:func:`image_urls`)."""
        return [image_urls(body) for body in self.requests]

    @property
    def arrivals(self) -> list[float]:
        """When each request arrived (``time.perf_counter()`` in this process,
        taken as its headers were read), for measuring latency."""
        with self._state.cond:
            return list(self._state.arrivals)

    @property
    def remaining(self) -> int:
        """Steps not played yet."""
        with self._state.cond:
            return len(self._state.steps) - len(self._state.used)

    @property
    def disconnects(self) -> int:
        """How many responses ended because the client closed the connection."""
        with self._state.cond:
            return self._state.disconnects

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until ``count`` requests arrived (``TimeoutError`` after
        ``timeout`` seconds) and return them."""
        state = self._state
        with state.cond:
            if not state.cond.wait_for(lambda: len(state.requests) >= count, timeout):
                got = len(state.requests)
                raise TimeoutError(f"The scripted model received {got} requests, not {count}.")
            return list(state.requests)

    def wait_for_disconnect(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until ``count`` clients hung up mid-response."""
        state = self._state
        with state.cond:
            if not state.cond.wait_for(lambda: state.disconnects >= count, timeout):
                got = state.disconnects
                raise TimeoutError(f"The scripted model saw {got} disconnects, not {count}.")

    async def wait_for_requests_async(
        self, count: int, patience: float = 5.0
    ) -> list[dict[str, Any]]:
        """:meth:`wait_for_requests` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for_requests, count, patience)

    async def wait_for_disconnect_async(self, count: int = 1, patience: float = 5.0) -> None:
        """:meth:`wait_for_disconnect` without blocking the event loop."""
        await asyncio.to_thread(self.wait_for_disconnect, count, patience)
