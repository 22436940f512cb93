"""The editor port over LSP: the agent reads open buffers and proposes edits
through ``workspace/applyEdit``.

- Reads: a file open in the editor is read from the server's copy of the
  buffer (kept by ``didOpen``/``didChange``, incremental), unsaved text
  included.
- Edits: a whole-file change becomes a ``WorkspaceEdit`` of line-level
  ``AnnotatedTextEdit``s (one per changed hunk, so the editor can show them one
  by one), pinned to the buffer version, with a change annotation that needs
  confirmation and names the tool call. New files use ``CreateFile`` when the
  client supports resource operations. If the buffer (or the disk, for a
  closed file) no longer holds what the agent read, nothing is sent: the
  result is ``stale`` and the model is told to read the file again.
- Applied edits are visible at once: some clients (eglot) send the
  ``didChange`` for an edit they applied only later. After ``applied: true``
  with the buffer not yet changed, the server reads the document as the edit
  left it until the client's next ``didChange`` (which moves the version on)
  or ``didClose``.
- Change annotations (the review prompt) only go to clients that advertised
  ``changeAnnotationSupport``; others get plain text edits.
- An accepted edit to a document without unsaved changes is saved by the
  client when it can be asked to (:mod:`server.saving`).
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from agent.disk_editor import DiskEditor
from agent.fsutil import read_regular
from agent.ports import BufferSnapshot, EditResult, ProposedEdit
from agent.scope import canonical
from agent.tools.fs import decode
from server.saving import buffer_is_clean, save_accepted

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)

ANNOTATION_ID = "yoi"


class LspEditor:
    def __init__(self, server: YoiServer, fallback: Literal["refuse", "disk"]) -> None:
        self.server = server
        self.fallback = fallback

    # ------------------------------------------------------------ reads

    def _documents(self) -> dict[str, TextDocument]:
        try:
            return dict(self.server.workspace.text_documents)
        except RuntimeError:  # not initialized yet
            return {}

    def _document(self, path: Path) -> TextDocument | None:
        for uri, doc in self._documents().items():
            if path_of(uri) == path:
                applied = self.server.applied_edits.get(uri)
                if applied is None:
                    return doc
                if applied[0] == doc.version:  # the client has not synced it yet
                    return TextDocument(uri, applied[1], version=doc.version)
                del self.server.applied_edits[uri]
                return doc
        return None

    def open_buffer(self, path: Path) -> BufferSnapshot | None:
        doc = self._document(canonical(path))
        if doc is None:
            return None
        return BufferSnapshot(text=doc.source, version=doc.version or 0)

    def open_paths(self) -> list[Path]:
        return [p for p in map(path_of, self._documents()) if p is not None]

    # ------------------------------------------------------------ edits

    async def apply_edit(self, edit: ProposedEdit) -> EditResult:
        if not self.server.client_supports("workspace", "apply_edit"):
            if self.fallback == "disk":
                return await DiskEditor().apply_edit(edit)
            return EditResult(
                "failed",
                "This editor cannot apply edits (it did not advertise workspace.applyEdit), "
                'and [edits] fallback is "refuse", so nothing was changed.',
            )
        doc = self._document(canonical(edit.path))
        if doc is not None:
            changes = self._edit_open(doc, edit)
        else:
            changes = await self._edit_closed(edit)
        if isinstance(changes, EditResult):
            return changes
        # a buffer without the user's unsaved changes is saved once accepted whole
        clean = doc is None or await buffer_is_clean(edit.path, doc.source)
        result = await self._send(edit, changes)
        if clean and result.status == "applied" and not result.partial:
            await save_accepted(self.server, doc.uri if doc else _uri(edit.path))
        return result

    def _edit_open(
        self, doc: TextDocument, edit: ProposedEdit
    ) -> list[types.TextDocumentEdit | types.CreateFile] | EditResult:
        if edit.before is None or doc.source != edit.before:
            return EditResult(
                "stale", f"{edit.path.name} changed in the editor since it was read; read it again."
            )
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
        return [
            types.TextDocumentEdit(
                text_document=identifier, edits=list(line_edits(doc, edit.before, edit.after))
            )
        ]

    async def _edit_closed(
        self, edit: ProposedEdit
    ) -> list[types.TextDocumentEdit | types.CreateFile] | EditResult:
        uri = _uri(edit.path)
        try:
            on_disk = await asyncio.to_thread(_read_or_none, edit.path)
        except OSError as exc:
            return EditResult("failed", f"{edit.path.name} cannot be read: {exc.strerror or exc}")
        if on_disk != edit.before:
            return EditResult("stale", f"{edit.path.name} changed on disk since it was read.")
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None)
        if edit.before is None:
            if not self._can_create():
                if self.fallback == "disk":
                    return await DiskEditor().apply_edit(edit)
                return EditResult(
                    "failed",
                    "This editor cannot create files through edits (no resourceOperations "
                    '"create"), and [edits] fallback is "refuse".',
                )
            insert = types.AnnotatedTextEdit(
                range=_range(0, 0, 0, 0), new_text=edit.after, annotation_id=ANNOTATION_ID
            )
            create = types.CreateFile(
                uri=uri,
                options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                annotation_id=ANNOTATION_ID,
            )
            return [create, types.TextDocumentEdit(text_document=identifier, edits=[insert])]
        doc = TextDocument(uri, edit.before)
        return [
            types.TextDocumentEdit(
                text_document=identifier, edits=list(line_edits(doc, edit.before, edit.after))
            )
        ]

    def _can_create(self) -> bool:
        workspace = getattr(self.server.client_capabilities, "workspace", None)
        workspace_edit = getattr(workspace, "workspace_edit", None)
        operations = getattr(workspace_edit, "resource_operations", None) or []
        return types.ResourceOperationKind.Create in operations

    def _annotations(self) -> bool:
        return self.server.client_supports(
            "workspace", "workspace_edit", "change_annotation_support"
        )

    async def _send(
        self, edit: ProposedEdit, changes: list[types.TextDocumentEdit | types.CreateFile]
    ) -> EditResult:
        if self._annotations():
            annotation = types.ChangeAnnotation(
                label=edit.label,
                needs_confirmation=True,
                description=f"Proposed by the agent's {edit.tool} call {edit.call_id}",
            )
            workspace_edit = types.WorkspaceEdit(
                document_changes=changes, change_annotations={ANNOTATION_ID: annotation}
            )
        else:
            workspace_edit = types.WorkspaceEdit(document_changes=list(map(_plain, changes)))
        params = types.ApplyWorkspaceEditParams(label=edit.label, edit=workspace_edit)
        try:
            result = await self.server.request_cancellable(types.WORKSPACE_APPLY_EDIT, params)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("workspace/applyEdit failed: %s", exc)
            return EditResult("failed", f"The editor could not apply the edit: {exc}")
        if result.applied:
            return await self._settled(edit)
        reason = result.failure_reason or "the user rejected it"
        return EditResult("rejected", reason)

    async def _settled(self, edit: ProposedEdit) -> EditResult:
        """After ``applied: true``: did the buffer get all of it? A review may
        apply only the changes the user kept (clients send that ``didChange``
        before they answer, as VS Code does). A buffer still as it was means
        the client syncs later: from now on it is read as the edit left it."""
        path = canonical(edit.path)
        doc = self._document(path)
        if doc is None or doc.source == edit.after:
            return EditResult("applied")
        if doc.source == edit.before:
            self.server.applied_edits[doc.uri] = (doc.version, edit.after)
            return EditResult("applied")
        return EditResult("applied", "only some of the changes were kept", partial=True)


def _uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


@functools.lru_cache(maxsize=4096)
def path_of(uri: str) -> Path | None:
    """The canonical path of a document URI (memoised: a resolve per open
    document on every read would add up)."""
    fs_path = to_fs_path(uri)
    return canonical(Path(fs_path)) if fs_path is not None else None


def _plain(
    change: types.TextDocumentEdit | types.CreateFile,
) -> types.TextDocumentEdit | types.CreateFile:
    """The change without change annotations (for clients that lack them)."""
    if isinstance(change, types.CreateFile):
        return types.CreateFile(uri=change.uri, options=change.options)
    edits = [
        types.TextEdit(range=e.range, new_text=e.new_text)
        for e in change.edits
        if isinstance(e, types.TextEdit | types.AnnotatedTextEdit)
    ]
    return types.TextDocumentEdit(text_document=change.text_document, edits=list(edits))


def _read_or_none(path: Path) -> str | None:
    """The file as the agent's tools read it (bytes decoded the same way, line
    endings kept), or ``None`` when it does not exist."""
    try:
        return decode(read_regular(path))
    except FileNotFoundError:
        return None


def _range(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(
        start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2)
    )


def line_edits(doc: TextDocument, before: str, after: str) -> list[types.AnnotatedTextEdit]:
    """One edit per changed hunk of lines. Positions are line starts, except at
    the end of a document without a final newline, where the end of the last
    line is given in the client's position encoding."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    last = len(old)
    end_of_text: tuple[int, int] = (last, 0)
    if old and not old[-1].endswith(("\n", "\r")):
        codec = doc.position_codec
        end_of_text = (last - 1, codec.client_num_units(old[-1]))

    def position(line: int) -> tuple[int, int]:
        return end_of_text if line >= last else (line, 0)

    edits = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = position(i1), position(i2)
        text = "".join(new[j1:j2])
        edits.append(
            types.AnnotatedTextEdit(
                range=_range(*start, *end), new_text=text, annotation_id=ANNOTATION_ID
            )
        )
    return edits
