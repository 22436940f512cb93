"""Fuzzy matching of paths for ``@`` completion.

A query matches a path when its characters appear in order (case-insensitive),
like fzf or VS Code's quick open. Matches are ranked by tier, then by how
tight the match is, then by path length, then by text:

1. the file name (or its stem) is the query;
2. the file name starts with the query;
3. the file name contains the query;
4. the path contains the query;
5. the characters appear in order, scattered (shorter spans first; a span
   starts at the first occurrence of the query's first character and ends
   where the rest first completes).

How it answers a keystroke on 100,000 paths in a few milliseconds (see
``bench/bench_references.py``): the lower-cased paths live in one text,
``"\\n/" + "\\n/".join(paths) + "\\n"``, shortest first, and that text is also
held as seven integers, one per bit of each character (:mod:`agent.textbits`). The
positions of any character are then seven ANDs away, and a query is matched
against every path at once with whole-text integer operations, which CPython
runs in C at memory speed: a shift-and chain finds contiguous occurrences; for
the scattered tier, adding the positions reached so far to the run of ones that
marks a line carries from the first of them to the line's end, which is every
place the next character may be. Python only touches the few paths it answers
with. Typing one more character extends the last query's state by one step.

An index is changed by :meth:`FuzzyIndex.updated`, which returns a new index
(a few paths are cut out of or spliced into the text and the integers, without
re-sorting) and leaves the old one answering meanwhile, so the work can run in
a thread; no single C call in it holds the GIL for more than a few milliseconds.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import compress, filterfalse

from agent.textbits import TextBits, positions

EXACT, NAME_PREFIX, IN_NAME, IN_PATH, SCATTERED = 5, 4, 3, 2, 1

_SMALL = 64  # at most this many paths added or removed are spliced in place
_CHUNK = 8192  # lines per C-level call while building (each call holds the GIL)
_SPREAD = 200  # at most this many scattered matches are all ranked in Python


# a line's original paths where they are not just the line itself: one (a
# string, which the garbage collector does not track) or several (sorted)
_Odd = dict[str, str | tuple[str, ...]]


@dataclass(frozen=True)
class Match:
    path: str
    tier: int


def _key(line: str) -> tuple[int, str]:
    return len(line), line


def _joined(lines: list[str]) -> str:
    """Every line between newlines and after a slash, so a file name always
    follows a ``/``: ``"\\n/a/b.py\\n/c.md\\n"``."""
    parts = [lines[i : i + _CHUNK] for i in range(0, len(lines), _CHUNK)]
    return "".join(["\n/" + "\n/".join(part) for part in parts]) + "\n"


def _ordered(lines: list[str]) -> list[str]:
    """``lines`` sorted by (length, text), in pieces so no one sort holds the
    GIL long: each chunk sorted by length, its runs gathered per length, and
    each length's lines sorted (a big one in pieces, merged)."""
    runs: dict[int, list[str]] = {}
    for start in range(0, len(lines), _CHUNK):
        chunk = sorted(lines[start : start + _CHUNK], key=len)
        lengths = list(map(len, chunk))
        at = 0
        while at < len(chunk):
            end = bisect.bisect_right(lengths, lengths[at], at)
            runs.setdefault(lengths[at], []).extend(chunk[at:end])
            at = end
    ordered: list[str] = []
    for length in sorted(runs):
        run, piece = runs[length], _CHUNK
        pieces = [sorted(run[i : i + piece]) for i in range(0, len(run), piece)]
        ordered += pieces[0] if len(pieces) == 1 else heapq.merge(*pieces)
    return ordered


class _Data:
    """Lower-cased paths, unique and ordered by (length, text), their joined
    text and its bit planes. ``odd`` maps a line to its original paths where
    they are not just the line itself."""

    __slots__ = ("bits", "lines", "lossy", "odd", "size", "text")

    def __init__(
        self,
        lines: list[str],
        odd: _Odd,
        text: str | None = None,
        bits: TextBits | None = None,
    ) -> None:
        self.lines, self.odd = lines, odd
        self.text = _joined(lines) if text is None else text
        self.bits = TextBits.of(self.text) if bits is None else bits
        self.lossy = not self.text.isascii()  # some "?" in the planes is not a "?"
        self.size = len(lines) + sum(len(p) - 1 for p in odd.values() if isinstance(p, tuple))

    @classmethod
    def build(cls, paths: Iterable[str]) -> _Data:
        given = list(paths)
        if any("\n" in "".join(given[i : i + _CHUNK]) for i in range(0, len(given), _CHUNK)):
            given = [path for path in given if "\n" not in path]
        lowered: list[str] = []
        unique: set[str] = set()
        odd: _Odd = {}
        for start in range(0, len(given), _CHUNK):  # in C, a chunk at a time
            part = given[start : start + _CHUNK]
            low = list(map(str.lower, part))
            unique.update(low)
            differs = list(map(str.__ne__, low, part))
            odd.update(zip(compress(low, differs), compress(part, differs), strict=False))
            lowered += low
        if len(unique) == len(lowered):  # no two paths share a line
            return cls(_ordered(lowered), odd)
        first: dict[str, str] = {}
        odd.clear()
        for path in given:
            line = path.lower()
            known = first.setdefault(line, path)
            if known == path:
                if path != line and line not in odd:
                    odd[line] = path
            else:
                _also(odd, line, path)
        return cls(_ordered(list(first)), odd)

    def find(self, line: str) -> int | None:
        i = bisect.bisect_left(self.lines, _key(line), key=_key)
        return i if i < len(self.lines) and self.lines[i] == line else None

    def originals(self, line: str) -> tuple[str, ...]:
        return _originals(self.odd, line)

    def line_at(self, at: int) -> str:
        """The line holding text position ``at``."""
        start = self.text.rfind("\n", 0, at) + 2
        return self.text[start : self.text.index("\n", at)]

    def edited(self, odd: _Odd, drop: set[str], new: Iterable[str]) -> _Data:
        """This data without the lines ``drop`` and with ``new``, cut out of and
        spliced into the text and its planes where they sort."""
        lines, text, bits = list(self.lines), self.text, self.bits
        for line in drop:
            i = bisect.bisect_left(lines, _key(line), key=_key)
            start = text.find(f"\n/{line}\n")
            end = start + len(line) + 2
            text, bits = text[:start] + text[end:], bits.cut(start, end)
            del lines[i]
        for line in new:
            i = bisect.bisect_left(lines, _key(line), key=_key)
            start = text.find(f"\n/{lines[i]}\n") if i < len(lines) else len(text) - 1
            piece = f"\n/{line}"
            text, bits = text[:start] + piece + text[start:], bits.spliced(start, piece)
            lines.insert(i, line)
        return _Data(lines, odd, text, bits)


def _originals(odd: _Odd, line: str) -> tuple[str, ...]:
    known = odd.get(line)
    if known is None:
        return (line,)
    return (known,) if isinstance(known, str) else known


def _also(odd: _Odd, line: str, path: str) -> None:
    known = _originals(odd, line)
    if path not in known:
        odd[line] = tuple(sorted((*known, path)))


def _forget(odd: _Odd, drop: set[str], line: str, path: str) -> None:
    rest = tuple(p for p in _originals(odd, line) if p != path)
    if not rest:
        drop.add(line)
        odd.pop(line, None)
    elif rest == (line,):
        odd.pop(line, None)
    else:
        odd[line] = rest[0] if len(rest) == 1 else rest


class FuzzyIndex:
    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._data = _Data.build(paths)
        self._last: _State | None = None

    def replace(self, paths: Iterable[str]) -> None:
        self._take(_Data.build(paths))

    def add(self, path: str) -> None:
        self._take(self.updated(added=[path])._data)

    def remove_where(self, predicate: Callable[[str], bool]) -> None:
        """Drop every path for which ``predicate`` is true."""
        doomed = [path for path in self.paths() if predicate(path)]
        if doomed:
            self._take(self.updated(removed=doomed)._data)

    def release(self) -> None:
        """Empty this index a chunk at a time (for one that was replaced):
        freeing 100,000 paths at once is one long C call holding the GIL."""
        lines = self._data.lines
        while lines:
            del lines[-_CHUNK:]
        self._take(_Data([], {}))

    def _take(self, data: _Data) -> None:
        self._data, self._last = data, None

    def paths(self) -> list[str]:
        data = self._data
        return [path for line in data.lines for path in data.originals(line)]

    def __len__(self) -> int:
        return self._data.size

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        line = path.lower()
        return self._data.find(line) is not None and path in self._data.originals(line)

    def updated(self, removed: Iterable[str] = (), added: Iterable[str] = ()) -> FuzzyIndex:
        """A new index without ``removed`` (each also as a directory: the paths
        under it go too) and with ``added`` (this one when nothing changes).
        This index is left as it was."""
        data = self._data
        odd = dict(data.odd)
        drop: set[str] = set()
        folders: list[str] = []
        for path in removed:
            line = path.lower()
            if data.find(line) is not None and path in data.originals(line):
                _forget(odd, drop, line, path)
            else:  # perhaps a directory (or an ignored file)
                folders.append(path + "/")
        if folders:
            prefixes = tuple(folder.lower() for folder in folders)
            for line in data.lines if len(folders) > 1 else self._under(prefixes[0]):
                if line.startswith(prefixes):
                    for path in data.originals(line):
                        if path.startswith(tuple(folders)):
                            _forget(odd, drop, line, path)
        new: dict[str, None] = {}
        for path in added:
            line = path.lower()
            if "\n" in path:
                continue
            if line in new or (line not in drop and data.find(line) is not None):
                _also(odd, line, path)
                continue
            new[line] = None
            if path != line:
                odd[line] = path
            else:
                odd.pop(line, None)
        if not drop and not new and odd == data.odd:  # e.g. a file was saved
            return self
        index = FuzzyIndex()
        if len(drop) + len(new) <= _SMALL:
            index._data = data.edited(odd, drop, new)
        else:
            kept = filterfalse(drop.__contains__, data.lines)
            index._data = _Data(_ordered([*kept, *new]), odd)
        return index

    def _under(self, prefix: str) -> Iterator[str]:
        """The lines starting with ``prefix``, found by one regex over the text."""
        pattern = re.compile(f"\n/({re.escape(prefix)}[^\n]*+)")
        return (found.group(1) for found in pattern.finditer(self._data.text))

    # ------------------------------------------------------------ search

    def search(self, query: str, limit: int = 50) -> list[Match]:
        q = query.lower().strip()
        data = self._data
        if limit <= 0 or "\n" in q:
            return []
        if not q:
            picked = [(0, line) for line in data.lines[:limit]]
        elif not q.isascii() or (data.lossy and "?" in q):
            picked = _by_regex(data.text, q, limit)
        else:
            state = self._state(q)
            picked = _contiguous(data, q, state.ends, limit)
            if len(picked) < limit:
                taken = {line for _, line in picked}
                rest = _scattered(data, q, state, taken, limit - len(picked))
                picked += [(SCATTERED, line) for line in rest]
        found = [Match(path, tier) for tier, line in picked for path in data.originals(line)]
        return found[:limit]

    def _state(self, q: str) -> _State:
        """``q`` matched against every line at once, extending the last
        query's state when ``q`` extends that query."""
        bits = self._data.bits
        last = self._last
        if last is None or not q.startswith(last.query):
            ends = reach = bits.char(q[0])
            starts = bits.first(reach)
            last = _State(q[0], ends, reach, starts, starts, 1)
        ends, reach = last.ends, last.reach
        for ch in q[len(last.query) :]:
            where = bits.char(ch)
            ends, reach = (ends << 1) & where, where & bits.after(reach)
        self._last = _State(q, ends, reach, last.starts, last.window, last.width)
        return self._last


@dataclass(slots=True)
class _State:
    """A query matched against every line at once."""

    query: str
    ends: int  # where each contiguous occurrence of the query ends
    reach: int  # where the last character is, matched in order from ``starts``
    starts: int  # the first occurrence of the first character on each line
    window: int  # ``width`` positions from each of ``starts`` (spans only grow as
    width: int  # the query does, so a longer query's window starts from this one)


def _contiguous(data: _Data, q: str, ends: int, limit: int) -> list[tuple[int, str]]:
    """Up to ``limit`` ``(tier, line)`` of the lines containing ``q``, best
    tier first; within a tier, text order is shortest first."""
    bits = data.bits
    starts = ends >> (len(q) - 1)
    tiers = [(IN_PATH, starts)]
    if "/" not in q:
        named = starts & bits.name_starts
        stop = bits.newline if "." in q else bits.newline | bits.char(".")
        tiers[:0] = [
            (EXACT, named & (stop >> len(q))),
            (NAME_PREFIX, named),
            (IN_NAME, starts & bits.name),
        ]
    picked: list[tuple[int, str]] = []
    taken: set[str] = set()
    for tier, found in tiers:
        for at in positions(found):
            line = data.line_at(at)
            if line not in taken:
                taken.add(line)
                picked.append((tier, line))
                if len(picked) >= limit:
                    return picked
    return picked


def _tiered(text: str, q: str, limit: int) -> list[tuple[int, str]]:
    """:func:`_contiguous` with one regex per tier, whose first hits in the
    text are its shortest lines (it stops at ``limit``)."""
    e = re.escape(q)
    patterns: list[tuple[int, str]] = []
    if "/" not in q:
        stem = "" if "." in q else "(?:\\.[^/\n]*+)?"
        patterns += [
            (EXACT, f"/{e}{stem}\n"),
            (NAME_PREFIX, f"/{e}[^/\n]*+\n"),
            (IN_NAME, f"{e}[^/\n]*+\n"),
        ]
    patterns.append((IN_PATH, ("(?<!\n)" if q.startswith("/") else "") + e))
    picked: list[tuple[int, str]] = []
    taken: set[str] = set()
    for tier, pattern in patterns:
        compiled, pos = re.compile(pattern), 0
        while (found := compiled.search(text, pos)) is not None:
            start = text.rfind("\n", 0, found.start()) + 2
            pos = text.index("\n", found.start())
            line = text[start:pos]
            if line not in taken:
                taken.add(line)
                picked.append((tier, line))
                if len(picked) >= limit:
                    return picked
    return picked


def _span(line: str, q: str) -> int:
    start = at = line.find(q[0])
    for ch in q[1:]:
        at = line.find(ch, at + 1)
    return at - start


def _scattered(data: _Data, q: str, state: _State, taken: set[str], need: int) -> list[str]:
    """Up to ``need`` matching lines not in ``taken``, tightest first. When
    there are many, a window widening from each line's start by one position
    at a time keeps the tightest few before Python looks at any."""
    bits = data.bits
    ends = bits.first(state.reach)  # where each line's match ends
    target = need + len(taken)
    if ends.bit_count() > max(_SPREAD, target):  # so the window stops widening
        window, width = state.window, state.width
        while width < len(q) or (ends & window).bit_count() < target:
            window, width = window | ((window << 1) & bits.inside), width + 1
        state.window, state.width = window, width
        ends &= window
    lines = filterfalse(taken.__contains__, map(data.line_at, positions(ends)))
    return heapq.nsmallest(need, lines, key=lambda line: (_span(line, q), len(line), line))


def _by_regex(text: str, q: str, limit: int) -> list[tuple[int, str]]:
    """The same ranking with regexes alone, for queries the planes cannot
    spell (non-ASCII, or ``?`` in a text that has non-ASCII)."""
    picked = _tiered(text, q, limit)
    if len(picked) < limit:
        taken = {line for _, line in picked}
        first, *rest = (re.escape(ch) for ch in q)
        gaps = "".join(f"[^\n{c}]*+{c}" for c in rest)
        pattern = re.compile(f"\n/([^\n{first}]*+)({first}{gaps})([^\n]*+)")
        found = ((len(m), "".join((b, m, a))) for b, m, a in pattern.findall(text))
        ranked = ((span, len(line), line) for span, line in found if line not in taken)
        picked += [(SCATTERED, line) for _, _, line in heapq.nsmallest(limit - len(picked), ranked)]
    return picked
