"""The shadow repository of one workspace: snapshots of its files as git commits.

Where
    ``$YOI_HOME/checkpoints/<key>/`` is the ``GIT_DIR`` (``key`` is a hash of
    the workspace's canonical path; the folder's ``workspace`` file names it);
    the workspace is the work tree; the shadow index lives in the ``GIT_DIR``.
    The user's own repository is never involved (:mod:`agent.checkpoints.git`).

What
    Every file git would track: ``.gitignore`` files are honoured, the scope's
    deny-read rules become ``info/exclude`` patterns, ``.git`` is never
    entered, and a file over ``max_file_bytes`` is skipped (it keeps the state
    it had in the previous snapshot, and the snapshot names it). Text the
    editor holds unsaved (``overrides``) replaces the disk's bytes, so a
    snapshot is what the agent and the user see.

How
    Incremental: ``git diff-files`` and ``git ls-files -o`` find what changed
    since the last snapshot (the shadow index keeps every file's stat data),
    only those paths are hashed (``update-index``), ``write-tree`` reuses the unchanged trees,
    and ``commit-tree`` records the result. Snapshots are parentless commits
    kept by the refs ``refs/yoi/snap/<seq>``, in order, so the oldest can be
    pruned (:meth:`ShadowRepo.prune`) without rewriting the rest.

Concurrency
    One snapshot at a time per workspace across threads and processes: an
    exclusive ``flock`` on ``<GIT_DIR>/yoi.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.checkpoints.git import GitFailed, ShadowGit, split_z
from agent.fsutil import umask
from agent.scope import Permission, Scope

SNAP_REFS = "refs/yoi/snap/"
# More new or changed files than this in one snapshot is not a workspace a
# checkpoint can serve (an unignored node_modules, a home folder): refused.
MAX_PATHS = 200_000
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Snapshot:
    seq: int
    commit: str
    kind: str
    skipped: tuple[str, ...] = ()  # over the size limit, kept as they were


@dataclass(frozen=True)
class Change:
    """One path that differs between two snapshots (``None``: absent)."""

    path: str
    old_mode: str | None
    old_sha: str | None
    new_mode: str | None
    new_sha: str | None


@dataclass(frozen=True)
class ShadowSettings:
    max_file_bytes: int = 1024 * 1024
    max_repo_bytes: int = 256 * 1024 * 1024


def repo_key(root: Path) -> str:
    return hashlib.sha256(os.fsencode(root)).hexdigest()[:20]


@dataclass
class ShadowRepo:
    home: Path
    root: Path
    scope: Scope | None = None
    settings: ShadowSettings = field(default_factory=ShadowSettings)

    def __post_init__(self) -> None:
        self.git_dir = self.home / "checkpoints" / repo_key(self.root)
        self.git = ShadowGit(self.git_dir, self.root)

    # ------------------------------------------------------------ setup

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The workspace's snapshot lock (threads and processes alike)."""
        self._ensure()
        fd = os.open(self.git_dir / "yoi.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _ensure(self) -> None:
        if (self.git_dir / "HEAD").exists():
            return
        self.git_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.git.run(["init", "-q"])
        (self.git_dir / "workspace").write_text(str(self.root) + "\n")

    def _write_excludes(self) -> None:
        patterns = [".git"]
        if self.scope is not None:
            for rule in self.scope.deny:
                if rule.permission is Permission.READ and rule.target.is_relative_to(self.root):
                    rel = rule.target.relative_to(self.root).as_posix()
                    patterns.append("/" + _escape(rel) if rel != "." else "/*")
        text = "\n".join(patterns) + "\n"
        path = self.git_dir / "info" / "exclude"
        with contextlib.suppress(FileNotFoundError):
            if path.read_text() == text:
                return
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)

    # ------------------------------------------------------------ snapshots

    def snapshot(self, kind: str, overrides: Mapping[str, bytes] | None = None) -> Snapshot:
        """Record the workspace now; ``overrides`` maps relative paths to the
        bytes the editor holds for them (unsaved text)."""
        with self.locked():
            # we hold the workspace's lock: an index.lock is a killed process's
            with contextlib.suppress(FileNotFoundError):
                (self.git_dir / "index.lock").unlink()
            self._write_excludes()
            modes = self._read_modes()
            skipped = self._stage(modes)
            if overrides:
                self._stage_overrides(overrides)
            tree = self.git.text(["write-tree"])
            message = kind + "\n\n" + json.dumps({"modes": modes, "skipped": skipped})
            commit = self.git.text(["commit-tree", tree, "-m", message])
            seq = self._last_seq() + 1
            self.git.run(["update-ref", f"{SNAP_REFS}{seq:012d}", commit])
            (self.git_dir / "yoi-last").write_text(f"{seq}\n")
            (self.git_dir / "yoi-modes.json").write_text(json.dumps(modes))
            return Snapshot(seq, commit, kind, tuple(skipped))

    def _read_modes(self) -> dict[str, int]:
        try:
            loaded = json.loads((self.git_dir / "yoi-modes.json").read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): int(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}

    def modes(self, commit: str) -> dict[str, int]:
        """The permission bits git cannot hold (anything but 0644 and 0755 less
        the umask) of the files in snapshot ``commit``."""
        body = self.git.out(["cat-file", "commit", commit]).split(b"\n\n", 1)
        for line in body[-1].decode(errors="replace").splitlines()[1:]:
            with contextlib.suppress(ValueError, AttributeError):
                found = json.loads(line).get("modes", {})
                return {str(k): int(v) for k, v in found.items()}
        return {}

    def _behind_symlink(self, rel: str, seen: dict[str, bool]) -> bool:
        """Whether a folder on ``rel``'s way is a symlink (git neither follows
        nor can stage a path behind one; ``seen`` caches per folder)."""
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i])
            if folder not in seen:
                seen[folder] = os.path.islink(self.root / folder)
            if seen[folder]:
                return True
        return False

    def _stage(self, modes: dict[str, int]) -> list[str]:
        """Stage what changed since the last snapshot; ``modes`` is kept up to
        date for the paths looked at."""
        # diff-files: every tracked path whose stat data changed (a chmod too);
        # ls-files -o: the untracked ones
        listed = self.git.out(["diff-files", "-z", "--name-only"])
        listed += self.git.out(["ls-files", "-z", "-o", "--exclude-standard"])
        paths: list[str] = []
        gone: list[str] = []  # tracked paths that are folders now
        skipped: list[str] = []
        candidates = dict.fromkeys(split_z(listed))
        if len(candidates) > MAX_PATHS:
            raise GitFailed(
                f"{len(candidates):,} files changed or new since the last snapshot, over "
                f"{MAX_PATHS:,}; add the generated folders to .gitignore, or set "
                "[checkpoints] enabled = false for this workspace."
            )
        linked: dict[str, bool] = {}
        for rel in candidates:
            if rel.endswith("/"):  # a nested repository: never entered
                continue
            if self._behind_symlink(rel, linked):  # its folder is a symlink now
                gone.append(rel)
                modes.pop(rel, None)
                continue
            try:
                st = os.lstat(self.root / rel)
            except FileNotFoundError:
                paths.append(rel)  # deleted: --remove drops it
                modes.pop(rel, None)
                continue
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                gone.append(rel)
                modes.pop(rel, None)
                continue
            if stat.S_ISREG(st.st_mode) and st.st_size > self.settings.max_file_bytes:
                skipped.append(rel)
                continue
            if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                paths.append(rel)
                bits = stat.S_IMODE(st.st_mode)
                if stat.S_ISREG(st.st_mode) and bits != default_bits(bool(bits & 0o100)):
                    modes[rel] = bits
                else:
                    modes.pop(rel, None)
        self._recheck_modes(modes)
        if gone:
            data = b"\0".join(os.fsencode(p) for p in gone) + b"\0"
            self.git.run(["update-index", "-z", "--force-remove", "--stdin"], input=data)
        if paths:
            data = b"\0".join(os.fsencode(p) for p in paths) + b"\0"
            self.git.run(
                ["update-index", "-z", "--add", "--remove", "--replace", "--stdin"], input=data
            )
        return skipped

    def _recheck_modes(self, modes: dict[str, int]) -> None:
        """A chmod within the second of the last snapshot escapes git's stat
        check: the few files with unusual bits are looked at every time."""
        for rel in list(modes):
            try:
                st = os.lstat(self.root / rel)
            except OSError:
                modes.pop(rel, None)
                continue
            bits = stat.S_IMODE(st.st_mode)
            if not stat.S_ISREG(st.st_mode) or bits == default_bits(bool(bits & 0o100)):
                modes.pop(rel, None)
            else:
                modes[rel] = bits

    def _stage_overrides(self, overrides: Mapping[str, bytes]) -> None:
        lines: list[bytes] = []
        for rel, data in overrides.items():
            path = self.root / rel
            try:
                st = os.lstat(path)
            except OSError:
                st = None
            if st is not None and not stat.S_ISREG(st.st_mode):
                continue
            if st is not None and st.st_size == len(data):
                with contextlib.suppress(OSError), open(path, "rb") as fh:
                    if fh.read() == data:
                        continue
            sha = self.git.text(["hash-object", "-w", "--stdin"], input=data)
            mode = "100755" if st is not None and st.st_mode & 0o100 else "100644"
            lines.append(f"{mode} {sha}\t".encode() + os.fsencode(rel) + b"\0")
        if lines:
            self.git.run(["update-index", "-z", "--index-info"], input=b"".join(lines))

    def _last_seq(self) -> int:
        try:
            return int((self.git_dir / "yoi-last").read_text().strip())
        except (OSError, ValueError):
            return max((s.seq for s in self.snapshots()), default=0)

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot kept, oldest first."""
        if not (self.git_dir / "HEAD").exists():
            return []
        text = self.git.text(
            ["for-each-ref", "--format=%(refname) %(objectname) %(subject)", SNAP_REFS]
        )
        found = []
        for line in text.splitlines():
            ref, commit, kind = (line.split(" ", 2) + [""])[:3]
            found.append(Snapshot(int(ref.rsplit("/", 1)[1]), commit, kind))
        return sorted(found, key=lambda s: s.seq)

    def exists(self, commit: str) -> bool:
        return self.git.run(["cat-file", "-e", f"{commit}^{{commit}}"], check=False).returncode == 0

    # ------------------------------------------------------------ reading

    def changes(self, old: str | None, new: str) -> list[Change]:
        """What differs from ``old`` to ``new`` (commits; ``None``: empty)."""
        out = self.git.out(["diff-tree", "-r", "-z", "--no-renames", old or _EMPTY_TREE, new, "--"])
        parts = out.split(b"\0")
        changes = []
        for i in range(0, len(parts) - 1, 2):
            meta, raw = parts[i], parts[i + 1]
            if not meta.startswith(b":"):
                continue
            old_mode, new_mode, old_sha, new_sha, _status = meta[1:].decode().split(" ")
            changes.append(
                Change(
                    path=os.fsdecode(raw),
                    old_mode=None if old_mode == "000000" else old_mode,
                    old_sha=None if old_mode == "000000" else old_sha,
                    new_mode=None if new_mode == "000000" else new_mode,
                    new_sha=None if new_mode == "000000" else new_sha,
                )
            )
        return changes

    def changed_between(self, pairs: Sequence[tuple[str, str]]) -> list[set[str]]:
        """For each ``(old, new)`` pair of commits, the paths that differ (one
        ``diff-tree --stdin`` for all of them)."""
        if not pairs:
            return []
        # "<new> <old>" reads as a commit and its parent; --always gives every
        # line its header, even with nothing changed
        data = "".join(f"{b} {a}\n" for a, b in pairs).encode()
        out = self.git.out(
            ["diff-tree", "--stdin", "--always", "-r", "-z", "--no-renames", "--name-only"],
            input=data,
        )
        result: list[set[str]] = []
        headers = iter(b for _a, b in pairs)
        expected = next(headers, None)
        for part in out.split(b"\0"):
            if not part:
                continue
            text = os.fsdecode(part)
            if text == expected:
                result.append(set())
                expected = next(headers, None)
            elif result:
                result[-1].add(text)
        return result

    def blobs(self, shas: Sequence[str]) -> dict[str, bytes]:
        """The contents of ``shas`` (one ``cat-file --batch``)."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self.git.out(
            ["cat-file", "--batch"], input="".join(s + "\n" for s in wanted).encode()
        )
        found: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split(b" ")
            pos = end + 1
            if len(header) < 3:
                raise GitFailed(f"checkpoint object {sha} is missing")
            size = int(header[2])
            found[sha] = out[pos : pos + size]
            pos += size + 1
        return found

    def unified_diff(self, old: str, new: str, paths: Sequence[str] = ()) -> dict[str, str]:
        """Per-file unified diffs from ``old`` to ``new`` (commits)."""
        out = self.git.out(
            [
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--no-renames",
                "--binary",
                old,
                new,
                "--",
                *paths,
            ]
        )
        diffs: dict[str, str] = {}
        current: list[str] = []
        for line in out.decode("utf-8", errors="replace").splitlines(keepends=True):
            if line.startswith("diff --git ") and current:
                _add_diff(diffs, current)
                current = []
            current.append(line)
        if current:
            _add_diff(diffs, current)
        return diffs

    # ------------------------------------------------------------ pruning

    def size(self) -> int:
        total = 0
        for folder, _dirs, files in os.walk(self.git_dir / "objects"):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(folder, name)).st_size
        return total

    def prune(self, keep: int = 2) -> int:
        """Drop the oldest snapshots until the repository fits
        ``max_repo_bytes`` (the newest ``keep`` always stay); the number dropped."""
        with self.locked():
            if self.size() <= self.settings.max_repo_bytes:
                return 0
            snaps = self.snapshots()
            dropped = 0
            while len(snaps) > keep:
                half = max(1, (len(snaps) - keep) // 2)
                doomed, snaps = snaps[:half], snaps[half:]
                data = "".join(f"delete {SNAP_REFS}{s.seq:012d}\n" for s in doomed).encode()
                self.git.run(["update-ref", "--stdin"], input=data)
                dropped += len(doomed)
                self.git.run(["gc", "-q", "--prune=now"])
                if self.size() <= self.settings.max_repo_bytes:
                    break
            return dropped


def default_bits(executable: bool) -> int:
    """The permission bits a file git restores gets (0644 or 0755 less the umask)."""
    return (0o777 if executable else 0o666) & ~umask()


def _add_diff(diffs: dict[str, str], lines: list[str]) -> None:
    head = lines[0].rstrip("\n")
    # "diff --git a/<path> b/<path>": paths are the same without renames
    rest = head.removeprefix("diff --git a/")
    path = rest[: (len(rest) - 3) // 2] if " b/" in rest else rest
    diffs[path] = "".join(lines)


def _escape(rel: str) -> str:
    return "".join("\\" + c if c in "*?[]!#\\ " else c for c in rel)
