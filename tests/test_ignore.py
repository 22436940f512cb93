"""The .gitignore matcher and the ignore-aware walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.tools.ignore import IgnoreTree, glob_regex


def make(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


def walked(tree: IgnoreTree, base: Path | None = None) -> list[str]:
    base = base or tree.root
    return [p.relative_to(tree.root).as_posix() for p in tree.walk(base)]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return Path(os.path.realpath(tmp_path))


def test_basic_patterns(root: Path) -> None:
    (root / ".gitignore").write_text(
        "# a comment\n"
        "*.log\n"
        "build/\n"
        "/top.txt\n"
        "\\#literal\n"
        "docs/**/*.tmp\n"
        "file[0-9].txt\n"
        "trailing.txt   \n"
        "!keep.log\n"
    )
    make(
        root,
        [
            "a.log",
            "keep.log",
            "sub/b.log",
            "build/out.js",
            "sub/build/x.js",
            "buildfile",
            "top.txt",
            "sub/top.txt",
            "#literal",
            "# a comment",
            "docs/a/b/c.tmp",
            "docs/c.tmp",
            "other/c.tmp",
            "file1.txt",
            "fileA.txt",
            "trailing.txt",
        ],
    )
    assert walked(IgnoreTree(root)) == [
        "# a comment",
        ".gitignore",
        "buildfile",
        "fileA.txt",
        "keep.log",
        "other/c.tmp",
        "sub/top.txt",
    ]


def test_dir_only_patterns_do_not_match_files(root: Path) -> None:
    (root / ".gitignore").write_text("cache/\n")
    make(root, ["cache", "x/cache/y.txt"])
    assert walked(IgnoreTree(root)) == [".gitignore", "cache"]


def test_nested_gitignore_overrides_and_is_relative(root: Path) -> None:
    (root / ".gitignore").write_text("*.gen\n")
    make(root, ["a.gen", "pkg/b.gen", "pkg/sub/c.gen", "pkg/data/x.csv", "data/y.csv"])
    (root / "pkg" / ".gitignore").write_text("!b.gen\n/data/\n")
    assert walked(IgnoreTree(root)) == [".gitignore", "data/y.csv", "pkg/.gitignore", "pkg/b.gen"]


def test_files_inside_an_ignored_dir_cannot_be_reincluded(root: Path) -> None:
    (root / ".gitignore").write_text("out/\n!out/keep.txt\n")
    make(root, ["out/keep.txt", "out/x.txt"])
    tree = IgnoreTree(root)
    assert walked(tree) == [".gitignore"]
    assert tree.is_ignored(root / "out" / "keep.txt", False)
    assert tree.is_ignored(root / "out", True)
    assert not tree.is_ignored(root / "out", False)


def test_double_star_forms(root: Path) -> None:
    (root / ".gitignore").write_text("**/logs\nlib/**\na/**/z\n")
    make(root, ["logs/1", "deep/er/logs/2", "lib/x/y", "lib.txt", "a/z", "a/b/c/z", "a/zz"])
    assert walked(IgnoreTree(root)) == [".gitignore", "a/zz", "lib.txt"]


def test_git_is_always_ignored_and_symlinked_dirs_are_not_entered(root: Path) -> None:
    make(root, [".git/config", "src/.git", "src/a.py", "elsewhere/b.py"])
    (root / "src" / "link").symlink_to(root / "elsewhere", target_is_directory=True)
    (root / "src" / "flink.py").symlink_to(root / "elsewhere" / "b.py")
    tree = IgnoreTree(root)
    assert walked(tree) == ["elsewhere/b.py", "src/a.py", "src/flink.py"]
    assert [p.name for p in tree.walk(root / "src", symlinks=False)] == ["a.py"]
    assert tree.is_ignored(root / ".git" / "config", False)
    assert tree.is_ignored(root / "src" / ".git", False)


def test_walk_order_is_depth_first_by_name(root: Path) -> None:
    make(root, ["a.txt", "a/b.txt", "a b", "a-b/z", ".hidden/x"])
    assert walked(IgnoreTree(root)) == [".hidden/x", "a/b.txt", "a b", "a-b/z", "a.txt"]


def test_walk_from_a_subdir_applies_parent_rules(root: Path) -> None:
    (root / ".gitignore").write_text("*.o\n")
    make(root, ["src/a.c", "src/a.o"])
    assert walked(IgnoreTree(root), root / "src") == ["src/a.c"]
    # An explicitly named ignored directory is still walked, like an explicit path to rg.
    (root / ".gitignore").write_text("vendor/\n")
    make(root, ["vendor/lib.c"])
    assert walked(IgnoreTree(root), root / "vendor") == ["vendor/lib.c"]


def test_rules_are_reloaded_when_the_file_changes(root: Path) -> None:
    make(root, ["a.txt", "b.txt"])
    tree = IgnoreTree(root)
    (root / ".gitignore").write_text("a.txt\n")
    assert walked(tree) == [".gitignore", "b.txt"]
    (root / ".gitignore").write_text("b.txt\n# now b\n")
    assert walked(tree) == [".gitignore", "a.txt"]


def test_escapes_and_classes(root: Path) -> None:
    (root / ".gitignore").write_text("\\!bang\nspace\\ \n[!a]x\n[[:digit:]]d\n")
    make(root, ["!bang", "space ", "ax", "bx", "5d", "dd"])
    assert walked(IgnoreTree(root)) == [".gitignore", "ax", "dd"]


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("**/*.py", ["a.py", "x/y/a.py"], ["a.pyc", "x/a.txt"]),
        ("*.py", ["a.py"], ["x/a.py"]),
        ("src/**/test_*.{ts,tsx}", ["src/test_a.ts", "src/x/test_b.tsx"], ["src/test_a.js"]),
        ("?.md", ["a.md"], ["ab.md", "/.md"]),
        ("[ab]*", ["apple", "banana"], ["cherry"]),
    ],
)
def test_glob_regex(pattern: str, yes: list[str], no: list[str]) -> None:
    regex = glob_regex(pattern)
    assert all(regex.match(p) for p in yes)
    assert not any(regex.match(p) for p in no)


def test_is_ignored_below_an_explicit_base(root: Path) -> None:
    (root / ".gitignore").write_text("vendor/\n*.o\n")
    make(root, ["vendor/lib/a.c", "vendor/lib/a.o"])
    tree = IgnoreTree(root)
    assert tree.is_ignored(root / "vendor" / "lib" / "a.c", False)
    assert not tree.is_ignored(root / "vendor" / "lib" / "a.c", False, below=root / "vendor")
    assert tree.is_ignored(root / "vendor" / "lib" / "a.o", False, below=root / "vendor")
    assert tree.is_ignored(root / "vendor" / ".git" / "x", False, below=root / "vendor")
