"""The runtime/host boundary, enforced: agent/ (the runtime) imports no host
(neither the language server in server/ nor the terminal in terminal/) and
never the editor protocol libraries; the terminal host never speaks LSP; only
server/cli.py (the `yoi` command) reaches the terminal host; and only
agent/llm/ imports litellm (anywhere in the project). Checked on the syntax
tree, so lazy imports inside functions count."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value.split(".")[0])
    return found


def python_files(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def test_agent_never_imports_editor_protocol_libraries() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            imported_modules(p) & {"pygls", "lsprotocol", "server", "terminal"}
        )
        for p in python_files("agent")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_terminal_host_never_speaks_lsp() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_modules(p) & {"pygls", "lsprotocol", "server"})
        for p in python_files("terminal")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_yoi_command_reaches_the_terminal_host() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files("server")
        if "terminal" in imported_modules(p) and p.name != "cli.py"
    ]
    assert offenders == []
    assert not (ROOT / "agent" / "cli").exists()


def test_only_agent_llm_imports_litellm() -> None:
    llm = ROOT / "agent" / "llm"
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files("agent", "server", "terminal", "tests", "bench")
        if "litellm" in imported_modules(p) and llm not in p.parents
    ]
    assert offenders == []


def test_the_checker_sees_lazy_and_dynamic_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    import pygls.server\n"
        "def g():\n    from lsprotocol import types\n"
        "def h():\n    importlib.import_module('litellm')\n"
    )
    assert imported_modules(sample) >= {"pygls", "lsprotocol", "litellm"}
