"""Fuzzy matching of paths for ``@`` completion.

A query matches a path when its characters appear in order (case-insensitive),
like fzf or VS Code's quick open. Matches are ranked by how well they fit: an
exact file name, then a name that starts with the query, then a contiguous
match in the name, then in the path, then a scattered match whose span is
short; shorter paths win ties.

:class:`FuzzyIndex` keeps the lowercase paths and remembers the matches of the
last query, so typing one more character only re-checks those (the common
case while a user types).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


def _pattern(query: str) -> re.Pattern[str]:
    first, *rest = [re.escape(ch) for ch in query]
    return re.compile(first + "".join(f".*?{p}" for p in rest))


def score(query: str, path: str, span: int) -> int:
    """Higher is better. ``query`` and ``path`` are lowercase; ``span`` is the
    length of the shortest in-order match found."""
    name = path.rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0]
    value = 0
    if query in (name, stem):
        value += 10_000
    elif name.startswith(query):
        value += 5_000
    elif query in name:
        value += 3_000
    elif query in path:
        value += 2_000
    value -= span * 10
    value -= len(path)
    return value


@dataclass(frozen=True)
class Match:
    path: str
    score: int


class FuzzyIndex:
    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._set: set[str] = set()
        self._paths: list[str] = []
        self._lower: list[str] = []
        self._last_query = ""
        self._last_hits: list[int] | None = None
        self.replace(paths)

    def replace(self, paths: Iterable[str]) -> None:
        self._set = set(paths)
        self._paths = sorted(self._set)
        self._lower = [p.lower() for p in self._paths]
        self._forget()

    def add(self, path: str) -> None:
        if path not in self._set:
            self._set.add(path)
            self._paths.append(path)
            self._lower.append(path.lower())
            self._forget()

    def remove_where(self, predicate: Callable[[str], bool]) -> None:
        """Drop every path for which ``predicate`` is true (one pass)."""
        doomed = {p for p in self._set if predicate(p)}
        if doomed:
            self.replace(self._set - doomed)

    def paths(self) -> list[str]:
        return list(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._set

    def _forget(self) -> None:
        self._last_query = ""
        self._last_hits = None

    def _candidates(self, query: str) -> Sequence[int]:
        if self._last_hits is not None and self._last_query and query.startswith(self._last_query):
            return self._last_hits
        return range(len(self._paths))

    def search(self, query: str, limit: int = 50) -> list[Match]:
        q = query.lower().strip()
        if not q:
            shortest = heapq.nsmallest(limit, self._paths, key=lambda p: (len(p), p))
            return [Match(p, 0) for p in shortest]
        pattern = _pattern(q)
        hits: list[int] = []
        scored: list[tuple[int, int]] = []
        lower = self._lower
        for i in self._candidates(q):
            found = pattern.search(lower[i])
            if found is None:
                continue
            hits.append(i)
            scored.append((score(q, lower[i], found.end() - found.start()), i))
        self._last_query, self._last_hits = q, hits
        best = heapq.nlargest(limit, scored, key=lambda s: (s[0], -s[1]))
        return [Match(self._paths[i], value) for value, i in best]
