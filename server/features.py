"""Every feature of the language server, registered in one place.

The standard LSP handlers here are light: ``initialize`` is answered with no
more than pygls, lsprotocol and the method names imported. Every ``yoi/*``
request waits for the runtime (:meth:`YoiServer.ready`, loaded in the
background after ``initialized``) and then runs its handler from
:data:`server.handlers.HANDLERS`, which validates the params (``-32602``
naming the field), calls the pod manager or a domain function and shapes the
result.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types

from server import protocol as p
from server.app import YoiServer, root_from_initialize

log = logging.getLogger(__name__)

Handler = Callable[[YoiServer, Any], Awaitable[Any]]


def register(server: YoiServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: YoiServer, params: types.InitializeParams) -> None:
        ls.root = root_from_initialize(params)
        ls.raw_options = params.initialization_options
        log.info("workspace root: %s", ls.root)

    @server.feature(types.INITIALIZED)
    def initialized(ls: YoiServer, params: types.InitializedParams) -> None:
        ls.start_model()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: YoiServer, params: types.DidChangeConfigurationParams) -> None:
        ls.configuration_changed(params.settings)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: YoiServer, params: None) -> None:
        if ls.runtime_started:
            with contextlib.suppress(Exception):
                await ls.ready()
            from server.startup import stop_runtime

            await stop_runtime(ls)
        await ls.stop_model()
        await ls.stop_tasks()
        ls.shut_down = True

    @server.feature(types.EXIT)
    def exit_now(ls: YoiServer, params: None) -> None:
        """Exit at once: every session entry is already on disk (each append
        is fsynced), so there is nothing to flush, and skipping third-party
        exit hooks lets editors restart the server without a wait. The model
        process sees its pipe close and exits too."""
        if ls.output is not None:
            ls.output.drain_now()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(0 if ls.shut_down else 1)

    for method in p.REQUESTS:
        server.feature(method)(_deferred(method))


def _deferred(method: str) -> Handler:
    async def handle(ls: YoiServer, params: Any) -> Any:
        await ls.ready()
        from server.handlers import HANDLERS

        return await HANDLERS[method](ls, params)

    handle.__name__ = f"handle_{method.replace('/', '_')}"
    return handle
