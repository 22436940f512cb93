"""The pod registry with real processes: conflicts, stale reclaim, races."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.errors import SessionInUse
from agent.registry import Allocation, PodNotRegistered, PodRegistry, process_start


def test_register_conflict_update_release(tmp_path: Path) -> None:
    home = tmp_path / "home"
    registry = PodRegistry(home)
    first = registry.register("pod-1", "alpha", "s1", tmp_path)
    assert first == Allocation(
        pod_id="pod-1",
        name="alpha",
        pid=os.getpid(),
        session_id="s1",
        cwd=str(tmp_path),
        started_at=first.started_at,
        process_start=process_start(os.getpid()),
    )
    assert first.process_start is not None
    assert registry.owner_of("s1") == first
    assert registry.owner_of("s2") is None

    # Another pod, even in this same process, may not open the same session.
    with pytest.raises(SessionInUse) as caught:
        registry.register("pod-2", "beta", "s1", tmp_path)
    assert str(caught.value) == (
        f"Session s1 is already open in another yoi pod (alpha, process {os.getpid()}). "
        "Close it there first, or start a new session."
    )
    registry.register("pod-2", "beta", "s2", tmp_path)
    with pytest.raises(SessionInUse, match="alpha"):
        registry.update_session("pod-2", "s1")
    assert registry.owner_of("s2") is not None

    # A fork or a compaction moves the pod; the old session is free again.
    moved = registry.update_session("pod-1", "s3")
    assert (moved.session_id, moved.name, moved.started_at) == ("s3", "alpha", first.started_at)
    assert registry.owner_of("s1") is None
    assert registry.update_session("pod-2", "s1").session_id == "s1"

    # Registering a pod id again replaces its allocation.
    registry.register("pod-1", "alpha", "s4", tmp_path)
    assert sorted((a.pod_id, a.session_id) for a in registry.allocations()) == [
        ("pod-1", "s4"),
        ("pod-2", "s1"),
    ]

    registry.release("pod-1")
    registry.release("pod-1")  # twice is fine
    assert [a.pod_id for a in PodRegistry(home).allocations()] == ["pod-2"]
    with pytest.raises(PodNotRegistered, match="pod-1 is not in the pod registry"):
        registry.update_session("pod-1", "s9")

    assert (home.stat().st_mode & 0o777) == 0o700
    assert ((home / "pods.json").stat().st_mode & 0o777) == 0o600
    saved = json.loads((home / "pods.json").read_text())
    assert [a["session_id"] for a in saved["allocations"]] == ["s1"]


def test_a_damaged_table_counts_as_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "pods.json").write_text('{"allocations": [{"pod_id": 3')
    registry = PodRegistry(tmp_path)
    with caplog.at_level(logging.WARNING, logger="agent.registry"):
        assert registry.allocations() == []
    assert "treating the pod registry as empty" in caplog.text
    registry.register("p", "n", "s", "/w")
    assert json.loads((tmp_path / "pods.json").read_text())["allocations"][0]["pod_id"] == "p"
    (tmp_path / "pods.json").write_text('{"allocations": [{"pod_id": "x"}]}')  # wrong shape
    assert registry.allocations() == []


REGISTER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from agent.errors import SessionInUse
    from agent.registry import PodRegistry

    home, pod_id, session_id, wait = sys.argv[1:5]
    go = Path(home) / "go"
    while wait == "go" and not go.exists():
        time.sleep(0.001)
    try:
        PodRegistry(Path(home)).register(pod_id, f"name-{pod_id}", session_id, "/w")
        print("ok", flush=True)
    except SessionInUse:
        print("in-use", flush=True)
    if wait != "exit":
        sys.stdin.read()  # stay alive (holding the allocation) until stdin closes
    """
)


def spawn(home: Path, pod_id: str, session_id: str, wait: str) -> subprocess.Popen[str]:
    script = home / "register.py"
    if not script.exists():
        script.write_text(REGISTER)
    return subprocess.Popen(
        [sys.executable, str(script), str(home), pod_id, session_id, wait],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_dead_process_allocation_is_reclaimed(tmp_path: Path) -> None:
    registry = PodRegistry(tmp_path)
    holder = spawn(tmp_path, "remote", "shared", "stdin")
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ok"
    with pytest.raises(SessionInUse, match=f"name-remote, process {holder.pid}"):
        registry.register("local", "here", "shared", tmp_path)
    owner = registry.owner_of("shared")
    assert owner is not None and owner.pid == holder.pid

    holder.communicate("", timeout=10)  # it exits without releasing
    assert holder.returncode == 0

    mine = registry.register("local", "here", "shared", tmp_path)
    assert registry.owner_of("shared") == mine
    assert [a.pod_id for a in registry.allocations()] == ["local"]


def test_a_process_that_exited_leaves_nothing_behind(tmp_path: Path) -> None:
    gone = spawn(tmp_path, "brief", "s", "exit")
    out, _ = gone.communicate(timeout=10)
    assert out.strip() == "ok"
    stored = json.loads((tmp_path / "pods.json").read_text())["allocations"]
    assert [a["pod_id"] for a in stored] == ["brief"]  # still on disk ...
    assert PodRegistry(tmp_path).owner_of("s") is None  # ... but reclaimed on the next look
    assert json.loads((tmp_path / "pods.json").read_text())["allocations"] == []


def test_concurrent_registrations_for_one_session_have_one_winner(tmp_path: Path) -> None:
    procs = [spawn(tmp_path, f"pod{n}", "contested", "go") for n in range(6)]
    (tmp_path / "go").touch()
    answers = {}
    for n, proc in enumerate(procs):
        assert proc.stdout is not None
        answers[f"pod{n}"] = proc.stdout.readline().strip()
    owner = PodRegistry(tmp_path).owner_of("contested")
    for proc in procs:
        proc.communicate("", timeout=10)

    winners = [pod for pod, answer in answers.items() if answer == "ok"]
    assert len(winners) == 1, answers
    assert sorted(answers.values()) == ["in-use"] * 5 + ["ok"]
    assert owner is not None and owner.pod_id == winners[0]


def test_a_reused_pid_does_not_keep_the_session(tmp_path: Path) -> None:
    """An allocation whose pid now belongs to another live process (here: this
    one, recorded with another start time) is stale, not a lock forever."""
    me = process_start(os.getpid())
    assert me is not None, "Linux exposes process start times in /proc"
    stale = {
        "pod_id": "ghost",
        "name": "ghost",
        "pid": os.getpid(),  # alive, but not the process that registered
        "session_id": "shared",
        "cwd": str(tmp_path),
        "started_at": 1,
        "process_start": me - 1,
    }
    (tmp_path / "pods.json").write_text(json.dumps({"version": 1, "allocations": [stale]}))
    registry = PodRegistry(tmp_path)
    mine = registry.register("local", "here", "shared", tmp_path)
    assert registry.owner_of("shared") == mine
    # an allocation from before start times were recorded still counts by pid
    old = {**stale, "pod_id": "old", "session_id": "other"}
    del old["process_start"]
    table = json.loads((tmp_path / "pods.json").read_text())
    table["allocations"].append(old)
    (tmp_path / "pods.json").write_text(json.dumps(table))
    with pytest.raises(SessionInUse):
        registry.register("local2", "here", "other", tmp_path)
