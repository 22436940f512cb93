"""Atomic writes (one implementation, used by the file tools, the pod registry
and the session listing cache)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent.fsutil import atomic_write_bytes, atomic_write_text, umask
from agent.registry import PodRegistry
from agent.store.listing import CACHE_NAME, list_sessions


class FsyncSpy:
    """Records what each real ``os.fsync`` flushed: (is a directory, inode)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.synced: list[tuple[bool, int]] = []
        real = os.fsync

        def fsync(fd: int) -> None:
            st = os.fstat(fd)
            self.synced.append((stat.S_ISDIR(st.st_mode), st.st_ino))
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    def saw_file(self, path: Path) -> bool:
        return (False, path.stat().st_ino) in self.synced

    def saw_dir(self, path: Path) -> bool:
        return (True, path.stat().st_ino) in self.synced


def test_a_write_replaces_the_file_and_flushes_it_and_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = FsyncSpy(monkeypatch)
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # kept
    assert spy.saw_file(target) and spy.saw_dir(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_modes_of_new_files(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "default.txt", "é")
    assert (tmp_path / "default.txt").read_text(encoding="utf-8") == "é"
    assert stat.S_IMODE((tmp_path / "default.txt").stat().st_mode) == 0o666 & ~umask()
    atomic_write_bytes(tmp_path / "private", b"x", mode=0o600)
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "inside").write_text("keep")
    with pytest.raises(OSError):
        atomic_write_bytes(tmp_path / "taken", b"x")  # cannot replace a non-empty directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_an_exclusive_write_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "once"
    atomic_write_bytes(target, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["once"]


def test_the_pod_registry_saves_durably_and_privately(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = FsyncSpy(monkeypatch)
    registry = PodRegistry(tmp_path / "home")
    registry.register("pod-1", "alpha", "s1", tmp_path)
    table = tmp_path / "home" / "pods.json"
    assert stat.S_IMODE(table.stat().st_mode) == 0o600
    assert spy.saw_file(table) and spy.saw_dir(tmp_path / "home")
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["pods.json", "pods.lock"]


def test_the_listing_cache_is_written_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = FsyncSpy(monkeypatch)
    (tmp_path / "0190aaaa-0000-7000-8000-000000000000.jsonl").write_text("not json\n")
    infos = list_sessions(tmp_path)
    assert [i.damaged for i in infos] == [True]
    cache = tmp_path / CACHE_NAME
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert spy.saw_file(cache) and spy.saw_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        CACHE_NAME,
        "0190aaaa-0000-7000-8000-000000000000.jsonl",
    ]
