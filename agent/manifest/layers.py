"""Turning one raw layer (a TOML file, the environment, host overrides) into a
clean partial manifest, and merging clean layers.

Cleaning walks the raw tables against the schema key by key: an unknown key is
dropped with a warning, a bad value is dropped with an error, so the merged
result falls back to the lower layers' value for exactly that key. Merging is
DIGEST §3.3: tables merge key-wise, scalars and arrays of scalars replace, and
the arrays of tables in :data:`CONCATENATED` are concatenated.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.manifest.problems import ProblemLog, describe_validation_error
from agent.manifest.schema import Section

# Arrays of tables that accumulate across layers instead of replacing.
CONCATENATED: frozenset[tuple[str, ...]] = frozenset(
    {("scope", "allow"), ("scope", "deny"), ("hooks",)}
)

# Keys of the seed's manifest (and likely slips) with a pointer to ours.
_HINTS: dict[str, str] = {
    "worker.instruction": "the system prompt is set by `instruction` in [pod]",
    "worker.stop_sequences": "use `stop`",
    "worker.reasoning": "use `reasoning_effort`",
    "model.ref": "use `name`, a litellm model string such as `anthropic/claude-sonnet-4-5`",
    "model.base_url": "use `api_base`",
    "model.api_key": (
        "API keys never live in manifests; put the key in an environment variable "
        "and name that variable in `api_key_env`"
    ),
}


def clean_layer(
    model: type[Section], raw: Mapping[str, Any], file: str, problems: ProblemLog
) -> dict[str, Any]:
    """The keys of ``raw`` that ``model`` accepts, with bad values dropped."""
    return _Cleaner(file, problems).table(model, raw, "")


class _Cleaner:
    def __init__(self, file: str, problems: ProblemLog) -> None:
        self.file = file
        self.problems = problems

    def table(self, model: type[Section], raw: Mapping[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        fields = model.model_fields
        for key, value in raw.items():
            dotted = f"{where}.{key}" if where else str(key)
            info = fields.get(key)
            if info is None:
                self.problems.unknown_key(self.file, dotted, fields, _HINTS.get(dotted, ""))
                continue
            annotation = info.annotation
            if (section := section_of(annotation)) is not None:
                if self._is_table(value, dotted):
                    out[key] = self.table(section, value, dotted)
            elif (element := array_of_tables(annotation)) is not None:
                if not isinstance(value, list):
                    self.problems.error(self.file, dotted, "must be an array of tables")
                    continue
                out[key] = self.array(element, value, dotted)
            elif _is_map(annotation):
                if self._is_table(value, dotted):
                    out[key] = {
                        k: v for k, v in value.items() if self.valid(model, where, key, {k: v})
                    }
            elif self.valid(model, where, key, value):
                out[key] = value
        return out

    def array(self, element: type[Section], raw: list[Any], where: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        fields = element.model_fields
        for index, item in enumerate(raw):
            at = f"{where}[{index}]"
            if not self._is_table(item, at):
                continue
            known = {}
            for key, value in item.items():
                if key in fields:
                    known[key] = value
                else:
                    self.problems.unknown_key(self.file, f"{at}.{key}", fields)
            try:
                element.model_validate(known)
            except ValidationError as exc:
                for loc, reason in describe_validation_error(exc):
                    self.problems.error(
                        self.file, _dotted(at, loc), f"{reason}; this entry was ignored"
                    )
                continue
            out.append(known)
        return out

    def valid(self, model: type[BaseModel], where: str, key: str, value: Any) -> bool:
        """Whether ``key = value`` passes ``model``'s checks; reports it if not.
        A map entry is checked as a one-entry map and named ``<key>.<entry>``."""
        try:
            model.model_validate({key: value})
        except ValidationError as exc:
            for loc, reason in describe_validation_error(exc):
                self.problems.error(
                    self.file, _dotted(where, loc), f"{reason}; this value was ignored"
                )
            return False
        return True

    def _is_table(self, value: Any, dotted: str) -> bool:
        if isinstance(value, Mapping):
            return True
        self.problems.error(self.file, dotted, "must be a table")
        return False


def _dotted(prefix: str, loc: tuple[str | int, ...]) -> str:
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else part
    return text


def section_of(annotation: Any) -> type[Section] | None:
    """The table model of a field (``Section`` or ``Section | None``), if any."""
    for candidate in _union_members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, Section):
            return candidate
    return None


def array_of_tables(annotation: Any) -> type[Section] | None:
    """The element model of an array-of-tables field, if it is one."""
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if args and isinstance(args[0], type) and issubclass(args[0], Section):
            return args[0]
    return None


def _is_map(annotation: Any) -> bool:
    return typing.get_origin(annotation) is dict


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return (annotation,)


def merge(
    lower: Mapping[str, Any], upper: Mapping[str, Any], path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``upper`` over ``lower``: tables key-wise, :data:`CONCATENATED` arrays
    appended, everything else replaced."""
    out: dict[str, Any] = dict(lower)
    for key, value in upper.items():
        here = (*path, key)
        below = out.get(key)
        if here in CONCATENATED and isinstance(below, list) and isinstance(value, list):
            out[key] = [*below, *value]
        elif isinstance(below, Mapping) and isinstance(value, Mapping):
            out[key] = merge(below, value, here)
        else:
            out[key] = value
    return out
