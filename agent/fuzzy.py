"""Fuzzy matching of paths for ``@`` completion.

A query matches a path when its characters appear in order (case-insensitive),
like fzf or VS Code's quick open. Matches are ranked by tier, then by how
tight the match is, then by path length:

1. the file name (or its stem) is the query;
2. the file name starts with the query;
3. the file name contains the query;
4. the path contains the query;
5. the characters appear in order, scattered (shorter spans first).

:class:`FuzzyIndex` answers a keystroke without a Python-level pass over every
path when it can: contiguous matches are found with C-level substring tests,
and the scattered (regex) pass runs only when the contiguous ones do not fill
the answer. It also remembers the last query's matches, so typing one more
character only re-checks those.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

EXACT, NAME_PREFIX, IN_NAME, IN_PATH, SCATTERED = 5, 4, 3, 2, 1


def _pattern(query: str) -> re.Pattern[str]:
    """Leftmost in-order match of the query's characters, within one line."""
    first, *rest = [re.escape(ch) for ch in query]
    return re.compile(first + "".join(f"[^\\n{p}]*{p}" for p in rest))


@dataclass(frozen=True)
class Match:
    path: str
    tier: int


class FuzzyIndex:
    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._set: set[str] = set()
        self._paths: list[str] = []
        self._lower: list[str] = []
        self._last_query = ""
        self._last_hits: list[int] | None = None
        self._derived: _Derived | None = None
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
            self._last_query, self._last_hits = "", None
            if self._derived is not None:
                self._derived.add(len(self._lower) - 1, self._lower[-1])

    def prepare(self) -> None:
        """Build the lookup structures now (they are otherwise built by the
        first search); safe to call from a worker thread before publishing."""
        self._index()

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
        self._derived = None

    def _index(self) -> _Derived:
        if self._derived is None:
            self._derived = _Derived(self._lower)
        return self._derived

    def search(self, query: str, limit: int = 50) -> list[Match]:
        q = query.lower().strip()
        derived = self._index()
        if not q:
            return [Match(self._paths[i], 0) for i in derived.by_length[:limit]]
        narrowed = (
            self._last_hits
            if self._last_hits is not None and self._last_query and q.startswith(self._last_query)
            else None
        )
        if narrowed is None:
            order: Sequence[int] = derived.by_length
        else:
            order = sorted(narrowed, key=derived.length_key)
        picked = self._contiguous(q, order, limit)
        if len(picked) >= limit:  # scattered matches rank below: not needed
            self._last_query, self._last_hits = q, narrowed
            return [Match(self._paths[i], t) for t, i in picked]
        pattern = _pattern(q)
        if narrowed is None:
            spans = derived.scattered(pattern)
        else:
            spans = {}
            for i in narrowed:
                found = pattern.search(self._lower[i])
                if found is not None:
                    spans[i] = found.end() - found.start()
        self._last_query, self._last_hits = q, sorted(spans)
        taken = {i for _, i in picked}
        rest = heapq.nsmallest(
            limit - len(picked),
            (i for i in spans if i not in taken),
            key=lambda i: (spans[i], *derived.length_key(i)),
        )
        return [Match(self._paths[i], t) for t, i in picked] + [
            Match(self._paths[i], SCATTERED) for i in rest
        ]

    def _contiguous(self, q: str, order: Sequence[int], limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` ``(tier, index)`` of paths containing ``q``, best
        tier first, shortest path first within a tier."""
        lower, derived = self._lower, self._index()
        names = derived.names
        hits = [i for i in order if q in lower[i]]  # one C-level pass; tiers look only here
        exact = set(derived.exact.get(q, ()))
        picked: list[tuple[int, int]] = []
        taken: set[int] = set()
        tests: list[tuple[int, Iterable[int]]] = [
            (EXACT, (i for i in hits if i in exact)),
            (NAME_PREFIX, (i for i in hits if names[i].startswith(q))),
            (IN_NAME, (i for i in hits if q in names[i])),
            (IN_PATH, hits),
        ]
        for tier_value, tier_hits in tests:
            for i in tier_hits:
                if i in taken:
                    continue
                taken.add(i)
                picked.append((tier_value, i))
                if len(picked) >= limit:
                    return picked
        return picked


class _Derived:
    """Lookup structures built from the paths: file names, exact-name index,
    the paths by length, and one newline-joined text for the regex pass.
    Extended in place when a path is added; rebuilt when one is removed."""

    def __init__(self, lower: list[str]) -> None:
        self.lower = lower
        self.names: list[str] = []
        self.exact: dict[str, list[int]] = {}
        self.parts: list[str] = []
        self.starts: list[int] = []
        self._end = 0
        self._text: str | None = None
        for i, path in enumerate(lower):
            self._note(i, path)
        self.by_length = sorted(range(len(lower)), key=self.length_key)

    def length_key(self, i: int) -> tuple[int, str]:
        return len(self.lower[i]), self.lower[i]

    def _note(self, i: int, path: str) -> None:
        name = path.rsplit("/", 1)[-1]
        self.names.append(name)
        self.exact.setdefault(name, []).append(i)
        stem = name.split(".", 1)[0]
        if stem != name:
            self.exact.setdefault(stem, []).append(i)
        self.starts.append(self._end)
        self.parts.append(path)
        self._end += len(path) + 1

    def add(self, i: int, path: str) -> None:
        self._note(i, path)
        bisect.insort(self.by_length, i, key=self.length_key)
        self._text = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "\n".join(self.parts)
        return self._text

    def scattered(self, pattern: re.Pattern[str]) -> dict[int, int]:
        """``{index: span}`` of every path the pattern matches, in one regex
        pass over all paths joined by newlines (C speed, no Python loop)."""
        found: dict[int, int] = {}
        for match in pattern.finditer(self.text):
            index = bisect.bisect_right(self.starts, match.start()) - 1
            found.setdefault(index, match.end() - match.start())
        return found
