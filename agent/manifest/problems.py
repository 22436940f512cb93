"""Problems found while reading configuration files, and how they are told.

Bad configuration never stops the host: a problem is collected, the offending
file or key is skipped, and the host shows the problems (the pod turns them
into alerts). In strict mode the first error raises
:class:`agent.errors.ManifestError` instead.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from agent.errors import ManifestError
from agent.fsutil import NotRegularFile, read_regular

Level = Literal["warn", "error"]


@dataclass(frozen=True)
class ManifestProblem:
    """One problem in one configuration source. ``key`` is dotted
    (``worker.max_turns``, ``hooks[0].point``) or empty for the whole file."""

    file: str
    key: str
    reason: str
    level: Level

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.reason}"


@dataclass
class ProblemLog:
    """Collects problems; with ``strict`` the first error raises."""

    strict: bool = False
    problems: list[ManifestProblem] = field(default_factory=list)

    def error(self, file: str, key: str, reason: str) -> None:
        if self.strict:
            raise ManifestError(file, key, reason)
        self.problems.append(ManifestProblem(file, key, reason, "error"))

    def warn(self, file: str, key: str, reason: str) -> None:
        self.problems.append(ManifestProblem(file, key, reason, "warn"))

    def unknown_key(self, file: str, dotted: str, known: Iterable[str], hint: str = "") -> None:
        name = dotted.rsplit(".", 1)[-1]
        reason = "unknown key, ignored"
        if hint:
            reason = f"{reason}; {hint}"
        else:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            if close:
                reason = f"{reason}; did you mean `{close[0]}`?"
        self.warn(file, dotted, reason)


def read_toml(path: Path, log: ProblemLog) -> dict[str, Any] | None:
    """Parse one TOML file. A missing file is ``None`` silently. An unreadable
    one, one that is not a regular file (a FIFO would block forever) or a
    malformed one is ``None`` with an error (naming the line and column of a
    syntax error)."""
    try:
        data = read_regular(os.path.realpath(path))  # a symlinked manifest is fine
    except FileNotFoundError:
        return None
    except NotRegularFile as exc:
        log.error(str(path), "", f"is not a regular file ({exc.kind}); the file was skipped")
        return None
    except OSError as exc:
        log.error(str(path), "", f"cannot be read ({exc.strerror or exc}); the file was skipped")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.error(str(path), "", f"is not valid UTF-8 (byte {exc.start}); the file was skipped")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        log.error(str(path), "", describe_toml_error(exc))
        return None


_TOML_POSITION = re.compile(r"^(?P<msg>.*?) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TOML_AT_END = re.compile(r"^(?P<msg>.*?) \(at end of document\)$")


def describe_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    text = str(exc)
    if m := _TOML_POSITION.match(text):
        return f"line {m['line']}, column {m['col']}: {_lower_first(m['msg'])}"
    if m := _TOML_AT_END.match(text):
        return f"at the end of the file: {_lower_first(m['msg'])}"
    return _lower_first(text)


def describe_validation_error(exc: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    """Each error of ``exc`` as (location, sentence fragment)."""
    return [(tuple(err["loc"]), describe_error(err)) for err in exc.errors()]


def describe_error(err: ErrorDetails) -> str:
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    value = err.get("input")
    kind = err["type"]
    match kind:
        case "greater_than_equal":
            reason = f"must be at least {ctx['ge']}"
        case "greater_than":
            reason = f"must be greater than {ctx['gt']}"
        case "less_than_equal":
            reason = f"must be at most {ctx['le']}"
        case "less_than":
            reason = f"must be less than {ctx['lt']}"
        case "int_type" | "int_parsing" | "int_from_float":
            reason = "must be a whole number"
        case "float_type" | "float_parsing":
            reason = "must be a number"
        case "string_type":
            reason = "must be a string"
        case "bool_type" | "bool_parsing":
            reason = "must be true or false"
        case "literal_error":
            return f"must be {ctx['expected']} (got {value!r})"
        case "string_too_short":
            return "must not be empty"
        case "tuple_type" | "list_type":
            reason = "must be an array"
        case "dict_type" | "model_type" | "model_attributes_type":
            reason = "must be a table"
        case "missing":
            return "is required"
        case "extra_forbidden":
            return "unknown key"
        case "value_error":
            return str(err["msg"]).removeprefix("Value error, ")
        case _:
            return _lower_first(str(err["msg"]))
    if isinstance(value, bool | int | float):
        reason = f"{reason} (got {str(value).lower() if isinstance(value, bool) else value})"
    return reason


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
