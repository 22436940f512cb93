"""A pod's scope with sub-agents in mind.

:class:`AgentScope` is the scope every pod with a workspace works through:

- for a sub-agent it is a *delegated* scope: its own rules (what it was
  given) capped by its parent's scope, so whatever the rules say it can never
  read or write more than the parent could;
- for every pod, a write must also pass the registry's write claims
  (:class:`~agent.agents.claims.ClaimView`): a folder a running sub-agent
  holds is written by that sub-agent only.

:func:`delegate` turns the ``scope`` argument of ``spawn_agent`` into the
child's rules, checking each against the parent's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.agents.claims import ClaimView, conflict
from agent.errors import InvalidArgument, ScopeDenied
from agent.scope import Permission, Scope, ScopeRule


class AgentScope(Scope):
    __slots__ = ("_claims", "_parent", "_writer")

    def __init__(
        self,
        root: Path | None,
        allow: Sequence[ScopeRule],
        deny: Sequence[ScopeRule] = (),
        *,
        parent: Scope | None = None,
        claims: ClaimView | None = None,
        writer: str = "",
    ) -> None:
        super().__init__(root, allow, deny)
        self._parent = parent
        self._claims = claims
        self._writer = writer

    @classmethod
    def guarding(cls, scope: Scope, claims: ClaimView, writer: str) -> AgentScope:
        """``scope`` as it is, plus the write claims, for pod ``writer``."""
        return cls(scope.root, scope.allow, scope.deny, claims=claims, writer=writer)

    @property
    def parent(self) -> Scope | None:
        return self._parent

    def permission(self, path: Path, *, resolved: bool = False) -> Permission | None:
        own = super().permission(path, resolved=resolved)
        if own is None or self._parent is None:
            return own
        theirs = self._parent.permission(path, resolved=resolved)
        if theirs is None:
            return None
        return own if own.rank <= theirs.rank else theirs

    def check_write(self, raw: str | Path) -> Path:
        path = super().check_write(raw)
        if self._claims is not None:
            holder = self._claims.blocker(path, self._writer)
            if holder is not None:
                raise conflict(holder, self.display(path))
        return path


@dataclass(frozen=True)
class Delegated:
    """A child's scope rules and the subtrees it will hold write access to."""

    allow: tuple[ScopeRule, ...]
    deny: tuple[ScopeRule, ...]
    writes: tuple[str, ...]


def delegate(
    parent: Scope,
    *,
    write: Sequence[str] | None,
    read: Sequence[str] | None,
    deny: Sequence[str],
    read_only: bool,
) -> Delegated:
    """The child's rules. ``read`` (default: everything the parent reads) and
    ``write`` (default: the whole workspace, or nothing when ``read_only``)
    are paths relative to the root; each must be readable (writable) for the
    parent: a child never gets more than its parent has."""
    root = parent.root
    if root is None:
        raise ScopeDenied("No workspace folder is open, so there is no scope to delegate.")
    if read_only and write:
        raise InvalidArgument("`readOnly` is true, so `scope.write` must be empty.")
    writes: list[Path] = []
    for raw in write if write is not None else ([] if read_only else ["."]):
        path = parent.check_write(raw)  # in the parent's scope, and not held by another agent
        writes.append(path)
    allow: list[ScopeRule]
    if read is None:
        allow = [ScopeRule(r.target, Permission.READ, r.recursive) for r in parent.allow]
    else:
        allow = [ScopeRule(parent.check_read(raw), Permission.READ) for raw in read]
    allow += [ScopeRule(p, Permission.WRITE) for p in writes]
    denied = [*parent.deny, *(ScopeRule(parent.resolve(raw), Permission.READ) for raw in deny)]
    _no_overlap(writes)
    return Delegated(tuple(allow), tuple(denied), tuple(str(p) for p in writes))


def _no_overlap(writes: list[Path]) -> None:
    for i, a in enumerate(writes):
        for b in writes[i + 1 :]:
            if a == b or a.is_relative_to(b) or b.is_relative_to(a):
                raise InvalidArgument(f"`scope.write` names overlapping folders: {a} and {b}.")


def describe(scope: Scope, writes: Sequence[str], read_only: bool) -> str:
    """One line for the model: what the child may write."""
    if read_only:
        return "read-only"
    if not writes:
        return "writes nothing"
    return "writes " + ", ".join(scope.display(Path(w)) for w in writes)
