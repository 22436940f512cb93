"""The session store: one append-only, hash-chained JSONL file per session.

Layout: ``<root>/<session_id>.jsonl`` (root = ``$YOI_HOME/sessions``, mode
0700; logs are 0600). The line format and the hash chain are frozen in
:mod:`agent.store.chain`.

Writing
    :meth:`SessionStore.create` writes a whole new file atomically (a temporary
    file hard-linked into place), so a reader never sees a half-created
    session. :meth:`SessionStore.append` holds an exclusive ``flock`` on the
    log while it checks the head and writes, writes the batch with one
    ``write`` and ends with one ``fsync``.

Head check and fork
    Inside the lock, ``append`` reads the hash of the file's last complete
    line (reading backwards from the end, never the whole file). If it is not
    the caller's head, another writer appended: nothing is written there; a new
    session starts from a copy of the log up to the caller's head (re-chained,
    ``forked_from = (old id, caller's head)``) and the entries go there, so the
    fork restores to exactly the caller's state. The caller learns the new id
    from the :class:`AppendResult`.

Torn last line
    A crash mid-write can leave a last line that is not valid JSON. Reading
    drops it with a warning; the next ``append`` whose head matches removes
    those bytes (under the lock) before writing. A complete last entry that
    only lacks its newline (an editor stripped it) is kept, and ``append``
    adds the newline. Earlier entries are never dropped.

Verification
    :meth:`SessionStore.read` and :meth:`SessionStore.restore` check every
    hash under a shared lock (:mod:`agent.store.verify`: a line in the
    writer's layout is hashed as stored, any other is parsed and
    re-serialised). An edited entry, a deleted, reordered or inserted line, or
    an unreadable line that is not the last raises
    :class:`~agent.errors.SessionCorrupt` naming the 1-based line. A restore
    folds the entries as they are verified, with the garbage collector kept
    out of the load.

Every method is synchronous and keeps no state between calls but the root, so
one store may be used from several worker threads; ``flock`` on a fresh file
description per call excludes threads and processes alike.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from agent.errors import SessionError, SessionNotFound
from agent.fsutil import atomic_write_bytes
from agent.ids import uuid7
from agent.store.chain import encode_lines, is_session_id, parse_line
from agent.store.entries import LogEntry, Origin, SessionStart
from agent.store.listing import SessionInfo, list_sessions
from agent.store.restore import RestoredState, fold
from agent.store.verify import LogRecord, bulk_load, verified_records

_FIRST_CHUNK = 64 * 1024
_MAX_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class LogRead:
    session_id: str
    path: Path
    records: tuple[LogRecord, ...]
    warnings: tuple[str, ...] = ()

    @property
    def entries(self) -> list[LogEntry]:
        return [r.entry for r in self.records]

    @property
    def head(self) -> str | None:
        return self.records[-1].hash if self.records else None


@dataclass(frozen=True)
class AppendResult:
    """Where the entries went. ``forked_from`` is set when the log had moved
    on and they went to a new session (``session_id``) instead."""

    session_id: str
    head: str
    forked_from: Origin | None = None


class SessionStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    # ------------------------------------------------------------ naming

    def path(self, session_id: str) -> Path:
        if not is_session_id(session_id):
            raise SessionNotFound(f"{session_id!r} is not a session id.")
        return self.root / f"{session_id}.jsonl"

    def exists(self, session_id: str) -> bool:
        return is_session_id(session_id) and self.path(session_id).is_file()

    # ------------------------------------------------------------ writing

    def create(self, session_id: str, start: SessionStart, more: Sequence[LogEntry] = ()) -> str:
        """Write a new session: ``start``, then ``more``; returns the head."""
        return self._create(session_id, [start, *more])

    def append(self, session_id: str, head: str, entries: Sequence[LogEntry]) -> AppendResult:
        """Append ``entries`` after ``head``, or fork if the log moved on.

        Forking writes a new session holding a copy of this log up to ``head``
        (re-chained, its ``session_start`` marked ``forked_from``) followed by
        ``entries``, so the fork restores to exactly the caller's state. The
        original log is never touched by a stale writer.
        """
        if not entries:
            return AppendResult(session_id, head)
        path = self.path(session_id)
        new_head, data = encode_lines(head, entries)
        assert new_head is not None
        with _open_locked(path, os.O_RDWR | os.O_APPEND, fcntl.LOCK_EX, session_id) as f:
            fd = f.fileno()
            size = os.fstat(fd).st_size
            tail = _read_tail(fd, size)
            if tail.head == head:
                if tail.keep < size:
                    os.ftruncate(fd, tail.keep)
                _write_all(fd, b"\n" + data if tail.needs_newline else data)
                os.fsync(fd)
                return AppendResult(session_id, new_head)
        origin = Origin(session_id=session_id, at_hash=head)
        prefix = self._entries_through(session_id, head)
        first = prefix[0].model_copy(update={"forked_from": origin, "compacted_from": None})
        new_id = uuid7()
        return AppendResult(new_id, self._create(new_id, [first, *prefix[1:], *entries]), origin)

    def _entries_through(self, session_id: str, head: str) -> list[LogEntry]:
        records = self.read(session_id).records
        for index, record in enumerate(records):
            if record.hash == head:
                return [r.entry for r in records[: index + 1]]
        raise SessionError(
            f"Session {session_id} was rewritten by another process: its entry {head[:12]} "
            "is gone, so this pod cannot continue it or fork from it. Start a new session."
        )

    def _create(self, session_id: str, entries: Sequence[LogEntry]) -> str:
        path = self.path(session_id)
        head, data = encode_lines(None, entries)
        assert head is not None
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            atomic_write_bytes(path, data, mode=0o600, exclusive=True)
        except FileExistsError:
            raise SessionError(
                f"Session {session_id} already exists; a new session needs a new id."
            ) from None
        return head

    # ------------------------------------------------------------ reading

    def read(self, session_id: str) -> LogRead:
        """Every entry, verified. Raises ``SessionNotFound`` or ``SessionCorrupt``."""
        path = self.path(session_id)
        warnings: list[str] = []
        with (
            _open_locked(path, os.O_RDONLY, fcntl.LOCK_SH, session_id) as f,
            bulk_load(),
        ):
            records = tuple(LogRecord(*v) for v in verified_records(path, session_id, f, warnings))
        return LogRead(session_id, path, records, tuple(warnings))

    def restore(self, session_id: str, *, through: str | None = None) -> RestoredState:
        """The state a pod resumes from; ``through`` stops at that entry's hash
        (for a fork at an earlier point). The whole log is verified either way,
        and folded as it is read (its entries are never all held at once).
        Raises ``SessionNotFound`` for an empty log or an unknown ``through``."""
        path = self.path(session_id)
        warnings: list[str] = []
        with (
            _open_locked(path, os.O_RDONLY, fcntl.LOCK_SH, session_id) as f,
            bulk_load(),
        ):
            records = verified_records(path, session_id, f, warnings)
            return fold(session_id, records, warnings, through=through)

    def list_sessions(self) -> list[SessionInfo]:
        """Every session, newest first (see :mod:`agent.store.listing`)."""
        return list_sessions(self.root)


# ---------------------------------------------------------------- file helpers


@contextlib.contextmanager
def _open_locked(path: Path, flags: int, lock: int, session_id: str) -> Iterator[BinaryIO]:
    try:
        fd = os.open(path, flags | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SessionNotFound(f"There is no session {session_id} in {path.parent}.") from None
    with os.fdopen(fd, "rb") as f:  # writes go through os.write on the fd
        fcntl.flock(fd, lock)
        yield f  # the lock goes with the file description on close


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _lines_backward(fd: int, end: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` from the end of the file backwards, each line with its
    newline if it has one. Reads growing chunks, never more than it yields."""
    pos = end
    buf = b""
    chunk = _FIRST_CHUNK
    while True:
        cut = buf.rfind(b"\n", 0, len(buf) - 1) if buf else -1
        if cut >= 0:
            yield pos + cut + 1, buf[cut + 1 :]
            buf = buf[: cut + 1]
            continue
        if pos == 0:
            if buf:
                yield 0, buf
            return
        step = min(chunk, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf
        chunk = min(chunk * 2, _MAX_CHUNK)


@dataclass(frozen=True)
class _Tail:
    head: str | None  # hash of the last complete entry; None if there is none
    keep: int  # bytes to keep; anything after is a torn line
    needs_newline: bool  # the last complete entry lacks its newline


def _read_tail(fd: int, size: int) -> _Tail:
    lines = (item for item in _lines_backward(fd, size) if item[1].strip())
    last = next(lines, None)
    if last is None:
        return _Tail(None, 0, False)
    offset, raw = last
    obj = parse_line(raw)
    if obj is not None:
        return _Tail(obj["hash"], size, not raw.endswith(b"\n"))
    before = next(lines, None)
    if before is None:
        return _Tail(None, 0, False)
    prev_offset, prev_raw = before
    prev = parse_line(prev_raw)
    # A damaged line before the torn one: no head can match, so the caller forks.
    head = prev["hash"] if prev is not None else None
    return _Tail(head, prev_offset + len(prev_raw), False)
