"""``yoi/memory/list`` through the real ``yoi lsp`` process: the summary,
decisions and requests of the folder the manifest's ``[memory] memory_dir``
names (not the default one), with or without a pod, a manifest changed on disk,
and folders outside the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lspkit import Session
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.timeout(60)

STAMPS = "created_at: 2026-11-30T10:00:00Z\nupdated_at: 2026-12-01T09:30:00Z\n"
SOURCES = "sources:\n  - session_id: s1\n    range: [0, 4]\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


def write_manifest(root: Path, memory_dir: str) -> None:
    (root / ".yoi").mkdir(exist_ok=True)
    (root / ".yoi" / "manifest.toml").write_text(f'[memory]\nmemory_dir = "{memory_dir}"\n')


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fill(memory: Path) -> None:
    write(
        memory / "summary.md",
        f"---\n{STAMPS}---\n# Project summary\n\nA CLI that greets people.\n",
    )
    write(
        memory / "decisions" / "use-postgres.md",
        f"---\nstatus: open\n{STAMPS}{SOURCES}---\n# Use Postgres\n\n"
        "We chose   Postgres over SQLite\nfor concurrent writers.\n",
    )
    write(memory / "decisions" / "Bad Name.md", "# Oops\n")
    write(memory / "requests" / "dark-mode.md", "---\nbroken: [\n---\nwants dark mode\n")
    write(memory / "_staging" / "0001.json", json.dumps({"extracted": {}, "source": {}}))


async def test_lists_the_custom_memory_dir(lsp: Session, root: Path) -> None:
    write_manifest(root, "notes/mem")
    fill(root / "notes" / "mem")
    # the default folder holds a decoy that must not be listed
    write(root / ".yoi" / "memory" / "decisions" / "decoy.md", "# Decoy\n")

    result = await lsp.request("yoi/memory/list", {})
    memory = root / "notes" / "mem"
    assert result["enabled"] is True
    assert result["memoryDir"] == memory.as_uri()
    assert result["staged"] == 1
    assert "problem" not in result
    records = result["records"]
    assert [(r["kind"], r.get("slug")) for r in records] == [
        ("summary", None),
        ("decision", "Bad Name"),
        ("decision", "use-postgres"),
        ("request", "dark-mode"),
    ]
    summary, bad, decision, request = records
    assert summary["title"] == "Project summary"
    assert summary["preview"] == "A CLI that greets people."
    assert summary["uri"] == (memory / "summary.md").as_uri()
    assert summary["updatedAt"] == 1796117400000  # 2026-12-01T09:30:00Z
    assert "problem" not in summary
    assert decision == {
        "kind": "decision",
        "slug": "use-postgres",
        "title": "Use Postgres",
        "preview": "We chose Postgres over SQLite",
        "status": "open",
        "uri": (memory / "decisions" / "use-postgres.md").as_uri(),
        "updatedAt": 1796117400000,
    }
    assert "not a valid slug" in bad["problem"] and "Rename" in bad["problem"]
    assert request["problem"] and request["title"] == "dark-mode"
    assert request["updatedAt"] > 0  # the file's modification time

    # a pod lists the folders it was built with
    pod = await lsp.create_pod()
    by_pod = await lsp.request("yoi/memory/list", {"podId": pod})
    assert by_pod == result

    # the manifest is read afresh: a new memory_dir shows at once
    write_manifest(root, "elsewhere")
    write(root / "elsewhere" / "requests" / "fast-start.md", "# Fast start\n")
    moved = await lsp.request("yoi/memory/list", {})
    assert moved["memoryDir"] == (root / "elsewhere").as_uri()
    assert [(r["kind"], r.get("slug")) for r in moved["records"]] == [("request", "fast-start")]
    assert moved["staged"] == 0


async def test_records_are_listed_when_memory_is_off(lsp: Session, root: Path) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text(
        '[memory]\nenabled = false\nmemory_dir = "notes/mem"\n'
    )
    fill(root / "notes" / "mem")
    pod = await lsp.create_pod()
    for params in ({}, {"podId": pod}):
        result = await lsp.request("yoi/memory/list", params)
        assert result["enabled"] is False, params
        assert result["memoryDir"] == (root / "notes" / "mem").as_uri()
        assert len(result["records"]) == 4


async def test_an_empty_workspace_lists_nothing(lsp: Session, root: Path) -> None:
    result = await lsp.request("yoi/memory/list", {})
    assert result == {
        "enabled": True,
        "memoryDir": (root / ".yoi" / "memory").as_uri(),
        "staged": 0,
        "records": [],
    }


async def test_folders_outside_the_workspace_are_not_read(
    lsp: Session, root: Path, tmp_path: Path
) -> None:
    fill(tmp_path / "outside")
    write_manifest(root, "../outside")
    result = await lsp.request("yoi/memory/list", {})
    assert result["enabled"] is False
    assert "outside the workspace" in result["problem"]
    assert result["memoryDir"] == (root / ".yoi" / "memory").as_uri()
    assert result["records"] == []


async def test_bad_params(lsp: Session) -> None:
    for params in ({"podId": 5}, {"podId": ""}, {"podId": "pod-gone"}):
        with pytest.raises(JsonRpcException) as caught:
            await lsp.request("yoi/memory/list", params)
        assert caught.value.code == -32602, (params, caught.value)
        assert "podId" in caught.value.message
