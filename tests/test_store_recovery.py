"""The session store under damage: torn writes, edited logs, concurrent processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent import items
from agent.errors import SessionCorrupt
from agent.segments import TextSegment
from agent.store import (
    ItemsEntry,
    LogEntry,
    Origin,
    RunCompleted,
    SessionStart,
    SessionStore,
    TurnEnd,
    UserInput,
)
from agent.store.chain import encode_line, encode_lines, entry_hash

TORN = "was incomplete (the process stopped while writing it) and was dropped"


def turn(n: int) -> list[LogEntry]:
    return [
        UserInput(segments=[TextSegment(kind="text", text=f"q{n}")], text=f"q{n}"),
        ItemsEntry(items=[items.assistant(f"a{n}")]),
        TurnEnd(turn_count=n),
        RunCompleted(outcome="finished"),
    ]


def session(tmp_path: Path, turns: int = 2) -> tuple[SessionStore, str]:
    """A store with session "s" of ``turns`` turns; returns the store and its head."""
    store = SessionStore(tmp_path)
    head = store.create("s", SessionStart(system_prompt="sys"))
    for n in range(1, turns + 1):
        head = store.append("s", head, turn(n)).head
    return store, head


def lines_of(store: SessionStore, sid: str = "s") -> list[bytes]:
    return store.path(sid).read_bytes().splitlines(keepends=True)


def assert_valid_jsonl(path: Path) -> None:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    for line in data.splitlines():
        assert isinstance(json.loads(line), dict)


# ---------------------------------------------------------------- torn writes


@pytest.mark.parametrize(
    "torn",
    [
        b'{"hash":"12ab","prev_hash":"9f","kind":"items","ts":17',  # stopped mid-line
        b"\x00\x00\x00\x00\x00\x00\n",  # zero-filled block after a power loss
        b'{"hash":"12ab","prev_hash":"9f","kind":"ite\n',  # cut, then a newline
    ],
)
def test_a_torn_last_line_is_dropped_then_repaired_by_the_next_append(
    tmp_path: Path, torn: bytes
) -> None:
    store, head = session(tmp_path)
    with store.path("s").open("ab") as f:
        f.write(torn)

    read = store.read("s")
    assert read.head == head
    assert len(read.entries) == 9
    assert read.warnings == (f"The last entry of session s {TORN}.",)
    state = store.restore("s")
    assert state.turn_count == 2
    assert [m.text for m in state.history if isinstance(m, items.Message)] == [
        "q1",
        "a1",
        "q2",
        "a2",
    ]
    assert state.warnings == list(read.warnings)

    new_head = store.append("s", head, turn(3)).head

    assert torn not in store.path("s").read_bytes()
    assert_valid_jsonl(store.path("s"))
    again = store.read("s")
    assert again.warnings == ()
    assert again.head == new_head
    assert store.restore("s").turn_count == 3


def test_large_entries_and_a_torn_tail_after_them(tmp_path: Path) -> None:
    # Lines far larger than one tail read: the head check reads backwards in chunks.
    store, head = session(tmp_path, turns=1)
    big = [ItemsEntry(items=[items.assistant("ü" * 300_000)]) for _ in range(2)]
    head = store.append("s", head, big).head
    with store.path("s").open("ab") as f:
        f.write(b'{"hash":"' + b"x" * 200_000)
    head = store.append("s", head, [TurnEnd(turn_count=2)]).head
    assert_valid_jsonl(store.path("s"))
    state = store.restore("s")
    assert (state.head, state.turn_count, len(state.history), state.warnings) == (head, 2, 4, [])


def test_a_complete_last_entry_without_its_newline_is_kept(tmp_path: Path) -> None:
    store, head = session(tmp_path)
    path = store.path("s")
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # an editor stripped it

    read = store.read("s")
    assert (read.head, len(read.entries), read.warnings) == (head, 9, ())
    store.append("s", head, turn(3))
    assert_valid_jsonl(path)
    assert store.restore("s").turn_count == 3


def test_a_stale_writer_forks_and_does_not_repair_someone_elses_log(tmp_path: Path) -> None:
    store, head = session(tmp_path)
    stale = store.read("s").records[4].hash
    with store.path("s").open("ab") as f:
        f.write(b'{"hash":"torn')
    before = store.path("s").read_bytes()

    result = store.append("s", stale, turn(9))

    assert result.forked_from == Origin(session_id="s", at_hash=stale)
    assert store.path("s").read_bytes() == before
    assert store.restore(result.session_id).turn_count == 9
    assert store.read("s").head == head


# ---------------------------------------------------------------- broken chains


def rewrite_line(store: SessionStore, number: int, edit: dict[str, object]) -> None:
    lines = lines_of(store)
    obj = json.loads(lines[number - 1])
    obj.update(edit)
    lines[number - 1] = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
    store.path("s").write_bytes(b"".join(lines))


def test_an_edited_middle_entry_breaks_the_chain_at_its_line(tmp_path: Path) -> None:
    store, _ = session(tmp_path)
    rewrite_line(store, 3, {"items": [{"kind": "message", "role": "assistant", "text": "forged"}]})
    with pytest.raises(SessionCorrupt) as caught:
        store.restore("s")
    assert caught.value.line == 3
    assert caught.value.path == store.path("s")
    assert "edited" in caught.value.reason
    assert f"{store.path('s')} is damaged at line 3" in str(caught.value)


def test_a_deleted_line_breaks_the_chain_at_the_next_line(tmp_path: Path) -> None:
    store, _ = session(tmp_path)
    lines = lines_of(store)
    del lines[3]
    store.path("s").write_bytes(b"".join(lines))
    with pytest.raises(SessionCorrupt) as caught:
        store.read("s")
    assert caught.value.line == 4
    assert "prev_hash" in caught.value.reason


def test_a_rehashed_entry_with_a_wrong_prev_hash_is_caught(tmp_path: Path) -> None:
    store, _ = session(tmp_path)
    lines = lines_of(store)
    # Each line still matches its own hash; the links between them do not.
    lines[2], lines[3] = lines[3], lines[2]
    store.path("s").write_bytes(b"".join(lines))
    with pytest.raises(SessionCorrupt) as caught:
        store.read("s")
    assert caught.value.line == 3


def test_the_first_entry_must_start_the_chain(tmp_path: Path) -> None:
    store, _ = session(tmp_path)
    rewrite_line(store, 1, {"prev_hash": "ab" * 32})
    with pytest.raises(SessionCorrupt, match="line 1: the first entry must have a null prev_hash"):
        store.read("s")
    _, line = encode_line(None, TurnEnd(turn_count=1))
    store.path("s").write_bytes(line)
    with pytest.raises(SessionCorrupt, match="does not begin with a session_start"):
        store.read("s")


def test_an_unreadable_line_that_is_not_the_last_is_corruption(tmp_path: Path) -> None:
    store, _ = session(tmp_path)
    lines = lines_of(store)
    lines[5] = b'{"hash": broken\n'
    store.path("s").write_bytes(b"".join(lines))
    with pytest.raises(SessionCorrupt) as caught:
        store.read("s")
    assert caught.value.line == 6
    assert "not a log entry" in caught.value.reason


def test_a_well_chained_but_malformed_entry_names_the_field(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    _, data = encode_lines(None, [SessionStart(system_prompt="x")])
    head = json.loads(data)["hash"]
    body = {"kind": "turn_end", "ts": 1, "turn_count": "many"}
    bad = {"hash": entry_hash(head, body), "prev_hash": head, **body}
    store.path("s").write_bytes(data + json.dumps(bad).encode() + b"\n")
    with pytest.raises(
        SessionCorrupt, match="line 2: the turn_end entry is malformed at turn_count"
    ):
        store.read("s")


def test_an_entry_kind_from_a_newer_yoi_is_skipped_with_a_warning(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    head, data = encode_lines(None, [SessionStart(system_prompt="x")])
    body = {"kind": "bookmark", "ts": 5, "label": "here"}
    digest = entry_hash(head, body)
    data += json.dumps({"hash": digest, "prev_hash": head, **body}).encode() + b"\n"
    store.path("s").write_bytes(data)
    after = store.append("s", digest, [TurnEnd(turn_count=4)]).head

    state = store.restore("s")
    assert state.turn_count == 4
    assert state.head == after
    assert state.warnings == [
        "Line 2 of session s is a 'bookmark' entry, which this version of yoi does not know; "
        "it was skipped."
    ]


# ---------------------------------------------------------------- real processes

WRITER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from agent.store import Extension, SessionStart, SessionStore

    root, name, plan = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    other = "b" if name == "a" else "a"
    store = SessionStore(root)
    out = []
    for index, (sid, head) in enumerate(plan):
        (root / f"ready-{index}-{name}").touch()
        while not (root / f"ready-{index}-{other}").exists():
            time.sleep(0)
        batch = [Extension(domain=name, payload={"i": i, "pad": "x" * 20000}) for i in range(3)]
        res = store.append(sid, head, batch)
        out.append([res.session_id, res.forked_from is not None])
    print(json.dumps(out))
    """
)


def test_two_processes_appending_at_once_fork_instead_of_interleaving(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    plan = [(f"p{r}", store.create(f"p{r}", SessionStart(system_prompt="base"))) for r in range(12)]
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(script), str(tmp_path), name, json.dumps(plan)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    }
    outputs = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        outputs[name] = json.loads(out)

    for index, (sid, head) in enumerate(plan):
        (a_sid, a_forked), (b_sid, b_forked) = outputs["a"][index], outputs["b"][index]
        assert [a_forked, b_forked].count(True) == 1, sid
        winner, loser, fork_id = ("a", "b", b_sid) if b_forked else ("b", "a", a_sid)
        original = store.read(sid)  # verifies the whole chain
        assert [(e.domain, e.payload["i"]) for e in original.entries[1:]] == [
            (winner, i) for i in range(3)
        ]
        assert_valid_jsonl(store.path(sid))
        forked = store.restore(fork_id)
        assert forked.parent == Origin(session_id=sid, at_hash=head)
        assert forked.system_prompt == "base"
        assert [(d, p["i"]) for d, p in forked.extensions] == [(loser, i) for i in range(3)]
    assert len(list(tmp_path.glob("*.jsonl"))) == 24
