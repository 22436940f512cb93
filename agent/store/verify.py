"""Verifying a session log as it is read, line by line.

:func:`verified_records` checks every line against the chain
(:mod:`agent.store.chain`) and yields each entry with its line number and
hash, so a restore can fold entries as they come instead of holding them
all. A line is verified one of two ways, with the same verdict:

- **as stored**: a line in the writer's layout has its hashed bytes cut out of
  it (:class:`~agent.store.chain.StoredChain`) and hashed as they are, and
  the entry is validated straight from those bytes by pydantic's JSON parser
  (no Python dict in between);
- **carefully**: anything else (a layout of an older yoi, a hand-edited line,
  damage) is parsed, its body re-serialised canonically and hashed, then
  validated. Every error and warning comes from this path: a line the first
  way does not vouch for, for whatever reason, is checked this way. After
  such a line the first way is only tried now and then (an old log costs
  next to nothing extra; a log an older yoi began is fast again where this
  one went on).

Loading a long log allocates millions of objects that all stay alive, and
holds the GIL in pure Python for long stretches: :func:`bulk_load` keeps the
cyclic garbage collector out of it (a third of a restore's time before) and
lets a waiting event loop have the GIL sooner.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from agent.errors import SessionCorrupt
from agent.store.chain import StoredChain, entry_hash, parse_line, split_line
from agent.store.entries import KNOWN_KINDS, LogEntry, LogEntryAdapter, load_entry


class LogRecord(NamedTuple):
    """One verified entry: its 1-based line number and its hash."""

    line: int
    hash: str
    entry: LogEntry


def torn_warning(session_id: str) -> str:
    return (
        f"The last entry of session {session_id} was incomplete (the process stopped "
        "while writing it) and was dropped."
    )


Verified = tuple[int, str, LogEntry]  # a LogRecord's fields, without the record


def verified_records(
    path: Path, session_id: str, lines: Iterable[bytes], warnings: list[str]
) -> Iterator[Verified]:
    """The entries of ``lines`` (a log file's lines, newlines kept) as
    ``(line number, hash, entry)``, verified as they are read. Raises
    :class:`SessionCorrupt` at the first bad line; appends to ``warnings``
    (skipped kinds, a dropped torn last line)."""
    stored = StoredChain()
    take, validate = stored.take, LogEntryAdapter.validator.validate_json
    careful = _Careful(path, session_id, stored, warnings)
    unreadable: int | None = None  # an unreadable line: torn if it is the last
    as_stored = True  # lines are in the writer's layout (else: try now and then)
    for number, raw in enumerate(lines, start=1):
        tried = (as_stored or not number % 64) and careful.started
        if tried and unreadable is None:
            found = take(raw)
            if found is not None:
                digest, body = found
                try:
                    entry = validate(body)
                except ValidationError:  # well chained, malformed: name the field
                    entry = careful.entry(number, json.loads(body))
                as_stored = True
                yield number, digest, entry
                continue
        if not raw.strip():
            continue
        if unreadable is not None:
            raise SessionCorrupt(path, unreadable, _NOT_AN_ENTRY)
        try:
            record = careful.take(number, raw)
        except _Unreadable:
            unreadable = number
            continue
        if tried:
            as_stored = False  # a line in another layout: probably more follow
        if record is not None:
            yield record
    if unreadable is not None:
        warnings.append(torn_warning(session_id))


_NOT_AN_ENTRY = "the line is not a log entry (a JSON object with a hash and a kind)"


class _Unreadable(Exception):
    """The line is not a log entry (a torn write if nothing follows it)."""


class _Careful:
    """Verifies a line by parsing it and re-serialising its body."""

    def __init__(
        self, path: Path, session_id: str, stored: StoredChain, warnings: list[str]
    ) -> None:
        self.path = path
        self.session_id = session_id
        self.stored = stored
        self.warnings = warnings
        self.started = False  # a session_start was taken

    def take(self, number: int, raw: bytes) -> Verified | None:
        path = self.path
        obj = parse_line(raw)
        if obj is None:
            raise _Unreadable
        digest, prev, body = split_line(obj)
        if prev != self.stored.head:
            reason = (
                "the first entry must have a null prev_hash"
                if self.stored.head is None
                else "its prev_hash is not the hash of the entry before it "
                "(an entry was removed, reordered or inserted)"
            )
            raise SessionCorrupt(path, number, reason)
        try:
            expected = entry_hash(prev, body)
        except ValueError as exc:  # NaN or infinity in the body
            raise SessionCorrupt(path, number, f"the entry cannot be hashed ({exc})") from None
        if digest != expected:
            raise SessionCorrupt(
                path, number, "the entry does not match its hash (it was edited after writing)"
            )
        self.stored.follow(digest)
        kind = body["kind"]
        if not self.started and kind != "session_start":
            raise SessionCorrupt(path, number, "the log does not begin with a session_start")
        if kind not in KNOWN_KINDS:
            self.warnings.append(
                f"Line {number} of session {self.session_id} is a {kind!r} entry, which this "
                "version of yoi does not know; it was skipped."
            )
            return None
        entry = self.entry(number, body)
        self.started = True
        return number, digest, entry

    def entry(self, number: int, body: dict[str, Any]) -> LogEntry:
        """The entry of a verified body, or the field that makes it malformed."""
        try:
            return load_entry(body)
        except ValidationError as exc:
            kind = body["kind"]
            first = exc.errors()[0]
            loc = first["loc"][1:] if first["loc"][:1] == (kind,) else first["loc"]
            where = ".".join(str(p) for p in loc) or "the top level"
            raise SessionCorrupt(
                self.path, number, f"the {kind} entry is malformed at {where}: {first['msg']}"
            ) from None


# ---------------------------------------------------------------- bulk loads


class _BulkLoad:
    """Process-wide settings for the time of a bulk load, shared by
    concurrent loads: the first one in sets them, the last one out restores
    them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loads = 0
        self.collecting = False  # whether the collector was on before
        self.interval = 0.0  # the switch interval before

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.loads == 0:
                self.collecting = gc.isenabled()
                self.interval = sys.getswitchinterval()
                gc.disable()
                sys.setswitchinterval(min(self.interval, _SWITCH_SECONDS))
            self.loads += 1
        try:
            yield
        finally:
            with self.lock:
                self.loads -= 1
                if self.loads == 0:
                    if gc.get_freeze_count() == 0:  # unfreezing must not undo a freeze
                        gc.freeze()
                        gc.unfreeze()
                    if self.collecting:
                        gc.enable()
                    sys.setswitchinterval(self.interval)


_SWITCH_SECONDS = 0.001

bulk_load = _BulkLoad()
"""``with bulk_load(): ...`` around reading a whole log, in a worker thread.

- The cyclic garbage collector stays off: the objects a load builds all stay
  alive, and every collection would walk them again for nothing. At the end
  they go straight to the oldest generation (``gc.freeze()`` then
  ``gc.unfreeze()``: two list splices, no traversal); otherwise the first
  young collections would walk them all, holding the GIL on whichever thread
  allocates next (the event loop's, often). Nothing stays frozen, so a pod's
  cycles are collected as usual once it is gone (skipped when something else
  keeps objects frozen: unfreezing would undo that).
- The interpreter's switch interval drops to 1 ms: a thread that wants the
  GIL (an event loop with a request to answer) asks this pure-Python loop for
  it after 1 ms instead of 5, at each of the several hand-overs a request
  takes. It costs nothing while no other thread wants the GIL.

Both are restored afterwards, even on error."""
