"""Restoring a parent: its sub-agents' final states, and what its history says
of the ones that were running when the host stopped.

The ``agents`` entries of the parent's log give every sub-agent's last state
(:func:`agent.agents.record.fold`). A sub-agent whose run never ended was
running when the host stopped (a kill, a crash): its own log is read for its
last answer, its end is logged as ``interrupted``, and the parent's history
says so: the ``spawn_agent`` call it was waiting for gets its result, a
background one a system note. Persisted first, then added to the history.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from agent.agents.manager import Children, last_answer
from agent.agents.record import DOMAIN, STOPPED_WHILE_RUNNING, Child, ended_payload, fold
from agent.errors import YoiError
from agent.ids import now_ms
from agent.items import Item, system, unanswered_calls
from agent.store import Extension, ItemsEntry, LogEntry, RestoredState, SessionStore
from agent.tool_runner import not_run

if TYPE_CHECKING:
    from agent.pod import Pod

log = logging.getLogger(__name__)


async def restore_children(children: Children, pod: Pod, restored: RestoredState) -> None:
    children.children = fold(restored.extensions)
    cut = [c for c in children.children.values() if c.error == STOPPED_WHILE_RUNNING]
    if not cut or not pod.session.started:
        return
    store = pod.session.store
    for child in cut:
        child.answer = await asyncio.to_thread(_last_answer, store, child.session_id)
    by_call = {c.call_id: c for c in cut}
    items: list[Item] = []
    summary = pod.catalog.render("interrupt_tool_result_summary")
    for call in unanswered_calls(pod.history):
        found = by_call.pop(call.call_id, None) if call.name == "spawn_agent" else None
        items.append(not_run(call, cut_text(found) if found is not None else summary))
    items += [system(cut_text(c)) for c in by_call.values()]
    entries: list[LogEntry] = [
        Extension(ts=now_ms(), domain=DOMAIN, payload=ended_payload(c)) for c in cut
    ]
    entries.append(ItemsEntry(ts=now_ms(), items=items))
    await pod.session.append(entries)
    pod.worker.append(items)


def cut_text(child: Child) -> str:
    tail = (
        f" Its last answer before that:\n\n{child.answer}"
        if child.answer
        else " It had not answered yet."
    )
    return (
        f"The sub-agent `{child.name}` was interrupted: yoi stopped while it was running "
        f"(its session {child.session_id} is kept; send_to_agent continues it).{tail}"
    )


def _last_answer(store: SessionStore, session_id: str) -> str | None:
    if not session_id:
        return None
    try:
        return last_answer(store.restore(session_id).history)
    except (YoiError, OSError, ValueError) as exc:
        log.warning("could not read sub-agent session %s: %s", session_id, exc)
        return None
