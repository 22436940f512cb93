"""The params of the editor protocol's requests, validated with pydantic.

Incoming params arrive as plain JSON objects and are validated here
(:func:`parse`), so a handler can answer ``-32602`` naming the field instead of
leaving the client waiting. Results are plain dicts built by the handlers
(camelCase, like LSP). Method names live in :mod:`server.protocol`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from agent.segments import Segment
from server.protocol import InvalidParams


class Params(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


PodId = Annotated[str, Field(min_length=1)]


class Empty(Params):
    pass


class PodCreateParams(Params):
    name: str | None = None
    profile: str | None = None
    model: str | None = None
    mode: Literal["agent", "plan", "ask"] | None = None
    resume_session_id: str | None = Field(default=None, min_length=1)


class RuleParams(Params):
    """``yoi/approvals/revoke``: the rule's ``id`` (from ``yoi/approvals/rules``)."""

    id: str = Field(min_length=1)


class BudgetRaiseParams(Params):
    """``yoi/budget/raise``: this pod's session limits, raised (after the user
    confirmed it in the editor)."""

    pod_id: PodId
    per_session_usd: float | None = Field(default=None, gt=0)
    per_session_tokens: int | None = Field(default=None, gt=0)


class PodConfigureParams(Params):
    """``yoi/pod/configure``: what to change (absent: unchanged; an empty
    ``reasoningEffort``: back to the manifest's)."""

    pod_id: PodId
    model: str | None = Field(default=None, min_length=1)
    reasoning_effort: str | None = None
    mode: Literal["agent", "plan", "ask"] | None = None
    profile: str | None = None  # "": no profile


class PodParams(Params):
    pod_id: PodId


class PodHistoryParams(Params):
    """``yoi/pod/history``: all items, or a page of at most ``limit`` items
    ending before index ``before`` (default: the end)."""

    pod_id: PodId
    limit: int | None = Field(default=None, ge=1, strict=True)
    before: int | None = Field(default=None, ge=0, strict=True)


class PodNotifyParams(Params):
    pod_id: PodId
    message: str = Field(min_length=1)


class ChatParams(Params):
    pod_id: PodId
    input: list[Segment] = Field(min_length=1)


class MemoryListParams(Params):
    pod_id: PodId | None = None


class KnowledgeGetParams(Params):
    slug: str = Field(min_length=1)


class ReferencesCompleteParams(Params):
    prefix: str = ""
    kind: Literal["file", "knowledge", "workflow"] = "file"
    limit: int = Field(default=50, ge=1, le=1000)


class InitializationOptions(Params):
    """``initializationOptions``; bad values fall back to defaults with a warning."""

    model: str | None = None
    profile: str | None = None
    approvals: Literal["ask", "auto"] | None = None


def initialization_options(raw: Any) -> tuple[InitializationOptions, str | None]:
    """The editor's options, or the defaults and a warning naming the bad field."""
    try:
        return InitializationOptions.model_validate(raw or {}), None
    except ValidationError as exc:
        return InitializationOptions(), (
            f"yoi: ignoring initializationOptions ({describe(exc)}); using defaults."
        )


P = TypeVar("P", bound=Params)


def describe(error: ValidationError) -> str:
    """A one-line message naming each bad field by its wire (camelCase) path."""
    problems = []
    for err in error.errors():
        path = ".".join(to_camel(p) if isinstance(p, str) else f"[{p}]" for p in err["loc"])
        path = path.replace(".[", "[")
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is required"
        problems.append(f"`{path or 'params'}` {msg}")
    return "; ".join(problems)


def parse(method: str, model: type[P], raw: Any) -> P:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidParams(method, "params must be an object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidParams(method, describe(exc)) from None
