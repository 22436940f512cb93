"""The language server object and its composition root, :func:`create_server`.

:class:`YoiServer` holds the server's state (no module-level state anywhere):
the workspace root chosen at ``initialize``, the pods, the workspace file
index, the model process, and the background tasks it started (each kept and
its failure logged). Handlers are registered in :mod:`server.features`, the
one registration site.

Start-up is in steps, so an editor sees a ready server as soon as a bare
pygls server would be: this module imports nothing but pygls, lsprotocol and
the method names, and answers ``initialize`` with that. Right after
``initialized`` the model process starts warming up litellm
(:meth:`YoiServer.start_model`). The runtime (pods, pydantic payloads, the
workspace index, knowledge) is imported in a worker thread when the first
``yoi/*`` request arrives (:meth:`YoiServer.start_runtime`); every ``yoi/*``
request first awaits :meth:`YoiServer.ready`. A server that is never asked
for yoi's features stays small.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Coroutine, Generator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cattrs
from cattrs import cols
from lsprotocol import types
from pygls.exceptions import JsonRpcException
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
from server import protocol as p

if TYPE_CHECKING:
    from agent.llm.process import ModelProcess
    from agent.llm.types import LlmClient, ModelConfig, RetryListener
    from agent.workspace_index import WorkspaceIndex
    from server.knowledge import WorkspaceKnowledge
    from server.payloads import InitializationOptions
    from server.pods import PodManager
    from server.stdio import PipeWriter

log = logging.getLogger(__name__)

VERSION = "0.1.0"


def _keep_as_is(obj: dict[str, Any], cls: type[Any]) -> Any:
    fields = {"id", "method", "jsonrpc", "params", "result"}
    values = {k: v for k, v in obj.items() if k in fields}
    if cls is not JsonRPCResponseMessage:
        values.setdefault("params", None)  # JSON-RPC allows a request without params
    else:
        values.setdefault("result", None)
    return cls(**values)


def _is_list_type(cl: Any) -> bool:
    return bool(cols.is_mutable_sequence(cl) or cols.is_sequence(cl))


def _list_hook_factory(cl: Any, conv: cattrs.Converter) -> Any:
    """cattrs structures a string where a list is expected one character at a
    time, with an exception per character: 50,000 characters took 19 s. A
    value that is not a list is refused at once."""
    if cols.is_mutable_sequence(cl):
        inner = cols.list_structure_factory(cl, conv)
    else:
        inner = cols.homogenous_tuple_structure_factory(cl, conv)

    def structure(value: Any, _: Any = cl) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a list, not {type(value).__name__}")
        return inner(value, cl)

    return structure


def converter() -> cattrs.Converter:
    """pygls' converter, except that the params and results of methods it does
    not know (ours) stay plain JSON objects instead of namedtuples, and a
    non-list where a list belongs fails fast."""
    conv: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    for cls in (JsonRPCRequestMessage, JsonRPCResponseMessage, JsonRPCNotification):
        conv.register_structure_hook(cls, _keep_as_is)
    conv.register_structure_hook_factory(_is_list_type, _list_hook_factory)
    return conv


class YoiProtocol(LanguageServerProtocol):
    """Adds ``capabilities.experimental.yoi`` to the initialize result; answers
    expected request errors (bad params, a busy pod) with one log line instead
    of a traceback. (pygls' ``_send_handler_result`` logs every
    ``JsonRpcException`` as an exception; overridden rather than forked.)"""

    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        if future.done() and not future.cancelled():
            exc = future.exception()
            if isinstance(exc, JsonRpcException):
                self._request_futures.pop(msg_id, None)
                log.info("request %s answered %s: %s", msg_id, exc.code, exc.message)
                self._send_response(msg_id, error=exc.to_response_error())
                return
        super()._send_handler_result(future, msg_id=msg_id)

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
        self.home = home or paths.yoi_home()
        self.root: Path | None = None
        self.raw_options: Any = None  # initializationOptions, validated at start-up
        self.options: InitializationOptions | None = None
        self._pods: PodManager | None = None
        self.index: WorkspaceIndex | None = None
        self.model_process: ModelProcess | None = None
        self._knowledge: WorkspaceKnowledge | None = None
        self._runtime: asyncio.Task[None] | None = None
        self._model: asyncio.Task[None] | None = None
        self.output: PipeWriter | None = None  # set by server.stdio
        self.initialize_received = False  # set by server.rpc
        self.told_approvals_unavailable = False
        # uri -> (the version the client had, the text after an edit it applied
        # but has not synced yet); see server.editor
        self.applied_edits: dict[str, tuple[int | None, str]] = {}
        self.shut_down = False
        self._last_error_shown = float("-inf")
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------ start-up

    def start_model(self) -> asyncio.Task[None]:
        """Start the model process (once, right after ``initialized``): litellm
        loads and warms up in it while the user is still opening files."""
        if self._model is None:
            self._model = self.run_task(self._start_model(), "model process start-up")
        return self._model

    async def _start_model(self) -> None:
        await asyncio.to_thread(import_quietly, "agent.llm.process")
        await asyncio.to_thread(import_quietly, "server.payloads")
        self.validate_options()
        from agent.llm import shared
        from agent.llm.process import ModelProcess, model_process_env

        self.model_process = ModelProcess(
            model=self.model_hint(), env=model_process_env(), shared=shared.enabled()
        )
        if prewarm_enabled():
            await self.model_process.start(warm_up=True)

    async def stop_model(self) -> None:
        """End the model process (and its start-up, if still under way)."""
        if self._model is not None and not self._model.done():
            self._model.cancel()
            await asyncio.gather(self._model, return_exceptions=True)
        if self.model_process is not None:
            await self.model_process.close()

    def start_runtime(self) -> asyncio.Task[None]:
        """Load the runtime in the background (once), when the first ``yoi/*``
        request asks for it; see the module's doc."""
        if self._runtime is None:
            self._runtime = self.run_task(self._load_runtime(), "runtime start-up")
        return self._runtime

    @property
    def runtime_started(self) -> bool:
        return self._runtime is not None

    async def ready(self) -> None:
        """Wait until the runtime is loaded (starting it if nobody did)."""
        await asyncio.shield(self.start_runtime())

    async def _load_runtime(self) -> None:
        await asyncio.shield(self.start_model())
        await asyncio.to_thread(import_quietly, "server.startup")
        from server.startup import start_runtime

        await start_runtime(self)

    @property
    def pods(self) -> PodManager:
        if self._pods is None:
            raise RuntimeError("the runtime is not loaded yet (await YoiServer.ready())")
        return self._pods

    @pods.setter
    def pods(self, pods: PodManager) -> None:
        self._pods = pods

    def overrides(self, model: str | None = None) -> dict[str, Any]:
        """Manifest overrides from the editor: its model and approvals mode."""
        overrides: dict[str, Any] = {}
        options = self.options
        if model or (options and options.model):
            overrides["model"] = {"name": model or (options.model if options else None)}
        if options and options.approvals:
            overrides["approvals"] = {"mode": options.approvals}
        return overrides

    def client_factory(self) -> Callable[[ModelConfig, RetryListener], LlmClient] | None:
        """Model clients that stream through the server's model process."""
        process = self.model_process
        if process is None:
            return None
        from agent.llm.process import RemoteLlmClient

        def make(config: ModelConfig, on_retry: RetryListener) -> LlmClient:
            return RemoteLlmClient(config, process, on_retry)

        return make

    def configuration_changed(self, settings: Any) -> None:
        """``workspace/didChangeConfiguration``: a ``yoi`` section (the same keys
        as ``initializationOptions``) replaces those options for pods created
        from now on; manifests are read afresh for every new pod anyway."""
        section = settings.get("yoi") if isinstance(settings, dict) else None
        if not isinstance(section, dict):
            log.info("configuration changed (no yoi section); manifests are read per pod")
            return
        base = self.raw_options if isinstance(self.raw_options, dict) else {}
        self.raw_options = {**base, **section}
        if self.options is not None:
            self.validate_options()
        log.info("configuration changed: %s", sorted(section))

    def validate_options(self) -> None:
        """Check the editor's options (needs the payload types: after start-up);
        bad ones fall back to the defaults with a warning naming the field."""
        from server.payloads import initialization_options

        self.options, warning = initialization_options(self.raw_options)
        if warning is not None:
            self.show_message(warning, types.MessageType.Warning)

    def model_hint(self) -> str | None:
        """The model the editor or the environment names, before any manifest
        is read: enough to warm up the right provider."""
        raw = self.raw_options
        model = raw.get("model") if isinstance(raw, dict) else None
        return model if isinstance(model, str) and model else os.environ.get("YOI_MODEL")

    async def knowledge(self) -> WorkspaceKnowledge:
        """The workspace's knowledge and memory (opened on first use)."""
        from server.errors import request_failed

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

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request's answer (a failed notification handler).
        Protocol errors (bad params, unknown methods) are the client's and are
        only logged; a bug is logged with its traceback and shown to the user
        at most once a minute, pointing at the log."""
        if isinstance(error, JsonRpcException):
            log.info("%s: %s", getattr(source, "__name__", source), error.message)
            return
        log.error("internal error (%s)", getattr(source, "__name__", source), exc_info=error)
        now = time.monotonic()
        if now - self._last_error_shown >= 60:
            self._last_error_shown = now
            self.show_message(
                f"yoi: internal error ({type(error).__name__}: {error}); the server keeps "
                "running. Details are in the language server's log.",
                types.MessageType.Error,
            )

    def log_message(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=level, message=message))

    def show_message(self, message: str, level: types.MessageType) -> None:
        self.window_show_message(types.ShowMessageParams(type=level, message=message))


def import_quietly(module: str) -> None:
    """Import ``module`` in a worker thread without stalling the event loop:
    the GIL is handed back every few milliseconds anyway, but a garbage
    collection, or pydantic's scan of every installed package for plugins,
    holds it for 20-60 ms at a time. So the collector waits until the import
    is done (see agent/store/verify.py's ``bulk_load`` for the same idea), and
    yoi's server takes no third-party pydantic plugins (it would not want them
    hooking into its validation)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        import pydantic.plugin._loader as plugins

        if plugins._plugins is None:
            plugins._plugins = {}  # pydantic's cache of plugins: none
        importlib.import_module(module)
    finally:
        # what the import built lives as long as the server: straight to the
        # oldest generation (two list splices), or the next young collection
        # would walk all of it, holding the GIL on the event loop's thread
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def prewarm_enabled() -> bool:
    """``YOI_PREWARM=0`` starts the model process on the first request instead
    of right after start-up (for machines where memory is tight)."""
    return os.environ.get("YOI_PREWARM", "1").strip().lower() not in ("0", "false", "no", "off")


def root_from_initialize(params: types.InitializeParams) -> Path | None:
    """The workspace root: ``rootUri``, else the first workspace folder, else
    ``rootPath``; ``None`` when the editor opened no folder."""
    from pygls.uris import to_fs_path

    candidates = [params.root_uri]
    if params.workspace_folders:
        candidates.append(params.workspace_folders[0].uri)
    for uri in candidates:
        if uri:
            path = to_fs_path(uri)
            if path and Path(path).is_dir():
                return Path(path).resolve()
    if params.root_path and Path(params.root_path).is_dir():
        return Path(params.root_path).resolve()
    return None


def create_server(home: Path | None = None) -> YoiServer:
    """Build the server and register every feature."""
    from server.features import register

    server = YoiServer(home)
    register(server)
    return server
