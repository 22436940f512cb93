"""Runtime errors → JSON-RPC errors. The only place that decides codes.

- bad params, an unknown ``podId`` or session → ``-32602`` naming the field;
- a busy pod → ``-32803`` with ``data.reason = "busy"``;
- a session open in another pod → ``-32803``, ``reason = "sessionInUse"``;
- a damaged session log → ``-32803``, ``reason = "sessionCorrupt"``;
- any other deliberate runtime error → ``-32803``, ``reason = "failed"``.

Anything else is a bug: pygls answers ``-32603`` and the server stays up.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from agent.errors import PodBusy, SessionCorrupt, SessionInUse, SessionNotFound, YoiError
from agent.pod_config import ConfigError
from server.protocol import REQUEST_FAILED, InvalidParams

P = ParamSpec("P")
R = TypeVar("R")


def invalid_params(method: str, message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"{method}: {message}")


def request_failed(message: str, reason: str) -> JsonRpcException:
    return JsonRpcException(message, REQUEST_FAILED, {"reason": reason})


def to_jsonrpc(method: str, exc: Exception) -> JsonRpcException:
    match exc:
        case InvalidParams():
            return JsonRpcInvalidParams(str(exc))
        case PodBusy():
            return request_failed(str(exc), "busy")
        case SessionInUse():
            return request_failed(str(exc), "sessionInUse")
        case SessionNotFound():
            return invalid_params(method, str(exc))
        case SessionCorrupt():
            return request_failed(str(exc), "sessionCorrupt")
        case ConfigError():
            return invalid_params(method, str(exc))
        case YoiError():
            return request_failed(str(exc), "failed")
    raise exc


def maps_errors(method: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a handler so runtime errors become the JSON-RPC errors above."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except JsonRpcException:
                raise
            except (InvalidParams, YoiError) as exc:
                raise to_jsonrpc(method, exc) from None

        return wrapper

    return decorate
