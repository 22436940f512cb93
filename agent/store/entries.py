"""The entries of a session log: frozen models discriminated by ``kind``.

One entry is one line of ``<session_id>.jsonl`` (see :mod:`agent.store.chain`
for the line format and hashing). A pod writes, per session: one
:class:`SessionStart`, then per run a :class:`UserInput`, the turn's
:class:`ItemsEntry`, one :class:`TurnEnd`, one :class:`LlmUsage` per LLM
call and a :class:`RunCompleted` or :class:`RunErrored`; :class:`Extension`
entries (the memory pointer ...) may come at any point.

A field added to an entry must have a default, so older logs stay readable.
(:class:`TurnEnd` is the log entry; :class:`agent.events.TurnEnd` the event.)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from agent.ids import now_ms
from agent.items import Item
from agent.segments import Segment


class Origin(BaseModel):
    """Where a session came from: the parent session and the hash of the
    parent's entry at which the fork or compaction happened."""

    model_config = ConfigDict(frozen=True)
    session_id: str
    at_hash: str


class SpawnedBy(BaseModel):
    """A sub-agent's session (agent/agents/): the session of the pod that
    spawned it, the id of the ``spawn_agent`` tool call that did, and the
    sub-agent's name."""

    model_config = ConfigDict(frozen=True)
    session_id: str
    call_id: str
    name: str


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SessionStart(_Entry):
    """The first entry of every session. ``history`` is the seed history:
    empty for a new session, the summary and retained items after a
    compaction, the forking pod's history for a fork. ``spawned_by`` links a
    sub-agent's session to its parent's (absent for every other session)."""

    kind: Literal["session_start"] = "session_start"
    ts: int = Field(default_factory=now_ms)
    system_prompt: str
    config: dict[str, JsonValue] = Field(default_factory=dict)
    history: list[Item] = Field(default_factory=list)
    cwd: str | None = None
    model: str | None = None
    forked_from: Origin | None = None
    compacted_from: Origin | None = None
    turn_count: int = Field(default=0, ge=0)  # runs before this session (after compaction)
    spawned_by: SpawnedBy | None = None


class UserInput(_Entry):
    """A submitted turn: the typed segments (to redraw the input) and ``text``,
    the message exactly as the model saw it (files resolved at submit time)."""

    kind: Literal["user_input"] = "user_input"
    ts: int = Field(default_factory=now_ms)
    segments: list[Segment]
    text: str


class ItemsEntry(_Entry):
    """History items added during a turn: assistant messages, tool calls and
    results, reasoning, system notes."""

    kind: Literal["items"] = "items"
    ts: int = Field(default_factory=now_ms)
    items: list[Item]


class TurnEnd(_Entry):
    kind: Literal["turn_end"] = "turn_end"
    ts: int = Field(default_factory=now_ms)
    turn_count: int = Field(ge=0)


class LlmUsage(_Entry):
    """One LLM call. ``input_tokens`` is the whole prompt as the provider
    measured it when the request held ``history_len`` items (never a delta)."""

    kind: Literal["llm_usage"] = "llm_usage"
    ts: int = Field(default_factory=now_ms)
    history_len: int = Field(ge=0)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)
    cost_usd: float | None = Field(default=None, ge=0)  # None: the price was not known


class RunCompleted(_Entry):
    kind: Literal["run_completed"] = "run_completed"
    ts: int = Field(default_factory=now_ms)
    outcome: str
    interrupted: bool = False


class RunErrored(_Entry):
    kind: Literal["run_errored"] = "run_errored"
    ts: int = Field(default_factory=now_ms)
    error: str
    interrupted: bool = False


class Extension(_Entry):
    """Data a part of the runtime keeps in the log; the store never reads
    ``payload``. ``payload`` must be plain JSON (no NaN or infinity)."""

    kind: Literal["extension"] = "extension"
    ts: int = Field(default_factory=now_ms)
    domain: str = Field(min_length=1)
    payload: JsonValue = None


class ConfigChanged(_Entry):
    """The pod's settings changed between turns (``yoi/pod/configure``).
    ``config`` replaces those keys of the session's config (``session_start``
    and earlier changes); the pod keeps what the user chose under
    ``configured`` (``model``, ``mode``, ``reasoning_effort``, ``profile``)."""

    kind: Literal["config_changed"] = "config_changed"
    ts: int = Field(default_factory=now_ms)
    config: dict[str, JsonValue] = Field(default_factory=dict)


ENTRY_TYPES = (
    SessionStart,
    UserInput,
    ItemsEntry,
    TurnEnd,
    LlmUsage,
    RunCompleted,
    RunErrored,
    Extension,
    ConfigChanged,
)
LogEntry = Annotated[
    SessionStart
    | UserInput
    | ItemsEntry
    | TurnEnd
    | LlmUsage
    | RunCompleted
    | RunErrored
    | Extension
    | ConfigChanged,
    Field(discriminator="kind"),
]
LogEntryAdapter: TypeAdapter[LogEntry] = TypeAdapter(LogEntry)

KNOWN_KINDS: frozenset[str] = frozenset(cls.model_fields["kind"].default for cls in ENTRY_TYPES)


def entry_body(entry: LogEntry) -> dict[str, Any]:
    """The entry as plain JSON, every field included (the hashed form)."""
    return entry.model_dump(mode="json")


def load_entry(body: Any) -> LogEntry:
    """Validate one entry object read from a log (raises ``ValidationError``)."""
    return LogEntryAdapter.validate_python(body)
