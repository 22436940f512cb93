"""The on-disk line format of a session log, and its hash chain (frozen).

A session log is UTF-8 JSON Lines, one entry per line, each line ended by
``\\n``::

    {"hash":"<hex>","prev_hash":"<hex>"|null,"kind":"...",<the entry's fields>}

- The *body* of a line is the object without ``hash`` and ``prev_hash``: the
  entry with every field present (``null`` included), as
  :func:`agent.store.entries.entry_body` dumps it.
- ``canonical(body) = json.dumps(body, sort_keys=True, separators=(",", ":"),
  ensure_ascii=False, allow_nan=False).encode("utf-8")``.
- ``hash = sha256(prev + canonical(body)).hexdigest()``, where ``prev`` is the
  32 raw bytes of ``prev_hash``, or 32 zero bytes for the first entry (whose
  ``prev_hash`` is ``null``). Lowercase hex.
- Verification may parse each line and recompute the hash from the parsed
  body, so the key order and spacing of the line itself do not matter.

Changing anything above makes existing logs fail verification: don't.

The writer's layout (a convention, not part of the format): compact JSON
with ``hash``, ``prev_hash`` and ``kind`` first, then the body's other fields
exactly as ``canonical(body)`` spells them, in its order. So
``canonical(body)`` can be cut out of the stored line instead of
re-serialised: the bytes after the ``kind`` with ``"kind":"<kind>"`` put back
before the first field that sorts after ``kind`` (:class:`StoredChain`). The
hash decides whether the cut was right, so a line is vouched for only if its
bytes are those of the canonical body. A line in any other layout (written by
an older yoi, or edited by hand and still valid JSON) is verified by parsing
it, as before. The listing relies on the compact ``"kind":"<kind>"``
spelling to skip lines cheaply, never for correctness.
"""

from __future__ import annotations

import json
import re
from binascii import hexlify
from collections.abc import Iterable, Mapping
from hashlib import sha256
from typing import Any

from agent.store.entries import ENTRY_TYPES, LogEntry, entry_body

GENESIS = bytes(32)
_SESSION_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")


def _first_after_kind(fields: Iterable[str]) -> bytes | None:
    """How the first member after ``kind`` in canonical order starts."""
    later = sorted(f for f in fields if f > "kind")
    return f',"{later[0]}":'.encode() if later else None


# per known kind: how the member after ``kind`` in canonical order starts
_RESUME: dict[bytes, bytes | None] = {
    cls.model_fields["kind"].default.encode(): _first_after_kind(cls.model_fields)
    for cls in ENTRY_TYPES
}
_UNKNOWN = b""


def is_session_id(value: str) -> bool:
    """Whether ``value`` can name a log file ``<value>.jsonl`` (no path tricks)."""
    return _SESSION_ID.fullmatch(value) is not None


def canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _digest(prev_hash: str | None, data: bytes) -> str:
    prev = GENESIS if prev_hash is None else bytes.fromhex(prev_hash)
    return sha256(prev + data).hexdigest()


def entry_hash(prev_hash: str | None, body: Mapping[str, Any]) -> str:
    return _digest(prev_hash, canonical(body))


def _object(*members: bytes) -> bytes:
    return b"{" + b",".join(m for m in members if m) + b"}"


def encode_line(prev_hash: str | None, entry: LogEntry) -> tuple[str, bytes]:
    """The entry's hash and its line (with the trailing newline), in the
    writer's layout."""
    body = entry_body(entry)
    kind = canonical({"kind": body["kind"]})[1:-1]
    before = canonical({k: v for k, v in body.items() if k < "kind"})[1:-1]
    after = canonical({k: v for k, v in body.items() if k > "kind"})[1:-1]
    digest = _digest(prev_hash, _object(before, kind, after))  # == canonical(body)
    prev = b"null" if prev_hash is None else b'"' + prev_hash.encode() + b'"'
    head = b'"hash":"' + digest.encode() + b'","prev_hash":' + prev
    return digest, _object(head, kind, before, after) + b"\n"


def encode_lines(prev_hash: str | None, entries: Iterable[LogEntry]) -> tuple[str | None, bytes]:
    """The lines of several entries chained after ``prev_hash``, and the new head."""
    head = prev_hash
    chunks: list[bytes] = []
    for entry in entries:
        head, line = encode_line(head, entry)
        chunks.append(line)
    return head, b"".join(chunks)


class StoredChain:
    """Follows a log's chain through lines in the writer's layout, cutting
    ``canonical(body)`` out of each instead of re-serialising it.

    :meth:`take` vouches for a line of a known kind that follows :attr:`head`
    and matches its hash, and moves the head on; it answers ``None`` for
    anything else, which the caller then verifies by parsing (and so reports
    exactly as it always did), telling the chain with :meth:`follow`."""

    def __init__(self) -> None:
        self.head: str | None = None
        self._prefix = GENESIS  # the head's raw bytes, hashed before the next body
        self._link = b'","prev_hash":null,"kind":"'  # how the next line goes on

    def follow(self, digest: str | None) -> None:
        """Move the head to ``digest`` (a line verified another way)."""
        self.head = digest
        if digest is None:
            self._prefix, self._link = GENESIS, b'","prev_hash":null,"kind":"'
        else:
            self._prefix = bytes.fromhex(digest)
            self._link = b'","prev_hash":"' + digest.encode() + b'","kind":"'

    def take(self, raw: bytes) -> tuple[str, bytes] | None:
        """``(hash, canonical(body))`` of the next line, or ``None``."""
        link = self._link
        if not raw.startswith(link, 73) or not raw.startswith(b'{"hash":"'):
            return None
        start = 73 + len(link)  # the kind's name
        close = raw.find(b'"', start, start + 32)
        resume = _RESUME.get(raw[start:close], _UNKNOWN)
        end = len(raw) - 2 if raw.endswith(b"}\n") else len(raw) - 1  # the closing brace
        if close < 0 or resume is _UNKNOWN or raw[end : end + 1] != b"}":
            return None
        kind = raw[start - 8 : close + 1]  # b'"kind":"<name>"'
        rest = close + 1  # the other members: nothing, or ',"field":value,...'
        # ``kind`` goes back before the first member that sorts after it. The
        # members before that one may nest its spelling (so the right-most
        # occurrence is tried first), or the members after it may (so then the
        # left-most); the hash decides.
        cut = end if resume is None else raw.rfind(resume, rest, end)
        found = self._match(raw, kind, rest, end if cut < 0 else cut, end)
        if found is None and resume is not None and cut >= 0:
            first = raw.find(resume, rest, end)
            if first != cut:
                found = self._match(raw, kind, rest, first, end)
        return found

    def _match(
        self, raw: bytes, kind: bytes, rest: int, cut: int, end: int
    ) -> tuple[str, bytes] | None:
        """The body with ``kind`` put back at ``cut``, if the line's hash is
        its hash (and then the chain moves on)."""
        if cut == rest:  # nothing sorts before ``kind``
            body = b"".join((b"{", kind, raw[rest:end], b"}"))
        else:
            body = b"".join((b"{", raw[rest + 1 : cut], b",", kind, raw[cut:end], b"}"))
        digest = sha256(self._prefix + body).digest()
        hexdigest = hexlify(digest)
        if not raw.startswith(hexdigest, 9):
            return None
        self._prefix = digest
        self._link = b'","prev_hash":"' + hexdigest + b'","kind":"'
        self.head = head = hexdigest.decode()
        return head, body


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """A line's object if it has the shape of a log line, else ``None``
    (torn, garbage, or not an entry at all)."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    if not isinstance(obj.get("hash"), str) or not isinstance(obj.get("kind"), str):
        return None
    prev = obj.get("prev_hash", ...)
    if prev is not None and not isinstance(prev, str):
        return None
    return obj


def split_line(obj: Mapping[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """``(hash, prev_hash, body)`` of a parsed line."""
    body = {k: v for k, v in obj.items() if k not in ("hash", "prev_hash")}
    return obj["hash"], obj.get("prev_hash"), body
