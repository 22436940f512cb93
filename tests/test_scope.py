"""The scope: resolution of tool paths, rule semantics and hostile paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import InvalidArgument, ScopeDenied
from agent.scope import NO_WORKSPACE, Permission, Scope, ScopeRule


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("sentinel\n")
    return root


def test_relative_paths_resolve_against_the_root(ws: Path) -> None:
    scope = Scope.default(ws)
    assert scope.resolve("src/app.py") == ws / "src" / "app.py"
    assert scope.resolve("./src/../src/app.py") == ws / "src" / "app.py"
    assert scope.resolve(ws / "src") == ws / "src"
    assert scope.check_read("src/app.py") == ws / "src" / "app.py"


def test_file_uris_are_accepted(ws: Path) -> None:
    scope = Scope.default(ws)
    spaced = ws / "with space.txt"
    spaced.write_text("x")
    assert scope.resolve(spaced.as_uri()) == spaced
    assert "%20" in spaced.as_uri()
    assert scope.resolve(f"file://localhost{spaced}") == spaced
    with pytest.raises(InvalidArgument, match="host"):
        scope.resolve("file://evil.example/etc/passwd")
    with pytest.raises(InvalidArgument, match="URI"):
        scope.resolve("https://example.com/x")


@pytest.mark.parametrize("raw", ["../outside/secret.txt", "../../etc/passwd", "/etc/passwd", ".."])
def test_paths_outside_the_root_are_denied(ws: Path, raw: str) -> None:
    scope = Scope.default(ws)
    with pytest.raises(ScopeDenied, match="outside the workspace scope") as info:
        scope.check_read(raw)
    assert str(ws) in str(info.value)
    assert "can be read" in str(info.value)
    with pytest.raises(ScopeDenied, match="can be written"):
        scope.check_write(raw)


def test_denial_names_what_the_path_resolves_to(ws: Path) -> None:
    scope = Scope.default(ws)
    with pytest.raises(ScopeDenied) as info:
        scope.check_read("../outside/secret.txt")
    target = ws.parent / "outside" / "secret.txt"
    assert str(info.value).startswith(f"`../outside/secret.txt` resolves to {target}, which is")


def test_tilde_is_expanded_and_then_denied(ws: Path) -> None:
    scope = Scope.default(ws)
    assert scope.resolve("~/x") == Path(os.path.realpath(Path.home() / "x"))
    with pytest.raises(ScopeDenied):
        scope.check_read("~/.ssh/id_rsa")


def test_symlink_pointing_outside_is_denied_for_read_and_write(ws: Path) -> None:
    scope = Scope.default(ws)
    link = ws / "innocent.txt"
    link.symlink_to(ws.parent / "outside" / "secret.txt")
    dir_link = ws / "escape"
    dir_link.symlink_to(ws.parent / "outside", target_is_directory=True)
    for raw in ("innocent.txt", "escape/secret.txt", "escape/new-file.txt"):
        with pytest.raises(ScopeDenied, match="outside"):
            scope.check_read(raw)
        with pytest.raises(ScopeDenied, match="outside"):
            scope.check_write(raw)
    assert not scope.readable(link)
    assert (ws.parent / "outside" / "secret.txt").read_text() == "sentinel\n"
    assert not (ws.parent / "outside" / "new-file.txt").exists()


def test_symlinked_dir_inside_the_root_is_allowed(ws: Path) -> None:
    scope = Scope.default(ws)
    (ws / "alias").symlink_to(ws / "src", target_is_directory=True)
    assert scope.check_read("alias/app.py") == ws / "src" / "app.py"
    assert scope.check_write("alias/new.py") == ws / "src" / "new.py"


def test_missing_tail_is_reappended_to_the_resolved_ancestor(ws: Path) -> None:
    scope = Scope.default(ws)
    (ws / "alias").symlink_to(ws / "src", target_is_directory=True)
    assert scope.resolve("alias/a/b/c.txt") == ws / "src" / "a" / "b" / "c.txt"
    assert scope.resolve("missing/../src/app.py") == ws / "src" / "app.py"


def test_git_is_never_writable(ws: Path) -> None:
    scope = Scope.default(ws)
    assert scope.check_read(".git/config") == ws / ".git" / "config"
    with pytest.raises(ScopeDenied, match=r"read-only for the agent \(\.git is never writable\)"):
        scope.check_write(".git/config")
    with pytest.raises(ScopeDenied, match="never writable"):
        scope.check_write(".git/hooks/pre-commit")
    sub = ws / "vendor" / "lib"
    sub.mkdir(parents=True)
    (sub / ".git").write_text("gitdir: ../../.git/modules/lib\n")
    with pytest.raises(ScopeDenied, match="never writable"):
        scope.check_write("vendor/lib/.git")
    # Even an explicit write rule cannot open it up.
    explicit = Scope(ws, [ScopeRule(ws / ".git", Permission.WRITE)])
    assert not explicit.writable(ws / ".git" / "config")
    assert explicit.readable(ws / ".git" / "config")
    assert scope.writable(ws / ".github" / "workflows" / "ci.yml")


def test_hostile_strings_are_invalid_arguments(ws: Path) -> None:
    scope = Scope.default(ws)
    with pytest.raises(InvalidArgument, match="NUL"):
        scope.check_read("src/app.py\x00.txt")
    with pytest.raises(InvalidArgument, match="empty"):
        scope.check_read("   ")
    with pytest.raises(InvalidArgument, match="4096 bytes"):
        scope.check_read("a/" * 2500)
    with pytest.raises(InvalidArgument, match="255 bytes"):
        scope.check_write("x" * 300 + ".txt")
    with pytest.raises(InvalidArgument, match="NUL"):
        scope.check_read("file:///etc/passwd%00")


def test_deny_rules_cap_allow_rules(ws: Path) -> None:
    (ws / "secrets").mkdir()
    (ws / "vendor").mkdir()
    scope = Scope(
        ws,
        allow=[ScopeRule(Path("."), Permission.WRITE)],
        deny=[
            ScopeRule(Path("secrets"), Permission.READ),
            ScopeRule(Path("vendor"), Permission.WRITE),
        ],
    )
    assert scope.permission(ws / "secrets" / "key.pem") is None
    with pytest.raises(ScopeDenied, match="deny rule"):
        scope.check_read("secrets/key.pem")
    assert scope.permission(ws / "vendor" / "lib.py") is Permission.READ
    assert scope.check_read("vendor/lib.py") == ws / "vendor" / "lib.py"
    with pytest.raises(ScopeDenied, match="read access only"):
        scope.check_write("vendor/lib.py")
    assert scope.permission(ws / "src" / "app.py") is Permission.WRITE


def test_highest_allow_rule_wins_and_matching_is_component_wise(ws: Path) -> None:
    (ws / "docs").mkdir()
    (ws / "docsextra").mkdir()
    scope = Scope(
        ws,
        allow=[ScopeRule(ws, Permission.READ), ScopeRule(ws / "docs", Permission.WRITE)],
    )
    assert scope.writable(ws / "docs" / "a.md")
    assert not scope.writable(ws / "docsextra" / "a.md")
    assert scope.readable(ws / "docsextra" / "a.md")
    assert not scope.writable(ws / "src" / "app.py")


def test_non_recursive_rules_cover_the_target_and_direct_children(ws: Path) -> None:
    (ws / "docs" / "deep").mkdir(parents=True)
    scope = Scope(ws, allow=[ScopeRule(Path("docs"), Permission.WRITE, recursive=False)])
    assert scope.readable(ws / "docs")
    assert scope.writable(ws / "docs" / "a.md")
    assert not scope.readable(ws / "docs" / "deep" / "b.md")
    assert not scope.readable(ws / "src" / "app.py")
    with pytest.raises(ScopeDenied, match="not covered"):
        scope.check_read("docs/deep/b.md")


def test_extra_allow_rules_reach_outside_the_root(ws: Path) -> None:
    outside = ws.parent / "outside"
    scope = Scope(ws, [ScopeRule(ws, Permission.WRITE), ScopeRule(outside, Permission.READ)])
    assert scope.check_read(outside / "secret.txt") == outside / "secret.txt"
    with pytest.raises(ScopeDenied, match="read-only"):
        scope.check_write(outside / "secret.txt")
    assert scope.display(outside / "secret.txt") == str(outside / "secret.txt")


def test_empty_scope_denies_everything(tmp_path: Path) -> None:
    scope = Scope.empty()
    assert scope.root is None
    for raw in ("a.txt", str(tmp_path / "a.txt")):
        with pytest.raises(ScopeDenied) as info:
            scope.check_read(raw)
        assert str(info.value) == NO_WORKSPACE
        with pytest.raises(ScopeDenied):
            scope.check_write(raw)
    assert not scope.readable(tmp_path)
    assert scope.summary() == NO_WORKSPACE


def test_summary_and_display(ws: Path) -> None:
    docs = ws / "docs"
    docs.mkdir()
    scope = Scope(
        ws,
        allow=[ScopeRule(ws, Permission.READ), ScopeRule(docs, Permission.WRITE, recursive=False)],
        deny=[ScopeRule(ws / "src", Permission.READ)],
    )
    assert scope.summary() == (
        f"Readable:\n  - {ws}\n  - {docs} [non-recursive]\nWritable:\n  - {docs} [non-recursive]"
    )
    assert scope.display(ws / "src" / "app.py") == "src/app.py"
    assert scope.display(ws) == "."
    assert scope.display(Path("/etc/passwd")) == "/etc/passwd"
    assert Scope.default(ws).summary() == f"Readable:\n  - {ws}\nWritable:\n  - {ws}"


def test_rule_targets_are_canonicalised(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    scope = Scope.default(link)
    assert scope.root == real
    assert scope.allow[0].target == real
    assert scope.check_write(link / "new.txt") == real / "new.txt"
