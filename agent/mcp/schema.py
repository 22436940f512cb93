"""An MCP tool as the model sees it: its name, description and input schema.

Names are ``mcp__<server>__<tool>``, reduced to what every provider accepts
(letters, digits, ``_`` and ``-``, at most 64 characters; a long name keeps a
short hash of the original so two tools never collide). Input schemas are
JSON Schema of any draft; providers accept a subset, so :func:`sanitize`
inlines local ``$ref`` s, drops the keywords some providers refuse
(``$schema``, ``$id``, ``$defs``, ``$comment``, ``examples``, ``const`` becomes
a one-value ``enum``) and makes sure the root is an object with properties.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

PREFIX = "mcp__"
MAX_NAME = 64
MAX_DESCRIPTION = 2048
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_DROPPED = frozenset({"$schema", "$id", "$defs", "definitions", "$comment", "examples", "$anchor"})
_MAX_DEPTH = 12


def tool_name(server: str, tool: str) -> str:
    """The model-facing name of ``tool`` on ``server``."""
    name = f"{PREFIX}{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', tool)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def description(
    server: str, title: str | None, text: str | None, read_only: bool, destructive: bool
) -> str:
    """The tool's own description, with where it comes from and its hints."""
    parts = [text.strip() if text and text.strip() else (title or "No description.")]
    hints = []
    if read_only:
        hints.append("read-only")
    elif destructive:
        hints.append("may change or delete data")
    note = f"(MCP server {server}" + (f"; {', '.join(hints)}" if hints else "") + ")"
    body = parts[0]
    if len(body) > MAX_DESCRIPTION:
        body = body[:MAX_DESCRIPTION] + "…"
    return f"{body}\n\n{note}"


def sanitize(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """An input schema providers accept (see the module docs)."""
    if not isinstance(schema, Mapping):
        return {"type": "object", "properties": {}}
    defs: dict[str, Any] = {}
    for key in ("$defs", "definitions"):
        found = schema.get(key)
        if isinstance(found, Mapping):
            defs.update({f"#/{key}/{name}": value for name, value in found.items()})
    out = _clean(schema, defs, 0, ())
    if not isinstance(out, dict):
        out = {}
    if out.get("type") != "object":
        out = {"type": "object", "properties": out.get("properties", {}), **_keep_required(out)}
    if not isinstance(out.get("properties"), dict):
        out["properties"] = {}
    return out


def _keep_required(schema: Mapping[str, Any]) -> dict[str, Any]:
    required = schema.get("required")
    return {"required": required} if isinstance(required, list) else {}


def _clean(node: Any, defs: Mapping[str, Any], depth: int, seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_clean(item, defs, depth + 1, seen) for item in node]
    if not isinstance(node, Mapping):
        return node
    if depth > _MAX_DEPTH:
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref)
        if target is None or ref in seen:  # remote or recursive: any value
            note = node.get("description")
            return {"description": note} if isinstance(note, str) else {}
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _clean(merged, defs, depth + 1, (*seen, ref))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {str(k): _clean(v, defs, depth + 1, seen) for k, v in value.items()}
        else:
            out[key] = _clean(value, defs, depth + 1, seen)
    return out
