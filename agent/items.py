"""History items: what the worker's conversation is made of.

Items are frozen pydantic models discriminated by ``kind``. The same models are
persisted in the session log (through :data:`ItemListAdapter`) and sent to the
editor in ``yoi/pod/history``, so a field added here must have a default to keep
old logs readable.

Compaction, pruning and request building never mutate items: they build new
lists (and new items through ``model_copy``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from agent.images import ImageRef
from agent.segments import Segment

Role = Literal["user", "assistant", "system"]
# What an image weighs in a request, for the token estimate: providers charge
# by pixels (about 1,600 tokens for a large image on Anthropic, 765 on
# OpenAI's high detail), not by its base64, which they never see as text.
IMAGE_WIRE_BYTES = 6_400
EditOutcomeStatus = Literal["applied", "partial", "rejected", "stale", "failed"]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @functools.cached_property
    def wire_bytes(self) -> int:
        """Serialized size in bytes, as sent to a model (segments excluded,
        each image counted as :data:`IMAGE_WIRE_BYTES`); computed once, since
        items never change."""
        text = self.model_dump_json(exclude={"segments", "images"})
        return len(text.encode("utf-8")) + IMAGE_WIRE_BYTES * self.image_count()

    def image_count(self) -> int:
        """How many images go to the model with this item."""
        return 0

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("wire_bytes", None)  # a cached size is the original's, not the copy's
        return copy


class Message(_Item):
    """A plain message. ``system`` messages in history are notes the pod inserted
    (interrupt notes, compaction summaries), not the system prompt.

    A user message typed by the user keeps the typed ``segments`` it was
    flattened from (for clients redrawing chips); the model only sees ``text``."""

    kind: Literal["message"] = "message"
    role: Role
    text: str
    segments: list[Segment] | None = None

    def image_count(self) -> int:
        return sum(1 for s in self.segments or () if s.kind == "image")


class ToolCall(_Item):
    """A tool call the model made. ``arguments`` is the JSON text as the model
    produced it (possibly malformed: the worker reports that back to the model)."""

    kind: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any] | None:
        """The arguments as an object, ``{}`` for empty input, ``None`` if they are
        not valid JSON or not an object."""
        if not self.arguments.strip():
            return {}
        try:
            value = json.loads(self.arguments)
        except ValueError:
            return None
        if value is None:
            return {}
        return value if isinstance(value, dict) else None


class EditOutcome(BaseModel):
    """How an edit a tool proposed ended, kept with its result so a reloaded
    chat can show it: ``partial`` when the user kept only some of the change."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    uri: str
    status: EditOutcomeStatus
    message: str | None = None


class ToolResult(_Item):
    """The result of one tool call. ``summary`` is a one-line description that
    always survives pruning; ``content`` is the (prunable) detail; ``edits``
    says how the edits the call proposed ended (edit tools only)."""

    kind: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str = ""
    summary: str
    content: str | None = None
    is_error: bool = False
    images: list[ImageRef] | None = None  # what read_file of an image returned
    edits: list[EditOutcome] | None = None

    def wire_text(self) -> str:
        """What the model sees: the summary, then the content when present."""
        if self.content:
            return f"{self.summary}\n{self.content}"
        return self.summary

    def image_count(self) -> int:
        return len(self.images or ())


class Reasoning(_Item):
    """Model reasoning ("thinking"). Kept in history so providers that require
    their signed reasoning back get it; never shown to the compact worker."""

    kind: Literal["reasoning"] = "reasoning"
    text: str
    signature: str | None = None


Item = Annotated[Message | ToolCall | ToolResult | Reasoning, Field(discriminator="kind")]
ItemAdapter: TypeAdapter[Item] = TypeAdapter(Item)
ItemListAdapter: TypeAdapter[list[Item]] = TypeAdapter(list[Item])


def user(text: str, segments: list[Segment] | None = None) -> Message:
    return Message(role="user", text=text, segments=segments)


def assistant(text: str) -> Message:
    return Message(role="assistant", text=text)


def system(text: str) -> Message:
    return Message(role="system", text=text)


def unanswered_calls(items: list[Item]) -> list[ToolCall]:
    """Tool calls that have no result in ``items`` (in call order)."""
    answered = {i.call_id for i in items if isinstance(i, ToolResult)}
    return [i for i in items if isinstance(i, ToolCall) and i.call_id not in answered]


def user_segments(items: list[Item]) -> list[list[Segment]]:
    """The typed input of every user message that has it, in order."""
    return [
        list(i.segments)
        for i in items
        if isinstance(i, Message) and i.role == "user" and i.segments is not None
    ]
