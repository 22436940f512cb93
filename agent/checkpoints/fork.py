"""Taking the conversation back: a new session that is the old one up to the
end of the turn before a given turn.

The old log is never touched (it stays listed); the new one's
``session_start`` names it (``forked_from``: the old id and the hash of the
last entry copied), so both verify and the link is in the log. A pod either
continues on the fork (:func:`continue_on`, a conversation restore) or a new
pod resumes it (``yoi/session/fork``).
"""

from __future__ import annotations

import asyncio

from agent.checkpoints.timeline import Turn
from agent.errors import SessionError
from agent.ids import uuid7
from agent.pod import Pod
from agent.store import Origin, SessionStart, SessionStore


def fork_before(store: SessionStore, session_id: str, turn: Turn) -> str:
    """Write the fork that ends before ``turn``; its session id. The fork is
    taken from the log the turn is in: ``session_id``'s, or for a turn before a
    compaction, the session it was compacted from."""
    session_id = turn.session_id or session_id
    records = store.read(session_id).records
    for index, record in enumerate(records):
        if record.hash == turn.before_hash:
            prefix = [r.entry for r in records[: index + 1]]
            break
    else:
        raise SessionError(
            f"Session {session_id} no longer holds the entry before turn {turn.index}."
        )
    start = prefix[0]
    if not isinstance(start, SessionStart):
        raise SessionError(f"Session {session_id} does not begin with its session_start.")
    origin = Origin(session_id=session_id, at_hash=turn.before_hash)
    # compacted_from stays: the fork lists the turns before the compaction too
    first = start.model_copy(update={"forked_from": origin})
    new_id = uuid7()
    head = store.create(new_id, first)
    store.append(new_id, head, prefix[1:])
    return new_id


async def continue_on(pod: Pod, store: SessionStore, session_id: str) -> None:
    """Make an idle ``pod`` continue in ``session_id`` (a fork of its session)."""
    restored = await asyncio.to_thread(store.restore, session_id)
    pod.worker.replace_history(restored.history)
    pod.worker.cache_anchor = None
    pod.session.session_id, pod.session.head = session_id, restored.head
    pod.turn_count = restored.turn_count
    pod.last_run_interrupted = restored.last_run_interrupted
    pod.usage_records = list(restored.usage)
    await asyncio.to_thread(pod.registry.update_session, pod.id, session_id)
