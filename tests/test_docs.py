"""The documentation agrees with the code: every default printed in
docs/configuration.md is the schema's, every key is documented, and the
printed block is itself a valid manifest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agent.manifest import Manifest, ProblemLog
from agent.manifest.layers import array_of_tables, clean_layer, section_of

pytestmark = pytest.mark.timeout(30)

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
# set by the loader, never by a user
INTERNAL = {("hooks", "source")}


def defaults_block() -> str:
    text = DOC.read_text()
    section = text[text.index("## Keys and defaults") :]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match is not None, "no TOML block under 'Keys and defaults'"
    return match.group(1)


def plain(value: Any) -> Any:
    """A default as TOML spells it (tuples are arrays)."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def model_at(path: str) -> type[BaseModel]:
    model: type[BaseModel] = Manifest
    for part in path.split(".") if path else []:
        annotation = model.model_fields[part].annotation
        inner = section_of(annotation) or array_of_tables(annotation)
        assert inner is not None, f"[{path}] is not a table of the schema"
        model = inner
    return model


def compare(model: type[BaseModel], table: dict[str, Any], where: str) -> list[str]:
    wrong: list[str] = []
    for key, value in table.items():
        dotted = f"{where}.{key}" if where else key
        info = model.model_fields.get(key)
        if info is None:
            wrong.append(f"{dotted}: not a key of the schema")
            continue
        section = section_of(info.annotation)
        element = array_of_tables(info.annotation)
        if section is not None and isinstance(value, dict):
            wrong += compare(section, value, dotted)
        elif element is not None:
            for item in value:
                wrong += compare(element, item, dotted)
        elif info.is_required():
            continue  # an example (a scope target, a hook's command)
        else:
            default = plain(info.get_default(call_default_factory=True))
            if value != default or type(value) is not type(default):
                wrong.append(f"{dotted}: documented {value!r}, the schema says {default!r}")
    return wrong


def test_every_default_printed_is_the_schemas() -> None:
    data = tomllib.loads(defaults_block())
    assert compare(Manifest, data, "") == []


def test_commented_keys_are_the_unset_ones() -> None:
    table = ""
    unset = []
    for line in defaults_block().splitlines():
        if header := re.match(r"\[\[?([a-z_.]+)\]\]?", line):
            table = header.group(1)
        elif key := re.match(r"#\s*([a-z_]+)\s*=", line):
            unset.append((table, key.group(1)))
    assert ("model", "context_window") in unset and ("compaction", "compact_threshold") in unset
    for table, key in unset:
        info = model_at(table).model_fields.get(key)
        assert info is not None, f"{table}.{key} is not a key of the schema"
        assert info.get_default() is None, f"{table}.{key} is shown unset but has a default"


def test_every_key_is_documented() -> None:
    block = defaults_block()
    missing = []

    def walk(model: type[BaseModel], where: str) -> None:
        for key, info in model.model_fields.items():
            inner = section_of(info.annotation) or array_of_tables(info.annotation)
            if inner is not None:
                walk(inner, f"{where}.{key}" if where else key)
            if (where, key) not in INTERNAL and not re.search(rf"\b{key}\b", block):
                missing.append(f"{where}.{key}")

    walk(Manifest, "")
    assert missing == []


def test_the_printed_block_is_a_valid_manifest() -> None:
    problems = ProblemLog()
    clean = clean_layer(Manifest, tomllib.loads(defaults_block()), "docs", problems)
    assert problems.problems == []
    Manifest.model_validate(clean)
