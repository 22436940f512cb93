"""The JSON-RPC edge: every message read, checked and answered.

pygls' own message loop hands every parsed object (nested ones included) to
its deserialiser, answers nothing for a body it cannot parse, executes a
request whose ``id`` is ``true`` and pops up "Error in server" for each bad
message. This loop (run by :mod:`server.stdio`) replaces it; pygls still
dispatches the messages that pass:

- framing: ``Content-Length`` is required and at most :data:`MAX_BODY` bytes;
  a bad header is skipped to the next frame (logged once per minute);
- a body that is not JSON (or nested too deep, or with absurd numbers) →
  ``-32700``; not an object, a batch, no ``"jsonrpc": "2.0"``, a ``method``
  that is not a string, an ``id`` that is not an integer or a string →
  ``-32600`` (with ``id: null`` when the id cannot be used);
- a request before ``initialize`` → ``-32002``; a second ``initialize`` or a
  request after ``shutdown`` → ``-32600``; notifications before ``initialize``
  are dropped (except ``exit``);
- a ``uri`` (or ``rootUri``/``rootPath``) holding a NUL byte → ``-32602``
  naming the field (a notification is dropped): paths from clients are data;
- params of a standard method that do not fit its type → ``-32602`` naming
  the field, decided in microseconds even for megabytes of junk.

Expected errors are logged in one line; nothing here ever shows the user a
message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import cattrs
from lsprotocol.types import ResponseErrorMessage
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCProtocol,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
)

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024  # bytes; an LSP message this large is a broken client
MAX_HEADER_LINE = 8192
PARSE_IN_THREAD = 1024 * 1024  # bodies this large are parsed off the event loop
URI_FIELDS = frozenset({"uri", "rootUri", "rootPath", "targetUri", "oldUri", "newUri"})
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
INTERNAL_ERROR = -32603


class Reader(Protocol):
    async def readline(self) -> bytes: ...
    async def readexactly(self, n: int) -> bytes: ...


class Rejected(Exception):
    """A message answered with an error (or dropped, for a notification)."""

    def __init__(self, code: int, message: str, msg_id: int | str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id


class _RateLimitedLog:
    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self.last = -every
        self.suppressed = 0

    def warning(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            self.suppressed += 1
            return
        if self.suppressed:
            message += f" ({self.suppressed} more like it since the last report)"
        self.last, self.suppressed = now, 0
        log.warning(message, *args)


class MessageLoop:
    def __init__(self, server: YoiServer, reader: Reader) -> None:
        self.server = server
        self.reader = reader
        self.bad_traffic = _RateLimitedLog()

    async def run(self, stop: Any) -> None:
        while not stop.is_set():
            try:
                body = await self._read_frame()
                if body is None:
                    return
                self._dispatch(await self._parse(body))
            except Rejected as exc:
                self._reject(exc)
            except Exception:  # a bug in handling one message must not end the loop
                log.exception("could not handle a message")

    # ------------------------------------------------------------ framing

    async def _read_frame(self) -> bytes | None:
        """The next body, or ``None`` at the end of the input."""
        length: int | None = None
        while True:
            try:
                line = await self.reader.readline()
            except ValueError:  # a header line longer than the reader's limit
                self.bad_traffic.warning("ignoring an over-long header line")
                continue
            if not line:
                return None
            if len(line) > MAX_HEADER_LINE:
                self.bad_traffic.warning("ignoring an over-long header line")
                continue
            if line in (b"\r\n", b"\n"):
                if length is None:
                    self.bad_traffic.warning("ignoring a message without Content-Length")
                    continue
                break
            match = _CONTENT_LENGTH.match(line.strip())
            if match:
                length = int(match.group(1))
        if length > MAX_BODY:
            await self._skip(length)
            raise Rejected(
                INVALID_REQUEST, f"The message is {length:,} bytes; the limit is {MAX_BODY:,}."
            )
        try:
            return await self.reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return None

    async def _skip(self, length: int) -> None:
        while length > 0:
            chunk = min(length, 1 << 20)
            try:
                await self.reader.readexactly(chunk)
            except asyncio.IncompleteReadError:
                return
            length -= chunk

    # ------------------------------------------------------------ parsing

    async def _parse(self, body: bytes) -> dict[str, Any]:
        if not body:
            raise Rejected(PARSE_ERROR, "Parse error: the message body is empty.")
        try:
            if len(body) > PARSE_IN_THREAD:
                data = await asyncio.to_thread(json.loads, body)
            else:
                data = json.loads(body)
        except RecursionError:
            raise Rejected(PARSE_ERROR, "Parse error: the JSON is nested too deeply.") from None
        except ValueError as exc:  # also: integers beyond Python's digit limit
            raise Rejected(PARSE_ERROR, f"Parse error: {_one_line(exc)}.") from None
        return check_envelope(data)

    # ------------------------------------------------------------ dispatch

    def _dispatch(self, data: dict[str, Any]) -> None:
        server = self.server
        protocol = server.protocol
        method = data.get("method")
        msg_id = data.get("id")
        is_request = method is not None and "id" in data
        if method is not None:
            check_lifecycle(server, method, msg_id if is_request else None, is_request)
            bad = bad_uri(data.get("params"))
            if bad is not None:
                raise Rejected(
                    INVALID_PARAMS,
                    f"{method}: `{bad}` is not a valid URI (it contains a NUL byte).",
                    msg_id,
                )
            if not is_request and method.startswith("$/") and method != "$/cancelRequest":
                return  # optional notifications ($/setTrace, ...) may be ignored
        elif data.get("id") in protocol._request_futures:
            waiting = protocol._request_futures[data["id"]]
            if waiting.done():  # the answer to a request we withdrew ($/cancelRequest)
                del protocol._request_futures[data["id"]]
                protocol._result_types.pop(data["id"], None)
                return
        try:
            message = structure(protocol, data)
        except Exception as exc:  # cattrs' validation errors, or a type it cannot build
            detail = describe_structure_error(exc) or _one_line(exc)
            raise Rejected(INVALID_PARAMS, f"{method}: invalid params: {detail}", msg_id) from None
        if method == "initialize":
            server.initialize_received = True
        try:
            protocol.handle_message(message)
        except Exception as exc:  # a bug: logged, and a request still gets its answer
            log.exception("could not handle %s", method or "a response")
            if is_request:
                raise Rejected(INTERNAL_ERROR, f"{method}: internal error: {exc}", msg_id) from None

    def _reject(self, exc: Rejected) -> None:
        if exc.msg_id is None and exc.code not in (PARSE_ERROR, INVALID_REQUEST):
            log.info("dropped a notification: %s", exc.message)
            return
        if exc.code in (PARSE_ERROR, INVALID_REQUEST) and exc.msg_id is None:
            self.bad_traffic.warning("malformed message: %s", exc.message)
        else:
            log.info("answered %d: %s", exc.code, exc.message)
        self.server.protocol._send_data(
            {
                "jsonrpc": "2.0",
                "id": exc.msg_id,
                "error": {"code": exc.code, "message": exc.message},
            }
        )


def structure(protocol: JsonRPCProtocol, data: dict[str, Any]) -> Any:
    """The typed message, as pygls' ``structure_message`` builds it, minus its
    traceback in the log for every bad message (checked envelopes only)."""
    conv = protocol._converter
    method = data.get("method")
    if "id" in data:
        if "error" in data:
            return conv.structure(data, ResponseErrorMessage)
        if method is not None:
            return conv.structure(data, protocol.get_message_type(method) or JsonRPCRequestMessage)
        result_type = protocol._result_types.pop(data["id"], None) or JsonRPCResponseMessage
        return conv.structure(data, result_type)
    return conv.structure(data, protocol.get_message_type(method or "") or JsonRPCNotification)


def check_envelope(data: Any) -> dict[str, Any]:
    """A JSON-RPC 2.0 request, notification or response — or :class:`Rejected`."""
    if isinstance(data, list):
        raise Rejected(INVALID_REQUEST, "Invalid request: batches are not part of LSP.")
    if not isinstance(data, dict):
        raise Rejected(INVALID_REQUEST, "Invalid request: a message must be a JSON object.")
    msg_id = data.get("id")
    id_ok = isinstance(msg_id, str) or (isinstance(msg_id, int) and not isinstance(msg_id, bool))
    usable_id = msg_id if id_ok else None
    if data.get("jsonrpc") != "2.0":
        raise Rejected(INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0".', usable_id)
    if "id" in data and not id_ok:
        raise Rejected(
            INVALID_REQUEST, "Invalid request: an id must be an integer or a string.", None
        )
    if "method" in data:
        method = data["method"]
        if not isinstance(method, str) or not method:
            raise Rejected(
                INVALID_REQUEST, 'Invalid request: "method" must be a non-empty string.', usable_id
            )
        params = data.get("params")
        if params is not None and not isinstance(params, dict | list):
            raise Rejected(INVALID_PARAMS, f"{method}: params must be an object", usable_id)
    elif "id" not in data or not ("result" in data or "error" in data):
        raise Rejected(
            INVALID_REQUEST, 'Invalid request: a message needs a "method" or a result.', usable_id
        )
    return data


def check_lifecycle(server: YoiServer, method: str, msg_id: Any, is_request: bool) -> None:
    """``initialize`` first and once; nothing but ``exit`` after ``shutdown``."""
    if method == "exit":
        return
    if not server.initialize_received:
        if method == "initialize":
            return
        if is_request:
            raise Rejected(
                SERVER_NOT_INITIALIZED,
                f"{method}: the server is not initialized yet; send initialize first.",
                msg_id,
            )
        raise Rejected(SERVER_NOT_INITIALIZED, f"{method} arrived before initialize")
    if method == "initialize":
        raise Rejected(INVALID_REQUEST, "initialize was already received.", msg_id)
    if server.protocol._shutdown and is_request:
        raise Rejected(
            INVALID_REQUEST,
            f"{method}: the server is shutting down (only exit is accepted).",
            msg_id,
        )


def bad_uri(params: Any) -> str | None:
    """The path of the first URI field holding a NUL byte, e.g.
    ``textDocument.uri``."""
    for path, value in _uri_fields(params, "", 0):
        if "\x00" in value or "%00" in value:
            return path
    return None


def _uri_fields(node: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if depth > 6:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key in URI_FIELDS and isinstance(value, str):
                yield where, value
            elif isinstance(value, dict | list):
                yield from _uri_fields(value, where, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node[:64]):
            if isinstance(value, dict | list):
                yield from _uri_fields(value, f"{path}[{index}]", depth + 1)


def describe_structure_error(exc: BaseException | None) -> str | None:
    """cattrs' validation error as ``expected a list @ $.contentChanges``."""
    if not isinstance(exc, cattrs.BaseValidationError):
        return None
    try:
        messages = cattrs.transform_error(exc, path="params")
    except Exception:
        return None
    return "; ".join(messages[:3]) if messages else None


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
