"""``yoi lsp --stdio``: run the language server on stdin/stdout.

stdout is the protocol channel and nothing else may write to it: the server
keeps a private copy of the stdout file descriptor for the protocol and points
file descriptor 1 (and ``sys.stdout``) at stderr, so a stray ``print`` in any
library lands in the log instead of corrupting the stream. Logs go to stderr
and, for yoi's own messages, to ``window/logMessage``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from server.app import YoiServer

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class ClientLogHandler(logging.Handler):
    """Forwards yoi's log records to the client as ``window/logMessage``."""

    def __init__(self, server: YoiServer) -> None:
        super().__init__(level=logging.INFO)
        self.server = server
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if (
            getattr(self._busy, "on", False)
            or threading.current_thread() is not threading.main_thread()
        ):
            return
        self._busy.on = True
        try:
            level = _LEVELS.get(record.levelno, types.MessageType.Log)
            self.server.log_message(self.format(record), level)
        except Exception:  # never let logging break the server
            self.handleError(record)
        finally:
            self._busy.on = False


def protect_stdout() -> int:
    """Duplicate stdout for the protocol and redirect fd 1 to stderr.
    Returns the protocol's file descriptor."""
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol_fd


def run_lsp() -> int:
    from server.cli import log_level

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    protocol_fd = protect_stdout()
    logging.basicConfig(
        stream=sys.stderr,
        level=log_level(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from server.app import create_server
    from server.stdio import serve

    server = create_server()
    handler = ClientLogHandler(server)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    for name in ("agent", "server"):
        logging.getLogger(name).addHandler(handler)
    serve(server, sys.stdin.buffer, protocol_fd)
    return 0
