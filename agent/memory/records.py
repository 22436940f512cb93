"""Memory records: typed frontmatter for each kind, parsing and rendering.

A record is Markdown with YAML frontmatter (see :mod:`agent.memory.frontmatter`).
Unknown frontmatter keys are kept as they are; the seed's spelling
``model_invokation`` is read as ``model_invocation`` and written back correctly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from agent.errors import InvalidArgument
from agent.memory.frontmatter import FrontmatterError, render_frontmatter, split_frontmatter
from agent.memory.layout import RecordKind

BODY_LIMITS: dict[RecordKind, int] = {
    "summary": 20_000,
    "decision": 8_000,
    "request": 8_000,
    "knowledge": 8_000,
}
RESIDENT_DESCRIPTION_LIMIT = 1024
STATUSES = ("open", "resolved", "replaced")
TIMESTAMP_EXAMPLE = "2025-01-31T12:00:00Z"


def parse_timestamp(value: object) -> dt.datetime:
    """An aware datetime from an RFC 3339 string or a datetime; naive times
    and bare dates are refused (the zone would be a guess)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not an RFC 3339 timestamp") from None
    else:
        raise ValueError(f"expected an RFC 3339 timestamp string, got {type(value).__name__}")
    if parsed.tzinfo is None:
        raise ValueError(f"'{value}' has no time zone (end it with Z for UTC)")
    return parsed.astimezone(dt.UTC)


def format_timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; whole seconds unless the value has more."""
    utc = value.astimezone(dt.UTC)
    if utc.microsecond:
        return utc.isoformat().replace("+00:00", "Z")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
]


class SourceRef(BaseModel):
    """Where a claim came from: a session and an inclusive range of its log
    entries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: str = Field(min_length=1)
    range: tuple[int, int]

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        start, end = value
        if start < 0 or end < start:
            raise ValueError("range must be [start_entry, end_entry] with 0 <= start <= end")
        return value


class _Frontmatter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    def known_keys(self) -> set[str]:
        return set(type(self).model_fields)

    def unknown_keys(self) -> list[str]:
        return sorted(self.model_extra or {})


class KnowledgeFrontmatter(_Frontmatter):
    description: str
    model_invocation: bool = Field(
        default=False, validation_alias=AliasChoices("model_invocation", "model_invokation")
    )
    user_invocable: bool = True
    created_at: Timestamp
    updated_at: Timestamp
    last_sources: list[SourceRef] = Field(default_factory=list)


class DecisionFrontmatter(_Frontmatter):
    status: Literal["open", "resolved", "replaced"]
    replaced_by: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    sources: list[SourceRef]


class RequestFrontmatter(_Frontmatter):
    created_at: Timestamp
    updated_at: Timestamp
    sources: list[SourceRef]


class SummaryFrontmatter(_Frontmatter):
    created_at: Timestamp | None = None
    updated_at: Timestamp


Frontmatter = KnowledgeFrontmatter | DecisionFrontmatter | RequestFrontmatter | SummaryFrontmatter

FRONTMATTER_MODELS: dict[RecordKind, type[Frontmatter]] = {
    "knowledge": KnowledgeFrontmatter,
    "decision": DecisionFrontmatter,
    "request": RequestFrontmatter,
    "summary": SummaryFrontmatter,
}

_SOURCES_HINT = "a list of {session_id: <id>, range: [start_entry, end_entry]} (may be [])"
FIELD_HINTS: dict[str, str] = {
    "description": "a string saying what the record is about and when it is useful",
    "model_invocation": "true or false (true lists the record in the system prompt)",
    "user_invocable": "true or false (true lets the user attach it as #slug)",
    "created_at": f"an RFC 3339 UTC timestamp such as {TIMESTAMP_EXAMPLE}",
    "updated_at": f"an RFC 3339 UTC timestamp such as {TIMESTAMP_EXAMPLE}",
    "sources": _SOURCES_HINT,
    "last_sources": _SOURCES_HINT,
    "status": "one of open, resolved, replaced",
    "replaced_by": "the slug of the decision that replaces this one",
}


class RecordError(InvalidArgument):
    """A record's text or frontmatter is malformed; ``problems`` lists each
    violation as an instruction."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Record:
    kind: RecordKind
    frontmatter: Frontmatter
    body: str


def describe_errors(exc: ValidationError) -> list[str]:
    """Each pydantic error as a sentence naming the frontmatter key and what
    it must be."""
    problems: list[str] = []
    for err in exc.errors():
        loc = err["loc"]
        field = str(loc[0]) if loc else ""
        where = _dotted(loc)
        hint = FIELD_HINTS.get(field)
        must = f"; it must be {hint}" if hint else ""
        if err["type"] == "missing":
            if len(loc) == 1:
                problems.append(f"frontmatter is missing `{field}`: add it ({hint or 'required'}).")
            else:
                problems.append(f"frontmatter `{where}` is missing{must}.")
            continue
        if err["type"] == "extra_forbidden":
            problems.append(
                f"frontmatter `{where}` is not allowed; a source has only session_id and range."
            )
            continue
        value = err.get("input")
        got = f" (got {value!r})" if not isinstance(value, dict | list) else ""
        if hint and len(loc) == 1 and err["type"] != "value_error":
            problems.append(f"frontmatter `{where}` is invalid{got}: it must be {hint}.")
        else:
            problems.append(f"frontmatter `{where}` is invalid{got}: {_message(err['msg'])}{must}.")
    return problems


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(msg: str) -> str:
    return msg.removeprefix("Value error, ").rstrip(".")


def validate_frontmatter(kind: RecordKind, data: Mapping[str, Any]) -> Frontmatter:
    """The typed frontmatter of a ``kind`` record; raises :class:`RecordError`."""
    try:
        return FRONTMATTER_MODELS[kind].model_validate(dict(data))
    except ValidationError as exc:
        raise RecordError(describe_errors(exc)) from None


def parse_record(kind: RecordKind, text: str) -> Record:
    """A record from its file text; raises :class:`RecordError` listing every
    problem."""
    try:
        data, body = split_frontmatter(text)
    except FrontmatterError as exc:
        raise RecordError([str(exc)]) from None
    return Record(kind=kind, frontmatter=validate_frontmatter(kind, data), body=body)


def frontmatter_dict(frontmatter: Frontmatter) -> dict[str, Any]:
    """The frontmatter as plain JSON-able data in its stable key order (fields
    first, unknown keys after), without unset optional keys."""
    return frontmatter.model_dump(mode="json", exclude_none=True)


def render_record(record: Record) -> str:
    return render_frontmatter(frontmatter_dict(record.frontmatter), record.body)
