"""A pytest-lsp client that drives the real ``yoi lsp --stdio`` process.

It records ``yoi/event`` notifications, answers ``yoi/approval`` from a queue,
and plays the editor for ``workspace/applyEdit``: it applies accepted edits to
its own copy of the open documents and reports them with ``didChange``, like a
real editor would.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import register_lsp_features

from agent.testing import ScriptedModel
from server.app import converter


@dataclass
class EditorState:
    """What the fake editor knows: open documents and how to answer."""

    docs: dict[str, tuple[int, str]] = field(default_factory=dict)  # uri -> (version, text)
    edit_answers: list[bool] = field(default_factory=list)
    edits: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    approval_answers: list[Any] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    before_answer: Callable[[], None] | None = None
    apply_only: int | None = None  # apply only the first N text edits (a partial review)
    sync_later: float | None = None  # send didChange this long after answering (eglot)
    hold_edits: asyncio.Event | None = None  # the user takes their time reviewing
    edits_cancelled: int = 0
    saves: list[str] = field(default_factory=list)  # yoi/document/save requests (uris)


def _offset(text: str, pos: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: pos.line]) + pos.character


def apply_text_edits(text: str, edits: list[Any]) -> str:
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start, end = _offset(text, edit.range.start), _offset(text, edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
    return text


def write_closed(uri: str, edits: list[Any]) -> None:
    """Apply edits to a file that is not open, byte for byte (line endings kept)."""
    path = Path(uri.removeprefix("file://"))
    old = path.read_bytes().decode() if path.exists() else ""
    path.write_bytes(apply_text_edits(old, edits).encode())


def make_client(state: EditorState) -> Callable[[], LanguageClient]:
    def factory() -> LanguageClient:
        client = LanguageClient(converter_factory=converter)
        register_lsp_features(client)  # pytest-lsp's own: progress, log messages, ...

        @client.feature("yoi/event")
        def on_event(params: dict[str, Any]) -> None:
            state.events.append(params)
            state.changed.set()

        @client.feature("yoi/approval")
        def on_approval(params: dict[str, Any]) -> Any:
            state.approvals.append(params)
            return state.approval_answers.pop(0) if state.approval_answers else {"decision": "deny"}

        @client.feature("yoi/document/save")
        def on_save(params: dict[str, Any]) -> Any:
            """Save an open document as an editor would: write it, then didSave."""
            uri = params["uri"]
            state.saves.append(uri)
            if uri not in state.docs:
                return {"saved": False}
            Path(uri.removeprefix("file://")).write_bytes(state.docs[uri][1].encode())
            client.text_document_did_save(
                types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            return {"saved": True}

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        async def on_apply_edit(
            params: types.ApplyWorkspaceEditParams,
        ) -> types.ApplyWorkspaceEditResult:
            state.edits.append(params)
            if state.hold_edits is not None:
                try:
                    await state.hold_edits.wait()
                except asyncio.CancelledError:  # the server withdrew the request
                    state.edits_cancelled += 1
                    raise
            if state.before_answer is not None:
                state.before_answer()
            accept = state.edit_answers.pop(0) if state.edit_answers else False
            if not accept:
                return types.ApplyWorkspaceEditResult(
                    applied=False, failure_reason="rejected in test"
                )
            for change in params.edit.document_changes or []:
                if isinstance(change, types.TextDocumentEdit):
                    uri = change.text_document.uri
                    if uri in state.docs:
                        version, text = state.docs[uri]
                        edits = list(change.edits)[: state.apply_only]
                        new_text = apply_text_edits(text, edits)
                        change_document(client, state, uri, new_text, state.sync_later)
                    else:  # a closed file: the editor writes it
                        write_closed(uri, list(change.edits))
            return types.ApplyWorkspaceEditResult(applied=True)

        return client

    return factory


def open_document(client: LanguageClient, state: EditorState, path: Path, text: str) -> str:
    uri = path.as_uri()
    state.docs[uri] = (1, text)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    return uri


def change_document(
    client: LanguageClient,
    state: EditorState,
    uri: str,
    text: str,
    notify_after: float | None = None,
) -> None:
    """The editor's buffer changes now; the server hears of it now, or
    ``notify_after`` seconds later (a client that syncs lazily)."""
    version = state.docs[uri][0] + 1
    state.docs[uri] = (version, text)
    params = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    )
    if notify_after is None:
        client.text_document_did_change(params)
    else:
        asyncio.get_running_loop().call_later(notify_after, client.text_document_did_change, params)


def capabilities(
    *,
    approvals: bool = True,
    apply_edit: bool = True,
    annotations: bool = True,
    save_documents: bool = False,
) -> types.ClientCapabilities:
    """A client's capabilities; ``approvals=False, annotations=False`` is a
    stock client that knows none of yoi's extras (like Emacs eglot).
    ``save_documents``: it answers ``yoi/document/save`` (as yoi's clients do)."""
    yoi: dict[str, Any] = {"approvals": True} if approvals else {}
    if save_documents:
        yoi["saveDocuments"] = True
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=apply_edit,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True,
                resource_operations=[types.ResourceOperationKind.Create],
                change_annotation_support=types.ChangeAnnotationsSupportOptions(
                    groups_on_label=True
                )
                if annotations
                else None,
            ),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
        experimental={"yoi": yoi} if yoi else None,
    )


@dataclass
class Session:
    client: LanguageClient
    state: EditorState
    root: Path | None
    initialize: types.InitializeResult
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def request(self, method: str, params: Any) -> Any:
        return await self.client.protocol.send_request_async(method, params)

    async def create_pod(self, **params: Any) -> str:
        result = await self.request("yoi/pod/create", params)
        return str(result["podId"])

    async def chat(self, pod_id: str, text: str, *extra: dict[str, Any]) -> dict[str, Any]:
        segments = [{"kind": "text", "text": text}, *extra]
        result: dict[str, Any] = await self.request(
            "yoi/chat", {"podId": pod_id, "input": segments}
        )
        return result

    def events(self, pod_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            e["event"]
            for e in self.state.events
            if e["podId"] == pod_id and (kind is None or e["event"]["type"] == kind)
        ]

    async def wait_event(self, pod_id: str, kind: str, patience: float = 30.0) -> dict[str, Any]:
        async with asyncio.timeout(patience):
            while not self.events(pod_id, kind):
                self.state.changed.clear()
                await self.state.changed.wait()
        return self.events(pod_id, kind)[0]


def server_env(home: Path, config: Path, base_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "YOI_HOME": str(home / "yoi"),
        "YOI_CONFIG_DIR": str(config),
        "YOI_MODEL": "openai/scripted",
        "YOI_API_BASE": base_url,
        "YOI_API_KEY": "test-key",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        # the model process starts with the first chat, not with every server:
        # most tests never chat (tests of the warm-up turn it back on)
        "YOI_PREWARM": "0",
        "YOI_SHARED_MODEL": "0",  # a private model process (see conftest.py)
    }


async def start(
    env: dict[str, str],
    root: Path | None,
    *,
    caps: types.ClientCapabilities | None = None,
    options: Any = None,
) -> Session:
    state = EditorState()
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "server.cli", "lsp", "--stdio"],
        server_env=env,
        client_factory=make_client(state),
    )
    client = await config.start()
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=caps or capabilities(),
            root_uri=root.as_uri() if root else None,
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")]
            if root
            else None,
            initialization_options=options,
        )
    )
    return Session(client=client, state=state, root=root, initialize=result)


async def stop(session: Session) -> None:
    await session.client.shutdown_session()
    await session.client.stop()


async def eventually(predicate: Callable[[], bool], patience: float = 10.0) -> bool:
    """Poll state the test cannot await (the client's progress and messages)."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        if predicate():
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- fixtures
# (used by the test_lsp_* files, which import them; each file defines ``root``)


@pytest.fixture
def env(tmp_path: Path, scripted_model: ScriptedModel) -> dict[str, str]:
    """The server's environment: a temporary home and the scripted model."""
    return server_env(tmp_path / "home", tmp_path / "config", scripted_model.base_url)


@pytest.fixture
async def lsp(env: dict[str, str], root: Path) -> AsyncIterator[Session]:
    """A started and initialized server for the workspace ``root``."""
    session = await start(env, root)
    yield session
    await stop(session)
