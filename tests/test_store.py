"""The session store: writing, restoring, forking and listing real logs."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agent import items
from agent.errors import SessionError, SessionNotFound
from agent.items import Item
from agent.segments import FileSegment, Segment, TextSegment
from agent.store import (
    Extension,
    ItemsEntry,
    LlmUsage,
    LogEntry,
    Origin,
    RunCompleted,
    RunErrored,
    SessionStart,
    SessionStore,
    TurnEnd,
    UsageRecord,
    UserInput,
)
from agent.store.chain import encode_lines, entry_hash
from agent.store.listing import CACHE_NAME

SYSTEM = "You are yoi. Répondez brièvement."


def start(**kw: Any) -> SessionStart:
    base: dict[str, Any] = {
        "system_prompt": SYSTEM,
        "config": {"max_tokens": 1024, "temperature": 0.25, "stop": ["END"]},
        "cwd": "/work/project",
        "model": "openai/test-model",
    }
    return SessionStart(**(base | kw))


class FakePod:
    """Writes a session the way a pod does, and keeps the live state to compare."""

    def __init__(self, store: SessionStore, session_id: str, first: SessionStart) -> None:
        self.store = store
        self.session_id = session_id
        self.first = first
        self.history: list[Item] = list(first.history)
        self.segments: list[list[Segment]] = []
        self.usage: list[UsageRecord] = []
        self.turns = 0
        self.head = store.create(session_id, first)

    def append(self, entries: list[LogEntry]) -> None:
        result = self.store.append(self.session_id, self.head, entries)
        self.session_id, self.head = result.session_id, result.head

    def turn(self, n: int, *, error: bool = False) -> None:
        segments: list[Segment] = [TextSegment(kind="text", text=f"turn {n}: look at ")]
        segments.append(FileSegment(kind="file", path=f"src/m{n}.py"))
        text = f"turn {n}: look at @src/m{n}.py\n\n[src/m{n}.py]\nprint({n})"
        self.append([UserInput(segments=segments, text=text)])
        self.history.append(items.user(text, segments))
        self.segments.append(segments)
        delta: list[Item] = [
            items.Reasoning(text=f"thinking {n}", signature="sig"),
            items.ToolCall(call_id=f"c{n}", name="read", arguments='{"path": "a"}'),
            items.ToolResult(call_id=f"c{n}", name="read", summary="read a", content="x = 1"),
            items.assistant(f"done {n} ✓"),
        ]
        self.history.extend(delta)
        self.turns += 1
        usage = [
            LlmUsage(history_len=len(self.history) - 3, input_tokens=100 * n, output_tokens=7),
            LlmUsage(history_len=len(self.history) - 1, input_tokens=100 * n + 40, output_tokens=9),
        ]
        self.usage += [
            UsageRecord(
                history_len=u.history_len,
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
            )
            for u in usage
        ]
        outcome: LogEntry = (
            RunErrored(error="provider down", interrupted=False)
            if error
            else RunCompleted(outcome="finished", interrupted=n % 2 == 0)
        )
        self.append([ItemsEntry(items=delta), TurnEnd(turn_count=self.turns), *usage, outcome])


def test_the_hash_is_sha256_of_the_previous_hash_and_the_canonical_entry(tmp_path: Path) -> None:
    # The frozen format: changing it makes every existing log fail verification.
    body = {"kind": "extension", "ts": 1, "domain": "d", "payload": {"b": [1.5, None], "a": "é"}}
    expected = hashlib.sha256(
        bytes(32)
        + '{"domain":"d","kind":"extension","payload":{"a":"é","b":[1.5,null]},"ts":1}'.encode()
    ).hexdigest()
    assert entry_hash(None, body) == expected
    assert (
        entry_hash(expected, body)
        == hashlib.sha256(
            bytes.fromhex(expected)
            + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
    )

    store = SessionStore(tmp_path)
    head = store.create("s1", start())
    head2 = store.append("s1", head, [Extension(domain="d", payload=[1])]).head
    lines = [json.loads(line) for line in store.path("s1").read_text(encoding="utf-8").splitlines()]
    assert [line["hash"] for line in lines] == [head, head2]
    assert [line["prev_hash"] for line in lines] == [None, head]
    assert list(lines[0])[:3] == ["hash", "prev_hash", "kind"]
    for line in lines:
        body = {k: v for k, v in line.items() if k not in ("hash", "prev_hash")}
        assert line["hash"] == entry_hash(line["prev_hash"], body)
    assert "Répondez" in store.path("s1").read_text(encoding="utf-8")  # not \u-escaped


def test_restore_equals_the_live_state_after_several_turns(tmp_path: Path) -> None:
    pod = FakePod(SessionStore(tmp_path / "sessions"), "0190-live", start())
    for n in range(1, 6):
        pod.turn(n, error=n == 5)

    state = SessionStore(tmp_path / "sessions").restore("0190-live")  # a fresh store

    assert state.session_id == "0190-live"
    assert state.history == pod.history
    assert state.user_segments == pod.segments
    assert state.usage == pod.usage
    assert state.turn_count == 5
    assert state.last_run_interrupted is False  # the run_errored of turn 5
    assert state.system_prompt == SYSTEM
    assert state.config == {"max_tokens": 1024, "temperature": 0.25, "stop": ["END"]}
    assert (state.cwd, state.model, state.parent) == ("/work/project", "openai/test-model", None)
    assert state.head == pod.head
    assert state.entries == 1 + 5 * 6
    assert state.created_at == pod.first.ts <= state.updated_at
    assert state.warnings == []
    assert isinstance(state.history[2], items.ToolCall)


def test_a_seed_history_is_restored_before_the_turns(tmp_path: Path) -> None:
    seed: list[Item] = [
        items.system("[Compacted context summary] earlier work"),
        items.assistant("ok"),
    ]
    origin = Origin(session_id="old", at_hash="ab" * 32)
    pod = FakePod(SessionStore(tmp_path), "compacted", start(history=seed, compacted_from=origin))
    pod.turn(1)
    state = pod.store.restore("compacted")
    assert state.history[:2] == seed
    assert state.history == pod.history
    assert len(state.user_segments) == 1  # the seed history has no segments
    assert state.parent == origin
    assert state.last_run_interrupted is False


def test_extensions_and_usage_are_restored_in_order(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    head = store.create("ext", start())
    payloads: list[Any] = [{"processed_through_entry": 3, "staging": "x"}, [1, "ü", None], None]
    entries: list[LogEntry] = [Extension(domain=f"d{i}", payload=p) for i, p in enumerate(payloads)]
    entries.insert(
        1,
        LlmUsage(
            history_len=4,
            input_tokens=10,
            output_tokens=2,
            cache_read_tokens=3,
            cache_write_tokens=1,
        ),
    )
    store.append("ext", head, entries)

    state = store.restore("ext")
    assert state.extensions == [("d0", payloads[0]), ("d1", payloads[1]), ("d2", None)]
    assert state.usage == [
        UsageRecord(
            history_len=4,
            input_tokens=10,
            output_tokens=2,
            cache_read_tokens=3,
            cache_write_tokens=1,
        )
    ]
    assert state.history == []


def test_restore_through_an_earlier_entry(tmp_path: Path) -> None:
    pod = FakePod(SessionStore(tmp_path), "s", start())
    pod.turn(1)
    middle = pod.head
    middle_history = list(pod.history)
    pod.turn(2)
    state = pod.store.restore("s", through=middle)
    assert state.head == middle
    assert state.history == middle_history
    assert state.turn_count == 1
    with pytest.raises(SessionNotFound, match="no entry with hash"):
        pod.store.restore("s", through="00" * 32)


def test_missing_empty_and_invalid_sessions(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    with pytest.raises(SessionNotFound, match="no session nope"):
        store.restore("nope")
    with pytest.raises(SessionNotFound):
        store.append("nope", "00", [TurnEnd(turn_count=1)])
    with pytest.raises(SessionNotFound, match="not a session id"):
        store.read("../etc/passwd")
    assert not store.exists("../x")
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with pytest.raises(SessionNotFound, match="nothing to restore"):
        store.restore("empty")
    store.create("one", start())
    with pytest.raises(SessionError, match="already exists"):
        store.create("one", start())
    assert store.exists("one")
    assert (store.path("one").stat().st_mode & 0o777) == 0o600


def test_a_stale_head_forks_and_leaves_the_old_log_alone(tmp_path: Path) -> None:
    first = FakePod(SessionStore(tmp_path), "orig", start())
    first.turn(1)
    # A second pod restores the same session, then the first one writes on.
    second_store = SessionStore(tmp_path)
    restored = second_store.restore("orig")
    stale_head = restored.head
    first.turn(2)
    before = first.store.path("orig").read_bytes()

    result = second_store.append(
        "orig",
        stale_head,
        [Extension(domain="mine", payload=1), TurnEnd(turn_count=7)],
    )

    assert result.session_id != "orig"
    assert result.forked_from == Origin(session_id="orig", at_hash=stale_head)
    assert first.store.path("orig").read_bytes() == before
    fork = second_store.restore(result.session_id)
    # the fork is the second writer's state: the log up to its head, then its entries
    assert fork.parent == Origin(session_id="orig", at_hash=stale_head)
    assert fork.history == restored.history
    assert fork.usage == restored.usage
    assert fork.user_segments == restored.user_segments
    assert fork.system_prompt == restored.system_prompt
    assert fork.extensions == [("mine", 1)]
    assert fork.turn_count == 7
    assert fork.head == result.head
    first_entry = second_store.read(result.session_id).entries[0]
    assert isinstance(first_entry, SessionStart) and first_entry.compacted_from is None
    # The original owner goes on in the original file without forking.
    first.turn(3)
    assert first.session_id == "orig"
    assert second_store.restore("orig").turn_count == 3


def test_two_stores_in_threads_never_interleave(tmp_path: Path) -> None:
    rounds = 15
    ids = [f"r{r}" for r in range(rounds)]
    heads = {sid: SessionStore(tmp_path).create(sid, start()) for sid in ids}
    results: dict[tuple[str, str], tuple[str, Origin | None]] = {}
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        store = SessionStore(tmp_path)
        for sid in ids:
            barrier.wait()
            batch: list[LogEntry] = [
                Extension(domain=name, payload={"i": i, "pad": "x" * 5000}) for i in range(4)
            ]
            res = store.append(sid, heads[sid], batch)
            results[(name, sid)] = (res.session_id, res.forked_from)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    store = SessionStore(tmp_path)
    for sid in ids:
        (a_sid, a_fork), (b_sid, b_fork) = results[("a", sid)], results[("b", sid)]
        assert [a_fork is None, b_fork is None].count(True) == 1, sid
        winner, loser_sid = ("a", b_sid) if a_fork is None else ("b", a_sid)
        loser = "b" if winner == "a" else "a"
        original = store.read(sid).entries
        assert [e.domain for e in original[1:] if isinstance(e, Extension)] == [winner] * 4
        assert len(original) == 5
        forked = store.restore(loser_sid)
        assert forked.parent == Origin(session_id=sid, at_hash=heads[sid])
        assert forked.system_prompt == SYSTEM
        assert [(d, p["i"]) for d, p in forked.extensions] == [(loser, i) for i in range(4)]


def test_append_of_nothing_writes_nothing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    head = store.create("s", start())
    before = store.path("s").read_bytes()
    assert store.append("s", "not-the-head", []).head == "not-the-head"
    assert store.path("s").read_bytes() == before
    assert store.read("s").head == head


# ---------------------------------------------------------------- listing


def test_listing_is_newest_first_with_titles_and_counts(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    older = FakePod(store, "0190-a", start(ts=1000))
    older.turn(1)
    time.sleep(0.002)
    empty_head = store.create("0190-b", start(cwd="/elsewhere"))
    del empty_head
    time.sleep(0.002)
    forked = FakePod(store, "0190-c", start(forked_from=Origin(session_id="0190-a", at_hash="ff")))
    forked.append(
        [
            UserInput(
                segments=[TextSegment(kind="text", text="  fix   the\nbug  ")], text="fix the bug"
            )
        ]
    )
    (tmp_path / "0190-a.trace.jsonl").write_text("{}\n")  # traces are not sessions
    (tmp_path / "notes.txt").write_text("hello")

    infos = store.list_sessions()
    assert [i.session_id for i in infos] == ["0190-c", "0190-b", "0190-a"]
    c, b, a = infos
    assert c.title == "fix the bug"
    assert c.parent_session_id == "0190-a"
    assert (c.entries, c.turn_count) == (2, 0)
    assert b.title == "(empty session)"
    assert (b.cwd, b.entries, b.parent_session_id) == ("/elsewhere", 1, None)
    assert a.title == "turn 1: look at @src/m1.py"
    assert (a.created_at, a.turn_count, a.entries, a.damaged) == (1000, 1, 7, False)
    assert a.updated_at == store.restore("0190-a").updated_at

    # Appending later is seen by the next listing (the cache is incremental).
    older.turn(2)
    older.turn(3)
    again = {i.session_id: i for i in store.list_sessions()}
    assert again["0190-a"].turn_count == 3
    assert again["0190-a"].entries == 1 + 3 * 6
    assert store.list_sessions()[0].session_id == "0190-a"


def test_listing_survives_a_missing_or_garbage_cache(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    pod = FakePod(store, "s1", start())
    pod.turn(1)
    expected = store.list_sessions()
    assert (tmp_path / CACHE_NAME).is_file()
    (tmp_path / CACHE_NAME).write_text("{not json")
    assert store.list_sessions() == expected
    (tmp_path / CACHE_NAME).write_text(json.dumps({"version": 1, "sessions": {"s1": {"ino": "x"}}}))
    assert store.list_sessions() == expected
    # A cache that lies about a file that changed is not trusted.
    data = json.loads((tmp_path / CACHE_NAME).read_text())
    data["sessions"]["s1"]["turn_count"] = 99
    data["sessions"]["s1"]["mtime_ns"] = 1
    (tmp_path / CACHE_NAME).write_text(json.dumps(data))
    assert store.list_sessions() == expected
    assert SessionStore(tmp_path / "absent").list_sessions() == []


def test_listing_shows_damaged_logs_instead_of_failing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    FakePod(store, "0190-good", start()).turn(1)
    (tmp_path / "0190-garbage.jsonl").write_bytes(b"this is not json\n{}\n")
    (tmp_path / "0190-empty.jsonl").write_bytes(b"")
    (tmp_path / "0190-torn.jsonl").write_bytes(b'{"hash":"ab","prev')

    infos = {i.session_id: i for i in store.list_sessions()}
    assert set(infos) == {"0190-good", "0190-garbage", "0190-empty", "0190-torn"}
    assert not infos["0190-good"].damaged
    assert infos["0190-garbage"].damaged
    assert infos["0190-garbage"].title == "(damaged log: the first line is not a session start)"
    assert infos["0190-garbage"].entries == 2
    assert infos["0190-empty"].title == "(damaged log: the file holds no complete entry)"
    assert infos["0190-torn"].damaged


def test_listing_cache_stays_correct_as_logs_change(tmp_path: Path) -> None:
    """The listing cache (timed in bench/bench_listing.py) never shows stale data."""
    for n in range(20):
        entries: list[LogEntry] = [
            start(ts=n, system_prompt="p" * 200),
            UserInput(segments=[TextSegment(kind="text", text=f"task {n}")], text=f"task {n}"),
            ItemsEntry(items=[items.assistant("a" * 50)]),
            TurnEnd(turn_count=1),
            RunCompleted(outcome="finished"),
        ]
        (tmp_path / f"s{n:04d}.jsonl").write_bytes(encode_lines(None, entries)[1])
    store = SessionStore(tmp_path)
    first = store.list_sessions()
    assert len(first) == 20 and all(i.turn_count == 1 and i.entries == 5 for i in first)
    assert (tmp_path / ".listing.json").exists()
    assert store.list_sessions() == first

    grown = first[-1].session_id
    head = store.read(grown).head
    assert head is not None
    store.append(grown, head, [TurnEnd(ts=10_000, turn_count=2)])
    infos = {i.session_id: i for i in store.list_sessions()}
    assert infos[grown].turn_count == 2 and infos[grown].entries == 6
    assert infos[grown].updated_at == 10_000
    (tmp_path / f"{first[0].session_id}.jsonl").unlink()
    assert len(store.list_sessions()) == 19
