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

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from pydantic import JsonValue

from agent import items
from agent.errors import SessionNotFound
from agent.items import Item
from agent.segments import Segment
from agent.store.entries import (
    LlmUsage,
    Origin,
    SessionStart,
)
from agent.store.verify import Verified


class UsageRecord(NamedTuple):
    """One LLM call's measurement: the whole prompt was ``input_tokens`` when
    the request held ``history_len`` items. A plain tuple: a long session
    restores tens of thousands of them."""

    history_len: int
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None

    @classmethod
    def of(cls, entry: LlmUsage) -> UsageRecord:
        return cls(
            entry.history_len,
            entry.input_tokens,
            entry.output_tokens,
            entry.cache_read_tokens,
            entry.cache_write_tokens,
            entry.cost_usd,
        )

    def model_dump(self) -> dict[str, int]:
        """The fields by name, like a pydantic model's (to log the record as
        an :class:`LlmUsage`)."""
        return self._asdict()


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


def fold(  # noqa: PLR0915 - one flat loop over 100,000 entries: no helper calls
    session_id: str,
    records: Iterable[Verified],
    warnings: list[str],
    *,
    through: str | None = None,
) -> RestoredState:
    """Fold ``records`` (``(line, hash, entry)``) as they come, up to and
    including the entry hashed ``through`` (the rest are still consumed, so a
    reader verifies them). ``warnings`` are the reader's, read once the
    records are exhausted."""
    first: SessionStart | None = None
    start: SessionStart | None = None
    head: str | None = None
    updated_at = 0
    history: list[Item] = []
    usage: list[UsageRecord] = []
    extensions: list[tuple[str, JsonValue]] = []
    config: dict[str, JsonValue] = {}
    turn_count = 0
    interrupted = False
    open_run = False  # a user turn was logged but its end was not
    count = 0
    done = False
    for _, digest, entry in records:
        if done:
            continue
        count += 1
        head, updated_at = digest, entry.ts
        done = digest == through
        # by kind, most frequent first (class patterns would pay an ABC
        # isinstance check per miss: pydantic models have an ABCMeta)
        if entry.kind == "items":
            history.extend(entry.items)
        elif entry.kind == "llm_usage":
            usage.append(UsageRecord.of(entry))
        elif entry.kind == "user_input":
            open_run = True
            history.append(items.user(entry.text, list(entry.segments)))
        elif entry.kind == "turn_end":
            turn_count = entry.turn_count
        elif entry.kind in ("run_completed", "run_errored"):
            interrupted = entry.interrupted
            open_run = False
        elif entry.kind == "extension":
            extensions.append((entry.domain, entry.payload))
        elif entry.kind == "config_changed":
            config.update(entry.config)
        elif entry.kind == "session_start":
            start = entry
            first = first or start
            history = list(start.history)
            config = dict(start.config)
            turn_count = start.turn_count
    if through is not None and not done:
        raise SessionNotFound(f"Session {session_id} has no entry with hash {through}.")
    if head is None:
        raise SessionNotFound(
            f"Session {session_id} has no complete entry, so there is nothing to restore."
        )
    assert first is not None and start is not None  # the reader guarantees it
    user_segments: list[list[Segment]] = [  # items.user_segments, without ABC checks
        list(i.segments)
        for i in history
        if i.kind == "message" and i.role == "user" and i.segments is not None
    ]
    warnings = list(warnings)
    if open_run:
        interrupted = True
        warnings.append(
            f"The last turn of session {session_id} did not finish (the process stopped "
            "during it); what it logged is kept and the turn counts as interrupted."
        )
    return RestoredState(
        session_id=session_id,
        system_prompt=start.system_prompt,
        config=config,
        history=history,
        turn_count=turn_count,
        last_run_interrupted=interrupted,
        usage=usage,
        user_segments=user_segments,
        extensions=extensions,
        head=head,
        parent=start.forked_from or start.compacted_from,
        created_at=first.ts,
        updated_at=updated_at,
        cwd=start.cwd,
        model=start.model,
        entries=count,
        warnings=warnings,
    )
