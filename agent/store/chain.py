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
- Verification parses each line and recomputes the hash from the parsed body,
  so the key order and spacing of the line itself do not matter; the writer
  emits compact JSON with ``hash``, ``prev_hash`` and ``kind`` first (the
  listing relies on the compact ``"kind":"<kind>"`` spelling to skip lines
  cheaply, never for correctness).

Changing anything above makes existing logs fail verification: don't.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.store.entries import LogEntry, entry_body

GENESIS = bytes(32)
_SESSION_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")


def is_session_id(value: str) -> bool:
    """Whether ``value`` can name a log file ``<value>.jsonl`` (no path tricks)."""
    return _SESSION_ID.fullmatch(value) is not None


def canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(prev_hash: str | None, body: Mapping[str, Any]) -> str:
    prev = GENESIS if prev_hash is None else bytes.fromhex(prev_hash)
    return hashlib.sha256(prev + canonical(body)).hexdigest()


def encode_line(prev_hash: str | None, entry: LogEntry) -> tuple[str, bytes]:
    """The entry's hash and its line (with the trailing newline)."""
    body = entry_body(entry)
    digest = entry_hash(prev_hash, body)
    line = {"hash": digest, "prev_hash": prev_hash, "kind": body["kind"], **body}
    data = json.dumps(line, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return digest, data.encode("utf-8") + b"\n"


def encode_lines(prev_hash: str | None, entries: Iterable[LogEntry]) -> tuple[str | None, bytes]:
    """The lines of several entries chained after ``prev_hash``, and the new head."""
    head = prev_hash
    chunks: list[bytes] = []
    for entry in entries:
        head, line = encode_line(head, entry)
        chunks.append(line)
    return head, b"".join(chunks)


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
