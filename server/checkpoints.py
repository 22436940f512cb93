"""``yoi/checkpoints/*`` and ``yoi/session/fork|resend``: list a pod's turns
and their checkpoints, diff them, restore files and conversation, fork.

The work is :func:`agent.checkpoints.rewind.restore`'s; this module is the
editor's side of it. A restore claims the pod (a running turn makes it fail
with ``busy``), takes a snapshot of the workspace as it is now, and brings
every changed path back to the checkpoint: open documents through one
``workspace/applyEdit`` (pinned to their versions, so the editor's undo and
its conflict check apply), closed files on disk. Paths changed outside the
agent since the checkpoint are only overwritten after the client confirms
through ``yoi/approval`` (tool ``restore_checkpoint``, with the diffs), or with
``force``; a client without approvals gets an error and nothing changes. The
restore is logged (``begun``, then ``done``) in the pod's session; a
conversation restore then continues the pod on a fork of its session that ends
before the turn.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pydantic import Field
from pygls.workspace import TextDocument

from agent import paths
from agent.checkpoints import restore as rs
from agent.checkpoints import rewind
from agent.checkpoints.fork import fork_before
from agent.checkpoints.recorder import Recorder
from agent.checkpoints.shadow import Change, ShadowRepo
from agent.checkpoints.timeline import Timeline, Turn, read_timeline
from agent.errors import InvalidArgument, YoiError
from agent.events import Alert
from agent.ids import uuid7
from agent.pod import Pod
from agent.ports import ApprovalRequest
from agent.segments import Segment
from agent.store import SessionStore
from server import payloads as pl
from server import protocol as p
from server.app import YoiServer
from server.approvals import LspApprovals
from server.editor import line_edits, path_of
from server.errors import invalid_params, maps_errors

TurnIndex = Field(ge=1, strict=True)


class ListParams(pl.Params):
    pod_id: pl.PodId


class DiffParams(pl.Params):
    pod_id: pl.PodId
    turn: int = TurnIndex
    to_turn: int | None = Field(default=None, ge=1, strict=True)


class RestoreParams(pl.Params):
    pod_id: pl.PodId
    turn: int = TurnIndex
    files: bool = True
    conversation: bool = False
    force: bool = False  # overwrite changes made outside the agent without asking


class ForkParams(pl.Params):
    pod_id: pl.PodId
    turn: int = TurnIndex


class ResendParams(pl.Params):
    pod_id: pl.PodId
    turn: int = TurnIndex
    input: list[Segment] = Field(min_length=1)
    files: bool = False
    force: bool = False


# ---------------------------------------------------------------- handlers


@maps_errors(p.CHECKPOINTS_LIST)
async def checkpoints_list(ls: YoiServer, params: Any) -> dict[str, Any]:
    pod = _pod(ls, pl.parse(p.CHECKPOINTS_LIST, ListParams, params).pod_id, p.CHECKPOINTS_LIST)
    timeline = await asyncio.to_thread(read_timeline, _store(ls), pod.session_id)
    repo = _repo(pod)
    files = await asyncio.to_thread(_files_per_turn, repo, timeline) if repo else {}
    return {
        "sessionId": pod.session_id,
        "turns": [
            {
                "turn": t.index,
                "time": t.ts,
                "text": t.text,
                "checkpoint": t.index in files,
                "files": sorted(files.get(t.index, ())),
            }
            for t in timeline.turns
        ],
    }


@maps_errors(p.CHECKPOINTS_DIFF)
async def checkpoints_diff(ls: YoiServer, params: Any) -> dict[str, Any]:
    parsed = pl.parse(p.CHECKPOINTS_DIFF, DiffParams, params)
    pod = _pod(ls, parsed.pod_id, p.CHECKPOINTS_DIFF)
    recorder = rewind.recorder_of(pod)
    timeline = await asyncio.to_thread(read_timeline, _store(ls), pod.session_id)
    turn = _turn(timeline, parsed.turn, p.CHECKPOINTS_DIFF)
    start = await asyncio.to_thread(rewind.checkpoint_of, recorder.repo, turn)  # runs git
    if parsed.to_turn is not None:
        to_turn = _turn(timeline, parsed.to_turn, p.CHECKPOINTS_DIFF, "toTurn")
        end = await asyncio.to_thread(rewind.checkpoint_of, recorder.repo, to_turn)
    else:
        end = await _snapshot(recorder, "now")
    files = await asyncio.to_thread(_diffs, recorder.repo, start, end)
    return {"turn": parsed.turn, "toTurn": parsed.to_turn, "files": files}


@maps_errors(p.CHECKPOINTS_RESTORE)
async def checkpoints_restore(ls: YoiServer, params: Any) -> dict[str, Any]:
    parsed = pl.parse(p.CHECKPOINTS_RESTORE, RestoreParams, params)
    pod = _pod(ls, parsed.pod_id, p.CHECKPOINTS_RESTORE)
    return await _restore(ls, pod, parsed)


@maps_errors(p.SESSION_FORK)
async def session_fork(ls: YoiServer, params: Any) -> dict[str, Any]:
    parsed = pl.parse(p.SESSION_FORK, ForkParams, params)
    pod = _pod(ls, parsed.pod_id, p.SESSION_FORK)
    store = _store(ls)
    timeline = await asyncio.to_thread(read_timeline, store, pod.session_id)
    turn = _turn(timeline, parsed.turn, p.SESSION_FORK)
    new_id = await asyncio.to_thread(fork_before, store, pod.session_id, turn)
    created = await ls.pods.create(pl.PodCreateParams(resume_session_id=new_id))
    return {**created, "forkedFrom": {"sessionId": pod.session_id, "turn": turn.index}}


@maps_errors(p.SESSION_RESEND)
async def session_resend(ls: YoiServer, params: Any) -> dict[str, Any]:
    parsed = pl.parse(p.SESSION_RESEND, ResendParams, params)
    pod = _pod(ls, parsed.pod_id, p.SESSION_RESEND)
    request = RestoreParams(
        pod_id=parsed.pod_id,
        turn=parsed.turn,
        files=parsed.files,
        conversation=True,
        force=parsed.force,
    )
    restored = await _restore(ls, pod, request, p.SESSION_RESEND)
    result = await ls.pods.chat(pl.ChatParams(pod_id=parsed.pod_id, input=parsed.input))
    return {**result, "restored": restored}


# ---------------------------------------------------------------- the restore


async def _restore(
    ls: YoiServer, pod: Pod, params: RestoreParams, method: str = p.CHECKPOINTS_RESTORE
) -> dict[str, Any]:
    repo = _repo(pod)  # its root is canonical, as the documents' paths are
    docs = _open_documents(ls, repo.root) if repo is not None else {}

    async def confirm(turn: Turn, plan: rs.Plan) -> None:
        await _confirm(ls, pod, turn, plan)

    async def apply_open(repo: ShadowRepo, changes: list[Change]) -> None:
        await _apply_in_editor(ls, repo, changes, docs)

    try:
        done = await rewind.restore(
            pod,
            _store(ls),
            params.turn,
            files=params.files,
            conversation=params.conversation,
            confirm=None if params.force else confirm,
            open_paths=docs.keys(),
            apply_open=apply_open,
        )
    except InvalidArgument as exc:
        raise invalid_params(method, str(exc)) from None
    result: dict[str, Any] = {"turn": done.turn, "files": done.files, "sessionId": done.session_id}
    if done.forked_from is not None:
        result["forkedFrom"] = {"sessionId": done.forked_from, "turn": done.turn}
        pod.events.emit(
            Alert(
                level="info",
                source="checkpoints",
                message=(
                    f"The conversation went back to before turn {done.turn}: it continues in "
                    f"session {done.session_id}; session {done.forked_from} stays as it was."
                ),
            )
        )
    return result


async def _confirm(ls: YoiServer, pod: Pod, turn: Turn, plan: rs.Plan) -> None:
    shown = ", ".join(plan.conflicts[:5]) + (" …" if len(plan.conflicts) > 5 else "")
    why = (
        f"{len(plan.conflicts)} file(s) changed outside the agent after turn {turn.index} "
        f"({shown}); restoring overwrites those changes"
    )
    if not ls.yoi_client_option("approvals"):
        raise YoiError(
            f"Nothing was restored: {why}, and this editor cannot ask for confirmation (it did "
            "not advertise the approvals capability). Save a copy of those changes, or restore "
            "with `force: true` to overwrite them."
        )
    diffs = await asyncio.to_thread(
        repo_diffs, rewind.recorder_of(pod).repo, plan.now, plan.target, plan.conflicts
    )
    approvals = LspApprovals(
        ls,
        pod_id=lambda: pod.id,
        warn=lambda m: pod.events.emit(Alert(level="warn", source="checkpoints", message=m)),
    )
    request = ApprovalRequest(
        tool_call_id=f"restore-{uuid7()}",
        tool="restore_checkpoint",
        arguments={"turn": turn.index, "files": list(plan.conflicts), "diffs": diffs},
        reason=why,
        cwd=rewind.recorder_of(pod).repo.root,
        session_key=f"restore_checkpoint:{turn.index}",
    )
    if await approvals.request_approval(request) == "deny":
        raise YoiError(f"Nothing was restored: the user kept the changes ({why}).")


def repo_diffs(repo: ShadowRepo, old: str, new: str, files: tuple[str, ...]) -> dict[str, str]:
    return repo.unified_diff(old, new, files)


def _open_documents(ls: YoiServer, root: Path) -> dict[str, tuple[str, str, int | None]]:
    """Open documents inside ``root``: relative path → (uri, text, version)."""
    try:
        documents = dict(ls.workspace.text_documents)
    except RuntimeError:
        return {}
    found: dict[str, tuple[str, str, int | None]] = {}
    for uri, doc in documents.items():
        path = path_of(uri)
        if path is None or not path.is_relative_to(root) or path == root:
            continue
        text = doc.source
        applied = ls.applied_edits.get(uri)
        if applied is not None and applied[0] == doc.version:
            text = applied[1]
        found[path.relative_to(root).as_posix()] = (uri, text, doc.version)
    return found


async def _apply_in_editor(
    ls: YoiServer,
    repo: ShadowRepo,
    changes: list[Change],
    docs: dict[str, tuple[str, str, int | None]],
) -> None:
    blobs = await asyncio.to_thread(repo.blobs, [c.new_sha for c in changes if c.new_sha])
    edits: list[types.TextDocumentEdit | types.CreateFile] = []
    after: dict[str, str] = {}
    for change in changes:
        assert change.new_sha is not None
        uri, text, version = docs[change.path]
        target = blobs[change.new_sha].decode("utf-8", errors="surrogateescape")
        after[uri] = target
        plain = [
            types.TextEdit(range=e.range, new_text=e.new_text)
            for e in line_edits(TextDocument(uri, text), text, target)
        ]
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        edits.append(types.TextDocumentEdit(text_document=identifier, edits=list(plain)))
    params = types.ApplyWorkspaceEditParams(
        label="Restore checkpoint", edit=types.WorkspaceEdit(document_changes=edits)
    )
    try:
        answer = await ls.request_cancellable(types.WORKSPACE_APPLY_EDIT, params)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        raise YoiError(
            f"Nothing was restored: the editor could not apply the edit ({exc})."
        ) from exc
    if not answer.applied:
        reason = answer.failure_reason or "the editor refused it"
        raise YoiError(f"The open documents were not restored: {reason}. Nothing else changed.")
    for uri, target in after.items():
        doc = ls.workspace.text_documents.get(uri)
        if doc is not None and doc.source != target:  # the client syncs later
            ls.applied_edits[uri] = (doc.version, target)


# ---------------------------------------------------------------- helpers


def _pod(ls: YoiServer, pod_id: str, method: str) -> Pod:
    return ls.pods.get(pod_id, method).pod


def _turn(timeline: Timeline, index: int, method: str, field: str = "turn") -> Turn:
    try:
        return timeline.turn(index, field)
    except InvalidArgument as exc:
        raise invalid_params(method, str(exc)) from None


def _store(ls: YoiServer) -> SessionStore:
    return SessionStore(paths.sessions_dir(ls.home))


def _repo(pod: Pod) -> ShadowRepo | None:
    checkpoints = pod.worker.checkpoints
    return checkpoints.repo if isinstance(checkpoints, Recorder) else None


async def _snapshot(recorder: Recorder, kind: str) -> str:
    snap = await recorder.snapshot(kind)
    if snap is None:
        raise rewind.CheckpointsOff(f"Checkpoints are off for this pod: {recorder.broken}")
    return snap.commit


def _files_per_turn(repo: ShadowRepo, timeline: Timeline) -> dict[int, set[str]]:
    """For each turn with a checkpoint: the paths that changed from its start
    to the next turn's start (the last one: to the latest snapshot)."""
    snaps = repo.snapshots()
    kept = {s.commit for s in snaps}
    turns = [t for t in timeline.turns if t.commit in kept]
    if not turns:
        return {}
    ends = [t.commit for t in turns[1:]] + [snaps[-1].commit]
    pairs = [(t.commit, end) for t, end in zip(turns, ends, strict=True) if t.commit and end]
    return {t.index: files for t, files in zip(turns, repo.changed_between(pairs), strict=True)}


def _diffs(repo: ShadowRepo, start: str, end: str) -> list[dict[str, Any]]:
    """Per changed file: its unified diff, and its text at both ends (``None``
    when absent or binary), for a side-by-side diff."""
    changes = repo.changes(start, end)
    diffs = repo.unified_diff(start, end)
    blobs = repo.blobs([sha for c in changes for sha in (c.old_sha, c.new_sha) if sha])

    def text(sha: str | None) -> str | None:
        if sha is None or b"\0" in blobs[sha]:  # absent, or binary as git sees it
            return None
        try:
            return blobs[sha].decode("utf-8")
        except UnicodeDecodeError:
            return None

    return [
        {
            "path": c.path,
            "status": _status(c),
            "diff": diffs.get(c.path, ""),
            "before": text(c.old_sha),
            "after": text(c.new_sha),
        }
        for c in changes
    ]


def _status(change: Change) -> str:
    if change.old_sha is None:
        return "added"
    if change.new_sha is None:
        return "deleted"
    return "modified"
