"""Verifying logs as stored: the writer's layout, older layouts, bulk loads."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agent import items
from agent.errors import SessionCorrupt
from agent.segments import TextSegment
from agent.store import (
    Extension,
    ItemsEntry,
    LlmUsage,
    LogEntry,
    RunCompleted,
    SessionStart,
    SessionStore,
    TurnEnd,
    UserInput,
)
from agent.store.chain import StoredChain, canonical, encode_line, encode_lines, entry_hash
from agent.store.entries import entry_body
from agent.store.verify import bulk_load

pytestmark = pytest.mark.timeout(60)


def entries() -> list[LogEntry]:
    """Every kind, with the awkward cases: nested objects that spell a field
    name the cut looks for, non-ASCII text, escapes, nulls."""
    return [
        SessionStart(
            system_prompt='sys "quoted" ✓\n',
            config={"temperature": 0.2, "stop": ["END"], "nested": {"x": 1, "model": "m"}},
            history=[items.system("[Compacted context summary] é")],
            model="openai/test",
        ),
        UserInput(segments=[TextSegment(kind="text", text="q ü")], text="q ü\n\t\\"),
        ItemsEntry(
            items=[
                items.Reasoning(text="think", signature=None),
                items.ToolCall(call_id="c1", name="read", arguments='{"ts": 1, "path": "a"}'),
                items.ToolResult(call_id="c1", name="read", summary="read a", content=',"ts":'),
                items.assistant("done"),
            ]
        ),
        LlmUsage(history_len=5, input_tokens=100, output_tokens=7, cache_read_tokens=50),
        Extension(domain="memory", payload={"a": [1, None], "payload": {"b": 2, "payload": 3}}),
        Extension(domain="empty"),
        TurnEnd(turn_count=1),
        RunCompleted(outcome="finished", interrupted=True),
    ]


def old_line(prev_hash: str | None, entry: LogEntry) -> bytes:
    """A line as the previous writer laid it out (fields in model order)."""
    body = entry_body(entry)
    line = {"hash": entry_hash(prev_hash, body), "prev_hash": prev_hash, "kind": body["kind"]}
    line.update(body)
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def old_log(written: list[LogEntry], prev_hash: str | None = None) -> tuple[str | None, bytes]:
    data = b""
    for entry in written:
        line = old_line(prev_hash, entry)
        prev_hash, data = json.loads(line)["hash"], data + line
    return prev_hash, data


def test_the_writer_lays_out_the_canonical_body_so_it_can_be_cut_out() -> None:
    chain = StoredChain()
    head: str | None = None
    for entry in entries():
        head, line = encode_line(head, entry)
        obj = json.loads(line)
        assert list(obj)[:3] == ["hash", "prev_hash", "kind"]
        body = {k: v for k, v in obj.items() if k not in ("hash", "prev_hash")}
        assert obj["hash"] == entry_hash(obj["prev_hash"], body)
        assert chain.take(line) == (head, canonical(body)), entry.kind
        assert chain.head == head


def test_a_line_in_another_layout_or_off_the_chain_is_not_vouched_for() -> None:
    first = SessionStart(system_prompt="s")
    head, line = encode_line(None, first)
    _, second = encode_line(head, TurnEnd(turn_count=1))
    chain = StoredChain()
    assert chain.take(second) is None  # it does not follow the head
    assert chain.take(old_line(None, first)) is None  # fields in model order
    assert chain.take(line.replace(b":", b": ", 1)) is None  # spaced out
    assert chain.take(line.replace(b'"s"', b'"t"')) is None  # edited
    assert chain.take(line[:-5]) is None  # torn
    assert chain.head is None
    assert chain.take(line) is not None and chain.take(second) is not None


def test_logs_in_the_old_layout_and_mixed_logs_restore_the_same(tmp_path: Path) -> None:
    written = entries()
    new = SessionStore(tmp_path / "new")
    head = new.create("s", written[0])
    new.append("s", head, written[1:])

    old = SessionStore(tmp_path / "old")
    old.root.mkdir()
    old.path("s").write_bytes(old_log(written)[1])

    mixed = SessionStore(tmp_path / "mixed")  # begun by an older yoi, continued by this one
    mixed.root.mkdir()
    head, data = old_log(written[:3])
    mixed.path("s").write_bytes(data)
    assert head is not None
    mixed.append("s", head, written[3:])

    expected = new.restore("s")
    assert expected.history[-1] == items.assistant("done")
    for store in (old, mixed):
        assert store.restore("s") == expected
        assert store.read("s").records == new.read("s").records


def test_a_long_old_layout_log_with_new_entries_after_it(tmp_path: Path) -> None:
    # after a line in another layout the fast way is tried only now and then
    store = SessionStore(tmp_path)
    store.root.mkdir(exist_ok=True)
    usage = [LlmUsage(history_len=n, input_tokens=10 * n) for n in range(1, 200)]
    head, data = old_log([SessionStart(system_prompt="s"), *usage])
    assert b'"kind":"llm_usage","ts":' in data  # the old layout: not canonical order
    store.path("s").write_bytes(data)
    assert head is not None
    asked = [UserInput(segments=[], text=f"q{n}") for n in range(150)]
    head = store.append("s", head, asked).head
    state = store.restore("s")
    assert [u.input_tokens for u in state.usage] == [10 * n for n in range(1, 200)]
    assert [m.text for m in state.history if isinstance(m, items.Message)][-1] == "q149"
    assert (len(state.history), state.head, state.entries) == (150, head, 350)


def test_a_byte_changed_in_a_stored_line_is_caught_at_its_line(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    head = store.create("s", SessionStart(system_prompt="s"))
    store.append("s", head, entries()[1:])
    lines = store.path("s").read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"done"', b'"dune"')
    store.path("s").write_bytes(b"".join(lines))
    with pytest.raises(SessionCorrupt) as caught:
        store.restore("s")
    assert caught.value.line == 3 and "edited" in caught.value.reason


def test_a_malformed_entry_in_the_writer_layout_names_the_field(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    head = store.create("s", SessionStart(system_prompt="x"))
    body: dict[str, Any] = {"kind": "turn_end", "ts": 1, "turn_count": "many"}
    digest = entry_hash(head, body)
    line = f'{{"hash":"{digest}","prev_hash":"{head}",{canonical(body).decode()[1:]}'
    assert StoredChain().take(line.encode()) is None  # not its chain yet
    with store.path("s").open("a") as f:
        f.write(line + "\n")
    with pytest.raises(
        SessionCorrupt, match="line 2: the turn_end entry is malformed at turn_count"
    ):
        store.restore("s")


def test_a_bulk_load_keeps_the_collector_out_and_puts_everything_back(tmp_path: Path) -> None:
    assert gc.isenabled()
    interval = sys.getswitchinterval()
    with bulk_load():
        assert not gc.isenabled() and sys.getswitchinterval() <= 0.001
        with bulk_load():  # nested or concurrent loads share the pause
            pass
        assert not gc.isenabled()
        built = [items.assistant(str(n)) for n in range(1000)]
    assert gc.isenabled() and sys.getswitchinterval() == interval
    assert gc.get_freeze_count() == 0  # nothing left frozen
    assert any(o is built[-1] for o in gc.get_objects(generation=2))  # moved, not walked

    with pytest.raises(RuntimeError), bulk_load():
        raise RuntimeError("boom")
    assert gc.isenabled() and sys.getswitchinterval() == interval

    store = SessionStore(tmp_path)
    store.root.mkdir(exist_ok=True)
    store.path("bad").write_bytes(b'{"hash": broken\n{"hash": broken\n')
    with pytest.raises(SessionCorrupt):
        store.restore("bad")
    assert gc.isenabled() and sys.getswitchinterval() == interval

    gc.disable()
    try:
        with bulk_load():
            pass
        assert not gc.isenabled()  # it was off: it stays off
    finally:
        gc.enable()


def test_restore_through_an_earlier_entry_still_verifies_the_rest(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    _, data = encode_lines(None, entries())
    store.root.mkdir(exist_ok=True)
    store.path("s").write_bytes(data + b'{"hash": broken\n' + data.splitlines(keepends=True)[1])
    early = json.loads(data.splitlines()[1])["hash"]
    with pytest.raises(SessionCorrupt) as caught:
        store.restore("s", through=early)
    assert caught.value.line == len(entries()) + 1
