"""What a tool is, and the pieces every tool shares.

A tool declares its arguments as a pydantic model; the model's JSON schema is
what the LLM sees, and validation failures become :class:`InvalidArgument`
errors phrased so the model can fix its call. Tools raise
:class:`agent.errors.ToolError` subclasses for anything the model should see;
the worker turns every exception into an error result, never a crash.
"""

from __future__ import annotations

import asyncio
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.errors import InvalidArgument
from agent.images import ImageRef
from agent.items import EditOutcome
from agent.llm.types import ToolSpec
from agent.ports import EventSink

SUMMARY_ONLY_LIMIT = 200


class ToolArgs(BaseModel):
    """Base of tool argument models: unknown keys are refused so a typo in an
    argument name is reported instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


A = TypeVar("A", bound=ToolArgs)


@dataclass(frozen=True)
class ToolOutput:
    summary: str
    content: str | None = None
    images: tuple[ImageRef, ...] = ()  # sent to the model after the result


@dataclass(frozen=True)
class ToolCallContext:
    call_id: str
    events: EventSink
    edits: list[EditOutcome] = field(default_factory=list)
    """How the edits this call proposed ended (kept with its result)."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the user stops this call (tools that declare ``stoppable``)."""


@functools.cache
def parameters(args_model: type[ToolArgs]) -> dict[str, Any]:
    """The JSON schema of a tool's arguments, without pydantic's titles. Built
    once per model (pydantic takes about a millisecond a tool) and shared:
    read it, never change it."""
    schema = args_model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


def warm_schemas() -> int:
    """Build the argument schemas of every tool class imported so far (call it
    in a worker thread at start-up, so a first chat does not pay for them).
    Returns how many."""
    seen: set[type[ToolArgs]] = set()
    pending: list[type[Tool[Any]]] = list(Tool.__subclasses__())
    while pending:
        tool = pending.pop()
        pending += tool.__subclasses__()
        model = getattr(tool, "args_model", None)
        if isinstance(model, type) and issubclass(model, ToolArgs) and model not in seen:
            seen.add(model)
            parameters(model)
    return len(seen)


class Tool(ABC, Generic[A]):
    name: ClassVar[str]
    description: ClassVar[str]
    args_model: ClassVar[type[ToolArgs]]
    stoppable: ClassVar[bool] = False  # watches ToolCallContext.stop
    # reads and never changes anything (files, commands, the world): offered in plan mode
    read_only: ClassVar[bool] = False

    def reads_only(self) -> bool:
        return self.read_only

    def spec(self) -> ToolSpec:
        return ToolSpec(
            name=self.name, description=self.description, parameters=parameters(self.args_model)
        )

    def parse(self, raw: dict[str, Any]) -> A:
        try:
            return self.args_model.model_validate(raw)  # type: ignore[return-value]
        except ValidationError as exc:
            raise InvalidArgument(describe_validation_error(self.name, exc)) from None

    @abstractmethod
    async def run(self, args: A, call: ToolCallContext) -> ToolOutput: ...

    def approval_key(self, args: A) -> str:
        """What an "allow for this session" answer to this call covers."""
        return self.name


def describe_validation_error(tool: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown argument"
        problems.append(f"{where}: {msg}")
    return f"invalid arguments for {tool}: " + "; ".join(problems)


def output_from_text(text: str, summary: str | None = None) -> ToolOutput:
    """A short text becomes the summary alone; a long one gets a one-line
    summary (line count and the start of the first line) and keeps the text as
    content."""
    if summary is not None:
        return ToolOutput(summary=summary, content=text or None)
    if len(text) <= SUMMARY_ONLY_LIMIT and "\n" not in text.strip():
        return ToolOutput(summary=text)
    lines = text.splitlines()
    first = lines[0] if lines else ""
    head = first if len(first) <= 80 else first[:80] + "…"
    return ToolOutput(summary=f"{len(lines)} lines | {head}", content=text)


TRUNCATION_MARKER = "\n\n[truncated: {dropped} bytes dropped, refine your query]"


def truncate_utf8(content: str, limit: int) -> tuple[str, int]:
    """Cap ``content`` at ``limit`` UTF-8 bytes including a marker that says
    how much was dropped. Returns the (possibly) new content and the number of
    bytes dropped (0 when it fit)."""
    data = content.encode("utf-8")
    if len(data) <= limit:
        return content, 0
    reserve = len(TRUNCATION_MARKER.format(dropped=len(data)).encode("utf-8"))
    keep = max(0, limit - reserve)
    body = data[:keep].decode("utf-8", errors="ignore")
    dropped = len(data) - len(body.encode("utf-8"))
    return body + TRUNCATION_MARKER.format(dropped=dropped), dropped


class ToolSet:
    """The tools of one worker, by name. Specs are sorted by name so the
    request prefix stays stable for prompt caching.

    :meth:`restrict` narrows what is *offered* (a mode, a profile's tool list):
    :meth:`names`, :meth:`specs` and :meth:`offered` see only the offered
    tools, :meth:`refusal` says why another one is not, and :meth:`get` still
    finds every tool (so adding one twice stays an error)."""

    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        self._specs: list[ToolSpec] | None = None
        self._refuse: Callable[[Tool[Any]], str | None] | None = None
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool[Any]) -> None:
        if tool.name in self._tools:
            raise ValueError(f"duplicate tool name: {tool.name}")
        self._tools[tool.name] = tool
        self._specs = None

    def restrict(self, refuse: Callable[[Tool[Any]], str | None] | None) -> None:
        """Offer only the tools ``refuse`` returns ``None`` for (every tool,
        with ``None``); for the others it gives the reason told to the model."""
        self._refuse = refuse
        self._specs = None

    def get(self, name: str) -> Tool[Any] | None:
        """Any tool of the set, offered or not."""
        return self._tools.get(name)

    def offered(self, name: str) -> Tool[Any] | None:
        tool = self._tools.get(name)
        if tool is None or self.refusal(name) is not None:
            return None
        return tool

    def refusal(self, name: str) -> str | None:
        """Why the tool ``name`` is not offered (``None``: it is, or there is
        no such tool)."""
        tool = self._tools.get(name)
        if tool is None or self._refuse is None:
            return None
        return self._refuse(tool)

    def all_names(self) -> list[str]:
        return sorted(self._tools)

    def names(self) -> list[str]:
        """The offered tools' names, sorted."""
        return [n for n in sorted(self._tools) if self.refusal(n) is None]

    def specs(self) -> list[ToolSpec]:
        """The offered tools' specs, built once per tool set and restriction
        (a copy of the list)."""
        if self._specs is None:
            self._specs = [self._tools[n].spec() for n in self.names()]
        return list(self._specs)

    def __len__(self) -> int:
        return len(self._tools)
