"""The language server object and its composition root, :func:`create_server`.

:class:`YoiServer` holds the server's state (no module-level state anywhere):
the workspace root chosen at ``initialize``, the pods, the workspace file
index, and the background tasks it started (each kept and its failure logged).
Handlers live in :mod:`server.features`, the one registration site.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cattrs
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
    lsp_method,
)

from agent import paths
from agent.workspace_index import WorkspaceIndex
from server import protocol as p
from server.errors import request_failed

if TYPE_CHECKING:
    from server.knowledge import WorkspaceKnowledge

log = logging.getLogger(__name__)

VERSION = "0.1.0"


def _keep_as_is(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(**obj)


def converter() -> cattrs.Converter:
    """pygls' converter, except that the params and results of methods it does
    not know (ours) stay plain JSON objects instead of namedtuples."""
    conv: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    for cls in (JsonRPCRequestMessage, JsonRPCResponseMessage, JsonRPCNotification):
        conv.register_structure_hook(cls, _keep_as_is)
    return conv


class YoiProtocol(LanguageServerProtocol):
    """Adds ``capabilities.experimental.yoi`` to the initialize result."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {
            "yoi": {"protocolVersion": p.PROTOCOL_VERSION, "features": list(p.FEATURES)}
        }
        return result


class YoiServer(LanguageServer):
    def __init__(self, home: Path | None = None) -> None:
        super().__init__(
            "yoi",
            VERSION,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=YoiProtocol,
            converter_factory=converter,
        )
        from server.pods import PodManager

        self.home = home or paths.yoi_home()
        self.root: Path | None = None
        self.options = p.InitializationOptions()
        self.pods = PodManager(self)
        self.index: WorkspaceIndex | None = None
        self._knowledge: WorkspaceKnowledge | None = None
        self.shut_down = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def overrides(self, model: str | None = None) -> dict[str, Any]:
        """Manifest overrides from the editor: its model and approvals mode."""
        overrides: dict[str, Any] = {}
        if model or self.options.model:
            overrides["model"] = {"name": model or self.options.model}
        if self.options.approvals:
            overrides["approvals"] = {"mode": self.options.approvals}
        return overrides

    async def knowledge(self) -> WorkspaceKnowledge:
        """The workspace's knowledge and memory (opened on first use)."""
        if self.root is None:
            raise request_failed(
                "No workspace folder is open, so there is no knowledge to show.", "failed"
            )
        if self._knowledge is None:
            from server.knowledge import WorkspaceKnowledge

            self._knowledge = await WorkspaceKnowledge.open(self, self.root)
        return self._knowledge

    # ------------------------------------------------------------ tasks

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task, keep a reference, and log its failure."""
        return self.keep(asyncio.ensure_future(coro), name)

    def keep(self, task: asyncio.Task[Any], name: str) -> asyncio.Task[Any]:
        """Keep a reference to a task started elsewhere and log its failure."""
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def stop_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------ client

    async def request_cancellable(self, method: str, params: Any) -> Any:
        """Send a request to the client; if the turn is interrupted while it
        waits, tell the client with ``$/cancelRequest`` (so an edit review or
        an approval dialog is withdrawn rather than answered late)."""
        msg_id = f"yoi-{uuid.uuid4()}"
        try:
            return await self.protocol.send_request_async(method, params, msg_id=msg_id)
        except asyncio.CancelledError:
            self.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            raise

    def client_supports(self, *path: str) -> bool:
        """Whether a (nested) client capability is present and truthy, e.g.
        ``client_supports("workspace", "apply_edit")``."""
        node: Any = self.client_capabilities
        for part in path:
            if node is None:
                return False
            node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        return bool(node)

    def yoi_client_option(self, name: str) -> Any:
        """``capabilities.experimental.yoi.<name>`` as the client advertised it."""
        experimental = getattr(self.client_capabilities, "experimental", None)
        if not isinstance(experimental, dict):
            return None
        yoi = experimental.get("yoi")
        return yoi.get(name) if isinstance(yoi, dict) else None

    def log_message(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=level, message=message))

    def show_message(self, message: str, level: types.MessageType) -> None:
        self.window_show_message(types.ShowMessageParams(type=level, message=message))


def create_server(home: Path | None = None) -> YoiServer:
    """Build the server and register every feature."""
    from server.features import register

    server = YoiServer(home)
    register(server)
    return server
