"""Identifiers: time-ordered UUIDv7 for sessions (lexicographic order is
chronological order), short random ids for pods."""

from __future__ import annotations

import os
import secrets
import time
import uuid


def uuid7() -> str:
    """A UUIDv7 string (RFC 9562): 48 bits of Unix milliseconds, then random."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b: 62 bits
    return str(uuid.UUID(int=value))


def short_id(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000
