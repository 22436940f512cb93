"""YAML frontmatter: a ``---`` line, a YAML mapping, a closing ``---`` line,
then the Markdown body. CRLF line ends are tolerated when reading; writing
always uses ``\\n``.

Only ``yaml.safe_load`` and ``yaml.safe_dump`` are used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import yaml

from agent.errors import InvalidArgument

FENCE = "---"
EXAMPLE = "---\\ndescription: ...\\n---\\n<body>"


class FrontmatterError(InvalidArgument):
    """The text has no frontmatter block, or it is not a YAML mapping."""


def normalize_body(body: str) -> str:
    """The body as stored: no leading blank lines, no trailing white space."""
    return body.lstrip("\r\n").rstrip()


def split_frontmatter(text: str) -> tuple[dict[str, Any], str]:
    """The frontmatter mapping and the (normalized) body of a record's text.
    Raises :class:`FrontmatterError` saying what to fix."""
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines[0].rstrip("\r") != FENCE:
        raise FrontmatterError(
            f"the file must start with a '---' line opening the YAML frontmatter ({EXAMPLE})."
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") == FENCE:
            header = "\n".join(line.rstrip("\r") for line in lines[1:index])
            body = "\n".join(lines[index + 1 :]).replace("\r\n", "\n")
            return parse_yaml_mapping(header), normalize_body(body)
    raise FrontmatterError(
        "the frontmatter is not closed: add a line with only '---' after the YAML keys."
    )


def parse_yaml_mapping(header: str) -> dict[str, Any]:
    """A YAML mapping (empty text is an empty mapping); line numbers in errors
    count the opening ``---`` as line 1."""
    try:
        data = yaml.safe_load(header)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid syntax"
        raise FrontmatterError(
            f"the frontmatter is not valid YAML{where}: {problem}. Quote values that contain "
            "': ' or start with a special character ('#', '*', '&', '[', '{')."
        ) from None
    except yaml.YAMLError as exc:
        raise FrontmatterError(f"the frontmatter is not valid YAML: {exc}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontmatterError(
            "the frontmatter must be a YAML mapping of 'key: value' lines, "
            f"not {type(data).__name__}."
        )
    bad = [repr(k) for k in data if not isinstance(k, str)]
    if bad:
        raise FrontmatterError(f"frontmatter keys must be names; quote or rename {', '.join(bad)}.")
    return {key: json_safe(value) for key, value in data.items()}


def json_safe(value: Any) -> Any:
    """YAML timestamps and dates as RFC 3339 / ISO strings, so a mapping can
    go over JSON as it is."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def render_frontmatter(data: Mapping[str, Any], body: str) -> str:
    """``---``, the mapping in its own key order, ``---``, a blank line, the
    body and a final newline."""
    header = yaml.safe_dump(
        dict(data),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=4096,
    )
    text = f"{FENCE}\n{header}{FENCE}\n"
    body = normalize_body(body)
    return f"{text}\n{body}\n" if body else text
