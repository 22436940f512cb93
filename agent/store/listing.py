"""Listing sessions cheaply, newest first.

Listing never verifies hashes and never parses every line. Per log it needs
the first line (created_at, cwd, parent, spawned_by), the first
``user_input`` (title), the last ``turn_end`` (turn count), the last line
(updated_at) and the number of entries. A scan finds them by looking for the
compact ``"kind":"<kind>"`` spelling in each raw line and parses only those
few lines (the substring is a prefilter; parsing confirms).

Scans are incremental: ``<root>/.listing.json`` caches each log's summary with
the byte offset it covers (and the file's inode and mtime). Logs only grow, so
an unchanged log costs one ``stat`` and a grown one is scanned from where the
last listing stopped. The cache is derived data: it is rebuilt when missing,
unreadable or stale, concurrent listings may overwrite each other's copy
harmlessly, and a read-only root simply goes without it.

A compacted session carries the same conversation on, so it is listed with
the title of the session it continues (the first one's, through a chain of
compactions); so is a forked session that has no user input of its own.

A damaged log (empty, or not starting with a session start) is listed, not
skipped, with ``damaged=True`` and the title ``(damaged log: <reason>)``, so a
user can see it and remove it; its times fall back to the file's mtime.
Damage further down is only found by a restore, which verifies the chain.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from agent.fsutil import atomic_write_bytes
from agent.segments import load_segments, title_of
from agent.store.chain import is_session_id, parse_line

log = logging.getLogger(__name__)

CACHE_NAME = ".listing.json"
_CACHE_VERSION = 4
_USER_INPUT = b'"kind":"user_input"'
_COST = re.compile(rb'"cost_usd":([0-9][0-9.eE+-]*)')  # in llm_usage lines (null: unknown)
_TURN_END = b'"kind":"turn_end"'
EMPTY_TITLE = "(empty session)"


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    title: str
    created_at: int
    updated_at: int
    turn_count: int
    parent_session_id: str | None
    cwd: str | None
    entries: int
    cost_usd: float = 0.0  # what its requests cost, as far as their prices were known
    damaged: bool = False
    spawned_by: str | None = None  # a sub-agent's session: its parent's session


class _Summary(BaseModel):
    """What a scan learned about one log, up to byte ``offset``."""

    model_config = ConfigDict(frozen=True)
    ino: int
    mtime_ns: int
    offset: int = 0
    entries: int = 0
    created_at: int | None = None
    updated_at: int | None = None
    turn_count: int = 0
    parent: str | None = None
    compacted: bool = False  # the parent is the session this one was compacted from
    spawned_by: str | None = None  # a sub-agent's: the session that spawned it
    cwd: str | None = None
    title: str | None = None
    damage: str | None = None
    cost_usd: float = 0.0


_CacheAdapter: TypeAdapter[dict[str, _Summary]] = TypeAdapter(dict[str, _Summary])


def list_sessions(root: Path) -> list[SessionInfo]:
    """Every session under ``root``, newest (last written) first."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    cache = _load_cache(root)
    fresh: dict[str, _Summary] = {}
    for name in names:
        session_id = name.removesuffix(".jsonl")
        if session_id == name or not is_session_id(session_id):
            continue  # also skips "<id>.trace.jsonl"
        path = root / name
        try:
            fresh[session_id] = _scan(path, cache.get(session_id))
        except OSError as exc:  # removed or unreadable meanwhile
            log.debug("skipping %s: %s", path, exc)
    if fresh != cache:
        _save_cache(root, fresh)
    infos = [_info(sid, s, _inherited_title(sid, fresh)) for sid, s in fresh.items()]
    infos.sort(key=lambda i: (i.updated_at, i.session_id), reverse=True)
    return infos


def _inherited_title(session_id: str, summaries: dict[str, _Summary]) -> str | None:
    """The title of the session a compacted (or untitled forked) session
    continues, following parents while they qualify; ``None`` if none."""
    seen = {session_id}
    current = summaries[session_id]
    title = None
    while current.parent is not None and (current.compacted or current.title is None):
        parent = summaries.get(current.parent)
        if parent is None or current.parent in seen or parent.damage is not None:
            break
        seen.add(current.parent)
        current = parent
        title = current.title or title
    return title


def _info(session_id: str, s: _Summary, inherited: str | None = None) -> SessionInfo:
    mtime_ms = s.mtime_ns // 1_000_000
    damage = s.damage
    if damage is None and s.entries == 0:
        damage = "the file holds no complete entry"
    if damage is not None:
        title = f"(damaged log: {damage})"
    elif s.compacted:
        title = inherited or s.title or EMPTY_TITLE
    else:
        title = s.title or inherited or EMPTY_TITLE
    return SessionInfo(
        session_id=session_id,
        title=title,
        created_at=s.created_at if s.created_at is not None else mtime_ms,
        updated_at=s.updated_at if s.updated_at is not None else mtime_ms,
        turn_count=s.turn_count,
        parent_session_id=s.parent,
        cwd=s.cwd,
        cost_usd=s.cost_usd,
        entries=s.entries,
        damaged=damage is not None,
        spawned_by=s.spawned_by,
    )


# ---------------------------------------------------------------- scanning


def _scan(path: Path, cached: _Summary | None) -> _Summary:
    st = os.stat(path)
    if cached is not None and cached.ino != st.st_ino:
        cached = None
    if cached is not None and (cached.offset, cached.mtime_ns) == (st.st_size, st.st_mtime_ns):
        return cached
    with open(path, "rb") as f:
        base = cached if cached is not None and _grew(f, cached, st) else None
        fields = _scan_from(f, base)
    return _Summary(ino=st.st_ino, mtime_ns=st.st_mtime_ns, **fields)


def _grew(f: BinaryIO, cached: _Summary, st: os.stat_result) -> bool:
    """Whether the file is the cached one with lines appended."""
    if cached.offset > st.st_size or cached.offset == 0:
        return False
    if cached.offset == st.st_size:
        return False  # same size but touched: rescan
    return os.pread(f.fileno(), 1, cached.offset - 1) == b"\n"


def _scan_from(f: BinaryIO, base: _Summary | None) -> dict[str, Any]:
    fields: dict[str, Any] = (
        base.model_dump(exclude={"ino", "mtime_ns"}) if base is not None else {"offset": 0}
    )
    fields.setdefault("entries", 0)
    fields.setdefault("title", None)
    offset: int = fields["offset"]
    entries: int = fields["entries"]
    last: bytes | None = None
    f.seek(offset)
    for raw in f:
        if not raw.endswith(b"\n"):
            break  # torn, or being written: counted once complete
        offset += len(raw)
        if not raw.strip():
            continue
        entries += 1
        if entries == 1:
            fields.update(_read_start(raw))
        elif fields["title"] is None and _USER_INPUT in raw:
            fields["title"] = _read_title(raw)
        if (cost := _COST.search(raw)) is not None:
            with contextlib.suppress(ValueError):  # a number the regex let through
                fields["cost_usd"] = fields.get("cost_usd", 0.0) + float(cost[1])
        if _TURN_END in raw:
            obj = parse_line(raw)
            if obj is not None and obj["kind"] == "turn_end":
                count = obj.get("turn_count")
                if isinstance(count, int):
                    fields["turn_count"] = count
        last = raw
    if last is not None:
        obj = parse_line(last)
        if obj is not None and isinstance(obj.get("ts"), int):
            fields["updated_at"] = obj["ts"]
    fields["offset"] = offset
    fields["entries"] = entries
    return fields


def _read_start(raw: bytes) -> dict[str, Any]:
    obj = parse_line(raw)
    if obj is None or obj["kind"] != "session_start" or not isinstance(obj.get("ts"), int):
        return {"damage": "the first line is not a session start"}
    compacted = obj.get("compacted_from")
    origin = obj.get("forked_from") or compacted
    parent = origin.get("session_id") if isinstance(origin, dict) else None
    cwd = obj.get("cwd")
    spawned = obj.get("spawned_by")
    spawner = spawned.get("session_id") if isinstance(spawned, dict) else None
    return {
        "created_at": obj["ts"],
        "parent": parent if isinstance(parent, str) else None,
        "compacted": isinstance(compacted, dict),
        "cwd": cwd if isinstance(cwd, str) else None,
        "spawned_by": spawner if isinstance(spawner, str) else None,
    }


def _read_title(raw: bytes) -> str | None:
    obj = parse_line(raw)
    if obj is None or obj["kind"] != "user_input":
        return None
    try:
        return title_of(load_segments(obj.get("segments"))) or EMPTY_TITLE
    except ValidationError:
        return None


# ---------------------------------------------------------------- the cache


def _load_cache(root: Path) -> dict[str, _Summary]:
    try:
        data = json.loads((root / CACHE_NAME).read_bytes())
        if data.get("version") != _CACHE_VERSION:
            return {}
        return _CacheAdapter.validate_python(data.get("sessions"))
    except (OSError, ValueError, AttributeError):  # ValidationError is a ValueError
        return {}


def _save_cache(root: Path, summaries: dict[str, _Summary]) -> None:
    payload = {
        "version": _CACHE_VERSION,
        "sessions": {sid: s.model_dump(mode="json") for sid, s in summaries.items()},
    }
    data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    try:
        atomic_write_bytes(root / CACHE_NAME, data, mode=0o600)
    except OSError as exc:
        log.debug("could not save the session listing cache in %s: %s", root, exc)
