"""A session's turns and their checkpoints, read from its log.

Turn ``n`` (1-based) is the session's ``n``-th :class:`~agent.store.UserInput`;
its checkpoint is the ``checkpoints`` extension entry of kind ``turn`` that
follows it (written by :mod:`agent.checkpoints.recorder`). A forked session
holds its parent's entries up to the fork, so it lists those turns too. A
session that started from a compaction first lists the turns of the session it
was compacted from, up to the compaction (each turn knows its log).

Restores are recorded in the log as ``checkpoints`` extensions of kind
``restore`` (``state`` ``begun``, then ``done``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.errors import InvalidArgument, YoiError
from agent.segments import PasteSegment, TextSegment, mention
from agent.store import Extension, LogEntry, LogRecord, SessionStart, SessionStore, UserInput

DOMAIN = "checkpoints"
MAX_COMPACTIONS = 50  # sessions followed back through compactions


@dataclass(frozen=True)
class Turn:
    index: int
    ts: int
    text: str
    commit: str | None  # the snapshot at the turn's start; None: not recorded
    seq: int | None
    before_hash: str  # the hash of the log's last entry before this turn
    session_id: str = ""  # the log the turn is in (before a compaction: the parent's)


@dataclass(frozen=True)
class Timeline:
    session_id: str
    turns: tuple[Turn, ...]
    head: str | None

    def turn(self, index: int, field: str = "turn") -> Turn:
        for turn in self.turns:
            if turn.index == index:
                return turn
        raise InvalidArgument(
            f"`{field}` {index} is not a turn of session {self.session_id} "
            f"(it has {len(self.turns)} turns)."
        )


def read_timeline(store: SessionStore, session_id: str) -> Timeline:
    """The turns of ``session_id`` (reads and verifies the whole log), after
    those of the sessions it was compacted from, up to where it was."""
    read = store.read(session_id)
    return Timeline(session_id, tuple(_turns(store, read.records, session_id, 0)), read.head)


def _turns(
    store: SessionStore, records: Sequence[LogRecord], session_id: str, depth: int
) -> list[Turn]:
    turns: list[Turn] = []
    first = records[0].entry if records else None
    origin = first.compacted_from if isinstance(first, SessionStart) else None
    if origin is not None and depth < MAX_COMPACTIONS:
        try:
            parent = store.read(origin.session_id).records
        except YoiError:  # gone or damaged: its turns are not offered
            parent = ()
        cut = next((i for i, r in enumerate(parent) if r.hash == origin.at_hash), None)
        if cut is not None:
            turns = _turns(store, parent[: cut + 1], origin.session_id, depth + 1)
    pending: dict[str, Any] | None = None
    previous_hash = ""
    for record in records:
        entry: LogEntry = record.entry
        if isinstance(entry, UserInput):
            _close(turns, pending)
            pending = {
                "session_id": session_id,
                "index": len(turns) + 1,
                "ts": entry.ts,
                "text": typed_text(entry),
                "commit": None,
                "seq": None,
                "before_hash": previous_hash,
            }
        elif (
            isinstance(entry, Extension)
            and _is_turn_checkpoint(entry)
            and pending is not None
            and pending["commit"] is None
        ):
            payload = entry.payload
            assert isinstance(payload, dict)
            pending["commit"] = str(payload.get("commit"))
            seq = payload.get("seq")
            pending["seq"] = seq if isinstance(seq, int) else None
        previous_hash = record.hash
    _close(turns, pending)
    return turns


def typed_text(entry: UserInput) -> str:
    """The message as the user typed it: mentions as ``@path``, without the
    files' contents the model got with it."""
    parts = [
        s.text if isinstance(s, TextSegment | PasteSegment) else mention(s) for s in entry.segments
    ]
    return "".join(parts).strip() or entry.text


def _close(turns: list[Turn], pending: dict[str, Any] | None) -> None:
    if pending is not None:
        turns.append(Turn(**pending))


def _is_turn_checkpoint(entry: Extension) -> bool:
    return (
        entry.domain == DOMAIN
        and isinstance(entry.payload, dict)
        and entry.payload.get("kind") == "turn"
        and isinstance(entry.payload.get("commit"), str)
    )


def restore_entry(
    ts: int,
    turn: int,
    commit: str,
    files: list[str],
    state: str,
    *,
    forked_from: str | None = None,
) -> Extension:
    """The log's record of a restore (``state``: ``begun`` or ``done``). A
    conversation restore is recorded in the fork, naming the session it left."""
    payload: dict[str, Any] = {
        "kind": "restore",
        "turn": turn,
        "commit": commit,
        "files": list(files),
        "state": state,
    }
    if forked_from is not None:
        payload["conversation"] = True
        payload["forkedFrom"] = forked_from
    return Extension(ts=ts, domain=DOMAIN, payload=payload)
