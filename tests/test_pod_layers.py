"""The pod sits above its runners: compaction, memory and the sub-agents'
modules never import agent.pod (not even for types: they see a pod through
agent/pod_port.py or agent/agents/port.py), so agent/pod.py and its parts no
longer import each other in a circle. Checked on the syntax tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(30)

RUNNERS = ("agent/compaction", "agent/memory")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_compaction_and_memory_never_import_the_pod() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for folder in RUNNERS
        for p in sorted((ROOT / folder).rglob("*.py"))
        if "agent.pod" in imports_of(p)
    ]
    assert offenders == []


def test_the_pod_port_imports_no_runner_at_run_time() -> None:
    tree = ast.parse((ROOT / "agent" / "pod_port.py").read_text(encoding="utf-8"))
    top = {
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert not any(m.startswith(("agent.pod", "agent.compaction", "agent.memory")) for m in top)
