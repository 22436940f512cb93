"""Restoring a session: folding its verified entries into the state a pod
resumes from. No snapshots: the log is the state.

Folding, in order:

- ``session_start`` sets the system prompt (verbatim), config, cwd, model and
  parent, and resets history to its seed history;
- ``user_input`` appends ``items.user(text, segments)`` to history (the
  user segments are those of the history's user messages, seed included);
- ``items`` extends history;
- ``turn_end`` sets ``turn_count``;
- ``llm_usage`` appends a :class:`UsageRecord`;
- ``run_completed`` / ``run_errored`` set ``last_run_interrupted``;
- ``extension`` appends ``(domain, payload)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, JsonValue

from agent import items
from agent.errors import SessionNotFound
from agent.items import Item
from agent.segments import Segment
from agent.store.entries import (
    Extension,
    ItemsEntry,
    LlmUsage,
    Origin,
    RunCompleted,
    RunErrored,
    SessionStart,
    TurnEnd,
    UserInput,
)

if TYPE_CHECKING:
    from agent.store.log import LogRead  # log imports this module


class UsageRecord(BaseModel):
    """One LLM call's measurement: the whole prompt was ``input_tokens`` when
    the request held ``history_len`` items."""

    model_config = ConfigDict(frozen=True)
    history_len: int
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @classmethod
    def of(cls, entry: LlmUsage) -> UsageRecord:
        return cls.model_validate(entry.model_dump(exclude={"kind", "ts"}))


@dataclass(frozen=True)
class RestoredState:
    """A session as its log says it is. ``parent`` is where it came from
    (``forked_from``, else ``compacted_from``). ``entries`` counts the entries
    folded, for pointers into the log such as the memory-extraction mark."""

    session_id: str
    system_prompt: str
    config: dict[str, JsonValue]
    history: list[Item]
    turn_count: int
    last_run_interrupted: bool
    usage: list[UsageRecord]
    user_segments: list[list[Segment]]
    extensions: list[tuple[str, JsonValue]]
    head: str
    parent: Origin | None
    created_at: int
    updated_at: int
    cwd: str | None
    model: str | None
    entries: int
    warnings: list[str] = field(default_factory=list)


def fold(read: LogRead, *, through: str | None = None) -> RestoredState:
    """Fold ``read`` (up to and including the entry hashed ``through``)."""
    records = list(read.records)
    if through is not None:
        cut = next((i for i, r in enumerate(records) if r.hash == through), None)
        if cut is None:
            raise SessionNotFound(f"Session {read.session_id} has no entry with hash {through}.")
        records = records[: cut + 1]
    if not records:
        raise SessionNotFound(
            f"Session {read.session_id} has no complete entry, so there is nothing to restore."
        )
    first = records[0].entry
    assert isinstance(first, SessionStart)  # the reader guarantees it
    start = first
    history: list[Item] = []
    usage: list[UsageRecord] = []
    extensions: list[tuple[str, JsonValue]] = []
    turn_count = 0
    interrupted = False
    open_run = False  # a user turn was logged but its end was not
    for record in records:
        match record.entry:
            case SessionStart() as start:
                history = list(start.history)
                turn_count = start.turn_count
            case UserInput(segments=segments, text=text):
                open_run = True
                history.append(items.user(text, list(segments)))
            case ItemsEntry(items=appended):
                history.extend(appended)
            case TurnEnd(turn_count=count):
                turn_count = count
            case LlmUsage() as entry:
                usage.append(UsageRecord.of(entry))
            case RunCompleted(interrupted=flag) | RunErrored(interrupted=flag):
                interrupted = flag
                open_run = False
            case Extension(domain=domain, payload=payload):
                extensions.append((domain, payload))
    warnings = list(read.warnings)
    if open_run:
        interrupted = True
        warnings.append(
            f"The last turn of session {read.session_id} did not finish (the process stopped "
            "during it); what it logged is kept and the turn counts as interrupted."
        )
    return RestoredState(
        session_id=read.session_id,
        system_prompt=start.system_prompt,
        config=dict(start.config),
        history=history,
        turn_count=turn_count,
        last_run_interrupted=interrupted,
        usage=usage,
        user_segments=items.user_segments(history),
        extensions=extensions,
        head=records[-1].hash,
        parent=start.forked_from or start.compacted_from,
        created_at=first.ts,
        updated_at=records[-1].entry.ts,
        cwd=start.cwd,
        model=start.model,
        entries=len(records),
        warnings=warnings,
    )
