"""Events a pod emits while it works, and alerts.

These are the types of PROTOCOL.md's event table. Field names are snake_case in
Python and camelCase on the wire: :func:`event_to_wire` is the one conversion
the server uses. Events are fire-and-forget: they are not replayed to late
listeners (a client redraws from the history instead).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

from agent.items import EditOutcome

AlertLevel = Literal["info", "warn", "error"]
Outcome = Literal["finished", "paused", "limitReached", "interrupted", "error", "budgetExceeded"]
EditStatus = Literal["proposed", "applied", "rejected", "stale", "failed"]
PhaseName = Literal["loadingModel", "waitingForModel", "runningTool", "compacting"]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)


class TurnStart(_Event):
    type: Literal["turnStart"] = "turnStart"
    turn: int


class TextDelta(_Event):
    type: Literal["textDelta"] = "textDelta"
    text: str


class ReasoningDelta(_Event):
    type: Literal["reasoningDelta"] = "reasoningDelta"
    text: str


class ToolCallEvent(_Event):
    type: Literal["toolCall"] = "toolCall"
    id: str
    name: str
    arguments: dict[str, Any]


class ToolResultEvent(_Event):
    """``content`` is the result as the model got it (already capped)."""

    type: Literal["toolResult"] = "toolResult"
    id: str
    name: str
    ok: bool
    summary: str
    content: str | None = None
    edits: list[EditOutcome] | None = None  # how the call's edits ended


class ToolOutputEvent(_Event):
    """Live output of a running tool (``run_command``): progress, not history.
    The log keeps only the call's result."""

    type: Literal["toolOutput"] = "toolOutput"
    id: str
    text: str


class Phase(_Event):
    """What the pod is doing now, for a working indicator: loading the model
    client (the first request after start-up), waiting for the model, running
    tools (``tool`` names them), compacting."""

    type: Literal["phase"] = "phase"
    phase: PhaseName
    tool: str | None = None


class EditEvent(_Event):
    type: Literal["edit"] = "edit"
    id: str
    uri: str
    status: EditStatus
    message: str | None = None


class UsageEvent(_Event):
    """After each request. The window and the thresholds are sent once known:
    ``context_window_source`` is ``manifest``, ``model`` or ``fallback``;
    ``compact_at`` (between turns) and ``compact_request_at`` (before a
    request) are absent when that trigger is off."""

    type: Literal["usage"] = "usage"
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    context_tokens: int
    context_window: int | None = None
    context_window_source: str | None = None
    compact_at: int | None = None
    compact_request_at: int | None = None
    # US dollars: this request, this turn, this session, today (every yoi
    # process of the user); None where the price is not known
    cost_usd: float | None = None
    turn_cost_usd: float | None = None
    session_cost_usd: float | None = None
    day_cost_usd: float | None = None


class TurnEnd(_Event):
    type: Literal["turnEnd"] = "turnEnd"
    outcome: Outcome
    error: str | None = None


class CompactStart(_Event):
    type: Literal["compactStart"] = "compactStart"


class CompactDone(_Event):
    type: Literal["compactDone"] = "compactDone"
    session_id: str


class CompactFailed(_Event):
    type: Literal["compactFailed"] = "compactFailed"
    error: str


class SubAgentEvent(_Event):
    """A sub-agent of this pod started or ended a run (agent/agents/).
    ``pod_id`` is the sub-agent's own pod (its events carry it); ``call_id``
    the ``spawn_agent`` call that started it; ``status`` ``running`` or how
    the run ended; ``answer`` its final message."""

    type: Literal["subAgent"] = "subAgent"
    pod_id: str
    name: str
    status: str
    call_id: str | None = None
    session_id: str | None = None
    task: str | None = None
    scope: str | None = None
    answer: str | None = None
    error: str | None = None


class ConfigEvent(_Event):
    """The pod's settings changed (``yoi/pod/configure``, a profile)."""

    type: Literal["config"] = "config"
    model: str
    mode: str
    reasoning_effort: str | None = None
    profile: str | None = None


class Alert(_Event):
    """A user-facing message: something the user should know or act on.

    ``source`` names the part of the pod that raised it (``pod``, ``worker``,
    ``llm``, ``store``, ``agents_md``, ``manifest``, ``input``, ``hooks`` ...)."""

    type: Literal["alert"] = "alert"
    level: AlertLevel
    source: str
    message: str


Event = Annotated[
    TurnStart
    | TextDelta
    | ReasoningDelta
    | ToolCallEvent
    | ToolResultEvent
    | ToolOutputEvent
    | Phase
    | EditEvent
    | UsageEvent
    | TurnEnd
    | CompactStart
    | CompactDone
    | CompactFailed
    | SubAgentEvent
    | ConfigEvent
    | Alert,
    Field(discriminator="type"),
]
EventAdapter: TypeAdapter[Event] = TypeAdapter(Event)


def event_to_wire(event: Event) -> dict[str, Any]:
    """The event's JSON object as PROTOCOL.md spells it (camelCase, no nulls)."""
    return event.model_dump(mode="json", by_alias=True, exclude_none=True)
