"""``.gitignore`` matching and an ignore-aware file walk.

Covers what real repositories use: nested ``.gitignore`` files (a deeper file
wins, and within a file the last matching line wins), ``!`` negation,
directory-only ``dir/`` patterns, anchored ``/x`` and ``a/b`` patterns,
``**``, ``*``, ``?``, character classes, comments, and backslash escapes
(``\\#``, ``\\!``, a trailing ``\\ ``). ``.git`` is always ignored. As in git, a
file inside an ignored directory cannot be re-included.

Only ``.gitignore`` files at or below the tree's root are read. Compiled rules
are cached per directory and re-read when the file's mtime or size changes,
so one :class:`IgnoreTree` can serve a long-lived file index.

:func:`glob_regex` translates the same glob dialect (plus ``{a,b}``) for the
``glob`` and ``grep`` tools.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.fsutil import read_regular

_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "digit": "0-9",
    "lower": "a-z",
    "upper": "A-Z",
    "space": " \\t\\n\\r\\f\\v",
    "xdigit": "0-9a-fA-F",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
}


def _translate(pattern: str, *, braces: bool) -> str:
    """A regex fragment for a path glob: ``*`` and ``?`` stop at ``/``,
    ``**`` between slashes spans directories."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            at_start = i == 0 or pattern[i - 1] == "/"
            if j - i >= 2 and at_start and (j == n or pattern[j] == "/"):
                if j == n:
                    out.append(".*")
                else:
                    out.append("(?:.*/)?")
                    j += 1
            else:
                out.append("[^/]*")
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            parsed = _char_class(pattern, i)
            if parsed is None:
                out.append(re.escape(c))
                i += 1
            else:
                out.append(parsed[0])
                i = parsed[1]
        elif c == "{" and braces:
            group = _alternatives(pattern, i)
            if group is None:
                out.append(re.escape(c))
                i += 1
            else:
                alts = [_translate(a, braces=True) for a in group[0]]
                out.append("(?:" + "|".join(alts) + ")")
                i = group[1]
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _char_class(pattern: str, start: int) -> tuple[str, int] | None:
    """``[...]`` at ``start``: the regex class and the index after it."""
    i = start + 1
    n = len(pattern)
    negate = i < n and pattern[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < n:
        c = pattern[i]
        if c == "]" and not first:
            body = "".join(items)
            return ("[^/" + body + "]" if negate else "[" + body + "]"), i + 1
        first = False
        if c == "[" and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2 : end] if end != -1 else ""
            if name in _POSIX_CLASSES:
                items.append(_POSIX_CLASSES[name])
                i = end + 2
                continue
        if c == "\\" and i + 1 < n:
            items.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "-" and items and i + 1 < n and pattern[i + 1] != "]":
            items.append("-")
        elif c in "\\^[]-":
            items.append("\\" + c)
        else:
            items.append(c)
        i += 1
    return None


def _alternatives(pattern: str, start: int) -> tuple[list[str], int] | None:
    depth = 0
    parts: list[str] = []
    current: list[str] = []
    i = start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            current.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "{":
            depth += 1
            if depth > 1:
                current.append(c)
        elif c == "}":
            depth -= 1
            if depth == 0:
                parts.append("".join(current))
                return parts, i + 1
            current.append(c)
        elif c == "," and depth == 1:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    return None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A compiled matcher for a glob over POSIX paths relative to a base
    (``*``, ``?``, ``**``, ``[...]``, ``{a,b}``)."""
    return re.compile("^" + _translate(pattern, braces=True) + "$", re.DOTALL)


@dataclass(frozen=True)
class IgnoreRule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def parse_gitignore(text: str) -> tuple[IgnoreRule, ...]:
    """The rules of one ``.gitignore`` file, in file order."""
    rules: list[IgnoreRule] = []
    for raw in text.splitlines():
        rule = _parse_line(raw)
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def _parse_line(line: str) -> IgnoreRule | None:
    if not line or line.startswith("#"):
        return None
    while line.endswith(" ") and not _escaped_at(line, len(line) - 1):
        line = line[:-1]
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    dir_only = line.endswith("/") and not _escaped_at(line, len(line) - 1)
    if dir_only:
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    body = _translate(line.lstrip("/") if anchored else line, braces=False)
    prefix = "^" if anchored else "^(?:.*/)?"
    try:
        regex = re.compile(prefix + body + "$", re.DOTALL)
    except re.error:
        return None
    return IgnoreRule(regex, negate, dir_only)


def _escaped_at(text: str, index: int) -> bool:
    slashes = 0
    i = index - 1
    while i >= 0 and text[i] == "\\":
        slashes += 1
        i -= 1
    return slashes % 2 == 1


_Chain = tuple[tuple[str, tuple[IgnoreRule, ...]], ...]


class IgnoreTree:
    """The ``.gitignore`` files of a tree rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self._root = Path(os.path.realpath(root))
        self._cache: dict[Path, tuple[tuple[int, int] | None, tuple[IgnoreRule, ...]]] = {}

    @property
    def root(self) -> Path:
        return self._root

    def _rules(self, directory: Path) -> tuple[IgnoreRule, ...]:
        file = directory / ".gitignore"
        try:
            st = file.stat()
            key: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        cached = self._cache.get(directory)
        if cached is not None and cached[0] == key:
            return cached[1]
        rules: tuple[IgnoreRule, ...] = ()
        if key is not None:
            try:
                data = read_regular(os.path.realpath(file))  # never a FIFO
                rules = parse_gitignore(data.decode("utf-8", errors="replace"))
            except OSError:
                rules = ()
        self._cache[directory] = (key, rules)
        return rules

    def _top_for(self, path: Path) -> Path:
        return self._root if path.is_relative_to(self._root) else path

    def _chain(self, top: Path, directory: Path) -> _Chain:
        """``(rel dir, rules)`` for ``top`` and each directory down to ``directory``."""
        rel_parts = directory.relative_to(top).parts
        chain = [("", self._rules(top))]
        current = top
        for i, part in enumerate(rel_parts):
            current = current / part
            chain.append(("/".join(rel_parts[: i + 1]), self._rules(current)))
        return tuple(chain)

    @staticmethod
    def _matches(chain: _Chain, rel: str, is_dir: bool) -> bool:
        for base, rules in reversed(chain):
            if not rules:
                continue
            sub = rel[len(base) + 1 :] if base else rel
            for rule in reversed(rules):
                if rule.dir_only and not is_dir:
                    continue
                if rule.regex.match(sub):
                    return not rule.negate
        return False

    def is_ignored(self, path: Path, is_dir: bool, *, below: Path | None = None) -> bool:
        """Whether ``path`` (absolute, canonical) is ignored, itself or through
        an ignored parent directory. Paths outside the root are not ignored.

        With ``below``, only ``path`` and its parents under ``below`` are
        checked, as :meth:`walk` of ``below`` would (an explicitly named
        directory is searched even when ignored)."""
        if not path.is_relative_to(self._root):
            return False
        parts = path.relative_to(self._root).parts
        skip = 0
        if below is not None and path.is_relative_to(below) and below.is_relative_to(self._root):
            skip = len(below.relative_to(self._root).parts)
        if any(p == ".git" for p in parts[skip:]):
            return True
        chain: _Chain = (("", self._rules(self._root)),)
        current = self._root
        for i, part in enumerate(parts):
            rel = "/".join(parts[: i + 1])
            last = i == len(parts) - 1
            if i >= skip and self._matches(chain, rel, is_dir if last else True):
                return True
            if not last:
                current = current / part
                chain = (*chain, (rel, self._rules(current)))
        return False

    def walk(self, base: Path, *, symlinks: bool = True) -> Iterator[Path]:
        """Files under ``base`` that are not ignored, depth first with each
        directory's entries sorted by name. Symlinked directories are never
        entered; symlinks to files are yielded when ``symlinks`` is true.

        ``base`` itself is not checked against the rules (like an explicit
        path given to ripgrep). A file ``base`` is yielded as is."""
        if not base.is_dir():
            if base.is_file() and base.name != ".git":
                yield base
            return
        top = self._top_for(base)
        chain = self._chain(top, base)
        rel = base.relative_to(top).as_posix()
        yield from self._walk_dir(base, "" if rel == "." else rel, chain, symlinks)

    def _walk_dir(self, directory: Path, rel: str, chain: _Chain, symlinks: bool) -> Iterator[Path]:
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            name = entry.name
            if name == ".git":
                continue
            child_rel = f"{rel}/{name}" if rel else name
            try:
                if entry.is_symlink():
                    if symlinks and entry.is_file() and not self._matches(chain, child_rel, False):
                        yield Path(entry.path)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if not self._matches(chain, child_rel, True):
                        sub = Path(entry.path)
                        sub_chain = (*chain, (child_rel, self._rules(sub)))
                        yield from self._walk_dir(sub, child_rel, sub_chain, symlinks)
                elif entry.is_file(follow_symlinks=False) and not self._matches(
                    chain, child_rel, False
                ):
                    yield Path(entry.path)
            except OSError:
                continue
