"""Going back to a turn, for any host: files, conversation, or both.

:func:`restore` claims the pod (a running turn: :class:`~agent.errors.PodBusy`;
no turn starts meanwhile), then

- **files**: snapshots the workspace now, plans the way back to the turn's
  checkpoint (:mod:`agent.checkpoints.restore`), lets the host ``confirm``
  overwriting files changed outside the agent (it raises to refuse), logs
  ``begun``, has the host write the paths it shows in open documents
  (``apply_open``) and writes the rest on disk, snapshots again, logs ``done``;
- **conversation**: forks the session before the turn and continues the pod
  on the fork (:mod:`agent.checkpoints.fork`).

The LSP server confirms through ``yoi/approval`` and writes open documents
through ``workspace/applyEdit``; the terminal asks on the terminal and has no
open documents.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from agent.checkpoints import restore as rs
from agent.checkpoints.fork import continue_on, fork_before
from agent.checkpoints.recorder import Recorder
from agent.checkpoints.shadow import Change, ShadowRepo
from agent.checkpoints.timeline import Timeline, Turn, read_timeline, restore_entry
from agent.errors import YoiError
from agent.ids import now_ms
from agent.pod import Pod
from agent.store import SessionStore

Confirm = Callable[[Turn, rs.Plan], Awaitable[None]]  # raises to refuse
ApplyOpen = Callable[[ShadowRepo, list[Change]], Awaitable[None]]


class CheckpointsOff(YoiError):
    """The pod has no checkpoints, or the turn's was never taken or pruned."""


class RestoreFailed(YoiError):
    """A file could not be written back (permissions, a full disk)."""


@dataclass(frozen=True)
class Restored:
    turn: int
    files: list[str] = field(default_factory=list)
    session_id: str = ""
    forked_from: str | None = None  # the session the conversation left


def recorder_of(pod: Pod) -> Recorder:
    checkpoints = pod.worker.checkpoints
    if not isinstance(checkpoints, Recorder):
        raise CheckpointsOff(
            "Checkpoints are off for this pod: no workspace folder is open, or "
            "[checkpoints] enabled = false in a manifest."
        )
    return checkpoints


async def timeline_of(pod: Pod, store: SessionStore) -> Timeline:
    return await asyncio.to_thread(read_timeline, store, pod.session_id)


def checkpoint_of(repo: ShadowRepo, turn: Turn) -> str:
    if turn.commit is None or not repo.exists(turn.commit):
        raise CheckpointsOff(
            f"Turn {turn.index} has no checkpoint (checkpoints were off, or it was pruned "
            "to keep the workspace's checkpoints under [checkpoints] max_repo_bytes)."
        )
    return turn.commit


async def restore(
    pod: Pod,
    store: SessionStore,
    turn_index: int,
    *,
    files: bool = True,
    conversation: bool = False,
    confirm: Confirm | None = None,
    open_paths: Collection[str] = (),
    apply_open: ApplyOpen | None = None,
) -> Restored:
    """Take ``pod`` back to the start of turn ``turn_index`` (see the module).
    ``confirm`` None overwrites changes made outside the agent without asking."""
    pod._claim()
    try:
        timeline = await timeline_of(pod, store)
        turn = timeline.turn(turn_index)
        written: list[str] = []
        if files:
            written = await _restore_files(pod, turn, confirm, open_paths, apply_open)
        if not conversation:
            return Restored(turn.index, written, pod.session_id)
        old = pod.session_id
        new_id = await asyncio.to_thread(fork_before, store, old, turn)
        await continue_on(pod, store, new_id)
        record = restore_entry(now_ms(), turn.index, turn.commit or "", [], "done", forked_from=old)
        await pod.session.append([record])
        return Restored(turn.index, written, new_id, old)
    finally:
        pod._release()


async def _restore_files(
    pod: Pod,
    turn: Turn,
    confirm: Confirm | None,
    open_paths: Collection[str],
    apply_open: ApplyOpen | None,
) -> list[str]:
    recorder = recorder_of(pod)
    repo = recorder.repo
    target = await asyncio.to_thread(checkpoint_of, repo, turn)  # git cat-file
    now = await recorder.snapshot("now")
    if now is None:
        raise CheckpointsOff(f"Checkpoints are off for this pod: {recorder.broken}")
    plan = await asyncio.to_thread(rs.plan, repo, target, turn.seq, now.commit, now.seq)
    if plan.conflicts and confirm is not None:
        await confirm(turn, plan)
    paths = plan.paths
    await pod.session.append([restore_entry(now_ms(), turn.index, target, paths, "begun")])
    in_editor = [c for c in plan.changes if c.path in open_paths and c.new_sha is not None]
    on_disk = [c for c in plan.changes if c not in in_editor]
    if in_editor and apply_open is not None:
        await apply_open(repo, in_editor)
    elif in_editor:
        on_disk = list(plan.changes)
    try:
        if on_disk:
            await asyncio.to_thread(rs.write_files, repo, on_disk, plan.modes)
        if plan.chmods:
            await asyncio.to_thread(rs.set_modes, repo.root, plan.chmods)
    except OSError as exc:
        raise RestoreFailed(
            f"The restore of turn {turn.index} stopped at {exc.filename or 'a file'}: "
            f"{exc.strerror or exc}. Fix that and restore again: what was restored stays, "
            "and the rest follows."
        ) from exc
    await recorder.snapshot("restore")
    await pod.session.append([restore_entry(now_ms(), turn.index, target, paths, "done")])
    return paths
