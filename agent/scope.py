"""What the agent may read and write: the scope.

A scope is a workspace root plus allow and deny rules. A path's permission is
the highest permission of the allow rules that match it, capped by the deny
rules that match it (deny ``read`` leaves no access, deny ``write`` leaves read
only). A rule matches its target and, when recursive, everything below it;
a non-recursive rule matches its target and its direct children. Matching is
component-wise on canonical paths, so ``/a/bc`` is not under ``/a/b`` and a
symlink grants nothing by itself: the resolved target decides.

On top of the rules, a path with a ``.git`` component is never writable.

Every tool argument goes through :meth:`Scope.resolve` and
:meth:`Scope.check_read` / :meth:`Scope.check_write` before any I/O.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from agent.errors import InvalidArgument, ScopeDenied

MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
NO_WORKSPACE = "No workspace folder is open, so file tools are unavailable."


class Permission(StrEnum):
    """Access to a path; ``read < write``."""

    READ = "read"
    WRITE = "write"

    @property
    def rank(self) -> int:
        return 1 if self is Permission.READ else 2


@dataclass(frozen=True)
class ScopeRule:
    target: Path
    permission: Permission
    recursive: bool = True

    def matches(self, path: Path) -> bool:
        """Whether the rule covers ``path`` (both canonical)."""
        if self.recursive:
            return path == self.target or path.is_relative_to(self.target)
        return self.target in (path, path.parent)


def canonical(path: Path) -> Path:
    """The absolute path with symlinks resolved; a missing tail is re-appended
    to its nearest existing ancestor."""
    return Path(os.path.realpath(path))


def has_git_component(path: Path) -> bool:
    return any(part.casefold() == ".git" for part in path.parts)


class Scope:
    """A workspace root and the rules that say what the agent may touch."""

    __slots__ = ("_allow", "_deny", "_root")

    def __init__(
        self,
        root: Path | None,
        allow: Sequence[ScopeRule],
        deny: Sequence[ScopeRule] = (),
    ) -> None:
        self._root = canonical(root.expanduser()) if root is not None else None
        self._allow = tuple(self._canonical_rule(r) for r in allow)
        self._deny = tuple(self._canonical_rule(r) for r in deny)

    @classmethod
    def default(cls, root: Path) -> Scope:
        """Read and write access to ``root`` and everything below it."""
        return cls(root, [ScopeRule(root, Permission.WRITE)])

    @classmethod
    def empty(cls) -> Scope:
        """The scope of a host with no workspace folder: nothing is readable."""
        return cls(None, [])

    @property
    def root(self) -> Path | None:
        return self._root

    @property
    def allow(self) -> tuple[ScopeRule, ...]:
        return self._allow

    @property
    def deny(self) -> tuple[ScopeRule, ...]:
        return self._deny

    def _canonical_rule(self, rule: ScopeRule) -> ScopeRule:
        target = rule.target.expanduser()
        if not target.is_absolute():
            if self._root is None:
                raise ValueError(
                    f"scope rule target {rule.target} is relative, but there is no "
                    "workspace root to resolve it against"
                )
            target = self._root / target
        return ScopeRule(canonical(target), Permission(rule.permission), rule.recursive)

    # ------------------------------------------------------------ resolution

    def resolve(self, raw: str | Path) -> Path:
        """The canonical absolute path a tool argument names.

        Relative paths are relative to the workspace root; ``~`` is expanded
        and ``file://`` URIs are accepted. Raises :class:`InvalidArgument` for
        paths no file system would accept."""
        text = str(raw)
        if isinstance(raw, str) and "\x00" not in text:
            text = _strip_uri(text)
        if not text.strip():
            raise InvalidArgument(
                "The path is empty; pass a path relative to the workspace root, or an "
                "absolute path."
            )
        if "\x00" in text:
            raise InvalidArgument(
                f"The path {str(raw)!r} contains a NUL byte, which no file name can contain."
            )
        path = Path(text)
        if text == "~" or text.startswith("~/"):
            path = path.expanduser()
        if not path.is_absolute():
            if self._root is None:
                raise ScopeDenied(NO_WORKSPACE)
            path = self._root / path
        _check_length(path)
        return canonical(path)

    def permission(self, path: Path, *, resolved: bool = False) -> Permission | None:
        """The agent's access to ``path``, ``None`` for none. Pass
        ``resolved=True`` only for a path that is already canonical."""
        if self._root is None:
            return None
        if not resolved:
            if not path.is_absolute():
                path = self._root / path
            path = canonical(path)
        best: Permission | None = None
        for rule in self._allow:
            if rule.matches(path) and (best is None or rule.permission.rank > best.rank):
                best = rule.permission
        if best is None:
            return None
        for rule in self._deny:
            if rule.matches(path):
                if rule.permission is Permission.READ:
                    return None
                best = Permission.READ
        if best is Permission.WRITE and has_git_component(path):
            return Permission.READ
        return best

    def readable(self, path: Path, *, resolved: bool = False) -> bool:
        try:
            return self.permission(path, resolved=resolved) is not None
        except (OSError, ValueError):
            return False

    def writable(self, path: Path, *, resolved: bool = False) -> bool:
        try:
            return self.permission(path, resolved=resolved) is Permission.WRITE
        except (OSError, ValueError):
            return False

    def check_read(self, raw: str | Path) -> Path:
        """Resolve ``raw`` and make sure the agent may read it."""
        path = self._resolve_checked(raw)
        if self.permission(path, resolved=True) is None:
            raise ScopeDenied(self._denied(raw, path, "read"))
        return path

    def check_write(self, raw: str | Path) -> Path:
        """Resolve ``raw`` and make sure the agent may write it."""
        path = self._resolve_checked(raw)
        perm = self.permission(path, resolved=True)
        if perm is None:
            raise ScopeDenied(self._denied(raw, path, "written"))
        if perm is not Permission.WRITE:
            why = (
                ".git is never writable"
                if has_git_component(path)
                else "the scope grants read access only"
            )
            raise ScopeDenied(f"{self._named(raw, path)} is read-only for the agent ({why}).")
        return path

    def _resolve_checked(self, raw: str | Path) -> Path:
        if self._root is None:
            raise ScopeDenied(NO_WORKSPACE)
        return self.resolve(raw)

    def _named(self, raw: str | Path, path: Path) -> str:
        shown = str(raw)
        if shown in (str(path), self.display(path)):
            return f"`{shown}`"
        return f"`{shown}` resolves to {path}, which"

    def _denied(self, raw: str | Path, path: Path, verb: str) -> str:
        subject = self._named(raw, path)
        assert self._root is not None
        if path.is_relative_to(self._root):
            where = "is excluded from the agent's scope by a deny rule"
            if not any(r.matches(path) for r in self._deny):
                where = "is not covered by the workspace scope's rules"
            return f"{subject} {where}, so it cannot be {verb}."
        return (
            f"{subject} is outside the workspace scope ({self._root}). "
            f"Only paths inside the scope can be {verb}."
        )

    # ------------------------------------------------------------ display

    def display(self, path: Path) -> str:
        """``path`` relative to the root (POSIX) when inside it, else absolute."""
        if self._root is not None and path.is_absolute() and path.is_relative_to(self._root):
            rel = path.relative_to(self._root).as_posix()
            return rel or "."
        return str(path)

    def summary(self) -> str:
        """The scope as the system prompt shows it: a ``Readable:`` block with
        every allow rule, then a ``Writable:`` block with the write rules."""
        if self._root is None:
            return NO_WORKSPACE

        def line(rule: ScopeRule) -> str:
            return f"  - {rule.target}" + ("" if rule.recursive else " [non-recursive]")

        readable = [line(r) for r in self._allow] or ["  (none)"]
        writable = [line(r) for r in self._allow if r.permission is Permission.WRITE]
        return "\n".join(["Readable:", *readable, "Writable:", *(writable or ["  (none)"])])


def _strip_uri(text: str) -> str:
    if text.startswith("file:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise InvalidArgument(
                f"The URI {text} names the host {parts.netloc!r}; only local file:// URIs "
                "are supported."
            )
        path = unquote(parts.path)
        if not path:
            raise InvalidArgument(f"The URI {text} does not name a file.")
        return path
    if _URI_SCHEME.match(text):
        raise InvalidArgument(
            f"{text} is a URI; pass a file path, or a file:// URI for a local file."
        )
    return text


def _check_length(path: Path) -> None:
    data = os.fsencode(path)
    if len(data) > MAX_PATH_BYTES:
        raise InvalidArgument(
            f"The path is {len(data)} bytes long; paths are limited to {MAX_PATH_BYTES} bytes."
        )
    for name in data.split(b"/"):
        if len(name) > MAX_NAME_BYTES:
            shown = os.fsdecode(name[:40])
            raise InvalidArgument(
                f"The path component `{shown}…` is {len(name)} bytes long; file names are "
                f"limited to {MAX_NAME_BYTES} bytes."
            )
