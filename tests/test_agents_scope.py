"""Delegated scope and write claims, on real files and a real registry: a
child's scope never widens its parent's; claimed subtrees never overlap,
whether the pods live in one process or two; a claim refuses the other
pods' writes until it is released."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.agents.claims import ClaimView
from agent.agents.scope import AgentScope, delegate
from agent.errors import ScopeDenied, WriteConflict
from agent.registry import PodRegistry
from agent.scope import Permission, Scope, ScopeRule

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for folder in ("src", "docs/api", "secret"):
        (root / folder).mkdir(parents=True)
    (root / "README.md").write_text("hi\n")
    return root.resolve()


def parent_scope(ws: Path, home: Path, writer: str = "pod-parent") -> AgentScope:
    scope = Scope(
        ws,
        [ScopeRule(ws, Permission.WRITE)],
        [ScopeRule(ws / "secret", Permission.READ), ScopeRule(ws / "src", Permission.WRITE)],
    )
    return AgentScope.guarding(scope, ClaimView(home), writer)


def child_scope(parent: AgentScope, home: Path, writer: str, **kw: object) -> AgentScope:
    rules = delegate(
        parent,
        write=kw.get("write"),  # type: ignore[arg-type]
        read=kw.get("read"),  # type: ignore[arg-type]
        deny=(),
        read_only=bool(kw.get("read_only", False)),
    )
    return AgentScope(
        parent.root, rules.allow, rules.deny, parent=parent, claims=ClaimView(home), writer=writer
    )


def test_a_child_never_gets_more_than_its_parent(ws: Path, tmp_path: Path) -> None:
    parent = parent_scope(ws, tmp_path / "home")
    child = child_scope(parent, tmp_path / "home", "pod-c", write=["docs"])
    assert child.writable(ws / "docs" / "api" / "x.md")
    assert not child.writable(ws / "README.md") and child.readable(ws / "README.md")
    assert not child.readable(ws / "secret" / "key")  # the parent's deny holds
    assert not child.writable(ws / "src" / "a.py")
    with pytest.raises(ScopeDenied):
        child_scope(parent, tmp_path / "home", "pod-d", write=["src"])  # read-only for the parent
    with pytest.raises(ScopeDenied):
        child_scope(parent, tmp_path / "home", "pod-e", read=["/etc"])
    narrow = child_scope(parent, tmp_path / "home", "pod-f", read=["docs"], read_only=True)
    assert narrow.readable(ws / "docs" / "api") and not narrow.readable(ws / "README.md")
    with pytest.raises(ScopeDenied, match="read-only"):
        narrow.check_write("docs/new.md")


def test_claims_never_overlap_and_refuse_other_writers(ws: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    one, two = PodRegistry(home), PodRegistry(home)  # as two processes would
    parent = parent_scope(ws, home)
    one.reserve("pod-a", "writer", "pod-parent", (str(ws / "docs"),), ws)
    with pytest.raises(WriteConflict, match="sub-agent writer"):
        two.reserve("pod-b", "other", "pod-parent", (str(ws / "docs" / "api"),), ws)
    with pytest.raises(WriteConflict):
        two.reserve("pod-b", "other", "pod-parent", (str(ws),), ws)
    # the holder may delegate part of its own subtree to a child of its own
    two.reserve("pod-g", "grandchild", "pod-a", (str(ws / "docs" / "api"),), ws)
    with pytest.raises(WriteConflict, match="delegated to the sub-agent writer"):
        parent.check_write("docs/guide.md")
    with pytest.raises(WriteConflict, match="sub-agent grandchild"):
        parent.check_write("docs/api/ref.md")
    holder = AgentScope.guarding(parent, ClaimView(home), "pod-a")
    holder.check_write("docs/guide.md")
    with pytest.raises(WriteConflict, match="grandchild"):
        holder.check_write("docs/api/ref.md")
    parent.check_write("README.md")
    # the same subtree handed down whole: the one it was handed to writes there
    two.reserve("pod-h", "heir", "pod-g", (str(ws / "docs" / "api"),), ws)
    AgentScope.guarding(parent, ClaimView(home), "pod-h").check_write("docs/api/ref.md")
    with pytest.raises(WriteConflict, match="heir"):
        AgentScope.guarding(parent, ClaimView(home), "pod-g").check_write("docs/api/ref.md")
    one.release("pod-h")
    one.release("pod-g")
    one.release("pod-a")
    parent.check_write("docs/guide.md")
    parent.check_write("docs/api/ref.md")


def test_a_claim_of_another_process_holds_until_it_is_gone(ws: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    script = (
        "import sys, pathlib\n"
        "from agent.registry import PodRegistry\n"
        "PodRegistry(pathlib.Path(sys.argv[1])).reserve('pod-x', 'elsewhere', 'pod-p', "
        "(sys.argv[2],), sys.argv[2])\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(home), str(ws / "docs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            with pytest.raises(WriteConflict, match="elsewhere"):
                PodRegistry(home).reserve("pod-y", "here", "pod-q", (str(ws / "docs"),), ws)
            with pytest.raises(WriteConflict, match="elsewhere"):
                parent_scope(ws, home).check_write("docs/a.md")
        finally:
            proc.kill()
            proc.wait(10)
    parent_scope(ws, home).check_write("docs/a.md")  # a dead process holds nothing
    PodRegistry(home).reserve("pod-y", "here", "pod-q", (str(ws / "docs"),), ws)
